//! The installation's guardrails: what a deployment may do on this installation, whatever
//! its spec asks. Set by the installation (template parameters → environment), never by a
//! caller. [`Guardrails::check_spec`] is the pure part admission runs before it looks at
//! anything in the cloud; [`Guardrails::check_traffic`] is the same production-floor check
//! for a traffic change.
//!
//! Each refusal names the limit and the setting that controls it, so a user knows whom to
//! ask and an operator knows which parameter to change.

use crate::ownership::Ownership;
use crate::spec::{DeploymentSpec, FieldError, RulePlacement};

/// Instance types an installation allows when it names none: small burstable and general
/// purpose sizes, enough for a canary of a web service.
pub const DEFAULT_INSTANCE_TYPES: &[&str] = &[
    "t4g.micro", "t4g.small", "t4g.medium", "t4g.large", "t3.micro", "t3.small", "t3.medium", "t3.large", "m7g.medium",
    "m7g.large", "m6g.medium", "m6g.large",
];
pub const DEFAULT_PRODUCTION_FLOOR_PERCENT: u8 = 50;
pub const DEFAULT_MAX_ACTIVE_DEPLOYMENTS: u32 = 10;
pub const DEFAULT_MAX_TTL_MINUTES: u32 = 1440;

/// Environment variables (set by the template from its parameters).
pub mod env {
    pub const ALLOWED_LISTENER_ARNS: &str = "AVIARY_ALLOWED_LISTENER_ARNS";
    pub const ALLOW_RULES_AHEAD: &str = "AVIARY_ALLOW_RULES_AHEAD";
    pub const PRODUCTION_FLOOR_PERCENT: &str = "AVIARY_PRODUCTION_FLOOR_PERCENT";
    pub const ALLOWED_INSTANCE_TYPES: &str = "AVIARY_ALLOWED_INSTANCE_TYPES";
    pub const MAX_ACTIVE_DEPLOYMENTS: &str = "AVIARY_MAX_ACTIVE_DEPLOYMENTS";
    pub const MAX_TTL_MINUTES: &str = "AVIARY_MAX_TTL_MINUTES";
    pub const ALLOWED_COMPOSE_IMAGES: &str = "AVIARY_ALLOWED_COMPOSE_IMAGES";
    pub const OPERATORS: &str = "AVIARY_OPERATORS";
}

#[derive(Debug, Clone, PartialEq)]
pub struct Guardrails {
    /// Listener ARNs deployments may add a rule to, exactly. Empty: every deployment is refused.
    pub allowed_listeners: Vec<String>,
    /// Whether a spec may opt in to a rule evaluated before the listener's existing rules.
    pub allow_rules_ahead: bool,
    /// The share production keeps on the canary rule, at least (0-100).
    pub production_floor_percent: u8,
    /// Instance types (exact, or a family pattern like `t4g.*`) for baseline, canary, monitor.
    pub allowed_instance_types: Vec<String>,
    /// Deployments not yet in a final state, at most.
    pub max_active_deployments: u32,
    pub max_ttl_minutes: u32,
    /// Images a compose file may run besides the admitted one.
    pub allowed_compose_images: Vec<String>,
    /// Who besides a deployment's creator may change it through the API.
    pub ownership: Ownership,
}

impl Default for Guardrails {
    /// The safe defaults: no listener allowed until the installation names one.
    fn default() -> Self {
        Guardrails {
            allowed_listeners: Vec::new(),
            allow_rules_ahead: false,
            production_floor_percent: DEFAULT_PRODUCTION_FLOOR_PERCENT,
            allowed_instance_types: DEFAULT_INSTANCE_TYPES.iter().map(|s| s.to_string()).collect(),
            max_active_deployments: DEFAULT_MAX_ACTIVE_DEPLOYMENTS,
            max_ttl_minutes: DEFAULT_MAX_TTL_MINUTES,
            allowed_compose_images: Vec::new(),
            ownership: Ownership::default(),
        }
    }
}

/// A guardrail setting that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name}={value:?} is not valid: {expected}")]
pub struct SettingError {
    pub name: &'static str,
    pub value: String,
    pub expected: &'static str,
}

