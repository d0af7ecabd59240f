//! InputPath → Parameters → (task) → ResultSelector → ResultPath → OutputPath, with known
//! input/output pairs, plus the `$$` context object and data-flow failures.

mod common;

use std::time::{Duration, UNIX_EPOCH};

use aviary_asl::{EventKind, ExecutorOptions, Outcome};
use common::*;
use serde_json::{json, Value};

fn task(extra: Value) -> Value {
    let mut state = json!({"Type": "Task", "Resource": "fn", "End": true});
    state
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    json!({"StartAt": "T", "States": {"T": state}})
}

fn scheduled_inputs(r: &aviary_asl::ExecutionResult) -> Vec<Value> {
    r.events("TaskScheduled")
        .into_iter()
        .map(|e| match e {
            EventKind::TaskScheduled { input, .. } => input.clone(),
            _ => unreachable!(),
        })
        .collect()
}

#[tokio::test]
async fn full_task_pipeline() {
    let inv = Scripted::new();
    inv.always(
        "fn",
        Reply::Return(json!({"Payload": {"ok": true, "n": 3}, "StatusCode": 200})),
    );
    let def = task(json!({
        "InputPath": "$.canary",
        "Parameters": {
            "id.$": "$.id",
            "static": "$.not.a.path",
            "nested": {"port.$": "$.port", "exec.$": "$$.Execution.Name", "state.$": "$$.State.Name"},
            "list": [{"v.$": "$.id"}, 7]
        },
        "ResultSelector": {"ok.$": "$.Payload.ok", "code.$": "$.StatusCode", "const": 1},
        "ResultPath": "$.result.deep",
        "OutputPath": "$.result"
    }));
    let input = json!({"canary": {"id": "c1", "port": 8080}, "keep": true});
    let r = run(def, inv.clone(), input).await;
    assert_eq!(
        inv.calls()[0].input,
        json!({
            "id": "c1",
            "static": "$.not.a.path",
            "nested": {"port": 8080, "exec": "test-exec", "state": "T"},
            "list": [{"v": "c1"}, 7]
        })
    );
    assert_eq!(
        r.output(),
        Some(&json!({"deep": {"ok": true, "code": 200, "const": 1}})),
        "{}",
        dump(&r)
    );
}

#[tokio::test]
async fn result_path_variants() {
    let input = json!({"a": 1, "obj": {"x": 1}});
    let result = json!({"r": 2});
    let cases = [
        (json!({}), result.clone()), // default `$`: replaced
        (json!({"ResultPath": "$"}), result.clone()),
        (json!({"ResultPath": null}), input.clone()), // discarded
        (
            json!({"ResultPath": "$.res"}),
            json!({"a": 1, "obj": {"x": 1}, "res": {"r": 2}}),
        ),
        (
            json!({"ResultPath": "$.obj.y"}),
            json!({"a": 1, "obj": {"x": 1, "y": {"r": 2}}}),
        ),
        (
            json!({"ResultPath": "$.new.deeper.still"}),
            json!({"a": 1, "obj": {"x": 1}, "new": {"deeper": {"still": {"r": 2}}}}),
        ),
        (
            json!({"ResultPath": "$.a"}),
            json!({"a": {"r": 2}, "obj": {"x": 1}}),
        ), // overwrites
    ];
    for (fields, expected) in cases {
        let inv = Scripted::new();
        inv.always("fn", Reply::Return(result.clone()));
        let r = run(task(fields.clone()), inv, input.clone()).await;
        assert_eq!(r.output(), Some(&expected), "{fields}");
    }
}

#[tokio::test]
async fn input_and_output_path_null_mean_empty_object() {
    let inv = Scripted::new();
    let r = run(
        task(json!({"InputPath": null, "OutputPath": null})),
        inv.clone(),
        json!({"a": 1}),
    )
    .await;
    assert_eq!(inv.calls()[0].input, json!({}));
    assert_eq!(r.output(), Some(&json!({})));
}

