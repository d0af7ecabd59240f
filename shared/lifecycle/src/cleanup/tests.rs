//! The sweep against the in-memory fakes: expired → one teardown workflow, stuck deploys and
//! stalled teardowns → the teardown workflow (again), orphans removed rule first, untagged
//! resources untouched, dry runs change nothing, one failing item does not stop the others,
//! repeated sweeps are idempotent.

use aviary_core::status::Status;
use aviary_core::traffic::WeightedTarget;
use aviary_ports::memory::{throttled, MemoryWorkflow, SAMPLE_LISTENER, SAMPLE_PRODUCTION_TG};
use aviary_ports::{Compute, OwnerTags, TrafficRouter, WorkflowKind};

use super::restart::candidate_name;
use super::{run_cleanup, ActionKind, ActionVerb, CleanupOptions, CleanupReport};
use crate::testing::*;

const USER_TG: &str = "arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/users-own/7";

fn teardowns(w: &World) -> Vec<String> {
    w.workflow.executions().into_iter().filter(|e| e.kind == WorkflowKind::Teardown).map(|e| e.name).collect()
}

async fn sweep(w: &World) -> CleanupReport {
    run_cleanup(&w.ports, &CleanupOptions::default()).await.expect("the table can be listed")
}

async fn dry_run(w: &World) -> CleanupReport {
    run_cleanup(&w.ports, &CleanupOptions { dry_run: true, ..Default::default() }).await.expect("the table can be listed")
}

/// The deployment's deploy workflow has ended with `status`.
fn deploy_workflow_ended(w: &World, id: &str, status: &str) {
    w.workflow.set_status(&w.store.peek(id).unwrap().execution_arn.unwrap(), status);
}

/// The store was not written: no record update, no event.
fn store_writes(w: &World) -> Vec<String> {
    w.cloud.log.all().into_iter().filter(|op| op.starts_with("PutItem")).collect()
}

/// Asserts a second sweep finds nothing left to do: no cloud change, no failure, no action done.
async fn assert_idempotent(w: &World) {
    w.cloud.log.clear();
    let again = sweep(w).await;
    assert!(w.cloud.log.cloud_mutations().is_empty(), "{:?}", w.cloud.log.cloud_mutations());
    assert_eq!(again.failures().count(), 0, "{again:?}");
    assert!(again.actions.iter().all(|a| !a.done), "{again:?}");
}

// ---- expired -------------------------------------------------------------------------------

#[tokio::test]
async fn an_expired_deployment_gets_one_teardown_workflow() {
    let w = World::new();
    w.active("web-1").await;
    w.clock.advance_secs(241 * 60);
    let report = sweep(&w).await;
    let a: Vec<_> = report.for_deployment("web-1").collect();
    assert!(a.len() == 1 && a[0].kind == ActionKind::Expired && a[0].action == ActionVerb::Teardown && a[0].done, "{report:?}");
    let d = w.store.peek("web-1").unwrap();
    assert_eq!(d.status, Status::TearingDown);
    assert_eq!(d.teardown_execution_arn, Some(MemoryWorkflow::arn(WorkflowKind::Teardown, &candidate_name("web-1", 0))));
    assert!(w.store.event_details("web-1").iter().any(|e| e.starts_with("cleanup: TTL expired")));
    // The teardown workflow is running: the next sweeps leave it to it.
    for _ in 0..2 {
        w.cloud.log.clear();
        let again = sweep(&w).await;
        assert_eq!(again.for_deployment("web-1").count(), 0, "{again:?}");
        assert!(w.cloud.log.cloud_mutations().is_empty());
    }
    assert_eq!(teardowns(&w), vec![candidate_name("web-1", 0)], "no second workflow");
}

#[tokio::test]
async fn a_live_deployment_within_its_ttl_is_left_alone() {
    let w = World::new();
    w.active("web-1").await;
    w.clock.advance_secs(239 * 60);
    w.cloud.log.clear();
    let report = sweep(&w).await;
    assert_eq!(report.for_deployment("web-1").count(), 0, "{report:?}");
    assert!(w.cloud.log.cloud_mutations().is_empty());
    assert!(store_writes(&w).is_empty());
    assert_eq!(w.store.peek("web-1").unwrap().status, Status::Active);
}

