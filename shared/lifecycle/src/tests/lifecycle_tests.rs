//! The deploy steps: the happy path, a failure at each cloud call (each ends in a stable error
//! name and a teardown that leaves nothing), retried steps that create nothing twice, and
//! lost priority races.

use aviary_core::spec::RuleConditions;
use aviary_core::status::Status;
use aviary_core::steps::{DeploymentRef, ListenerRuleInput, RuleAction};
use aviary_core::StepError;
use aviary_ports::memory::{throttled, SAMPLE_LISTENER, SAMPLE_PRODUCTION_TG};

use crate::testing::*;

fn r(id: &str) -> DeploymentRef {
    DeploymentRef { deployment_id: id.into() }
}

fn rule(id: &str, action: RuleAction) -> ListenerRuleInput {
    ListenerRuleInput { deployment_id: id.into(), action }
}

#[tokio::test]
async fn the_canary_rule_goes_after_the_users_rules_with_the_requested_share() {
    let w = World::new();
    w.router.add_rule(SAMPLE_LISTENER, 10, &RuleConditions { path_patterns: vec!["/admin/*".into()], ..Default::default() }, vec![], None);
    let d = w.active("web-1").await;
    assert_eq!(d.resources.rule_priority, Some(11));
    let weights = d.weights.unwrap();
    assert_eq!(weights.production[0].target_group_arn, SAMPLE_PRODUCTION_TG);
    assert_eq!((weights.production[0].weight, weights.baseline.weight, weights.canary.weight), (900, 50, 50));
    let rules = w.router.snapshot(SAMPLE_LISTENER);
    assert_eq!(rules.iter().map(|r| r.priority.as_str()).collect::<Vec<_>>(), ["10", "11", "default"]);
    assert_eq!(rules[1].forward, weights.all());
    // Every step logged what it did.
    let log = w.store.event_details("web-1").join("\n");
    for step in ["admission", "provision", "register-targets", "add-listener-rule", "check-health"] {
        assert!(log.contains(step), "no {step} event in\n{log}");
    }
}

#[tokio::test]
async fn each_status_change_is_recorded_once_with_its_time() {
    let w = World::new();
    w.admitted("web-1").await;
    w.clock.advance_secs(2);
    crate::provision::provision(&w.ports, &r("web-1")).await.unwrap();
    w.clock.advance_secs(3);
    crate::register::register_targets(&w.ports, &r("web-1")).await.unwrap();
    // A retried step re-enters its status: no second entry.
    crate::register::register_targets(&w.ports, &r("web-1")).await.unwrap();
    let d = w.store.peek("web-1").unwrap();
    let seen: Vec<(Status, i64)> = d.status_history.iter().map(|c| (c.status, c.at_ms)).collect();
    assert_eq!(seen.last(), Some(&(Status::Registering, (NOW + 5) * 1000)), "{seen:?}");
    assert!(seen.contains(&(Status::Provisioning, (NOW + 2) * 1000)), "{seen:?}");
    assert_eq!(seen.iter().filter(|(s, _)| *s == Status::Registering).count(), 1, "{seen:?}");
    // On the wire: RFC 3339 with milliseconds.
    let json = serde_json::to_value(&d).unwrap();
    let last = json["statusHistory"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last, serde_json::json!({"status": "REGISTERING", "at": aviary_core::clock::rfc3339_ms((NOW + 5) * 1000)}));
    let back: aviary_core::model::Deployment = serde_json::from_value(json).unwrap();
    assert_eq!(back.status_history, d.status_history);
}

/// Drives the deploy steps until one fails; returns that error.
async fn deploy_until_error(w: &World, id: &str) -> StepError {
    w.admitted(id).await;
    if let Err(e) = crate::provision::provision(&w.ports, &r(id)).await {
        return e;
    }
    if let Err(e) = crate::register::register_targets(&w.ports, &r(id)).await {
        return e;
    }
    if let Err(e) = crate::rule::listener_rule(&w.ports, &rule(id, RuleAction::Create)).await {
        return e;
    }
    if let Err(e) = crate::health::check_health(&w.ports, &r(id)).await {
        return e;
    }
    match crate::rule::listener_rule(&w.ports, &rule(id, RuleAction::Activate)).await {
        Err(e) => e,
        Ok(_) => panic!("no step failed"),
    }
}

#[tokio::test]
async fn a_failure_at_any_cloud_call_is_named_and_teardown_then_leaves_nothing() {
    for op in [
        "GetParameter",
        "CreateSecurityGroup",
        "AuthorizeSecurityGroupIngress",
        "RunInstances",
        "DescribeInstances",
        "CreateTargetGroup",
        "ModifyTargetGroupAttributes",
        "RegisterTargets",
        "CreateRule",
        "DescribeTargetHealth",
        "ModifyRule",
    ] {
        let w = World::new();
        let before = w.router.snapshot(SAMPLE_LISTENER);
        w.upload_artifacts("web");
        w.cloud.faults.fail_always(op, StepError::aws(op, false, "AccessDenied: injected"));
        let err = deploy_until_error(&w, "web-1").await;
        assert_eq!(err.name(), "AwsError", "{op}: {err}");
        assert!(w.store.event_details("web-1").iter().any(|e| e.contains("injected")), "{op}: the failure is in the event log");
        // The state machine's Catch runs teardown with the failure; the fault is gone by then.
        w.cloud.faults.clear();
        let failure = aviary_core::error::CaughtError { error: err.name().into(), cause: err.to_string() };
        let out = crate::teardown::teardown(
            &w.ports,
            &aviary_core::steps::TeardownInput { deployment_id: "web-1".into(), failure: Some(failure), reason: None },
        )
        .await
        .unwrap_or_else(|e| panic!("{op}: teardown failed: {e}"));
        assert_eq!(out.status, Status::Failed, "{op}");
        assert!(w.store.peek("web-1").unwrap().failure_reason.unwrap().contains("injected"), "{op}");
        w.assert_nothing_left("web-1", &before);
    }
}

