//! Teardown: from every partial state, the rule goes first, nothing tagged remains, the
//! listener is exactly as before; idempotent; never touches another deployment's resources.

use aviary_core::status::Status;
use aviary_ports::memory::{throttled, SAMPLE_LISTENER};

use crate::testing::*;

#[tokio::test]
async fn teardown_from_every_partial_state_leaves_the_listener_as_it_was() {
    for stage in ["admitted", "provisioned", "registered", "routed", "active"] {
        let w = World::new();
        let before = w.router.snapshot(SAMPLE_LISTENER);
        match stage {
            "admitted" => drop(w.admitted("web-1").await),
            "provisioned" => drop(w.provisioned("web-1").await),
            "registered" => drop(w.registered("web-1").await),
            "routed" => drop(w.routed("web-1").await),
            _ => drop(w.active("web-1").await),
        }
        w.workflow.set_status(&w.store.peek("web-1").unwrap().execution_arn.unwrap(), "ABORTED");
        let out = w.teardown("web-1").await.unwrap_or_else(|e| panic!("{stage}: {e}"));
        assert_eq!(out.status, Status::Destroyed, "{stage}");
        w.assert_nothing_left("web-1", &before);
    }
}

#[tokio::test]
async fn the_rule_is_removed_before_anything_it_forwards_to() {
    let w = World::new();
    w.active("web-1").await;
    w.workflow.set_status(&w.store.peek("web-1").unwrap().execution_arn.unwrap(), "SUCCEEDED");
    w.cloud.log.clear();
    w.teardown("web-1").await.unwrap();
    let m = w.cloud.log.cloud_mutations();
    assert_eq!(m.first().map(String::as_str), Some("DeleteRule"), "{m:?}");
    assert!(m.iter().position(|o| o == "DeleteTargetGroup") > m.iter().position(|o| o == "DeleteRule"));
}

#[tokio::test]
async fn an_interrupted_teardown_finishes_on_retry_and_a_second_run_changes_nothing() {
    let w = World::new();
    let before = w.router.snapshot(SAMPLE_LISTENER);
    w.active("web-1").await;
    w.workflow.set_status(&w.store.peek("web-1").unwrap().execution_arn.unwrap(), "SUCCEEDED");
    w.cloud.faults.fail_next("TerminateInstances", throttled("TerminateInstances"));
    assert_eq!(w.teardown("web-1").await.unwrap_err().name(), "AwsTransient");
    assert_eq!(w.store.peek("web-1").unwrap().status, Status::TearingDown);
    assert!(w.router.snapshot(SAMPLE_LISTENER) == before, "the rule went first, before the failure");
    assert_eq!(w.teardown("web-1").await.unwrap().status, Status::Destroyed);
    w.assert_nothing_left("web-1", &before);
    w.cloud.log.clear();
    assert_eq!(w.teardown("web-1").await.unwrap().status, Status::Destroyed);
    assert!(w.cloud.log.cloud_mutations().is_empty());
}

#[tokio::test]
async fn tearing_one_down_leaves_the_others_and_the_users_rules_alone() {
    let w = World::new();
    let user_rule = w.router.add_rule(SAMPLE_LISTENER, 5, &Default::default(), vec![], None);
    w.active("web-1").await;
    w.artifacts.insert("x", b"".to_vec());
    let other = w.active("web-2").await;
    w.workflow.set_status(&w.store.peek("web-1").unwrap().execution_arn.unwrap(), "SUCCEEDED");
    w.teardown("web-1").await.unwrap();
    let rules = w.router.snapshot(SAMPLE_LISTENER);
    assert!(rules.iter().any(|r| r.rule_arn == user_rule));
    assert!(rules.iter().any(|r| Some(&r.rule_arn) == other.resources.rule_arn.as_ref()));
    assert_eq!(w.compute.live_instances().iter().filter(|(_, dep, _)| dep == "web-2").count(), 2);
    assert!(w.router.target_groups().iter().filter(|g| g.2.as_deref() == Some("web-2")).count() == 2);
}

#[tokio::test]
async fn a_destroy_request_marks_the_deployment_and_starts_teardown_once() {
    let w = World::new();
    w.active("web-1").await;
    let d = crate::destroy::request_teardown(&w.ports, "web-1", "done watching").await.unwrap();
    assert_eq!(d.status, Status::TearingDown);
    assert!(d.teardown_execution_arn.is_some());
    crate::destroy::request_teardown(&w.ports, "web-1", "again").await.unwrap();
    let teardowns = w.workflow.executions().into_iter().filter(|e| e.kind == aviary_ports::WorkflowKind::Teardown).count();
    assert_eq!(teardowns, 1);
    assert_eq!(w.store.peek("web-1").unwrap().status_reason.as_deref(), Some("done watching"));
}