// ---- stuck ---------------------------------------------------------------------------------

#[tokio::test]
async fn a_deploy_quiet_past_the_threshold_ends_failed_through_teardown() {
    let w = World::new();
    w.provisioned("web-1").await;
    w.clock.advance_secs(CleanupOptions::default().stuck_after_secs);
    let report = sweep(&w).await;
    assert!(report.for_deployment("web-1").any(|a| a.kind == ActionKind::Stuck && a.done), "{report:?}");
    let d = w.store.peek("web-1").unwrap();
    assert_eq!(d.status, Status::TearingDown);
    assert!(d.failure_reason.as_deref().is_some_and(|r| r.starts_with("cleanup: stuck in PROVISIONING")), "{:?}", d.failure_reason);
    assert_eq!(teardowns(&w), vec![candidate_name("web-1", 0)]);
    assert_idempotent(&w).await;
}

#[tokio::test]
async fn a_deploy_whose_workflow_ended_is_stuck_after_the_grace_period_only() {
    let w = World::new();
    w.registered("web-1").await;
    deploy_workflow_ended(&w, "web-1", "FAILED");
    let grace = CleanupOptions::default().workflow_grace_secs;
    w.clock.advance_secs(grace - 1);
    w.cloud.log.clear();
    assert_eq!(sweep(&w).await.for_deployment("web-1").count(), 0, "within the grace period");
    assert!(w.cloud.log.cloud_mutations().is_empty());
    w.clock.advance_secs(1);
    let report = sweep(&w).await;
    let a = report.for_deployment("web-1").next().expect("an action");
    assert!(a.kind == ActionKind::Stuck && a.done && report.failures().count() == 0, "{report:?}");
    let d = w.store.peek("web-1").unwrap();
    assert_eq!(d.status, Status::TearingDown);
    assert!(d.failure_reason.unwrap().contains("deploy workflow has ended (FAILED)"));
    assert_idempotent(&w).await;
}

#[tokio::test]
async fn a_quiet_deploy_whose_workflow_still_runs_is_left_to_it() {
    let w = World::new();
    w.routed("web-1").await;
    w.clock.advance_secs(CleanupOptions::default().workflow_grace_secs + 60);
    w.cloud.log.clear();
    let report = sweep(&w).await;
    assert_eq!(report.for_deployment("web-1").count(), 0, "{report:?}");
    assert!(w.cloud.log.cloud_mutations().is_empty() && store_writes(&w).is_empty());
    assert_eq!(w.cloud.log.count("DescribeExecution"), 1, "it asked the workflow engine");
}

/// TEARING_DOWN with no teardown execution recorded (a crash between the status write and
/// StartExecution), its deploy workflow over.
async fn tearing_down_without_a_workflow(w: &World, id: &str) {
    w.active(id).await;
    deploy_workflow_ended(w, id, "SUCCEEDED");
    let mut d = w.store.peek(id).unwrap();
    d.status = Status::TearingDown;
    d.teardown_execution_arn = None;
    d.version += 1;
    w.store.overwrite(d);
}

#[tokio::test]
async fn tearing_down_without_a_teardown_workflow_gets_one() {
    let w = World::new();
    tearing_down_without_a_workflow(&w, "web-1").await;
    let report = sweep(&w).await;
    assert!(report.for_deployment("web-1").any(|a| a.kind == ActionKind::Stuck && a.done), "{report:?}");
    let arn = MemoryWorkflow::arn(WorkflowKind::Teardown, &candidate_name("web-1", 0));
    assert_eq!(w.store.peek("web-1").unwrap().teardown_execution_arn.as_deref(), Some(arn.as_str()));
    assert_eq!(teardowns(&w), vec![candidate_name("web-1", 0)]);
    assert_idempotent(&w).await;
}

