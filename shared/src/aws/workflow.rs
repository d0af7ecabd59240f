//! Starting Step Functions executions with deterministic names, so a duplicate event or a
//! retried request starts the workflow at most once.

use aws_sdk_sfn::Client;

use super::errors::{aws_err, code};
use crate::error::StepError;

/// Starts `name` on the state machine; if an execution of that name exists already, returns
/// its ARN instead of starting another.
pub async fn start_once(sfn: &Client, state_machine_arn: &str, name: &str, input: &serde_json::Value) -> Result<String, StepError> {
    let res = sfn
        .start_execution()
        .state_machine_arn(state_machine_arn)
        .name(name)
        .input(input.to_string())
        .send()
        .await;
    match res {
        Ok(out) => Ok(out.execution_arn().to_string()),
        Err(e) if code(&e) == Some("ExecutionAlreadyExists") => Ok(execution_arn(state_machine_arn, name)),
        Err(e) => Err(aws_err("StartExecution")(e)),
    }
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

/// The execution's status (`RUNNING`, `SUCCEEDED`, ...), or `None` if it does not exist.
pub async fn execution_status(sfn: &Client, execution_arn: &str) -> Result<Option<String>, StepError> {
    match sfn.describe_execution().execution_arn(execution_arn).send().await {
        Ok(out) => Ok(Some(out.status().as_str().to_string())),
        Err(e) if code(&e) == Some("ExecutionDoesNotExist") => Ok(None),
        Err(e) => Err(aws_err("DescribeExecution")(e)),
    }
}
