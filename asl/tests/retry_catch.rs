//! Retry (counts, backoff, caps, jitter, MaxAttempts 0, per-retrier counters), Catch (exact
//! names, order, States.ALL, States.TaskFailed, timeouts, ResultPath) and their interplay.
//! Runs on paused tokio time, so delays are exact and free.

mod common;

use std::time::Duration;

use aviary_asl::{EventKind, ExecutorOptions, Outcome};
use common::*;
use serde_json::{json, Value};

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

/// A one-Task machine with `Retry`/`Catch`; catchers may go to `A`, `B` or `T` (Succeed states).
fn machine(retry: Value, catch: Value, timeout: Option<u64>) -> Value {
    let mut t =
        json!({"Type": "Task", "Resource": "fn", "Retry": retry, "Catch": catch, "Next": "Done"});
    if let Some(s) = timeout {
        t["TimeoutSeconds"] = json!(s);
    }
    let mut states = json!({"Work": t, "Done": {"Type": "Succeed"}});
    let targets: Vec<String> = catch
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["Next"].as_str().unwrap().to_string())
        .collect();
    for name in targets {
        states[name] = json!({"Type": "Succeed"});
    }
    json!({"StartAt": "Work", "States": states})
}

fn retry_delays(r: &aviary_asl::ExecutionResult) -> Vec<Duration> {
    r.events("TaskRetry")
        .into_iter()
        .map(|e| match e {
            EventKind::TaskRetry { delay, .. } => *delay,
            _ => unreachable!(),
        })
        .collect()
}

fn failed_with(r: &aviary_asl::ExecutionResult) -> (String, String) {
    match &r.outcome {
        Outcome::Failed { error, cause } => (error.clone(), cause.clone()),
        other => panic!("expected failure, got {other:?}\n{}", dump(r)),
    }
}

