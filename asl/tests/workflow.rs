//! A realistic deploy workflow (tests/fixtures/deploy.asl.json): Provision → RegisterTargets →
//! AddRule → CheckHealth ⇄ Wait → Activate, with every Task caught to Teardown → Fail.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aviary_asl::{
    placeholder_names, AslError, EventKind, Executor, ExecutorOptions, Outcome, StateMachine,
};
use common::*;
use serde_json::json;

const DEFINITION: &str = include_str!("fixtures/deploy.asl.json");
const TASKS: [&str; 6] = [
    "Provision",
    "RegisterTargets",
    "AddRule",
    "CheckHealth",
    "Activate",
    "Teardown",
];

fn arn(task: &str) -> String {
    format!("arn:aws:lambda:us-east-1:123456789012:function:aviary-{task}")
}

fn substitutions() -> HashMap<String, String> {
    TASKS
        .iter()
        .map(|t| (format!("{t}FunctionArn"), arn(t)))
        .collect()
}

/// Healthy after `unhealthy_checks` failed health checks; every other task answers plausibly.
fn happy_invoker(unhealthy_checks: usize) -> Arc<Scripted> {
    let inv = Scripted::new();
    inv.always(
        &arn("Provision"),
        Reply::Return(json!({"instanceIds": ["i-1", "i-2"], "extra": "dropped by ResultSelector"})),
    );
    inv.always(
        &arn("RegisterTargets"),
        Reply::Return(json!({"targetGroupArn": "tg-1"})),
    );
    inv.always(&arn("AddRule"), Reply::Return(json!({"ruleArn": "rule-1"})));
    inv.then(
        &arn("CheckHealth"),
        (0..unhealthy_checks)
            .map(|_| Reply::Return(json!({"allHealthy": false, "deadlineExceeded": false}))),
    );
    inv.always(
        &arn("CheckHealth"),
        Reply::Return(json!({"allHealthy": true, "deadlineExceeded": false})),
    );
    inv.always(&arn("Activate"), Reply::Return(json!({"weight": 10})));
    inv.always(&arn("Teardown"), Reply::Return(json!({"tornDown": true})));
    inv
}

async fn deploy(inv: Arc<Scripted>, options: ExecutorOptions) -> aviary_asl::ExecutionResult {
    let machine = StateMachine::from_template(DEFINITION, &substitutions()).unwrap();
    Executor::new(machine, inv, options)
        .unwrap()
        .run("deploy-c1-1", json!({"canaryId": "c1"}))
        .await
}

#[test]
fn template_placeholders_match_substitutions() {
    let names = placeholder_names(DEFINITION).unwrap();
    let expected: BTreeSet<String> = substitutions().into_keys().collect();
    assert_eq!(names, expected);
    let mut missing = substitutions();
    missing.remove("TeardownFunctionArn");
    assert_eq!(
        StateMachine::from_template(DEFINITION, &missing).unwrap_err(),
        AslError::UndefinedSubstitution {
            name: "TeardownFunctionArn".into()
        }
    );
    let m = StateMachine::from_template(DEFINITION, &substitutions()).unwrap();
    assert_eq!(m.task_resources().len(), TASKS.len());
    assert!(m
        .task_resources()
        .iter()
        .all(|(state, res)| *res == arn(state)));
}

#[tokio::test(start_paused = true)]
async fn happy_path_waits_until_healthy_then_activates() {
    let inv = happy_invoker(2);
    let start = tokio::time::Instant::now();
    let r = deploy(inv.clone(), ExecutorOptions::default()).await;
    assert!(r.succeeded(), "{}", dump(&r));
    assert_eq!(
        r.states_entered(),
        vec![
            "Provision",
            "RegisterTargets",
            "AddRule",
            "CheckHealth",
            "IsHealthy",
            "WaitForHealth",
            "CheckHealth",
            "IsHealthy",
            "WaitForHealth",
            "CheckHealth",
            "IsHealthy",
            "Activate",
            "Done"
        ]
    );
    assert_eq!(start.elapsed(), Duration::from_secs(20), "two 10 s waits");
    assert_eq!(
        inv.gaps(&arn("CheckHealth")),
        vec![Duration::from_secs(10); 2]
    );
    assert!(inv.calls_to(&arn("Teardown")).is_empty());
    assert_eq!(
        inv.calls_to(&arn("RegisterTargets"))[0].input,
        json!({"canaryId": "c1", "instanceIds": ["i-1", "i-2"]})
    );
    assert_eq!(
        inv.calls_to(&arn("Provision"))[0].input,
        json!({"canaryId": "c1", "executionName": "deploy-c1-1"})
    );
    assert_eq!(
        r.output(),
        Some(&json!({
            "canaryId": "c1",
            "provision": {"instanceIds": ["i-1", "i-2"]},
            "targets": {"targetGroupArn": "tg-1"},
            "rule": {"ruleArn": "rule-1"},
            "health": {"allHealthy": true, "deadlineExceeded": false},
            "activation": {"weight": 10}
        }))
    );
}

