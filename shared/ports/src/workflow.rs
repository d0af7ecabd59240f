//! The workflow engine (Step Functions on AWS): start an execution at most once under a
//! deterministic name, and ask whether one is still running.

use async_trait::async_trait;
use aviary_core::StepError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkflowKind {
    Deploy,
    Teardown,
}

#[async_trait]
pub trait Workflow: Send + Sync {
    /// Starts `name`; if an execution of that name exists already, returns its id instead.
    async fn start_once(&self, kind: WorkflowKind, name: &str, input: &serde_json::Value) -> Result<String, StepError>;
    /// The id an execution started under `name` has (or would have).
    fn execution_id(&self, kind: WorkflowKind, name: &str) -> Result<String, StepError>;
    /// `RUNNING`, `SUCCEEDED`, `FAILED`, ... or `None` when no such execution exists.
    async fn execution_status(&self, execution_arn: &str) -> Result<Option<String>, StepError>;
}

/// `arn:aws:states:r:a:stateMachine:M` + `N` → `arn:aws:states:r:a:execution:M:N`.
pub fn execution_arn(state_machine_arn: &str, name: &str) -> String {
    format!("{}:{name}", state_machine_arn.replacen(":stateMachine:", ":execution:", 1))
}

#[cfg(test)]
mod tests {
    #[test]
    fn execution_arn_follows_the_state_machine() {
        assert_eq!(
            super::execution_arn("arn:aws:states:us-east-1:123:stateMachine:deploy", "deploy-x"),
            "arn:aws:states:us-east-1:123:execution:deploy:deploy-x"
        );
    }
}
