//! Workflow executions in memory: started once per name, their status set by the test.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use aviary_core::StepError;

use super::Cloud;
use crate::workflow::{Workflow, WorkflowKind};

#[derive(Debug, Clone, PartialEq)]
pub struct Execution {
    pub kind: WorkflowKind,
    pub name: String,
    pub input: serde_json::Value,
    pub status: String,
}

#[derive(Clone, Default)]
pub struct MemoryWorkflow {
    executions: Arc<Mutex<BTreeMap<String, Execution>>>,
    pub cloud: Cloud,
}

impl MemoryWorkflow {
    pub fn new(cloud: Cloud) -> Self {
        MemoryWorkflow { executions: Arc::default(), cloud }
    }
    pub fn arn(kind: WorkflowKind, name: &str) -> String {
        let machine = match kind {
            WorkflowKind::Deploy => "deploy",
            WorkflowKind::Teardown => "teardown",
        };
        format!("arn:aws:states:us-east-1:000000000000:execution:{machine}:{name}")
    }
    pub fn executions(&self) -> Vec<Execution> {
        self.executions.lock().unwrap().values().cloned().collect()
    }
    pub fn set_status(&self, execution_arn: &str, status: &str) {
        if let Some(e) = self.executions.lock().unwrap().get_mut(execution_arn) {
            e.status = status.into();
        }
    }
}

#[async_trait]
impl Workflow for MemoryWorkflow {
    fn execution_id(&self, kind: WorkflowKind, name: &str) -> Result<String, StepError> {
        Ok(Self::arn(kind, name))
    }

    async fn start_once(&self, kind: WorkflowKind, name: &str, input: &serde_json::Value) -> Result<String, StepError> {
        self.cloud.faults.check(&self.cloud.log, "StartExecution")?;
        let arn = Self::arn(kind, name);
        self.executions.lock().unwrap().entry(arn.clone()).or_insert_with(|| Execution {
            kind,
            name: name.into(),
            input: input.clone(),
            status: "RUNNING".into(),
        });
        Ok(arn)
    }

    async fn execution_status(&self, execution_arn: &str) -> Result<Option<String>, StepError> {
        self.cloud.faults.check(&self.cloud.log, "DescribeExecution")?;
        Ok(self.executions.lock().unwrap().get(execution_arn).map(|e| e.status.clone()))
    }
}
