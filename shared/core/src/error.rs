//! The errors a workflow step can end with. Each variant's [`StepError::name`] is the Lambda
//! `errorType` the function reports and exactly the string the ASL's `ErrorEquals` uses, so
//! these names are a stable interface: never rename one without the state machines.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StepError {
    /// The deployment id is not in the table.
    #[error("deployment {0} not found")]
    DeploymentNotFound(String),
    /// Someone else moved the deployment on (e.g. a destroy request during deploy).
    #[error("deployment {id} is {actual}, expected one of {expected}")]
    StatusConflict { id: String, actual: String, expected: String },
    /// A throttling, 5xx or network error: worth retrying with backoff.
    #[error("transient AWS error in {operation}: {message}")]
    AwsTransient { operation: String, message: String },
    /// An AWS error that retrying will not fix.
    #[error("AWS error in {operation}: {message}")]
    Aws { operation: String, message: String },
    /// The environment does not support the deployment (e.g. listener gone, no subnets).
    #[error("environment problem: {0}")]
    Environment(String),
    /// No rule priority could be claimed on the listener.
    #[error("no free listener rule priority: {0}")]
    PriorityExhausted(String),
    /// A target group was not healthy when traffic was about to move.
    #[error("targets not healthy: {0}")]
    TargetsNotHealthy(String),
    /// The ALB did not show the rule as written after retries (propagation or a concurrent edit).
    #[error("listener rule verification failed: {0}")]
    RuleVerificationFailed(String),
    /// Teardown could not remove everything yet; it is safe to run again.
    #[error("teardown incomplete: {0}")]
    TeardownIncomplete(String),
    /// The function is misconfigured (missing environment variable and the like).
    #[error("configuration error: {0}")]
    Config(String),
    /// The step's input did not parse.
    #[error("invalid step input: {0}")]
    InvalidInput(String),
    /// Instances are not running yet (targets can only be registered once they are).
    #[error("instances not ready: {0}")]
    InstancesNotReady(String),
}

impl StepError {
    /// The stable error name (Lambda `errorType`, ASL `ErrorEquals`).
    pub fn name(&self) -> &'static str {
        match self {
            StepError::DeploymentNotFound(_) => "DeploymentNotFound",
            StepError::StatusConflict { .. } => "StatusConflict",
            StepError::AwsTransient { .. } => "AwsTransient",
            StepError::Aws { .. } => "AwsError",
            StepError::Environment(_) => "EnvironmentError",
            StepError::PriorityExhausted(_) => "PriorityExhausted",
            StepError::TargetsNotHealthy(_) => "TargetsNotHealthy",
            StepError::RuleVerificationFailed(_) => "RuleVerificationFailed",
            StepError::TeardownIncomplete(_) => "TeardownIncomplete",
            StepError::Config(_) => "ConfigError",
            StepError::InvalidInput(_) => "InvalidInput",
            StepError::InstancesNotReady(_) => "InstancesNotReady",
        }
    }

    /// Every name. `tests/asl_error_names.rs` reads `statemachines/*.asl.json` and checks that
    /// each `ErrorEquals` names a `States.*` error, a `Lambda.*` service error or one of these,
    /// and that the workflows handle them as follows:
    /// - `AwsTransient`: retried with backoff on every Task (every Task invokes a step Lambda);
    /// - `InstancesNotReady`: retried on the deploy workflow's `RegisterTargets` Task;
    /// - `TeardownIncomplete`: retried on every Task that invokes the teardown function
    ///   (`TeardownAfterFailure` in deploy, `Teardown` in teardown);
    /// - `StatusConflict`: caught into `Superseded` on every deploy step but the teardown;
    /// - `TargetsNotHealthy`: caught on `ShiftTraffic` into `WaitForHealth`;
    /// - every other name fails the step through the `States.ALL` catch each Task ends with.
    pub const NAMES: [&'static str; 12] = [
        "DeploymentNotFound",
        "StatusConflict",
        "AwsTransient",
        "AwsError",
        "EnvironmentError",
        "PriorityExhausted",
        "TargetsNotHealthy",
        "RuleVerificationFailed",
        "TeardownIncomplete",
        "ConfigError",
        "InvalidInput",
        "InstancesNotReady",
    ];

    pub fn aws(operation: &str, transient: bool, message: impl Into<String>) -> Self {
        let (operation, message) = (operation.to_string(), message.into());
        if transient {
            StepError::AwsTransient { operation, message }
        } else {
            StepError::Aws { operation, message }
        }
    }
}

/// What Step Functions puts at a Catch's `ResultPath`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaughtError {
    #[serde(rename = "Error")]
    pub error: String,
    #[serde(rename = "Cause", default)]
    pub cause: String,
}

impl CaughtError {
    /// A readable reason: the Lambda runtime wraps the message in a JSON cause
    /// (`{"errorType":..,"errorMessage":..}`); unwrap it when it does.
    pub fn reason(&self) -> String {
        let msg = serde_json::from_str::<serde_json::Value>(&self.cause)
            .ok()
            .and_then(|v| v.get("errorMessage").and_then(|m| m.as_str()).map(str::to_string))
            .unwrap_or_else(|| self.cause.clone());
        if msg.is_empty() {
            self.error.clone()
        } else {
            format!("{}: {}", self.error, msg)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_listed_once_each() {
        let samples = [
            StepError::DeploymentNotFound("x".into()),
            StepError::StatusConflict { id: "x".into(), actual: "A".into(), expected: "B".into() },
            StepError::aws("Op", true, "m"),
            StepError::aws("Op", false, "m"),
            StepError::Environment("e".into()),
            StepError::PriorityExhausted("p".into()),
            StepError::TargetsNotHealthy("t".into()),
            StepError::RuleVerificationFailed("r".into()),
            StepError::TeardownIncomplete("t".into()),
            StepError::Config("c".into()),
            StepError::InvalidInput("i".into()),
            StepError::InstancesNotReady("n".into()),
        ];
        let names: Vec<_> = samples.iter().map(StepError::name).collect();
        assert_eq!(names, StepError::NAMES.to_vec());
    }

    #[test]
    fn caught_error_reason_unwraps_the_runtime_cause() {
        let c = CaughtError { error: "AwsError".into(), cause: r#"{"errorType":"AwsError","errorMessage":"boom"}"#.into() };
        assert_eq!(c.reason(), "AwsError: boom");
        let c = CaughtError { error: "States.Timeout".into(), cause: String::new() };
        assert_eq!(c.reason(), "States.Timeout");
    }
}
