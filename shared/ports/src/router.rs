//! The traffic router: the user's listener and its rules, the canary rule Aviary adds, and the
//! target groups behind it. On AWS this is an Application Load Balancer; the words here are
//! neutral so another front can implement the same trait.

use async_trait::async_trait;
use aviary_core::spec::{HealthCheck, RuleConditions, Stickiness};
use aviary_core::steps::GroupHealth;
use aviary_core::traffic::{RuleWeights, WeightedTarget};
use aviary_core::StepError;

use crate::OwnerTags;

/// What Aviary needs to know about the user's listener.
#[derive(Debug, Clone, PartialEq)]
pub struct ListenerInfo {
    pub listener_arn: String,
    pub load_balancer_arn: String,
    /// The default action's forward targets (empty when it is not a forward action).
    pub default_forward: Vec<WeightedTarget>,
}

/// The network a listener's load balancer lives in.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadBalancerInfo {
    pub vpc_id: String,
    pub subnet_ids: Vec<String>,
    pub security_group_ids: Vec<String>,
    pub dns_name: String,
}

pub use crate::rules::{used_priorities, RuleSnapshot};

/// Outcome of trying to claim a priority.
#[derive(Debug, thiserror::Error)]
pub enum CreateRuleError {
    #[error("the priority is in use")]
    PriorityInUse,
    #[error(transparent)]
    Other(#[from] StepError),
}

/// A target group for one role of a deployment.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetGroupRequest {
    pub name: String,
    pub vpc_id: String,
    pub port: u16,
    pub health_check: HealthCheck,
    pub health_check_port: u16,
    pub owner: OwnerTags,
}

/// A change to the canary rule: the forward weights (and stickiness, which lives on the
/// forward action) always, the conditions only when named.
#[derive(Debug, Clone, PartialEq)]
pub struct RouteChange {
    pub conditions: Option<RuleConditions>,
    pub weights: RuleWeights,
    pub stickiness: Option<Stickiness>,
}

#[async_trait]
pub trait TrafficRouter: Send + Sync {
    /// The listener, or `None` when it does not exist.
    async fn listener(&self, listener_arn: &str) -> Result<Option<ListenerInfo>, StepError>;
    async fn load_balancer(&self, load_balancer_arn: &str) -> Result<LoadBalancerInfo, StepError>;
    /// Every listener of every load balancer in the region (cleanup's orphan sweep).
    async fn all_listeners(&self) -> Result<Vec<String>, StepError>;
    /// Every rule on the listener, the default rule included.
    async fn rules(&self, listener_arn: &str) -> Result<Vec<RuleSnapshot>, StepError>;
    /// The rules on the listener carrying Aviary's tags, with their deployment ids.
    async fn aviary_rules(&self, listener_arn: &str) -> Result<Vec<(RuleSnapshot, String)>, StepError>;
    async fn describe_rule(&self, rule_arn: &str) -> Result<Option<RuleSnapshot>, StepError>;
    /// Creates the canary rule at `priority`, tagged with `owner`.
    async fn create_rule(
        &self,
        listener_arn: &str,
        priority: u32,
        conditions: &RuleConditions,
        weights: &RuleWeights,
        stickiness: Option<&Stickiness>,
        owner: &OwnerTags,
    ) -> Result<String, CreateRuleError>;
    async fn modify_rule(&self, rule_arn: &str, change: &RouteChange) -> Result<(), StepError>;
    /// Deletes a rule; `Ok(false)` when already gone.
    async fn delete_rule(&self, rule_arn: &str) -> Result<bool, StepError>;

    async fn target_group_exists(&self, target_group_arn: &str) -> Result<bool, StepError>;
    /// A target group by name: (arn, the deployment id tag if it carries Aviary's tags).
    async fn target_group_by_name(&self, name: &str) -> Result<Option<(String, Option<String>)>, StepError>;
    async fn create_target_group(&self, req: &TargetGroupRequest) -> Result<String, StepError>;
    async fn set_deregistration_delay(&self, target_group_arn: &str, seconds: u32) -> Result<(), StepError>;
    async fn register(&self, target_group_arn: &str, instance_id: &str, port: u16) -> Result<(), StepError>;
    /// Deregisters every target; returns their ids. Gone counts as done.
    async fn deregister_all(&self, target_group_arn: &str) -> Result<Vec<String>, StepError>;
    /// Deletes a target group; `Ok(false)` when already gone; still used by a rule is
    /// `TeardownIncomplete`.
    async fn delete_target_group(&self, target_group_arn: &str) -> Result<bool, StepError>;
    /// Every target group carrying Aviary's tags: (arn, deployment id).
    async fn aviary_target_groups(&self) -> Result<Vec<(String, String)>, StepError>;
    /// The whole routing environment, for people choosing a listener.
    async fn environment(&self) -> Result<crate::environment::Environment, StepError>;
}

/// Where target health comes from: the router's own health checks on AWS; an injected source
/// where the emulator cannot check (it reports every registered target healthy).
#[async_trait]
pub trait TargetHealthSource: Send + Sync {
    async fn target_health(&self, target_group_arn: &str) -> Result<GroupHealth, StepError>;
}

/// The conditions as a router rule carries them, described the way [`RuleSnapshot`] lists
/// them. No condition at all becomes `path-pattern:/*` (a rule needs one; it matches every
/// request).
pub fn describe_conditions(c: &RuleConditions) -> Vec<String> {
    let mut out = Vec::new();
    let list = |field: &str, v: &[String]| format!("{field}:{}", v.join(","));
    if !c.path_patterns.is_empty() {
        out.push(list("path-pattern", &c.path_patterns));
    }
    if !c.http_methods.is_empty() {
        out.push(list("http-request-method", &c.http_methods));
    }
    if !c.host_headers.is_empty() {
        out.push(list("host-header", &c.host_headers));
    }
    if !c.source_ips.is_empty() {
        out.push(list("source-ip", &c.source_ips));
    }
    for h in &c.http_headers {
        out.push(format!("http-header:{}={}", h.name, h.values.join("|")));
    }
    if !c.query_strings.is_empty() {
        let pairs: Vec<String> = c.query_strings.iter().map(|q| format!("{}={}", q.key.as_deref().unwrap_or("*"), q.value)).collect();
        out.push(list("query-string", &pairs));
    }
    if out.is_empty() {
        out.push("path-pattern:/*".into());
    }
    out.sort();
    out
}

/// A health source that reports a fixed state for every target of the groups it is told
/// about, delegating the rest: used to exercise the unhealthy path locally.
pub struct OverrideHealth<S> {
    pub inner: S,
    pub state: String,
    pub reason: Option<String>,
}

#[async_trait]
impl<S: TargetHealthSource> TargetHealthSource for OverrideHealth<S> {
    async fn target_health(&self, target_group_arn: &str) -> Result<GroupHealth, StepError> {
        let mut g = self.inner.target_health(target_group_arn).await?;
        for t in &mut g.targets {
            t.state = self.state.clone();
            t.reason = self.reason.clone();
        }
        Ok(g)
    }
}
