//! Optional cross-check of data flow against moto's own Step Functions executor (an independent
//! implementation). Skipped, with a notice, unless `AVIARY_MOTO_URL` points at a running
//! `moto_server`. Only Pass/Choice/Wait/Succeed/Fail are compared: moto cannot run our Tasks.
//!
//! Python with boto3: `AVIARY_PYTHON`, default `<workspace>/.venv/bin/python`.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use aviary_asl::{ExecutorOptions, Outcome};
use common::*;
use serde_json::{json, Value};

fn cases() -> Vec<(&'static str, Value, Value)> {
    vec![
        (
            "parameters-context-resultpath-outputpath",
            json!({"StartAt": "P", "States": {
                "P": {"Type": "Pass", "InputPath": "$.in",
                      "Parameters": {"id.$": "$.id", "lit": "$.x", "nested": {"exec.$": "$$.Execution.Name", "l.$": "$.list[1]"}},
                      "ResultPath": "$.made.deep", "Next": "Q"},
                "Q": {"Type": "Pass", "OutputPath": "$.made", "End": true}
            }}),
            json!({"in": {"id": "c1", "list": [10, 20]}, "other": true}),
        ),
        (
            "result-and-null-paths",
            json!({"StartAt": "A", "States": {
                "A": {"Type": "Pass", "Result": {"r": 1}, "ResultPath": null, "Next": "B"},
                "B": {"Type": "Pass", "Result": {"r": 2}, "ResultPath": "$.b", "Next": "C"},
                "C": {"Type": "Pass", "InputPath": null, "Result": "x", "ResultPath": "$.c", "End": true}
            }}),
            json!({"keep": [1, 2]}),
        ),
        (
            "choice-operators",
            json!({"StartAt": "C", "States": {
                "C": {"Type": "Choice", "Choices": [
                    {"And": [{"Variable": "$.s", "StringEquals": "go"}, {"Variable": "$.n", "NumericGreaterThanEquals": 3}], "Next": "Fail1"},
                    {"Or": [{"Variable": "$.b", "BooleanEquals": true}, {"Not": {"Variable": "$.n", "NumericLessThan": 10}}], "Next": "Fail2"},
                    {"Variable": "$.t", "TimestampGreaterThan": "2026-01-01T00:00:00Z", "Next": "Yes"}
                ], "Default": "Fail3"},
                "Yes": {"Type": "Pass", "Result": "yes", "ResultPath": "$.picked", "End": true},
                "Fail1": {"Type": "Fail", "Error": "One", "Cause": "first"},
                "Fail2": {"Type": "Fail", "Error": "Two", "Cause": "second"},
                "Fail3": {"Type": "Fail", "Error": "Three", "Cause": "default"}
            }}),
            json!({"s": "stop", "n": 4, "b": false, "t": "2026-06-01T12:00:00Z"}),
        ),
        (
            "choice-default-to-fail",
            json!({"StartAt": "C", "States": {
                "C": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericEquals": 1, "Next": "S"}], "Default": "F"},
                "S": {"Type": "Succeed"},
                "F": {"Type": "Fail", "Error": "NotOne", "Cause": "n was not 1"}
            }}),
            json!({"n": 2}),
        ),
        (
            "wait-then-succeed-with-paths",
            json!({"StartAt": "W", "States": {
                "W": {"Type": "Wait", "Seconds": 1, "InputPath": "$.a", "Next": "S"},
                "S": {"Type": "Succeed", "OutputPath": "$.b"}
            }}),
            json!({"a": {"b": {"c": 1}}, "z": 0}),
        ),
        (
            "intrinsics",
            json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {
                "f.$": "States.Format('canary-{}-{}', $.x, $$.Execution.Name)",
                "arr.$": "States.Array(1, $.x, 'two')",
                "j.$": "States.JsonToString($.o)",
                "p.$": "States.StringToJson($.s)"
            }, "End": true}}}),
            json!({"x": 5, "o": {"k": [1, "a"]}, "s": "{\"q\":[true,null]}"}),
        ),
        (
            // Failure causes are worded differently; only status and error are compared.
            "missing-path-runtime",
            json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"f.$": "$.missing"}, "End": true}}}),
            json!({"x": 5}),
        ),
    ]
}

fn moto_run(url: &str, name: &str, definition: &Value, input: &Value) -> Value {
    let python = std::env::var("AVIARY_PYTHON")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../.venv/bin/python").into());
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/moto_run.py");
    let mut child = Command::new(&python)
        .args([script, url, name])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {python}: {e}"));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(
            json!({"definition": definition, "input": input})
                .to_string()
                .as_bytes(),
        )
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "moto_run.py failed for {name}");
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test]
async fn data_flow_matches_moto() {
    let Ok(url) = std::env::var("AVIARY_MOTO_URL") else {
        eprintln!("SKIPPED moto cross-check: set AVIARY_MOTO_URL (e.g. http://localhost:5000) to a running moto_server");
        return;
    };
    let run_id = std::process::id();
    for (label, definition, input) in cases() {
        let name = format!("{label}-{run_id}");
        let mut moto = moto_run(&url, &name, &definition, &input);
        let opts = ExecutorOptions::default().with_time_scale(0.0);
        let machine = aviary_asl::StateMachine::from_value(&definition).unwrap();
        let r = aviary_asl::Executor::new(machine, Scripted::new(), opts)
            .unwrap()
            .run(&name, input.clone())
            .await;
        let mut ours = match &r.outcome {
            Outcome::Succeeded(out) => {
                json!({"status": "SUCCEEDED", "output": out, "error": null, "cause": null})
            }
            Outcome::Failed { error, cause } => {
                json!({"status": "FAILED", "output": null, "error": error, "cause": cause})
            }
            Outcome::TimedOut => {
                json!({"status": "TIMED_OUT", "output": null, "error": null, "cause": null})
            }
        };
        if label.ends_with("-runtime") {
            ours["cause"] = Value::Null;
            moto["cause"] = Value::Null;
        }
        assert_eq!(
            ours,
            moto,
            "{label}: ours (left) vs moto (right)\n{}",
            dump(&r)
        );
    }
}
