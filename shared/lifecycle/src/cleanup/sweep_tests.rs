//! The sweep against the in-memory fakes: expired → one teardown workflow, orphans removed
//! rule first, untagged resources untouched, dry runs change nothing, one failing item does
//! not stop the others, repeated sweeps are idempotent.

use aviary_core::status::Status;
use aviary_ports::memory::{throttled, SAMPLE_LISTENER, SAMPLE_PRODUCTION_TG};
use aviary_ports::{OwnerTags, WorkflowKind};

use super::{run_cleanup, ActionKind, CleanupOptions};
use crate::testing::*;

fn teardowns(w: &World) -> usize {
    w.workflow.executions().iter().filter(|e| e.kind == WorkflowKind::Teardown).count()
}

#[tokio::test]
async fn an_expired_deployment_gets_one_teardown_workflow() {
    let w = World::new();
    w.active("web-1").await;
    w.clock.advance_secs(241 * 60);
    let report = run_cleanup(&w.ports, &CleanupOptions::default()).await.unwrap();
    assert!(report.for_deployment("web-1").any(|a| a.kind == ActionKind::Expired && a.done), "{report:?}");
    assert_eq!(w.store.peek("web-1").unwrap().status, Status::TearingDown);
    run_cleanup(&w.ports, &CleanupOptions::default()).await.unwrap();
    assert_eq!(teardowns(&w), 1, "a second sweep starts no second workflow");
}

#[tokio::test]
async fn a_live_deployment_within_its_ttl_is_left_alone() {
    let w = World::new();
    w.active("web-1").await;
    w.cloud.log.clear();
    let report = run_cleanup(&w.ports, &CleanupOptions::default()).await.unwrap();
    assert_eq!(report.for_deployment("web-1").count(), 0, "{report:?}");
    assert!(w.cloud.log.cloud_mutations().is_empty());
}

/// Aviary-tagged resources of a deployment the table does not know.
fn plant_orphans(w: &World) -> String {
    let tg = "arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/orphan/9";
    w.router.add_target_group(tg, "orphan");
    w.router.add_rule(
        SAMPLE_LISTENER,
        77,
        &Default::default(),
        vec![aviary_core::traffic::WeightedTarget { target_group_arn: SAMPLE_PRODUCTION_TG.into(), weight: 1 }],
        Some(OwnerTags::new("ghost-1", "rule")),
    );
    w.compute.insert_foreign_instance("i-ghost", "ghost-1");
    tg.to_string()
}

#[tokio::test]
async fn orphans_are_removed_rule_first_and_untagged_resources_stay() {
    let w = World::new();
    let before = w.router.snapshot(SAMPLE_LISTENER);
    let user_rule = w.router.add_rule(SAMPLE_LISTENER, 3, &Default::default(), vec![], None);
    plant_orphans(&w);
    w.cloud.log.clear();
    let report = run_cleanup(&w.ports, &CleanupOptions::default()).await.unwrap();
    assert!(report.for_deployment("ghost-1").all(|a| a.kind == ActionKind::Orphan && a.done), "{report:?}");
    let m = w.cloud.log.cloud_mutations();
    assert_eq!(m.first().map(String::as_str), Some("DeleteRule"), "{m:?}");
    let rules = w.router.snapshot(SAMPLE_LISTENER);
    assert!(rules.iter().any(|r| r.rule_arn == user_rule), "the user's rule stays");
    assert_eq!(rules.len(), before.len() + 1);
    assert!(w.compute.live_instances().iter().all(|(_, dep, _)| dep != "ghost-1"));
    assert!(w.router.target_groups().iter().any(|g| g.0 == SAMPLE_PRODUCTION_TG), "production stays");
}

#[tokio::test]
async fn a_dry_run_reports_and_changes_nothing() {
    let w = World::new();
    w.active("web-1").await;
    w.clock.advance_secs(241 * 60);
    plant_orphans(&w);
    let events_before = w.store.event_details("web-1").len();
    let version_before = w.store.peek("web-1").unwrap().version;
    w.cloud.log.clear();
    let report = run_cleanup(&w.ports, &CleanupOptions { dry_run: true, ..Default::default() }).await.unwrap();
    assert!(report.for_deployment("web-1").any(|a| a.kind == ActionKind::Expired));
    assert!(report.for_deployment("ghost-1").count() > 0);
    assert!(w.cloud.log.cloud_mutations().is_empty(), "{:?}", w.cloud.log.cloud_mutations());
    assert_eq!(w.store.peek("web-1").unwrap().version, version_before);
    assert_eq!(w.store.event_details("web-1").len(), events_before, "not even the event log");
}

#[tokio::test]
async fn one_failing_item_does_not_stop_the_sweep_and_the_next_sweep_finishes() {
    let w = World::new();
    w.active("web-1").await;
    w.clock.advance_secs(241 * 60);
    plant_orphans(&w);
    // The deploy workflow has ended (it ended ACTIVE): nothing else will tear this down.
    w.workflow.set_status(&w.store.peek("web-1").unwrap().execution_arn.unwrap(), "SUCCEEDED");
    w.cloud.faults.fail_next("StartExecution", throttled("StartExecution"));
    let report = run_cleanup(&w.ports, &CleanupOptions::default()).await.unwrap();
    assert!(report.failures().count() >= 1, "{report:?}");
    assert!(w.compute.live_instances().iter().all(|(_, dep, _)| dep != "ghost-1"), "the orphans went anyway");
    run_cleanup(&w.ports, &CleanupOptions::default()).await.unwrap();
    assert_eq!(teardowns(&w), 1);
    let again = run_cleanup(&w.ports, &CleanupOptions::default()).await.unwrap();
    assert_eq!(again.failures().count(), 0, "{again:?}");
}
