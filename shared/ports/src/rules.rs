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
    /// `default` for the listener's default rule, else the number. On the wire a number, or
    /// `null` for the default rule (as the ALB's own API has it, a string would need parsing).
    #[serde(with = "priority_wire")]
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

mod priority_wire {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(p: &String, s: S) -> Result<S::Ok, S::Error> {
        match p.parse::<u32>() {
            Ok(n) => s.serialize_u32(n),
            Err(_) => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Wire {
            Number(u32),
            Text(String),
        }
        Ok(match Option::<Wire>::deserialize(d)? {
            Some(Wire::Number(n)) => n.to_string(),
            Some(Wire::Text(t)) => t,
            None => "default".to_string(),
        })
    }
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

#[cfg(test)]
mod wire_tests {
    use super::*;

    #[test]
    fn priorities_are_numbers_and_the_default_rule_null_on_the_wire() {
        let rule = |p: &str| RuleSnapshot { rule_arn: "r".into(), priority: p.into(), conditions: vec![], forward: vec![], stickiness_seconds: None, other_actions: vec![] };
        let json = serde_json::to_value(rule("10")).unwrap();
        assert_eq!(json["priority"], 10);
        assert_eq!(serde_json::from_value::<RuleSnapshot>(json).unwrap(), rule("10"));
        let json = serde_json::to_value(rule("default")).unwrap();
        assert!(json["priority"].is_null());
        assert_eq!(serde_json::from_value::<RuleSnapshot>(json).unwrap(), rule("default"));
        let legacy = serde_json::json!({"ruleArn": "r", "priority": "7", "conditions": [], "forward": []});
        assert_eq!(serde_json::from_value::<RuleSnapshot>(legacy).unwrap().priority_number(), Some(7));
    }
}