#[tokio::test]
async fn tearing_down_in_the_deploy_workflow_is_given_time_first() {
    let w = World::new();
    tearing_down_without_a_workflow(&w, "web-1").await;
    // The deploy workflow's failure path is tearing down in-line.
    deploy_workflow_ended(&w, "web-1", "RUNNING");
    let limit = CleanupOptions::default().teardown_stuck_after_secs;
    w.clock.advance_secs(limit - 1);
    assert_eq!(sweep(&w).await.for_deployment("web-1").count(), 0);
    assert!(teardowns(&w).is_empty());
    w.clock.advance_secs(1);
    let report = sweep(&w).await;
    assert!(report.for_deployment("web-1").any(|a| a.done && a.detail.contains("tearing down in its deploy workflow")), "{report:?}");
    assert_eq!(teardowns(&w), vec![candidate_name("web-1", 0)]);
}

#[tokio::test]
async fn a_teardown_workflow_that_gave_up_is_started_again_under_a_new_name() {
    let w = World::new();
    w.active("web-1").await;
    deploy_workflow_ended(&w, "web-1", "SUCCEEDED");
    crate::destroy::request_teardown(&w.ports, "web-1", "test").await.unwrap();
    let first = w.store.peek("web-1").unwrap().teardown_execution_arn.unwrap();
    w.cloud.log.clear();
    assert_eq!(sweep(&w).await.for_deployment("web-1").count(), 0, "a running teardown is left alone");
    assert!(w.cloud.log.cloud_mutations().is_empty());

    w.workflow.set_status(&first, "FAILED");
    let report = sweep(&w).await;
    assert!(report.for_deployment("web-1").any(|a| a.kind == ActionKind::Stuck && a.done), "{report:?}");
    let second = MemoryWorkflow::arn(WorkflowKind::Teardown, &candidate_name("web-1", 1));
    assert_eq!(w.store.peek("web-1").unwrap().teardown_execution_arn.as_deref(), Some(second.as_str()));
    assert_eq!(teardowns(&w).len(), 2);
    assert_idempotent(&w).await;
    assert_eq!(teardowns(&w).len(), 2, "no third workflow while the second runs");
}

// ---- orphans -------------------------------------------------------------------------------

/// Aviary-tagged resources of a deployment the table does not know (a rule on the listener
/// and an instance), next to an *untagged* target group named like one of Aviary's: found by
/// tag, never by name, so that group must survive. Returns (rule, untagged group).
fn plant_orphans(w: &World, id: &str, priority: u32) -> (String, String) {
    let tg = format!("arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/aviary-{id}/9");
    w.router.add_target_group(&tg, &format!("aviary-{id}"));
    let rule = w.router.add_rule(
        SAMPLE_LISTENER,
        priority,
        &Default::default(),
        vec![WeightedTarget { target_group_arn: SAMPLE_PRODUCTION_TG.into(), weight: 1 }],
        Some(OwnerTags::new(id, "rule")),
    );
    w.compute.insert_foreign_instance(&format!("i-{id}"), id);
    (rule, tg)
}

/// A deployment whose record is final while its resources are all still there (a teardown
/// that recorded DESTROYED too early, or a record written by hand).
async fn final_with_resources_left(w: &World, id: &str) {
    w.routed(id).await;
    deploy_workflow_ended(w, id, "FAILED");
    let mut d = w.store.peek(id).unwrap();
    d.status = Status::Failed;
    d.version += 1;
    w.store.overwrite(d);
}

#[tokio::test]
async fn orphans_of_a_final_deployment_go_rule_first_then_groups_instances_and_security_groups() {
    let w = World::new();
    let before = w.router.snapshot(SAMPLE_LISTENER);
    final_with_resources_left(&w, "web-1").await;
    let tgs = w.router.target_groups().into_iter().filter(|g| g.2.as_deref() == Some("web-1")).count();
    let sgs = w.compute.security_groups().into_iter().filter(|g| g.1 == "web-1").count();
    assert!(tgs == 2 && sgs >= 1 && !w.compute.live_instances().is_empty(), "the fixture made the resources");
    w.cloud.log.clear();
    let report = sweep(&w).await;
    let a: Vec<_> = report.for_deployment("web-1").collect();
    assert!(!a.is_empty() && a.iter().all(|a| a.kind == ActionKind::Orphan && a.action == ActionVerb::Delete && a.done), "{report:?}");
    for kind in ["rule ", "target group ", "instance ", "security group "] {
        assert!(a.iter().any(|a| a.resource.as_deref().is_some_and(|r| r.starts_with(kind))), "{kind}: {report:?}");
    }
    let m = w.cloud.log.cloud_mutations();
    let first = |op: &str| m.iter().position(|o| o == op).unwrap_or_else(|| panic!("no {op} in {m:?}"));
    assert_eq!(first("DeleteRule"), 0, "{m:?}");
    assert!(first("DeleteRule") < first("DeleteTargetGroup"));
    assert!(first("DeleteTargetGroup") < first("TerminateInstances"));
    assert!(first("TerminateInstances") < first("DeleteSecurityGroup"));
    w.assert_nothing_left("web-1", &before);
    assert_eq!(w.store.peek("web-1").unwrap().status, Status::Failed, "the record stays as it was");
    assert!(w.store.event_details("web-1").iter().any(|e| e.contains("orphaned resources removed")));
    assert_idempotent(&w).await;
}

