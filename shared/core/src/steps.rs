//! One typed input and output per workflow step, serialised camelCase. The ASL passes
//! `{"deploymentId": ...}` to every task (plus `failure` to teardown after a Catch) and stores
//! each output at the `ResultPath` named on the type.

use serde::{Deserialize, Serialize};

use crate::error::CaughtError;
use crate::status::Status;
use crate::traffic::RuleWeights;

/// The deploy workflow's execution input, and the input of most steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentRef {
    pub deployment_id: String,
}

/// `provision` → `$.provision`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProvisionOutput {
    pub baseline_instance_id: String,
    pub canary_instance_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitor_instance_id: Option<String>,
    pub instance_security_group_id: String,
}

/// `register-targets` → `$.targets`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegisterTargetsOutput {
    pub baseline_target_group_arn: String,
    pub canary_target_group_arn: String,
}

/// What `add-listener-rule` is asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RuleAction {
    /// Add the rule with baseline and canary at weight 0 (`$.rule`).
    #[default]
    Create,
    /// Both target groups are healthy: move to the requested share (`$.traffic`).
    Activate,
}

/// `add-listener-rule` input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListenerRuleInput {
    pub deployment_id: String,
    #[serde(default)]
    pub action: RuleAction,
}

/// `add-listener-rule` → `$.rule` (create) or `$.traffic` (activate).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListenerRuleOutput {
    pub rule_arn: String,
    pub priority: u32,
    pub weights: RuleWeights,
}

/// One target's state as the load balancer reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetState {
    pub target_id: String,
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Health of one target group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupHealth {
    pub target_group_arn: String,
    pub targets: Vec<TargetState>,
}

impl GroupHealth {
    /// Healthy means: at least one target, and every target `healthy`.
    pub fn is_healthy(&self) -> bool {
        !self.targets.is_empty() && self.targets.iter().all(|t| t.state == "healthy")
    }

    pub fn summary(&self) -> String {
        if self.targets.is_empty() {
            return "no targets".into();
        }
        self.targets
            .iter()
            .map(|t| match &t.reason {
                Some(r) => format!("{}={} ({r})", t.target_id, t.state),
                None => format!("{}={}", t.target_id, t.state),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// `check-health` → `$.health`; the ASL's Choice reads `allHealthy` and `deadlineExceeded`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckHealthOutput {
    pub all_healthy: bool,
    pub deadline_exceeded: bool,
    pub baseline: GroupHealth,
    pub canary: GroupHealth,
    /// Seconds left until the health deadline (negative once past it).
    pub seconds_left: i64,
}

/// `teardown` input: after a Catch, `failure` holds the caught error and the deployment ends
/// FAILED; without it the deployment ends DESTROYED.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TeardownInput {
    pub deployment_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<CaughtError>,
    /// A human-readable reason for a requested teardown (API, CLI, cleanup).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `teardown` → `$.teardown`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TeardownOutput {
    pub status: Status,
    /// What was removed, in order ("rule arn:...", "instance i-...").
    pub removed: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_input_defaults_to_create() {
        let i: ListenerRuleInput = serde_json::from_str(r#"{"deploymentId":"d"}"#).unwrap();
        assert_eq!(i.action, RuleAction::Create);
        let i: ListenerRuleInput = serde_json::from_str(r#"{"deploymentId":"d","action":"activate"}"#).unwrap();
        assert_eq!(i.action, RuleAction::Activate);
    }

    #[test]
    fn teardown_input_reads_a_catch_result() {
        let i: TeardownInput = serde_json::from_str(
            r#"{"deploymentId":"d","failure":{"Error":"States.Timeout","Cause":"x"}}"#,
        )
        .unwrap();
        assert_eq!(i.failure.unwrap().error, "States.Timeout");
    }

    #[test]
    fn empty_group_is_not_healthy() {
        let g = GroupHealth { target_group_arn: "tg".into(), targets: vec![] };
        assert!(!g.is_healthy());
        let g = GroupHealth {
            target_group_arn: "tg".into(),
            targets: vec![
                TargetState { target_id: "i-1".into(), state: "healthy".into(), reason: None },
                TargetState { target_id: "i-2".into(), state: "initial".into(), reason: Some("Elb.RegistrationInProgress".into()) },
            ],
        };
        assert!(!g.is_healthy());
        assert_eq!(g.summary(), "i-1=healthy, i-2=initial (Elb.RegistrationInProgress)");
    }
}
