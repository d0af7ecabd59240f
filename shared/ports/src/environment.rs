//! The user's routing environment, read-only: every load balancer with its listeners, each
//! listener's rules (and whether Aviary owns one), and the target groups. `GET /environment`
//! returns this so a client can offer listeners and production target groups to choose from.

use aviary_core::traffic::WeightedTarget;
use serde::{Deserialize, Serialize};

use crate::rules::RuleSnapshot;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Environment {
    pub load_balancers: Vec<LoadBalancerView>,
    pub target_groups: Vec<TargetGroupView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadBalancerView {
    pub load_balancer_arn: String,
    pub name: String,
    pub dns_name: String,
    /// `internet-facing` or `internal`.
    pub scheme: String,
    pub vpc_id: String,
    /// `active`, `provisioning`, ...
    pub state: String,
    pub listeners: Vec<ListenerView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListenerView {
    pub listener_arn: String,
    pub port: i32,
    pub protocol: String,
    /// The default action's forward targets (empty when it does not forward).
    pub default_forward: Vec<WeightedTarget>,
    /// Rules in priority order, the default rule last.
    pub rules: Vec<RuleView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleView {
    #[serde(flatten)]
    pub rule: RuleSnapshot,
    pub is_default: bool,
    /// Set when the rule carries Aviary's tags: the deployment that owns it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aviary_deployment_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetGroupView {
    pub target_group_arn: String,
    pub name: String,
    pub protocol: String,
    pub port: i32,
    pub vpc_id: String,
    /// `instance`, `ip`, `lambda` or `alb`.
    pub target_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check_path: Option<String>,
    /// The load balancers whose rules forward to it.
    pub load_balancer_arns: Vec<String>,
    /// Set for Aviary's own baseline and canary target groups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aviary_deployment_id: Option<String>,
}