#[tokio::test]
async fn orphans_are_removed_rule_first_and_untagged_resources_stay() {
    let w = World::new();
    let before = w.router.snapshot(SAMPLE_LISTENER);
    let groups_before = w.router.target_groups();
    w.router.add_target_group(USER_TG, "users-own");
    let user_rule = w.router.add_rule(
        SAMPLE_LISTENER,
        3,
        &Default::default(),
        vec![WeightedTarget { target_group_arn: USER_TG.into(), weight: 1 }],
        None,
    );
    let (orphan_rule, untagged_tg) = plant_orphans(&w, "ghost-1", 77);
    w.cloud.log.clear();
    let report = sweep(&w).await;
    let a: Vec<_> = report.for_deployment("ghost-1").collect();
    assert!(a.len() == 2 && a.iter().all(|a| a.kind == ActionKind::Orphan && a.done), "{report:?}");
    assert!(report.actions.iter().all(|a| a.deployment_id == "ghost-1"), "only the tagged resources: {report:?}");
    let m = w.cloud.log.cloud_mutations();
    // DeleteParameter: its secrets are deleted by name (none existed: already gone is done).
    assert_eq!(m, vec!["DeleteRule".to_string(), "TerminateInstances".to_string(), "DeleteParameter".to_string()], "{m:?}");
    let rules = w.router.snapshot(SAMPLE_LISTENER);
    assert!(rules.iter().all(|r| r.rule_arn != orphan_rule));
    assert!(rules.iter().any(|r| r.rule_arn == user_rule), "the user's rule stays");
    assert_eq!(rules.len(), before.len() + 1);
    assert!(w.compute.live_instances().iter().all(|(_, dep, _)| dep != "ghost-1"));
    let groups: Vec<String> = w.router.target_groups().into_iter().map(|g| g.0).collect();
    for g in groups_before.iter().map(|g| g.0.as_str()).chain([USER_TG, untagged_tg.as_str()]) {
        assert!(groups.iter().any(|x| x == g), "untagged group {g} stays");
    }
    assert_idempotent(&w).await;
}

#[tokio::test]
async fn a_live_deployments_resources_are_not_orphans() {
    let w = World::new();
    w.active("web-1").await;
    w.workflow.set_status(&w.store.peek("web-1").unwrap().execution_arn.unwrap(), "SUCCEEDED");
    w.cloud.log.clear();
    let report = sweep(&w).await;
    assert!(report.actions.is_empty(), "{report:?}");
    assert!(w.cloud.log.cloud_mutations().is_empty());
}

#[tokio::test]
async fn a_tagged_group_another_rule_still_forwards_to_is_left_in_place() {
    let w = World::new();
    final_with_resources_left(&w, "web-1").await;
    let (tg, ..) = w.router.target_groups().into_iter().find(|g| g.2.as_deref() == Some("web-1")).unwrap();
    // A hand-made rule of the user's forwards to the canary's group.
    w.router.add_rule(SAMPLE_LISTENER, 4, &Default::default(), vec![WeightedTarget { target_group_arn: tg.clone(), weight: 1 }], None);
    w.cloud.log.clear();
    let report = sweep(&w).await;
    assert!(report.for_deployment("web-1").all(|a| !a.done && a.detail.contains("still forwarded to")), "{report:?}");
    assert!(w.cloud.log.cloud_mutations().is_empty(), "{:?}", w.cloud.log.cloud_mutations());
    assert!(w.router.target_groups().iter().any(|g| g.0 == tg));
}