#[tokio::test]
async fn pass_state_result_parameters_and_paths() {
    let def = json!({"StartAt": "P1", "States": {
        "P1": {"Type": "Pass", "Result": {"x": [1, 2]}, "ResultPath": "$.fixed", "Next": "P2"},
        "P2": {"Type": "Pass", "InputPath": "$.fixed", "Parameters": {"first.$": "$.x[0]", "all.$": "$.x"}, "ResultPath": "$.picked", "Next": "P3"},
        "P3": {"Type": "Pass", "OutputPath": "$.picked", "End": true}
    }});
    let r = run(def, Scripted::new(), json!({"orig": true})).await;
    assert_eq!(
        r.output(),
        Some(&json!({"first": 1, "all": [1, 2]})),
        "{}",
        dump(&r)
    );
    let exited: Vec<Value> = r
        .history
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::StateExited { output, .. } => Some(output.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(exited[0], json!({"orig": true, "fixed": {"x": [1, 2]}}));
    assert_eq!(
        exited[1],
        json!({"orig": true, "fixed": {"x": [1, 2]}, "picked": {"first": 1, "all": [1, 2]}})
    );
}

#[tokio::test(start_paused = true)]
async fn context_object_fields() {
    let start = UNIX_EPOCH + Duration::from_millis(1_790_000_000_123); // 2026-09-21T14:13:20.123Z
    let def = json!({"StartAt": "Pause", "States": {
        "Pause": {"Type": "Wait", "Seconds": 5, "Next": "Ctx"},
        "Ctx": {"Type": "Pass", "Parameters": {
            "id.$": "$$.Execution.Id", "name.$": "$$.Execution.Name", "input.$": "$$.Execution.Input",
            "start.$": "$$.Execution.StartTime", "state.$": "$$.State.Name", "entered.$": "$$.State.EnteredTime",
            "retries.$": "$$.State.RetryCount", "machine.$": "$$.StateMachine.Id", "machineName.$": "$$.StateMachine.Name",
            "whole.$": "$$.Execution"
        }, "End": true}
    }});
    let opts = ExecutorOptions::default()
        .with_start_time(start)
        .with_state_machine_arn("arn:aws:states:eu-west-1:111122223333:stateMachine:aviary-deploy");
    let r = run_with(def, Scripted::new(), opts, json!({"canaryId": "c9"})).await;
    let out = r.output().unwrap_or_else(|| panic!("{}", dump(&r)));
    assert_eq!(
        out["id"],
        json!("arn:aws:states:eu-west-1:111122223333:execution:aviary-deploy:test-exec")
    );
    assert_eq!(r.execution_arn, out["id"].as_str().unwrap());
    assert_eq!(out["name"], json!("test-exec"));
    assert_eq!(out["input"], json!({"canaryId": "c9"}));
    assert_eq!(out["start"], json!("2026-09-21T14:13:20.123Z"));
    assert_eq!(out["state"], json!("Ctx"));
    assert_eq!(
        out["entered"],
        json!("2026-09-21T14:13:25.123Z"),
        "5 s of (virtual) Wait later"
    );
    assert_eq!(out["retries"], json!(0));
    assert_eq!(
        out["machine"],
        json!("arn:aws:states:eu-west-1:111122223333:stateMachine:aviary-deploy")
    );
    assert_eq!(out["machineName"], json!("aviary-deploy"));
    assert_eq!(out["whole"]["Name"], json!("test-exec"));
}

#[tokio::test(start_paused = true)]
async fn retry_count_in_parameters_is_current_per_attempt() {
    let inv = Scripted::new();
    inv.then("fn", [fail("Flaky"), fail("Flaky")]);
    let def = task(json!({
        "Parameters": {"attempt.$": "$$.State.RetryCount", "x.$": "$.x"},
        "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 1, "MaxAttempts": 5}]
    }));
    let r = run(def, inv.clone(), json!({"x": "y"})).await;
    assert!(r.succeeded(), "{}", dump(&r));
    assert_eq!(
        scheduled_inputs(&r),
        vec![
            json!({"attempt": 0, "x": "y"}),
            json!({"attempt": 1, "x": "y"}),
            json!({"attempt": 2, "x": "y"})
        ]
    );
}

#[tokio::test]
async fn intrinsics_in_parameters() {
    let inv = Scripted::new();
    let def = task(json!({"Parameters": {
        "name.$": "States.Format('aviary-{}-{}', $.id, $$.Execution.Name)",
        "parsed.$": "States.StringToJson($.raw)",
        "text.$": "States.JsonToString($.obj)",
        "arr.$": "States.Array($.id, 2, States.ArrayLength($.obj.l))"
    }}));
    let r = run(
        def,
        inv.clone(),
        json!({"id": "c1", "raw": "{\"k\":[true]}", "obj": {"l": [1, 2, 3]}}),
    )
    .await;
    assert!(r.succeeded(), "{}", dump(&r));
    assert_eq!(
        inv.calls()[0].input,
        json!({"name": "aviary-c1-test-exec", "parsed": {"k": [true]}, "text": "{\"l\":[1,2,3]}", "arr": ["c1", 2, 3]})
    );
}

/// Data-flow failures are `States.Runtime`: the execution fails even with a `States.ALL` catcher.
#[tokio::test]
async fn path_failures_are_uncatchable_runtime_errors() {
    let catch_all = json!([{"ErrorEquals": ["States.ALL"], "Next": "Caught"}]);
    let with_catch = |fields: Value| {
        let mut def = task(fields);
        def["States"]["T"]["Catch"] = catch_all.clone();
        def["States"]["Caught"] = json!({"Type": "Succeed"});
        def
    };
    let cases = [
        ("Parameters", json!({"Parameters": {"x.$": "$.missing"}})),
        ("InputPath", json!({"InputPath": "$.missing"})),
        ("OutputPath", json!({"OutputPath": "$.missing"})),
        (
            "ResultSelector",
            json!({"ResultSelector": {"x.$": "$.missing"}}),
        ),
        ("ResultPath", json!({"ResultPath": "$.s.inner"})),
        (
            "Intrinsic",
            json!({"Parameters": {"x.$": "States.StringToJson($.s)"}}),
        ),
    ];
    for (what, fields) in cases {
        let inv = Scripted::new();
        let r = run(with_catch(fields), inv, json!({"s": "not json"})).await;
        match &r.outcome {
            Outcome::Failed { error, cause } => {
                assert_eq!(error, "States.Runtime", "{what}");
                assert!(!cause.is_empty(), "{what}");
            }
            other => panic!("{what}: {other:?}\n{}", dump(&r)),
        }
        assert!(r.events("CaughtError").is_empty(), "{what}");
        assert!(!r.states_entered().contains(&"Caught"), "{what}");
    }
}

#[tokio::test]
async fn missing_parameter_path_cause_names_field_and_path() {
    let r = run(
        task(json!({"Parameters": {"canaryId.$": "$.canary.id"}})),
        Scripted::new(),
        json!({"canary": {}}),
    )
    .await;
    let Outcome::Failed { cause, .. } = &r.outcome else {
        panic!("{:?}", r.outcome)
    };
    assert!(
        cause.contains("canaryId.$") && cause.contains("$.canary.id"),
        "{cause}"
    );
}
