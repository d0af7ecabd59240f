//! The state machines and [`StepError::NAMES`] agree: every `ErrorEquals` in
//! `statemachines/*.asl.json` names an error that exists (a `States.*` error, a Lambda service
//! error or a step error), and every step error the workflows must handle is retried or caught
//! where the doc comment on `NAMES` says.

use std::collections::BTreeSet;
use std::path::PathBuf;

use aviary_core::error::StepError;
use serde_json::Value;

/// The errors Step Functions itself raises.
const STATES_ERRORS: &[&str] = &[
    "States.ALL",
    "States.BranchFailed",
    "States.DataLimitExceeded",
    "States.ExceedToleratedFailureThreshold",
    "States.HeartbeatTimeout",
    "States.IntrinsicFailure",
    "States.ItemReaderFailed",
    "States.NoChoiceMatched",
    "States.ParameterPathFailure",
    "States.Permissions",
    "States.QueryEvaluationError",
    "States.ResultPathMatchFailure",
    "States.ResultWriterFailed",
    "States.Runtime",
    "States.TaskFailed",
    "States.Timeout",
];

/// The Lambda service's own errors (the invoke failed, not the function).
const LAMBDA_ERRORS: &[&str] = &[
    "Lambda.AWSLambdaException",
    "Lambda.ClientExecutionTimeoutException",
    "Lambda.ServiceException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "Lambda.Unknown",
];

/// The functions whose errors are [`StepError`]s. A Task invoking anything else (the `analyze`
/// function reports `AnalysisError` names) must be added here with its names.
const STEP_FUNCTIONS: &[&str] = &[
    "${ProvisionFunctionArn}",
    "${RegisterTargetsFunctionArn}",
    "${AddListenerRuleFunctionArn}",
    "${CheckHealthFunctionArn}",
    "${TeardownFunctionArn}",
];

struct Task {
    file: String,
    state: String,
    resource: String,
    /// Each Retry's `ErrorEquals`.
    retries: Vec<Vec<String>>,
    /// Each Catch's `ErrorEquals` and `Next`, in order.
    catches: Vec<(Vec<String>, String)>,
}

impl Task {
    fn retries_on(&self, name: &str) -> bool {
        self.retries.iter().any(|r| r.iter().any(|e| e == name))
    }
    fn catch_of(&self, name: &str) -> Option<&str> {
        self.catches.iter().find(|(e, _)| e.iter().any(|x| x == name)).map(|(_, next)| next.as_str())
    }
    fn at(&self) -> String {
        format!("{}: {}", self.file, self.state)
    }
}

fn statemachines() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../statemachines")
}

fn names(v: &Value) -> Vec<String> {
    v["ErrorEquals"].as_array().expect("ErrorEquals is a list").iter().map(|e| e.as_str().expect("a string").to_string()).collect()
}

/// Every Task state of every state machine (nested Parallel/Map states included).
fn tasks() -> Vec<Task> {
    fn walk(file: &str, states: &serde_json::Map<String, Value>, out: &mut Vec<Task>) {
        for (name, s) in states {
            if s["Type"] == "Task" {
                out.push(Task {
                    file: file.to_string(),
                    state: name.clone(),
                    resource: s["Resource"].as_str().unwrap_or_default().to_string(),
                    retries: s["Retry"].as_array().map(|a| a.iter().map(names).collect()).unwrap_or_default(),
                    catches: s["Catch"]
                        .as_array()
                        .map(|a| a.iter().map(|c| (names(c), c["Next"].as_str().unwrap_or_default().to_string())).collect())
                        .unwrap_or_default(),
                });
            }
            for b in s["Branches"].as_array().into_iter().flatten() {
                walk(file, b["States"].as_object().expect("branch States"), out);
            }
            for key in ["Iterator", "ItemProcessor"] {
                if let Some(inner) = s[key]["States"].as_object() {
                    walk(file, inner, out);
                }
            }
        }
    }
    let mut out = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(statemachines())
        .expect("statemachines/ exists")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.to_string_lossy().ends_with(".asl.json"))
        .collect();
    files.sort();
    assert!(files.len() >= 2, "expected the deploy and teardown state machines, found {files:?}");
    for path in files {
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("readable")).expect("valid JSON");
        let file = path.file_name().unwrap().to_string_lossy().to_string();
        walk(&file, doc["States"].as_object().expect("top-level States"), &mut out);
    }
    out
}