// ---- dry run -------------------------------------------------------------------------------

#[tokio::test]
async fn a_dry_run_reports_and_changes_nothing() {
    let w = World::new();
    w.active("web-1").await;
    w.clock.advance_secs(241 * 60);
    tearing_down_without_a_workflow(&w, "web-2").await;
    w.provisioned("web-3").await;
    final_with_resources_left(&w, "web-4").await;
    w.clock.advance_secs(CleanupOptions::default().stuck_after_secs);
    plant_orphans(&w, "ghost-1", 77);
    let records_before: Vec<_> = ["web-1", "web-2", "web-3", "web-4"].iter().map(|id| w.store.peek(id).unwrap()).collect();
    let events_before: Vec<_> = ["web-1", "web-2", "web-3", "web-4", "ghost-1"].iter().map(|id| w.store.event_details(id)).collect();
    let rules_before = w.router.snapshot(SAMPLE_LISTENER);
    let executions_before = w.workflow.executions();
    w.cloud.log.clear();

    let report = dry_run(&w).await;
    assert!(report.dry_run && report.failures().count() == 0, "{report:?}");
    assert!(report.for_deployment("web-1").any(|a| a.kind == ActionKind::Expired && a.detail.starts_with("dry run")), "{report:?}");
    assert!(report.for_deployment("web-2").any(|a| a.kind == ActionKind::Stuck), "{report:?}");
    assert!(report.for_deployment("web-3").any(|a| a.kind == ActionKind::Expired || a.kind == ActionKind::Stuck), "{report:?}");
    assert!(report.for_deployment("web-4").count() >= 4, "{report:?}");
    assert!(report.for_deployment("ghost-1").count() == 2, "{report:?}");
    assert!(report.actions.iter().all(|a| !a.done), "{report:?}");

    assert!(w.cloud.log.cloud_mutations().is_empty(), "{:?}", w.cloud.log.cloud_mutations());
    assert!(store_writes(&w).is_empty(), "not even the event log: {:?}", store_writes(&w));
    let records_after: Vec<_> = ["web-1", "web-2", "web-3", "web-4"].iter().map(|id| w.store.peek(id).unwrap()).collect();
    assert_eq!(records_after, records_before);
    let events_after: Vec<_> = ["web-1", "web-2", "web-3", "web-4", "ghost-1"].iter().map(|id| w.store.event_details(id)).collect();
    assert_eq!(events_after, events_before);
    assert_eq!(w.router.snapshot(SAMPLE_LISTENER), rules_before);
    assert_eq!(w.workflow.executions(), executions_before);

    // The real sweep then does what the dry run reported.
    let real = sweep(&w).await;
    let key = |r: &CleanupReport| {
        let mut v: Vec<_> = r.actions.iter().map(|a| (a.deployment_id.clone(), a.kind, a.resource.clone())).collect();
        v.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
        v
    };
    assert_eq!(key(&real), key(&report));
    assert_eq!(real.failures().count(), 0, "{real:?}");
}

// ---- failures ------------------------------------------------------------------------------

#[tokio::test]
async fn a_failed_teardown_request_does_not_stop_the_sweep_and_the_next_sweep_finishes() {
    let w = World::new();
    w.active("web-1").await;
    w.clock.advance_secs(241 * 60);
    plant_orphans(&w, "ghost-1", 77);
    // The deploy workflow has ended (it ended ACTIVE): nothing else will tear this down.
    deploy_workflow_ended(&w, "web-1", "SUCCEEDED");
    w.cloud.faults.fail_next("StartExecution", throttled("StartExecution"));
    let report = sweep(&w).await;
    let failed: Vec<_> = report.failures().collect();
    assert!(failed.len() == 1 && failed[0].deployment_id == "web-1", "{report:?}");
    assert!(failed[0].detail.contains("teardown request failed"), "{report:?}");
    assert!(report.for_deployment("ghost-1").all(|a| a.done), "the orphans went anyway: {report:?}");
    assert!(w.compute.live_instances().iter().all(|(_, dep, _)| dep != "ghost-1"));
    // TEARING_DOWN without a workflow now: the next sweep starts it.
    let next = sweep(&w).await;
    assert!(next.for_deployment("web-1").any(|a| a.kind == ActionKind::Stuck && a.done), "{next:?}");
    assert_eq!(teardowns(&w), vec![candidate_name("web-1", 0)]);
    assert_idempotent(&w).await;
}