fn list(v: &str) -> Vec<String> {
    v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

impl Guardrails {
    /// From variables looked up by `get` (the process environment in a Lambda); unset
    /// variables keep the defaults. A value that cannot be read is an error, never a silent
    /// default: a typo in a limit must not lift it.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Guardrails, SettingError> {
        let mut g = Guardrails::default();
        let num = |name: &'static str, value: String, max: u32, expected: &'static str| {
            value.trim().parse::<u32>().ok().filter(|n| *n <= max).ok_or(SettingError { name, value, expected })
        };
        if let Some(v) = get(env::ALLOWED_LISTENER_ARNS) {
            g.allowed_listeners = list(&v);
            if g.allowed_listeners.iter().any(|l| l.contains('*')) {
                return Err(SettingError { name: env::ALLOWED_LISTENER_ARNS, value: v, expected: "listener ARNs, no wildcards" });
            }
        }
        if let Some(v) = get(env::ALLOW_RULES_AHEAD) {
            g.allow_rules_ahead = match v.trim() {
                "true" => true,
                "false" | "" => false,
                _ => return Err(SettingError { name: env::ALLOW_RULES_AHEAD, value: v, expected: "true or false" }),
            };
        }
        if let Some(v) = get(env::PRODUCTION_FLOOR_PERCENT) {
            g.production_floor_percent = num(env::PRODUCTION_FLOOR_PERCENT, v, 100, "a whole percentage 0-100")? as u8;
        }
        if let Some(v) = get(env::ALLOWED_INSTANCE_TYPES) {
            if !v.trim().is_empty() {
                g.allowed_instance_types = list(&v);
            }
        }
        if let Some(v) = get(env::MAX_ACTIVE_DEPLOYMENTS) {
            g.max_active_deployments = num(env::MAX_ACTIVE_DEPLOYMENTS, v, 10_000, "a number 0-10000")?;
        }
        if let Some(v) = get(env::MAX_TTL_MINUTES) {
            g.max_ttl_minutes = num(env::MAX_TTL_MINUTES, v, 10_080, "minutes, at most 10080")?;
        }
        if let Some(v) = get(env::ALLOWED_COMPOSE_IMAGES) {
            g.allowed_compose_images = list(&v);
        }
        if let Some(v) = get(env::OPERATORS) {
            g.ownership = Ownership::from_list(&v);
            if g.ownership.operators.iter().any(|o| o.contains('*') || !o.starts_with("arn:")) {
                return Err(SettingError { name: env::OPERATORS, value: v, expected: "IAM user or role ARNs, no wildcards" });
            }
        }
        Ok(g)
    }

    /// The largest canary share the floor leaves: baseline gets as much as the canary, so
    /// canary ≤ (100 − floor) / 2.
    pub fn max_canary_percent(&self) -> f64 {
        f64::from(100 - self.production_floor_percent.min(100)) / 2.0
    }

    pub fn listener_allowed(&self, listener_arn: &str) -> bool {
        self.allowed_listeners.iter().any(|l| l == listener_arn)
    }

    pub fn instance_type_allowed(&self, instance_type: &str) -> bool {
        self.allowed_instance_types.iter().any(|p| match p.strip_suffix('*') {
            Some(prefix) => instance_type.starts_with(prefix),
            None => p == instance_type,
        })
    }

    /// Whether a rule may be placed before the listener's existing rules for this spec.
    pub fn rules_ahead_allowed(&self, spec: &DeploymentSpec) -> bool {
        spec.rule_placement == RulePlacement::AheadOfExistingRules && self.allow_rules_ahead
    }

    /// Every limit the spec breaks, before anything in the cloud is looked at.
    pub fn check_spec(&self, spec: &DeploymentSpec) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if self.allowed_listeners.is_empty() {
            errors.push(FieldError::new(
                "listenerArn",
                "this installation allows no listener yet: add the listener's ARN to the stack's AllowedListenerArns parameter \
                 (aviary local up: --allow-listener <arn>)",
            ));
        } else if !self.listener_allowed(&spec.listener_arn) {
            errors.push(FieldError::new(
                "listenerArn",
                format!(
                    "listener {} is not in this installation's allowed listeners (AllowedListenerArns); allowed: {}",
                    spec.listener_arn,
                    self.allowed_listeners.join(", ")
                ),
            ));
        }
        if let Some(e) = self.check_traffic(spec.traffic_percent) {
            errors.push(e);
        }
        for (field, t) in [("instanceType", &spec.instance_type), ("monitoring.instanceType", &spec.monitoring.instance_type)] {
            if (field == "instanceType" || spec.monitoring.enabled) && !self.instance_type_allowed(t) {
                errors.push(FieldError::new(
                    field,
                    format!("instance type {t} is not allowed here (AllowedInstanceTypes: {})", self.allowed_instance_types.join(", ")),
                ));
            }
        }
        if spec.ttl_minutes > self.max_ttl_minutes {
            errors.push(FieldError::new(
                "ttlMinutes",
                format!("{} minutes is over this installation's limit of {} (MaxTtlMinutes)", spec.ttl_minutes, self.max_ttl_minutes),
            ));
        }
        if spec.rule_placement == RulePlacement::AheadOfExistingRules && !self.allow_rules_ahead {
            errors.push(FieldError::new(
                "rulePlacement",
                "this installation does not let a canary rule go ahead of the listener's existing rules (AllowRulesAheadOfExisting)",
            ));
        }
        errors
    }

    /// The production floor, for a canary share asked for at admission or in a traffic change.
    pub fn check_traffic(&self, canary_percent: f64) -> Option<FieldError> {
        let max = self.max_canary_percent();
        // Shares are in tenths of a percent; compare there so 25.0 is not "over 25".
        if (canary_percent * 10.0).round() > (max * 10.0).round() {
            return Some(FieldError::new(
                "trafficPercent",
                format!(
                    "{canary_percent}% would leave production {}% of the rule's traffic; this installation keeps production at \
                     {}% or more (ProductionFloorPercent), so the canary may have at most {max}%",
                    100.0 - 2.0 * canary_percent,
                    self.production_floor_percent
                ),
            ));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::tests::sample;

    fn allowing(spec: &DeploymentSpec) -> Guardrails {
        Guardrails { allowed_listeners: vec![spec.listener_arn.clone()], ..Guardrails::default() }
    }

    #[test]
    fn the_defaults_refuse_every_listener_and_say_how_to_allow_one() {
        let errors = Guardrails::default().check_spec(&sample());
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].field, "listenerArn");
        assert!(errors[0].message.contains("AllowedListenerArns"), "{}", errors[0].message);
    }

    #[test]
    fn an_allowed_listener_passes_and_another_is_named() {
        let spec = sample();
        assert!(allowing(&spec).check_spec(&spec).is_empty());
        let mut other = spec.clone();
        other.listener_arn = spec.listener_arn.replace("f2f7", "0000");
        let errors = allowing(&spec).check_spec(&other);
        assert!(errors[0].message.contains("not in this installation's allowed listeners"), "{errors:?}");
    }

    #[test]
    fn the_floor_caps_the_canary_share() {
        let mut spec = sample();
        let g = allowing(&spec);
        assert_eq!(g.max_canary_percent(), 25.0);
        spec.traffic_percent = 25.0;
        assert!(g.check_spec(&spec).is_empty());
        spec.traffic_percent = 25.1;
        let errors = g.check_spec(&spec);
        assert_eq!(errors[0].field, "trafficPercent");
        assert!(errors[0].message.contains("at most 25%"), "{}", errors[0].message);
        let strict = Guardrails { production_floor_percent: 90, ..g };
        assert!(strict.check_traffic(5.0).is_none());
        assert!(strict.check_traffic(5.1).is_some());
    }

    #[test]
    fn cost_limits_name_the_limit() {
        let mut spec = sample();
        let g = allowing(&spec);
        spec.instance_type = "p5.48xlarge".into();
        spec.ttl_minutes = 10_080;
        let errors = g.check_spec(&spec);
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["instanceType", "ttlMinutes"]);
        assert!(errors[0].message.contains("AllowedInstanceTypes"));
        assert!(errors[1].message.contains("limit of 1440"));
    }

    #[test]
    fn instance_type_patterns_match_a_family() {
        let g = Guardrails { allowed_instance_types: vec!["t4g.*".into(), "m7g.large".into()], ..Guardrails::default() };
        assert!(g.instance_type_allowed("t4g.nano"));
        assert!(g.instance_type_allowed("m7g.large"));
        assert!(!g.instance_type_allowed("m7g.xlarge"));
        assert!(!g.instance_type_allowed("t4"));
    }

    #[test]
    fn going_ahead_of_existing_rules_needs_both_opt_ins() {
        let mut spec = sample();
        spec.rule_placement = RulePlacement::AheadOfExistingRules;
        let g = allowing(&spec);
        assert!(!g.rules_ahead_allowed(&spec));
        assert_eq!(g.check_spec(&spec)[0].field, "rulePlacement");
        let permissive = Guardrails { allow_rules_ahead: true, ..g };
        assert!(permissive.rules_ahead_allowed(&spec));
        assert!(permissive.check_spec(&spec).is_empty());
        spec.rule_placement = RulePlacement::AfterExistingRules;
        assert!(!permissive.rules_ahead_allowed(&spec));
    }

    #[test]
    fn settings_are_read_strictly() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
        };
        let g = Guardrails::from_lookup(vars(&[
            (env::ALLOWED_LISTENER_ARNS, "arn:a, arn:b,"),
            (env::PRODUCTION_FLOOR_PERCENT, "80"),
            (env::ALLOW_RULES_AHEAD, "true"),
            (env::MAX_ACTIVE_DEPLOYMENTS, "3"),
            (env::OPERATORS, "arn:aws:iam::1:role/ops, arn:aws:iam::1:user/alice"),
        ]))
        .unwrap();
        assert_eq!(g.ownership.operators, ["arn:aws:iam::1:role/ops", "arn:aws:iam::1:user/alice"]);
        assert_eq!(g.allowed_listeners, ["arn:a", "arn:b"]);
        assert_eq!(g.production_floor_percent, 80);
        assert!(g.allow_rules_ahead);
        assert_eq!(g.max_active_deployments, 3);
        assert_eq!(g.allowed_instance_types.len(), DEFAULT_INSTANCE_TYPES.len());
        for bad in [
            &[(env::ALLOWED_LISTENER_ARNS, "*")][..],
            &[(env::PRODUCTION_FLOOR_PERCENT, "101")][..],
            &[(env::PRODUCTION_FLOOR_PERCENT, "fifty")][..],
            &[(env::ALLOW_RULES_AHEAD, "yes")][..],
            &[(env::MAX_TTL_MINUTES, "-1")][..],
            &[(env::OPERATORS, "*")][..],
            &[(env::OPERATORS, "alice")][..],
        ] {
            let bad: &'static [(&str, &str)] = Box::leak(bad.to_vec().into_boxed_slice());
            assert!(Guardrails::from_lookup(vars(bad)).is_err(), "{bad:?}");
        }
    }
}