#[tokio::test(start_paused = true)]
async fn a_failure_at_each_task_tears_down_once_and_fails() {
    for (i, failing) in TASKS[..5].iter().enumerate() {
        let inv = happy_invoker(1);
        inv.then(
            &arn(failing),
            [Reply::Fail(
                format!("{failing}Failed"),
                format!("{failing} broke"),
            )],
        );
        let r = deploy(inv.clone(), ExecutorOptions::default()).await;
        assert_eq!(
            r.outcome,
            Outcome::Failed {
                error: format!("{failing}Failed"),
                cause: format!("{failing} broke")
            },
            "{failing}\n{}",
            dump(&r)
        );
        let teardowns = inv.calls_to(&arn("Teardown"));
        assert_eq!(teardowns.len(), 1, "{failing}");
        assert_eq!(
            teardowns[0].input,
            json!({"canaryId": "c1", "error": {"Error": format!("{failing}Failed"), "Cause": format!("{failing} broke")}}),
            "{failing}"
        );
        // Nothing after the failing task ran.
        for later in &TASKS[i + 1..5] {
            assert!(
                inv.calls_to(&arn(later)).is_empty(),
                "{later} ran after {failing} failed"
            );
        }
        let caught: Vec<_> = r
            .events("CaughtError")
            .into_iter()
            .map(|e| match e {
                EventKind::CaughtError { state, next, .. } => (state.clone(), next.clone()),
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(caught, vec![(failing.to_string(), "Teardown".to_string())]);
        assert_eq!(r.states_entered().last(), Some(&"DeployFailed"));
    }
}

#[tokio::test(start_paused = true)]
async fn deadline_exceeded_tears_down() {
    let inv = happy_invoker(0);
    inv.then(
        &arn("CheckHealth"),
        [
            Reply::Return(json!({"allHealthy": false, "deadlineExceeded": false})),
            Reply::Return(json!({"allHealthy": false, "deadlineExceeded": true})),
        ],
    );
    let r = deploy(inv.clone(), ExecutorOptions::default()).await;
    assert_eq!(
        r.outcome,
        Outcome::Failed {
            error: "HealthCheckDeadlineExceeded".into(),
            cause: "targets were not healthy before the deadline".into()
        }
    );
    assert_eq!(inv.calls_to(&arn("Teardown")).len(), 1);
    assert!(inv.calls_to(&arn("Activate")).is_empty());
}

#[tokio::test(start_paused = true)]
async fn transient_lambda_errors_are_retried_others_are_caught() {
    let inv = happy_invoker(0);
    inv.then(
        &arn("AddRule"),
        [
            fail("Lambda.ServiceException"),
            fail("Lambda.SdkClientException"),
        ],
    );
    let r = deploy(inv.clone(), ExecutorOptions::default()).await;
    assert!(r.succeeded(), "{}", dump(&r));
    assert_eq!(inv.calls_to(&arn("AddRule")).len(), 3);
    // FULL jitter: each delay within [0, 2 × 2^n].
    for (gap, max) in inv.gaps(&arn("AddRule")).into_iter().zip([2, 4]) {
        assert!(gap <= Duration::from_secs(max), "{gap:?}");
    }

    // Lambda.Unknown (timeout / out of memory) is not in the retrier: caught at once.
    let inv = happy_invoker(0);
    inv.then(&arn("AddRule"), [fail("Lambda.Unknown")]);
    let r = deploy(inv.clone(), ExecutorOptions::default()).await;
    assert_eq!(inv.calls_to(&arn("AddRule")).len(), 1);
    assert!(matches!(&r.outcome, Outcome::Failed { error, .. } if error == "Lambda.Unknown"));
}

#[tokio::test(start_paused = true)]
async fn persistent_lambda_errors_exhaust_retries_then_tear_down() {
    let inv = happy_invoker(0);
    inv.always(&arn("Provision"), fail("Lambda.ServiceException"));
    let r = deploy(inv.clone(), ExecutorOptions::default()).await;
    assert_eq!(
        inv.calls_to(&arn("Provision")).len(),
        7,
        "1 + MaxAttempts 6"
    );
    assert_eq!(inv.calls_to(&arn("Teardown")).len(), 1);
    assert!(
        matches!(&r.outcome, Outcome::Failed { error, .. } if error == "Lambda.ServiceException")
    );
}

#[tokio::test(start_paused = true)]
async fn task_timeout_is_caught_and_torn_down() {
    let inv = happy_invoker(0);
    inv.then(
        &arn("RegisterTargets"),
        [Reply::After(
            Duration::from_secs(120),
            Box::new(Reply::Echo),
        )],
    );
    let r = deploy(inv.clone(), ExecutorOptions::default()).await;
    assert!(
        matches!(&r.outcome, Outcome::Failed { error, .. } if error == "States.Timeout"),
        "{:?}",
        r.outcome
    );
    assert_eq!(inv.calls_to(&arn("Teardown")).len(), 1);
}

#[tokio::test(start_paused = true)]
async fn teardown_failure_is_retried_then_fails_the_execution() {
    let inv = happy_invoker(0);
    inv.then(&arn("Activate"), [fail("ActivateFailed")]);
    inv.always(&arn("Teardown"), fail("TeardownFailed"));
    let r = deploy(inv.clone(), ExecutorOptions::default()).await;
    assert_eq!(inv.calls_to(&arn("Teardown")).len(), 4);
    assert_eq!(
        inv.gaps(&arn("Teardown")),
        vec![
            Duration::from_secs(5),
            Duration::from_secs(10),
            Duration::from_secs(20)
        ]
    );
    assert!(matches!(&r.outcome, Outcome::Failed { error, .. } if error == "TeardownFailed"));
}

#[tokio::test(start_paused = true)]
async fn live_events_match_history_and_time_scale_speeds_up() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let opts = ExecutorOptions::default()
        .with_time_scale(0.001)
        .with_on_event(move |e| sink.lock().unwrap().push(e.clone()));
    let start = tokio::time::Instant::now();
    let r = deploy(happy_invoker(3), opts).await;
    assert!(r.succeeded());
    assert_eq!(
        start.elapsed(),
        Duration::from_millis(30),
        "3 × 10 s waits at 1/1000"
    );
    assert_eq!(*seen.lock().unwrap(), r.history);
    let ids: Vec<u64> = r.history.iter().map(|e| e.id).collect();
    assert_eq!(ids, (1..=r.history.len() as u64).collect::<Vec<_>>());
}