#[tokio::test]
async fn a_rule_that_cannot_be_deleted_holds_back_only_its_own_deployment() {
    let w = World::new();
    plant_orphans(&w, "ghost-1", 77);
    plant_orphans(&w, "ghost-2", 78);
    let sg = w.compute.ensure_security_group("ghost-1", "canary", "vpc-1", "orphan").await.unwrap();
    w.cloud.faults.fail_next("DeleteRule", throttled("DeleteRule"));
    let report = sweep(&w).await;
    // ghost-1 comes first: its rule fails, so its other resources wait for the next sweep.
    let one: Vec<_> = report.for_deployment("ghost-1").collect();
    assert!(one.iter().all(|a| !a.done), "{report:?}");
    assert!(one.iter().any(|a| a.detail.contains("its rule could not be removed first")), "{report:?}");
    assert!(w.compute.live_instances().iter().any(|(_, dep, _)| dep == "ghost-1"));
    assert!(w.compute.security_groups().iter().any(|(g, ..)| *g == sg));
    // ghost-2 is unaffected.
    assert!(report.for_deployment("ghost-2").all(|a| a.done), "{report:?}");
    assert!(w.compute.live_instances().iter().all(|(_, dep, _)| dep != "ghost-2"));

    let next = sweep(&w).await;
    assert!(next.for_deployment("ghost-1").all(|a| a.done) && next.failures().count() == 0, "{next:?}");
    assert!(w.compute.live_instances().iter().all(|(_, dep, _)| dep != "ghost-1"));
    assert!(w.compute.security_groups().iter().all(|(g, ..)| *g != sg));
    assert!(w.router.aviary_rules(SAMPLE_LISTENER).await.unwrap().is_empty());
    assert_idempotent(&w).await;
}

#[tokio::test]
async fn a_failed_listing_is_reported_and_holds_back_only_what_it_could_hide() {
    let w = World::new();
    plant_orphans(&w, "ghost-1", 77);
    w.cloud.faults.fail_next("DescribeInstances", throttled("DescribeInstances"));
    let report = sweep(&w).await;
    assert_eq!(report.errors.len(), 1, "{report:?}");
    assert!(report.errors[0].contains("instances"), "{report:?}");
    assert!(report.for_deployment("ghost-1").any(|a| a.resource.as_deref().is_some_and(|r| r.starts_with("rule ")) && a.done), "{report:?}");
    let next = sweep(&w).await;
    assert!(next.errors.is_empty() && next.failures().count() == 0, "{next:?}");
    assert!(w.compute.live_instances().iter().all(|(_, dep, _)| dep != "ghost-1"));
}

#[tokio::test]
async fn without_the_deployment_table_nothing_is_decided() {
    let w = World::new();
    plant_orphans(&w, "ghost-1", 77);
    w.cloud.faults.fail_next("Query:deployments", throttled("Query"));
    w.cloud.log.clear();
    assert!(run_cleanup(&w.ports, &CleanupOptions::default()).await.is_err());
    assert!(w.cloud.log.cloud_mutations().is_empty());
}

#[test]
fn defaults_follow_the_state_machines_timeouts() {
    // A deploy still within its workflow's timeout is not stuck: the workflow will end it.
    let timeout = |asl: &str| serde_json::from_str::<serde_json::Value>(asl).unwrap()["TimeoutSeconds"].as_i64().unwrap();
    let o = CleanupOptions::default();
    assert!(o.stuck_after_secs >= timeout(include_str!("../../../../statemachines/deploy.asl.json")));
    assert!(o.teardown_stuck_after_secs >= timeout(include_str!("../../../../statemachines/teardown.asl.json")));
    assert!(o.workflow_grace_secs < o.stuck_after_secs);
    assert!(!o.dry_run);
}
