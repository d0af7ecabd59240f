//! A listener's rules as Aviary compares them: the snapshot every router reports, and the
//! priorities in use (a module of its own so the router and the environment view can both
//! name it without importing each other).

use aviary_core::traffic::WeightedTarget;
use serde::{Deserialize, Serialize};

/// A listener rule reduced to what matters for comparisons (teardown verification, tests,
/// the API's environment view).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleSnapshot {
    pub rule_arn: String,
    /// `default` for the listener's default rule, else the number.
    pub priority: String,
    /// Each condition described as `field:value,value` (sorted).
    pub conditions: Vec<String>,
    pub forward: Vec<WeightedTarget>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stickiness_seconds: Option<i32>,
    /// Non-forward actions, described.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_actions: Vec<String>,
}

impl RuleSnapshot {
    /// The numeric priority; `None` for the default rule. The one place priorities are parsed.
    pub fn priority_number(&self) -> Option<u32> {
        self.priority.parse().ok()
    }
}

/// The numeric priorities in use on a listener (the default rule has none).
pub fn used_priorities(rules: &[RuleSnapshot]) -> Vec<u32> {
    rules.iter().filter_map(RuleSnapshot::priority_number).collect()
}