#[tokio::test(start_paused = true)]
async fn exponential_backoff_then_failure() {
    let inv = Scripted::new();
    inv.always("fn", fail("Lambda.ServiceException"));
    let retry = json!([{"ErrorEquals": ["Lambda.ServiceException"], "IntervalSeconds": 2, "MaxAttempts": 3, "BackoffRate": 2}]);
    let r = run(machine(retry, json!([]), None), inv.clone(), json!({})).await;
    assert_eq!(inv.calls().len(), 4, "1 attempt + 3 retries");
    assert_eq!(inv.gaps("fn"), vec![secs(2.0), secs(4.0), secs(8.0)]);
    assert_eq!(retry_delays(&r), vec![secs(2.0), secs(4.0), secs(8.0)]);
    assert_eq!(
        failed_with(&r),
        (
            "Lambda.ServiceException".into(),
            "cause of Lambda.ServiceException".into()
        )
    );
    let attempts: Vec<u64> = r
        .events("TaskRetry")
        .into_iter()
        .map(|e| match e {
            EventKind::TaskRetry { attempt, .. } => *attempt,
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(attempts, vec![1, 2, 3]);
}

#[tokio::test(start_paused = true)]
async fn defaults_and_fractional_backoff() {
    // Defaults: IntervalSeconds 1, MaxAttempts 3, BackoffRate 2.
    let inv = Scripted::new();
    inv.always("fn", fail("E"));
    let r = run(
        machine(json!([{"ErrorEquals": ["E"]}]), json!([]), None),
        inv.clone(),
        json!({}),
    )
    .await;
    assert_eq!(inv.gaps("fn"), vec![secs(1.0), secs(2.0), secs(4.0)]);
    failed_with(&r);

    let inv = Scripted::new();
    inv.always("fn", fail("E"));
    let retry =
        json!([{"ErrorEquals": ["E"], "IntervalSeconds": 4, "MaxAttempts": 3, "BackoffRate": 1.5}]);
    run(machine(retry, json!([]), None), inv.clone(), json!({})).await;
    assert_eq!(inv.gaps("fn"), vec![secs(4.0), secs(6.0), secs(9.0)]);
}

#[tokio::test(start_paused = true)]
async fn max_delay_caps_backoff() {
    let inv = Scripted::new();
    inv.always("fn", fail("E"));
    let retry = json!([{"ErrorEquals": ["E"], "IntervalSeconds": 1, "BackoffRate": 10, "MaxAttempts": 4, "MaxDelaySeconds": 15}]);
    let r = run(machine(retry, json!([]), None), inv.clone(), json!({})).await;
    assert_eq!(
        inv.gaps("fn"),
        vec![secs(1.0), secs(10.0), secs(15.0), secs(15.0)]
    );
    assert_eq!(retry_delays(&r).len(), 4);
}

#[tokio::test(start_paused = true)]
async fn max_attempts_zero_never_retries_and_hides_later_retriers() {
    let inv = Scripted::new();
    inv.always("fn", fail("E"));
    // The first matching retrier decides; the catch-all behind it is not consulted.
    let retry = json!([{"ErrorEquals": ["E"], "MaxAttempts": 0}, {"ErrorEquals": ["States.ALL"], "MaxAttempts": 5}]);
    let r = run(machine(retry, json!([]), None), inv.clone(), json!({})).await;
    assert_eq!(inv.calls().len(), 1);
    assert!(r.events("TaskRetry").is_empty());
    assert_eq!(failed_with(&r).0, "E");
}

#[tokio::test(start_paused = true)]
async fn each_retrier_counts_its_own_attempts() {
    let inv = Scripted::new();
    inv.then("fn", [fail("E1"), fail("E2"), fail("E2"), fail("E1")]);
    let retry = json!([
        {"ErrorEquals": ["E1"], "MaxAttempts": 1, "IntervalSeconds": 3},
        {"ErrorEquals": ["E2"], "MaxAttempts": 2, "IntervalSeconds": 5, "BackoffRate": 1}
    ]);
    let r = run(machine(retry, json!([]), None), inv.clone(), json!({})).await;
    // E1 (retry 1 of Retry[0]), E2 (1 of Retry[1]), E2 (2 of Retry[1]), E1 (Retry[0] exhausted) → fail.
    assert_eq!(inv.calls().len(), 4);
    assert_eq!(inv.gaps("fn"), vec![secs(3.0), secs(5.0), secs(5.0)]);
    let retriers: Vec<usize> = r
        .events("TaskRetry")
        .into_iter()
        .map(|e| match e {
            EventKind::TaskRetry { retrier, .. } => *retrier,
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(retriers, vec![0, 1, 1]);
    assert_eq!(failed_with(&r).0, "E1");
}

#[tokio::test(start_paused = true)]
async fn retry_then_success_keeps_output() {
    let inv = Scripted::new();
    inv.then(
        "fn",
        [
            fail("Lambda.ServiceException"),
            fail("Lambda.ServiceException"),
            Reply::Return(json!({"ok": 1})),
        ],
    );
    let retry = json!([{"ErrorEquals": ["Lambda.ServiceException", "Lambda.SdkClientException"], "IntervalSeconds": 2, "MaxAttempts": 6}]);
    let r = run(machine(retry, json!([]), None), inv.clone(), json!({})).await;
    assert_eq!(r.output(), Some(&json!({"ok": 1})));
    assert_eq!(inv.calls().len(), 3);
}

#[tokio::test(start_paused = true)]
async fn full_jitter_delays_within_bounds() {
    let retry = json!([{"ErrorEquals": ["E"], "IntervalSeconds": 10, "BackoffRate": 2, "MaxAttempts": 6, "JitterStrategy": "FULL"}]);
    let nominal = [10.0, 20.0, 40.0, 80.0, 160.0, 320.0];
    let mut below_nominal = 0;
    for seed in 0..20u64 {
        let inv = Scripted::new();
        inv.always("fn", fail("E"));
        let opts = ExecutorOptions::default().with_jitter_seed(seed);
        let r = run_with(
            machine(retry.clone(), json!([]), None),
            inv.clone(),
            opts,
            json!({}),
        )
        .await;
        let delays = retry_delays(&r);
        assert_eq!(delays.len(), 6);
        assert_eq!(
            inv.gaps("fn"),
            delays,
            "the recorded delay is the one slept"
        );
        for (d, n) in delays.iter().zip(nominal) {
            assert!(*d <= secs(n), "{d:?} > {n}");
            if *d < secs(n * 0.9) {
                below_nominal += 1;
            }
        }
    }
    assert!(
        below_nominal > 60,
        "FULL jitter should usually shorten delays ({below_nominal}/120)"
    );
}

#[tokio::test(start_paused = true)]
async fn time_scale_shrinks_retry_delays() {
    let inv = Scripted::new();
    inv.always("fn", fail("E"));
    let retry = json!([{"ErrorEquals": ["E"], "IntervalSeconds": 2, "MaxAttempts": 2}]);
    let opts = ExecutorOptions::default().with_time_scale(0.01);
    run_with(
        machine(retry, json!([]), None),
        inv.clone(),
        opts,
        json!({}),
    )
    .await;
    assert_eq!(inv.gaps("fn"), vec![secs(0.02), secs(0.04)]);
}

#[tokio::test]
async fn catch_matches_exact_names_in_order() {
    let catch = json!([
        {"ErrorEquals": ["ProvisionFailed"], "Next": "A"},
        {"ErrorEquals": ["Other", "Lambda.Unknown"], "Next": "B"},
        {"ErrorEquals": ["States.ALL"], "Next": "T"}
    ]);
    for (error, target) in [
        ("ProvisionFailed", "A"),
        ("Lambda.Unknown", "B"),
        ("Other", "B"),
        ("provisionfailed", "T"),
        ("ProvisionFailedX", "T"),
    ] {
        let inv = Scripted::new();
        inv.always("fn", fail(error));
        let r = run(machine(json!([]), catch.clone(), None), inv, json!({})).await;
        assert_eq!(r.states_entered(), vec!["Work", target], "{error}");
        assert_eq!(
            r.output(),
            Some(&json!({"Error": error, "Cause": format!("cause of {error}")}))
        );
    }
}

#[tokio::test]
async fn first_matching_catcher_wins() {
    let catch = json!([{"ErrorEquals": ["States.TaskFailed"], "Next": "A"}, {"ErrorEquals": ["E"], "Next": "B"}]);
    let inv = Scripted::new();
    inv.always("fn", fail("E"));
    let r = run(machine(json!([]), catch, None), inv, json!({})).await;
    assert_eq!(r.states_entered(), vec!["Work", "A"]);
}

#[tokio::test]
async fn uncaught_error_fails_execution_with_task_error() {
    let inv = Scripted::new();
    inv.always("fn", Reply::Fail("Unmatched".into(), "why".into()));
    let r = run(
        machine(
            json!([]),
            json!([{"ErrorEquals": ["E"], "Next": "A"}]),
            None,
        ),
        inv,
        json!({}),
    )
    .await;
    assert_eq!(failed_with(&r), ("Unmatched".into(), "why".into()));
    assert!(matches!(
        r.history.last().unwrap().kind,
        EventKind::ExecutionFailed { .. }
    ));
}

#[tokio::test(start_paused = true)]
async fn timeout_is_states_timeout_not_task_failed() {
    let inv = Scripted::new();
    inv.always(
        "fn",
        Reply::After(Duration::from_secs(60), Box::new(Reply::Echo)),
    );
    let catch = json!([{"ErrorEquals": ["States.TaskFailed"], "Next": "A"}, {"ErrorEquals": ["States.Timeout"], "Next": "T"}]);
    let start = tokio::time::Instant::now();
    let r = run(machine(json!([]), catch, Some(5)), inv, json!({})).await;
    assert_eq!(start.elapsed(), secs(5.0), "timed out at TimeoutSeconds");
    assert_eq!(r.states_entered(), vec!["Work", "T"]);
    assert_eq!(r.output().unwrap()["Error"], json!("States.Timeout"));
}

#[tokio::test(start_paused = true)]
async fn states_all_catches_timeout_and_fast_task_is_not_timed_out() {
    let catch = json!([{"ErrorEquals": ["States.ALL"], "Next": "A"}]);
    let inv = Scripted::new();
    inv.always(
        "fn",
        Reply::After(Duration::from_secs(11), Box::new(Reply::Echo)),
    );
    let r = run(machine(json!([]), catch.clone(), Some(10)), inv, json!({})).await;
    assert_eq!(r.states_entered(), vec!["Work", "A"]);

    let inv = Scripted::new();
    inv.always(
        "fn",
        Reply::After(
            Duration::from_secs(9),
            Box::new(Reply::Return(json!("done"))),
        ),
    );
    let r = run(machine(json!([]), catch, Some(10)), inv, json!({})).await;
    assert_eq!(r.output(), Some(&json!("done")));
}

#[tokio::test(start_paused = true)]
async fn timeouts_can_be_retried() {
    let inv = Scripted::new();
    inv.then(
        "fn",
        [Reply::After(
            Duration::from_secs(100),
            Box::new(Reply::Echo),
        )],
    );
    inv.always("fn", Reply::Return(json!(1)));
    let retry =
        json!([{"ErrorEquals": ["States.Timeout"], "IntervalSeconds": 1, "MaxAttempts": 1}]);
    let r = run(machine(retry, json!([]), Some(3)), inv.clone(), json!({})).await;
    assert_eq!(r.output(), Some(&json!(1)));
    assert_eq!(
        inv.gaps("fn"),
        vec![secs(4.0)],
        "3 s timeout + 1 s retry interval"
    );
}

#[tokio::test]
async fn catch_result_path_places_error_object() {
    let input = json!({"canaryId": "c1"});
    let cases = [
        (
            json!("$.error"),
            json!({"canaryId": "c1", "error": {"Error": "E", "Cause": "cause of E"}}),
        ),
        (
            json!("$.a.b"),
            json!({"canaryId": "c1", "a": {"b": {"Error": "E", "Cause": "cause of E"}}}),
        ),
        (Value::Null, input.clone()),
    ];
    for (rp, expected) in cases {
        let inv = Scripted::new();
        inv.always("fn", fail("E"));
        let catch = json!([{"ErrorEquals": ["E"], "Next": "A", "ResultPath": rp}]);
        let r = run(machine(json!([]), catch, None), inv, input.clone()).await;
        assert_eq!(r.output(), Some(&expected), "ResultPath {rp}");
    }
}

#[tokio::test(start_paused = true)]
async fn catch_after_retries_exhausted_and_history_order() {
    let inv = Scripted::new();
    inv.always("fn", fail("E"));
    let retry = json!([{"ErrorEquals": ["E"], "IntervalSeconds": 1, "MaxAttempts": 2}]);
    let catch = json!([{"ErrorEquals": ["E"], "Next": "A", "ResultPath": "$.err"}]);
    let r = run(machine(retry, catch, None), inv.clone(), json!({})).await;
    assert_eq!(inv.calls().len(), 3);
    let kinds: Vec<&str> = r.history.iter().map(|e| e.kind.type_name()).collect();
    assert_eq!(
        kinds,
        vec![
            "ExecutionStarted",
            "StateEntered",
            "TaskScheduled",
            "TaskFailed",
            "TaskRetry",
            "TaskScheduled",
            "TaskFailed",
            "TaskRetry",
            "TaskScheduled",
            "TaskFailed",
            "CaughtError",
            "StateExited",
            "StateEntered",
            "StateExited",
            "ExecutionSucceeded",
        ]
    );
    assert_eq!(
        r.output(),
        Some(&json!({"err": {"Error": "E", "Cause": "cause of E"}}))
    );
}

#[tokio::test]
async fn a_task_error_named_states_runtime_is_not_caught() {
    // Invokers should not produce it, but if one does it behaves like the real thing.
    let inv = Scripted::new();
    inv.always("fn", fail("States.Runtime"));
    let r = run(
        machine(
            json!([]),
            json!([{"ErrorEquals": ["States.ALL"], "Next": "A"}]),
            None,
        ),
        inv,
        json!({}),
    )
    .await;
    assert_eq!(failed_with(&r).0, "States.Runtime");
}
