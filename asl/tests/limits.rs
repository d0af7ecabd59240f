//! Guards and plumbing: max transitions, machine-level timeout, option validation, Send-ness
//! of `run`, concurrent executions, history serialisation.

mod common;

use std::sync::Arc;
use std::time::Duration;

use aviary_asl::{AslError, EventKind, Executor, ExecutorOptions, Outcome, StateMachine};
use common::*;
use serde_json::json;

fn looping() -> StateMachine {
    StateMachine::from_value(&json!({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Next": "B"},
        "B": {"Type": "Pass", "Next": "A"}
    }}))
    .unwrap()
}

#[tokio::test]
async fn runaway_loop_stops_at_max_transitions() {
    let exec = Executor::new(
        looping(),
        Scripted::new(),
        ExecutorOptions::default().with_max_transitions(100),
    )
    .unwrap();
    let r = exec.run("loop", json!({})).await;
    assert_eq!(r.states_entered().len(), 100);
    let Outcome::Failed { error, cause } = &r.outcome else {
        panic!("{:?}", r.outcome)
    };
    assert_eq!(error, "States.Runtime");
    assert!(cause.contains("max_transitions"), "{cause}");
}

#[tokio::test]
async fn default_max_transitions_is_25000() {
    assert_eq!(ExecutorOptions::default().max_transitions, 25_000);
    let exec = Executor::new(looping(), Scripted::new(), ExecutorOptions::default()).unwrap();
    let r = exec.run("loop", json!({})).await;
    assert_eq!(r.states_entered().len(), 25_000);
    assert!(!r.succeeded());
}

#[tokio::test(start_paused = true)]
async fn machine_timeout_ends_as_timed_out_with_history_kept() {
    let m = StateMachine::from_value(&json!({"TimeoutSeconds": 30, "StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": 10, "Next": "W"}
    }}))
    .unwrap();
    let start = tokio::time::Instant::now();
    let r = Executor::new(m, Scripted::new(), ExecutorOptions::default())
        .unwrap()
        .run("t", json!({}))
        .await;
    assert_eq!(r.outcome, Outcome::TimedOut);
    assert_eq!(start.elapsed(), Duration::from_secs(30));
    assert!(r.states_entered().len() >= 3, "{}", dump(&r));
    assert_eq!(r.history.last().unwrap().kind, EventKind::ExecutionTimedOut);
}

#[tokio::test(start_paused = true)]
async fn machine_timeout_is_not_scaled() {
    // Waits shrink with time_scale; the machine timeout bounds real work and does not.
    let m = StateMachine::from_value(&json!({"TimeoutSeconds": 5, "StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": 100, "End": true}
    }}))
    .unwrap();
    let r = Executor::new(
        m,
        Scripted::new(),
        ExecutorOptions::default().with_time_scale(0.01),
    )
    .unwrap()
    .run("t", json!({}))
    .await;
    assert!(r.succeeded(), "1 s scaled wait < 5 s timeout");
}

#[test]
fn invalid_options_are_rejected() {
    for scale in [-1.0, f64::NAN, f64::INFINITY] {
        let e = Executor::new(
            looping(),
            Scripted::new(),
            ExecutorOptions::default().with_time_scale(scale),
        )
        .unwrap_err();
        assert!(
            matches!(e, AslError::InvalidOption { ref option, .. } if option == "time_scale"),
            "{scale}"
        );
    }
    let e = Executor::new(
        looping(),
        Scripted::new(),
        ExecutorOptions::default().with_max_transitions(0),
    )
    .unwrap_err();
    assert!(matches!(e, AslError::InvalidOption { .. }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn executions_can_be_spawned_and_run_concurrently() {
    let m = StateMachine::from_value(&json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "fn", "Parameters": {"n.$": "$.n", "name.$": "$$.Execution.Name"}, "End": true}
    }}))
    .unwrap();
    let exec = Arc::new(Executor::new(m, Scripted::new(), ExecutorOptions::default()).unwrap());
    let handles: Vec<_> = (0..8)
        .map(|n| {
            let exec = exec.clone();
            tokio::spawn(async move { exec.run(&format!("run-{n}"), json!({"n": n})).await })
        })
        .collect();
    for (n, h) in handles.into_iter().enumerate() {
        let r = h.await.unwrap();
        assert_eq!(
            r.output(),
            Some(&json!({"n": n, "name": format!("run-{n}")}))
        );
    }
}

#[tokio::test]
async fn history_serialises_with_type_tags_and_displays() {
    let inv = Scripted::new();
    inv.always("fn", fail("Boom"));
    let m = StateMachine::from_value(&json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "fn", "Retry": [{"ErrorEquals": ["Boom"], "MaxAttempts": 1}], "End": true}
    }}))
    .unwrap();
    let opts = ExecutorOptions::default().with_time_scale(0.0);
    let r = Executor::new(m, inv, opts)
        .unwrap()
        .run("ser", json!({"a": 1}))
        .await;
    let v = serde_json::to_value(&r).unwrap();
    let types: Vec<&str> = v["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        vec![
            "ExecutionStarted",
            "StateEntered",
            "TaskScheduled",
            "TaskFailed",
            "TaskRetry",
            "TaskScheduled",
            "TaskFailed",
            "ExecutionFailed"
        ]
    );
    assert_eq!(v["history"][4]["delay_secs"], json!(0.0));
    assert_eq!(v["history"][3]["error"], json!("Boom"));
    assert_eq!(v["outcome"]["Failed"]["error"], json!("Boom"));
    let lines: Vec<String> = r.history.iter().map(ToString::to_string).collect();
    assert!(lines[3].contains("TaskFailed T: Boom"), "{}", lines[3]);
    assert!(lines[4].contains("retry 1 by Retry[0]"), "{}", lines[4]);
}
