//! The Application Load Balancer's documented limits and Aviary's traffic resolution: the
//! numbers both the spec's validation and the traffic maths are held to.

/// ALB: at most 5 target groups in one forward action.
pub const MAX_TARGET_GROUPS_PER_ACTION: usize = 5;
/// ALB: rule priorities are 1..=50000.
pub const MAX_RULE_PRIORITY: u32 = 50_000;
/// ALB: condition values (match evaluations) per rule.
pub const MAX_CONDITION_VALUES_PER_RULE: usize = 5;
/// ALB: stickiness duration bounds, seconds.
pub const STICKINESS_MIN_SECONDS: u32 = 1;
pub const STICKINESS_MAX_SECONDS: u32 = 604_800;
/// Largest canary share: baseline gets the same, so production keeps at least 0% (the
/// installation's production floor usually keeps far more: `guardrails`).
pub const MAX_TRAFFIC_PERCENT: f64 = 50.0;
/// Traffic is expressed in tenths of a percent (ALB weights are integers).
pub const TRAFFIC_RESOLUTION_PERCENT: f64 = 0.1;
