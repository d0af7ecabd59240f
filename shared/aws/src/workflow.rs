//! The workflow engine on Step Functions: executions started under deterministic names, so a
//! duplicate event or a retried request starts a workflow at most once.

use async_trait::async_trait;
use aviary_core::StepError;
use aviary_ports::{execution_arn, Workflow, WorkflowKind};
use aws_sdk_sfn::Client;

use crate::errors::{aws_err, code};

#[derive(Clone)]
pub struct SfnWorkflow {
    client: Client,
    deploy_state_machine_arn: String,
    teardown_state_machine_arn: String,
}

impl SfnWorkflow {
    pub fn new(client: Client, deploy_state_machine_arn: &str, teardown_state_machine_arn: &str) -> Self {
        SfnWorkflow {
            client,
            deploy_state_machine_arn: deploy_state_machine_arn.into(),
            teardown_state_machine_arn: teardown_state_machine_arn.into(),
        }
    }

    pub fn from_conf(config: &aws_config::SdkConfig, deploy_state_machine_arn: &str, teardown_state_machine_arn: &str) -> Self {
        SfnWorkflow::new(Client::new(config), deploy_state_machine_arn, teardown_state_machine_arn)
    }

    fn machine(&self, kind: WorkflowKind) -> Result<&str, StepError> {
        let (arn, var) = match kind {
            WorkflowKind::Deploy => (&self.deploy_state_machine_arn, "AVIARY_DEPLOY_STATE_MACHINE_ARN"),
            WorkflowKind::Teardown => (&self.teardown_state_machine_arn, "AVIARY_TEARDOWN_STATE_MACHINE_ARN"),
        };
        if arn.is_empty() {
            Err(StepError::Config(format!("environment variable {var} is not set")))
        } else {
            Ok(arn)
        }
    }
}

#[async_trait]
impl Workflow for SfnWorkflow {
    fn execution_id(&self, kind: WorkflowKind, name: &str) -> Result<String, StepError> {
        Ok(execution_arn(self.machine(kind)?, name))
    }

    async fn start_once(&self, kind: WorkflowKind, name: &str, input: &serde_json::Value) -> Result<String, StepError> {
        let machine = self.machine(kind)?;
        let res = self.client.start_execution().state_machine_arn(machine).name(name).input(input.to_string()).send().await;
        match res {
            Ok(out) => Ok(out.execution_arn().to_string()),
            Err(e) if code(&e) == Some("ExecutionAlreadyExists") => Ok(execution_arn(machine, name)),
            Err(e) => Err(aws_err("StartExecution")(e)),
        }
    }

    async fn execution_status(&self, execution_arn: &str) -> Result<Option<String>, StepError> {
        match self.client.describe_execution().execution_arn(execution_arn).send().await {
            Ok(out) => Ok(Some(out.status().as_str().to_string())),
            Err(e) if code(&e) == Some("ExecutionDoesNotExist") => Ok(None),
            Err(e) => Err(aws_err("DescribeExecution")(e)),
        }
    }
}