#[tokio::test]
async fn retried_steps_create_nothing_twice() {
    let w = World::new();
    w.admitted("web-1").await;
    let a = crate::provision::provision(&w.ports, &r("web-1")).await.unwrap();
    let b = crate::provision::provision(&w.ports, &r("web-1")).await.unwrap();
    assert_eq!(a, b);
    assert_eq!(w.compute.launches().len(), 2, "baseline and canary, once each");
    let a = crate::register::register_targets(&w.ports, &r("web-1")).await.unwrap();
    let b = crate::register::register_targets(&w.ports, &r("web-1")).await.unwrap();
    assert_eq!(a, b);
    assert_eq!(w.cloud.log.count("CreateTargetGroup"), 2);
    let a = crate::rule::listener_rule(&w.ports, &rule("web-1", RuleAction::Create)).await.unwrap();
    // A retry after a crash between CreateRule and recording it finds the rule by its tags.
    let mut d = w.store.peek("web-1").unwrap();
    d.status = Status::Routing;
    d.resources.rule_arn = None;
    w.store.overwrite(d);
    let b = crate::rule::listener_rule(&w.ports, &rule("web-1", RuleAction::Create)).await.unwrap();
    assert_eq!(a.rule_arn, b.rule_arn);
    assert_eq!(w.cloud.log.count("CreateRule"), 1);
}

#[tokio::test]
async fn instances_not_yet_running_make_register_retry_without_creating_anything() {
    let w = World::new();
    w.compute.launch_in_state("pending");
    w.provisioned("web-1").await;
    w.cloud.log.clear();
    let err = crate::register::register_targets(&w.ports, &r("web-1")).await.unwrap_err();
    assert_eq!(err.name(), "InstancesNotReady");
    assert!(w.cloud.log.cloud_mutations().is_empty());
}

#[tokio::test]
async fn a_lost_priority_race_retries_at_another_number() {
    let w = World::new();
    w.registered("web-1").await;
    w.router.steal_priority(1);
    let out = crate::rule::listener_rule(&w.ports, &rule("web-1", RuleAction::Create)).await.unwrap();
    assert_ne!(out.priority, 1);
    assert_eq!(w.router.snapshot(SAMPLE_LISTENER).iter().filter(|r| r.priority == out.priority.to_string()).count(), 1);
}

#[tokio::test]
async fn an_explicit_priority_taken_concurrently_is_not_silently_moved() {
    let w = World::new();
    w.upload_artifacts("web");
    let mut s = spec("web");
    s.priority = Some(40);
    w.admit("web-1", s).await;
    crate::provision::provision(&w.ports, &r("web-1")).await.unwrap();
    crate::register::register_targets(&w.ports, &r("web-1")).await.unwrap();
    w.router.steal_priority(40);
    let err = crate::rule::listener_rule(&w.ports, &rule("web-1", RuleAction::Create)).await.unwrap_err();
    assert_eq!(err.name(), "PriorityExhausted");
}

#[tokio::test]
async fn a_step_on_a_deployment_being_destroyed_stops_with_status_conflict() {
    let w = World::new();
    w.registered("web-1").await;
    crate::destroy::request_teardown(&w.ports, "web-1", "user").await.unwrap();
    let err = crate::rule::listener_rule(&w.ports, &rule("web-1", RuleAction::Create)).await.unwrap_err();
    assert_eq!(err.name(), "StatusConflict");
    assert!(w.router.snapshot(SAMPLE_LISTENER).len() == 1, "no rule was added");
}

#[tokio::test]
async fn a_concurrent_writer_is_never_overwritten() {
    let w = World::new();
    w.admitted("web-1").await;
    // Another writer bumps the version between our read and our write: the CAS retries on
    // the fresh record instead of writing over it.
    let mut d = w.store.peek("web-1").unwrap();
    d.version += 1;
    d.status_reason = Some("written concurrently".into());
    w.store.overwrite(d);
    let d = w.ports.deployments().transition("web-1", Status::Provisioning, |_| {}).await.unwrap();
    assert_eq!(d.status_reason.as_deref(), Some("written concurrently"));
}

#[tokio::test]
async fn throttling_is_transient_for_the_state_machines_retrier() {
    let w = World::new();
    w.admitted("web-1").await;
    w.cloud.faults.fail_next("RunInstances", throttled("RunInstances"));
    assert_eq!(crate::provision::provision(&w.ports, &r("web-1")).await.unwrap_err().name(), "AwsTransient");
    // The retry goes through and finds what the first attempt created.
    crate::provision::provision(&w.ports, &r("web-1")).await.unwrap();
    assert_eq!(w.compute.launches().len(), 2);
}
