//! The canary lifecycle against the emulator, through the real state machines and handlers:
//! the happy path, a failure injected at every step (saga → teardown), the health deadline,
//! and a canary that turns unhealthy just before traffic would move.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use aviary_local::invoker::{Fault, FaultTiming};
use aviary_aws::elb::AlbTargetHealth;
use aviary_ports::{OverrideHealth, TargetHealthSource};
use aviary_lifecycle::destroy::request_teardown;
use aviary_core::status::Status;
use aviary_core::steps::GroupHealth;
use aviary_core::StepError;
use aviary_tests::harness;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_shift_traffic_and_teardown_restore_the_listener_exactly() {
    let h = harness(None).await;
    let id = h.upload("web").await;
    let d = h.rt.wait_for(&id, "ACTIVE", std::time::Duration::from_secs(60), |s| s == Status::Active || s.is_final()).await.unwrap();
    assert_eq!(d.status, Status::Active, "{:?}", d.status_reason);
    let during = h.rules_now().await;
    assert_eq!(during.len(), h.rules_before.len() + 1);
    let ours = during.iter().find(|r| r.rule_arn == d.resources.rule_arn.clone().unwrap()).expect("canary rule");
    let weights: Vec<u32> = ours.forward.iter().map(|t| t.weight).collect();
    assert_eq!(weights, vec![900, 50, 50], "production 90%, baseline 5%, canary 5%");
    assert_eq!(ours.stickiness_seconds, Some(600));
    assert_eq!(ours.conditions, vec!["http-request-method:GET,HEAD"]);
    assert!(d.monitoring.is_some(), "monitoring links recorded");

    let d = request_teardown(&h.rt.ports, &id, "test done").await.unwrap();
    assert_eq!(d.status, Status::TearingDown);
    let d = h.wait_final(&id).await;
    assert_eq!(d.status, Status::Destroyed);
    h.assert_nothing_left(&id).await;
    // Idempotent: destroying again changes nothing and does not fail.
    assert_eq!(request_teardown(&h.rt.ports, &id, "again").await.unwrap().status, Status::Destroyed);
    let events = h.rt.events(&id).await.unwrap();
    let steps: Vec<&str> = events.iter().map(|e| e.step.as_str()).collect();
    for s in ["admission", "provision", "register-targets", "add-listener-rule", "check-health", "destroy", "teardown"] {
        assert!(steps.contains(&s), "no {s} event in {steps:?}");
    }
}

/// Each step fails once (before its handler runs, and after it did its work); the saga must
/// tear everything down, leave nothing tagged and the listener as it was, and end FAILED.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_at_any_step_leaves_nothing_behind() {
    let h = harness(None).await;
    let cases = [
        ("provision", FaultTiming::Before),
        ("provision", FaultTiming::After),
        ("register-targets", FaultTiming::Before),
        ("register-targets", FaultTiming::After),
        ("add-listener-rule", FaultTiming::After),
        ("check-health", FaultTiming::Before),
        ("check-health", FaultTiming::After),
    ];
    for (i, (function, timing)) in cases.iter().enumerate() {
        h.rt.invoker.inject(Fault { function: function.to_string(), timing: *timing, error: "InjectedFault".into(), times: 1 });
        let name = format!("web{i}");
        h.edit_spec(|v| v["name"] = serde_json::json!(name));
        let id = h.upload(&name).await;
        let d = h.wait_final(&id).await;
        assert_eq!(d.status, Status::Failed, "{function} {timing:?}");
        assert!(d.status_reason.clone().unwrap_or_default().contains("InjectedFault"), "{:?}", d.status_reason);
        h.rt.sfn.wait_idle().await;
        h.assert_nothing_left(&id).await;
    }
    // The second add-listener-rule call is the traffic shift (activate).
    h.rt.invoker.inject(Fault { function: "add-listener-rule".into(), timing: FaultTiming::Before, error: "InjectedFault".into(), times: 1 });
    h.edit_spec(|v| v["name"] = serde_json::json!("webrule"));
    let id = h.upload("webrule").await;
    assert_eq!(h.wait_final(&id).await.status, Status::Failed);
    h.rt.sfn.wait_idle().await;
    h.assert_nothing_left(&id).await;
}

/// Lambda service errors are retried (the recommended retrier) and teardown retries until done.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_lambda_errors_are_retried_not_failed() {
    let h = harness(None).await;
    for f in ["provision", "check-health", "teardown"] {
        h.rt.invoker.inject(Fault { function: f.into(), timing: FaultTiming::Before, error: "Lambda.ServiceException".into(), times: 2 });
    }
    let id = h.upload("web").await;
    let d = h.rt.wait_for(&id, "ACTIVE", std::time::Duration::from_secs(60), |s| s == Status::Active || s.is_final()).await.unwrap();
    assert_eq!(d.status, Status::Active);
    request_teardown(&h.rt.ports, &id, "done").await.unwrap();
    assert_eq!(h.wait_final(&id).await.status, Status::Destroyed);
    h.assert_nothing_left(&id).await;
}

