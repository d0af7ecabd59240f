//! Wait (paused time, scaling, paths, timestamps), Choice routing, Succeed and Fail states.

mod common;

use std::time::{Duration, UNIX_EPOCH};

use aviary_asl::{EventKind, ExecutorOptions, Outcome};
use common::*;
use serde_json::{json, Value};

fn wait_machine(wait: Value) -> Value {
    let mut w = wait;
    w["Type"] = json!("Wait");
    w["End"] = json!(true);
    json!({"StartAt": "W", "States": {"W": w}})
}

async fn waited(
    wait: Value,
    options: ExecutorOptions,
    input: Value,
) -> (Duration, aviary_asl::ExecutionResult) {
    let start = tokio::time::Instant::now();
    let r = run_with(wait_machine(wait), Scripted::new(), options, input).await;
    (start.elapsed(), r)
}

/// `$$.Execution.StartTime` for the timestamp tests: 2026-01-01T00:00:00Z.
fn start() -> std::time::SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_767_225_600)
}

#[tokio::test(start_paused = true)]
async fn wait_seconds_on_paused_clock() {
    let (elapsed, r) = waited(
        json!({"Seconds": 300}),
        ExecutorOptions::default(),
        json!({"k": 1}),
    )
    .await;
    assert_eq!(elapsed, Duration::from_secs(300));
    assert_eq!(
        r.output(),
        Some(&json!({"k": 1})),
        "Wait passes its input through"
    );
    assert!(
        matches!(r.events("WaitStarted")[0], EventKind::WaitStarted { delay, .. } if *delay == Duration::from_secs(300))
    );
}