fn tasks_of<'a>(all: &'a [Task], file: &str, resource: &str) -> Vec<&'a Task> {
    let found: Vec<_> = all.iter().filter(|t| t.file == file && t.resource == format!("${{{resource}}}")).collect();
    assert!(!found.is_empty(), "{file} has no Task invoking {resource}");
    found
}

#[test]
fn every_error_equals_names_an_error_that_exists() {
    let all = tasks();
    let mut unknown = BTreeSet::new();
    for t in &all {
        assert!(
            STEP_FUNCTIONS.contains(&t.resource.as_str()),
            "{}: invokes {}, whose error names this check does not know",
            t.at(),
            t.resource
        );
        let every = t.retries.iter().chain(t.catches.iter().map(|(e, _)| e));
        for name in every.flatten() {
            let known = STATES_ERRORS.contains(&name.as_str())
                || LAMBDA_ERRORS.contains(&name.as_str())
                || StepError::NAMES.contains(&name.as_str());
            if !known {
                unknown.insert(format!("{}: {name}", t.at()));
            }
        }
    }
    assert!(unknown.is_empty(), "ErrorEquals names no such error (not States.*, Lambda.* or StepError::NAMES): {unknown:?}");
}

#[test]
fn every_step_task_retries_transient_aws_errors_and_ends_with_a_catch_all() {
    for t in tasks() {
        assert!(t.retries_on("AwsTransient"), "{} does not retry AwsTransient", t.at());
        let last = t.catches.last().map(|(e, _)| e.clone());
        assert_eq!(last, Some(vec!["States.ALL".to_string()]), "{}: the last Catch must be States.ALL alone", t.at());
    }
}

#[test]
fn register_targets_waits_for_booting_instances() {
    for t in tasks_of(&tasks(), "deploy.asl.json", "RegisterTargetsFunctionArn") {
        assert!(t.retries_on("InstancesNotReady"), "{} does not retry InstancesNotReady", t.at());
    }
}

#[test]
fn every_teardown_task_retries_an_incomplete_teardown() {
    let all = tasks();
    let teardowns: Vec<_> = ["deploy.asl.json", "teardown.asl.json"]
        .into_iter()
        .flat_map(|f| tasks_of(&all, f, "TeardownFunctionArn"))
        .collect();
    for t in teardowns {
        assert!(t.retries_on("TeardownIncomplete"), "{} does not retry TeardownIncomplete", t.at());
    }
}

#[test]
fn every_deploy_step_before_active_ends_superseded_on_a_status_conflict() {
    let all = tasks();
    let steps: Vec<_> = all.iter().filter(|t| t.file == "deploy.asl.json" && t.resource != "${TeardownFunctionArn}").collect();
    assert!(steps.len() >= 5, "expected Provision, RegisterTargets, AddListenerRule, CheckHealth and ShiftTraffic");
    for t in steps {
        assert_eq!(t.catch_of("StatusConflict"), Some("Superseded"), "{}: StatusConflict must be caught into Superseded", t.at());
    }
}

#[test]
fn shifting_traffic_onto_unhealthy_targets_waits_for_health() {
    let all = tasks();
    let shift = all.iter().find(|t| t.file == "deploy.asl.json" && t.state == "ShiftTraffic").expect("deploy.asl.json has ShiftTraffic");
    assert_eq!(shift.resource, "${AddListenerRuleFunctionArn}");
    assert_eq!(shift.catch_of("TargetsNotHealthy"), Some("WaitForHealth"), "ShiftTraffic must catch TargetsNotHealthy into WaitForHealth");
}

#[test]
fn every_handled_step_error_is_named_in_the_state_machines() {
    let all = tasks();
    let used: BTreeSet<String> = all
        .iter()
        .flat_map(|t| t.retries.iter().cloned().chain(t.catches.iter().map(|(e, _)| e.clone())))
        .flatten()
        .collect();
    for name in ["AwsTransient", "InstancesNotReady", "TeardownIncomplete", "StatusConflict", "TargetsNotHealthy"] {
        assert!(StepError::NAMES.contains(&name), "{name} is not a StepError name any more");
        assert!(used.contains(name), "no state machine handles {name}");
    }
}