/// Targets that never become healthy: baseline and canary keep weight 0 the whole time, and
/// at the deadline everything is torn down and the deployment FAILED with the reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unhealthy_targets_never_get_traffic_and_fail_at_the_deadline() {
    let h = harness(None).await;
    let clock = aviary_core::clock::ManualClock::at_secs(aviary_core::clock::Clock::now_secs(&aviary_core::clock::SystemClock));
    let health: Arc<dyn TargetHealthSource> = Arc::new(OverrideHealth {
        inner: AlbTargetHealth::from_conf(&h.rt.config),
        state: "unhealthy".into(),
        reason: Some("Target.FailedHealthChecks".into()),
    });
    // Swap the handlers' health source and clock (the invoker gets the new ports).
    let mut rt = h;
    rt.rt.set_health_and_clock(health, Arc::new(clock.clone()));
    let id = rt.upload("web").await;
    let d = rt.rt.wait_for(&id, "WAITING_HEALTHY", std::time::Duration::from_secs(60), |s| s == Status::WaitingHealthy || s.is_final()).await.unwrap();
    assert_eq!(d.status, Status::WaitingHealthy);
    // While waiting, the rule exists and sends nothing to baseline or canary.
    for _ in 0..5 {
        let rules = rt.rules_now().await;
        let ours = rules.iter().find(|r| Some(&r.rule_arn) == d.resources.rule_arn.as_ref()).expect("rule at weight 0");
        assert_eq!(ours.forward.iter().skip(1).map(|t| t.weight).collect::<Vec<_>>(), vec![0, 0]);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    clock.advance_secs(16 * 60);
    let d = rt.wait_final(&id).await;
    assert_eq!(d.status, Status::Failed);
    assert!(d.status_reason.clone().unwrap().contains("HealthCheckTimeout"), "{:?}", d.status_reason);
    rt.rt.sfn.wait_idle().await;
    rt.assert_nothing_left(&id).await;
    let events = rt.rt.events(&id).await.unwrap();
    assert!(events.iter().any(|e| e.step == "check-health" && e.detail.contains("unhealthy (Target.FailedHealthChecks)")));
}

/// Healthy at the check, unhealthy a moment later when traffic would move: the shift is
/// refused (TargetsNotHealthy), the workflow goes back to waiting, and shifts once healthy.
struct Flaky {
    inner: AlbTargetHealth,
    calls: AtomicU32,
}

#[async_trait]
impl TargetHealthSource for Flaky {
    async fn target_health(&self, tg: &str) -> Result<GroupHealth, StepError> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        let mut g = self.inner.target_health(tg).await?;
        // Calls 0-1: check-health (healthy); 2-3: activate (unhealthy); then healthy again.
        if (2..4).contains(&n) {
            for t in &mut g.targets {
                t.state = "unhealthy".into();
            }
        }
        Ok(g)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traffic_never_moves_onto_a_group_that_just_turned_unhealthy() {
    let mut h = harness(None).await;
    let flaky = Arc::new(Flaky { inner: AlbTargetHealth::from_conf(&h.rt.config), calls: AtomicU32::new(0) });
    h.rt.set_health_and_clock(flaky.clone(), Arc::new(aviary_core::clock::SystemClock));
    let id = h.upload("web").await;
    let d = h.rt.wait_for(&id, "ACTIVE", std::time::Duration::from_secs(60), |s| s == Status::Active || s.is_final()).await.unwrap();
    assert_eq!(d.status, Status::Active);
    let events = h.rt.events(&id).await.unwrap();
    assert!(events.iter().any(|e| e.step == "add-listener-rule" && e.detail.contains("TargetsNotHealthy")), "refused shift logged");
    assert!(flaky.calls.load(Ordering::SeqCst) >= 6);
    request_teardown(&h.rt.ports, &id, "done").await.unwrap();
    assert_eq!(h.wait_final(&id).await.status, Status::Destroyed);
    h.assert_nothing_left(&id).await;
}

/// A destroy request while the canary is still waiting for health: the deploy workflow stops
/// at its next check, teardown waits for it, and nothing is left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destroy_during_the_health_wait_wins_cleanly() {
    let mut h = harness(None).await;
    let health: Arc<dyn TargetHealthSource> =
        Arc::new(OverrideHealth { inner: AlbTargetHealth::from_conf(&h.rt.config), state: "initial".into(), reason: None });
    h.rt.set_health_and_clock(health, Arc::new(aviary_core::clock::SystemClock));
    let id = h.upload("web").await;
    h.rt.wait_for(&id, "WAITING_HEALTHY", std::time::Duration::from_secs(60), |s| s == Status::WaitingHealthy).await.unwrap();
    request_teardown(&h.rt.ports, &id, "changed my mind").await.unwrap();
    let d = h.wait_final(&id).await;
    assert_eq!(d.status, Status::Destroyed);
    h.rt.sfn.wait_idle().await;
    h.assert_nothing_left(&id).await;
    let deploy = h.rt.sfn.execution(d.execution_arn.as_deref().unwrap()).unwrap();
    assert_eq!(deploy.status, "SUCCEEDED", "the deploy workflow ended as superseded");
}