#[tokio::test(start_paused = true)]
async fn time_scale_shrinks_waits() {
    let (elapsed, _) = waited(
        json!({"Seconds": 10}),
        ExecutorOptions::default().with_time_scale(0.01),
        json!({}),
    )
    .await;
    assert_eq!(elapsed, Duration::from_millis(100));
    let (elapsed, _) = waited(
        json!({"Seconds": 3600}),
        ExecutorOptions::default().with_time_scale(0.0),
        json!({}),
    )
    .await;
    assert_eq!(elapsed, Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn wait_seconds_path_and_bad_values() {
    let (elapsed, r) = waited(
        json!({"SecondsPath": "$.delay"}),
        ExecutorOptions::default(),
        json!({"delay": 42}),
    )
    .await;
    assert_eq!(elapsed, Duration::from_secs(42));
    assert!(r.succeeded());
    for bad in [
        json!({"delay": -1}),
        json!({"delay": "10"}),
        json!({"delay": 1.5}),
        json!({}),
    ] {
        let (_, r) = waited(
            json!({"SecondsPath": "$.delay"}),
            ExecutorOptions::default(),
            bad.clone(),
        )
        .await;
        assert!(
            matches!(&r.outcome, Outcome::Failed { error, .. } if error == "States.Runtime"),
            "{bad}: {:?}",
            r.outcome
        );
    }
}

#[tokio::test(start_paused = true)]
async fn wait_until_timestamps() {
    let opts = || ExecutorOptions::default().with_start_time(start());
    let (elapsed, _) = waited(
        json!({"Timestamp": "2026-01-01T00:01:00Z"}),
        opts(),
        json!({}),
    )
    .await;
    assert_eq!(elapsed, Duration::from_secs(60));
    let (elapsed, _) = waited(
        json!({"TimestampPath": "$.until"}),
        opts(),
        json!({"until": "2026-01-01T02:00:30+01:00"}),
    )
    .await;
    assert_eq!(elapsed, Duration::from_secs(3630));
    let (elapsed, r) = waited(
        json!({"Timestamp": "2025-06-01T00:00:00Z"}),
        opts(),
        json!({}),
    )
    .await;
    assert_eq!(elapsed, Duration::ZERO, "a past timestamp does not wait");
    assert!(r.succeeded());
    let (elapsed, _) = waited(
        json!({"Timestamp": "2026-01-01T00:01:00Z"}),
        opts().with_time_scale(0.5),
        json!({}),
    )
    .await;
    assert_eq!(elapsed, Duration::from_secs(30));
    let (_, r) = waited(
        json!({"TimestampPath": "$.until"}),
        opts(),
        json!({"until": "noon"}),
    )
    .await;
    assert!(matches!(&r.outcome, Outcome::Failed { error, .. } if error == "States.Runtime"));
}

fn router() -> Value {
    json!({"StartAt": "Route", "States": {
        "Route": {"Type": "Choice", "InputPath": "$.status", "Choices": [
            {"Variable": "$.allHealthy", "BooleanEquals": true, "Next": "Healthy"},
            {"And": [
                {"Variable": "$.deadline", "IsPresent": true},
                {"Variable": "$.now", "TimestampGreaterThanEqualsPath": "$.deadline"}
            ], "Next": "Late"},
            {"Or": [
                {"Variable": "$.errors", "NumericGreaterThan": 5},
                {"Not": {"Variable": "$.phase", "StringMatches": "canary-*"}}
            ], "Next": "Bad"}
        ], "Default": "Again"},
        "Healthy": {"Type": "Succeed"},
        "Late": {"Type": "Succeed"},
        "Bad": {"Type": "Succeed"},
        "Again": {"Type": "Succeed"}
    }})
}

#[tokio::test]
async fn choice_routes_by_first_matching_rule() {
    let cases = [
        (
            json!({"allHealthy": true, "errors": 9, "phase": "canary-1"}),
            "Healthy",
            Some(0),
        ),
        (
            json!({"allHealthy": false, "deadline": "2026-01-01T00:00:00Z", "now": "2026-01-01T00:00:01Z", "errors": 0, "phase": "canary-1"}),
            "Late",
            Some(1),
        ),
        (
            json!({"allHealthy": false, "deadline": "2026-01-01T00:00:02Z", "now": "2026-01-01T00:00:01Z", "errors": 6, "phase": "canary-1"}),
            "Bad",
            Some(2),
        ),
        (
            json!({"allHealthy": false, "errors": 0, "phase": "baseline"}),
            "Bad",
            Some(2),
        ),
        (
            json!({"allHealthy": false, "errors": 0, "phase": "canary-2"}),
            "Again",
            None,
        ),
    ];
    for (status, target, rule) in cases {
        let input = json!({"status": status.clone(), "detail": {"id": "c1"}});
        let r = run(router(), Scripted::new(), input).await;
        assert_eq!(r.states_entered(), vec!["Route", target], "{status}");
        assert!(
            matches!(r.events("ChoiceMade")[0], EventKind::ChoiceMade { rule: got, .. } if *got == rule)
        );
        // The Choice's output is its effective input (after InputPath).
        assert_eq!(r.output(), Some(&status));
    }
}

#[tokio::test]
async fn choice_input_and_output_paths() {
    let def = json!({"StartAt": "C", "States": {
        "C": {"Type": "Choice", "InputPath": "$.inner", "OutputPath": "$.keep",
              "Choices": [{"Variable": "$.go", "BooleanEquals": true, "Next": "S"}]},
        "S": {"Type": "Succeed"}
    }});
    let r = run(
        def,
        Scripted::new(),
        json!({"inner": {"go": true, "keep": [1]}, "outer": 0}),
    )
    .await;
    assert_eq!(r.output(), Some(&json!([1])));
}

#[tokio::test]
async fn choice_without_match_or_default_fails() {
    let def = json!({"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [{"Variable": "$.x", "NumericEquals": 1, "Next": "S"}]},
        "S": {"Type": "Succeed"}
    }});
    let r = run(def.clone(), Scripted::new(), json!({"x": 2})).await;
    assert!(
        matches!(&r.outcome, Outcome::Failed { error, .. } if error == "States.NoChoiceMatched"),
        "{:?}",
        r.outcome
    );
    let r = run(def, Scripted::new(), json!({})).await;
    assert!(
        matches!(&r.outcome, Outcome::Failed { error, .. } if error == "States.Runtime"),
        "missing variable: {:?}",
        r.outcome
    );
}

#[tokio::test]
async fn fail_state_error_and_cause() {
    let fail_machine = |f: Value| {
        let mut f = f;
        f["Type"] = json!("Fail");
        json!({"StartAt": "F", "States": {"F": f}})
    };
    let r = run(
        fail_machine(json!({"Error": "DeployFailed", "Cause": "health checks never passed"})),
        Scripted::new(),
        json!({}),
    )
    .await;
    assert_eq!(
        r.outcome,
        Outcome::Failed {
            error: "DeployFailed".into(),
            cause: "health checks never passed".into()
        }
    );

    let input = json!({"error": {"Error": "ProvisionFailed", "Cause": "{\"errorMessage\":\"no capacity\"}"}});
    let r = run(
        fail_machine(json!({"ErrorPath": "$.error.Error", "CausePath": "$.error.Cause"})),
        Scripted::new(),
        input,
    )
    .await;
    assert_eq!(
        r.outcome,
        Outcome::Failed {
            error: "ProvisionFailed".into(),
            cause: "{\"errorMessage\":\"no capacity\"}".into()
        }
    );

    let r = run(
        fail_machine(json!({"Error": "E", "CausePath": "States.Format('canary {} failed', $.id)"})),
        Scripted::new(),
        json!({"id": "c1"}),
    )
    .await;
    assert_eq!(
        r.outcome,
        Outcome::Failed {
            error: "E".into(),
            cause: "canary c1 failed".into()
        }
    );

    let r = run(fail_machine(json!({})), Scripted::new(), json!({})).await;
    assert_eq!(
        r.outcome,
        Outcome::Failed {
            error: String::new(),
            cause: String::new()
        }
    );

    let r = run(
        fail_machine(json!({"ErrorPath": "$.n"})),
        Scripted::new(),
        json!({"n": 1}),
    )
    .await;
    assert!(
        matches!(&r.outcome, Outcome::Failed { error, .. } if error == "States.Runtime"),
        "non-string ErrorPath"
    );
}

#[tokio::test]
async fn succeed_applies_input_and_output_path() {
    let def = json!({"StartAt": "S", "States": {"S": {"Type": "Succeed", "InputPath": "$.a", "OutputPath": "$.b"}}});
    let r = run(def, Scripted::new(), json!({"a": {"b": "out"}})).await;
    assert_eq!(r.output(), Some(&json!("out")));
}
