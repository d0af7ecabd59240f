//! Weight and priority maths for the canary's listener rule.
//!
//! A canary share `p` percent gives baseline `p`, canary `p` and production `100 - 2p`. ALB
//! weights are integers 0–999 per target group, so shares are kept in tenths of a percent and
//! a forward action's weights sum to 1000 (production's weight split across its target groups
//! in the proportions the listener already used).

use serde::{Deserialize, Serialize};

use crate::limits::{MAX_RULE_PRIORITY, MAX_TARGET_GROUPS_PER_ACTION, MAX_TRAFFIC_PERCENT};

/// Largest weight the ALB accepts for one target group.
pub const MAX_WEIGHT: u32 = 999;

/// The canary share in tenths of a percent (1..=500).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TrafficShare(u32);

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TrafficError {
    #[error("traffic share must be a number, got {0}")]
    NotFinite(f64),
    #[error("traffic share must be greater than 0 and at most {max}% (baseline gets the same share), got {got}%")]
    OutOfRange { got: f64, max: f64 },
    #[error("traffic share has a resolution of 0.1%, got {0}%")]
    TooFine(f64),
    #[error("a forward action holds at most {MAX_TARGET_GROUPS_PER_ACTION} target groups; {0} production target groups leave no room for baseline and canary")]
    TooManyTargetGroups(usize),
    #[error("no production target group to forward the rest of the traffic to")]
    NoProduction,
}

impl TrafficShare {
    pub fn from_percent(p: f64) -> Result<Self, TrafficError> {
        if !p.is_finite() {
            return Err(TrafficError::NotFinite(p));
        }
        if p <= 0.0 || p > MAX_TRAFFIC_PERCENT {
            return Err(TrafficError::OutOfRange { got: p, max: MAX_TRAFFIC_PERCENT });
        }
        let tenths = (p * 10.0).round();
        // Below a tenth (e.g. 0.01) would round to weight 0: no traffic at all, so refuse it.
        if tenths < 1.0 || (tenths - p * 10.0).abs() > 1e-6 {
            return Err(TrafficError::TooFine(p));
        }
        Ok(TrafficShare(tenths as u32))
    }

    pub fn tenths(self) -> u32 {
        self.0
    }

    pub fn percent(self) -> f64 {
        f64::from(self.0) / 10.0
    }
}

/// A target group and its weight in the rule's forward action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WeightedTarget {
    pub target_group_arn: String,
    pub weight: u32,
}

/// The weights of one forward action: production first, then baseline and canary.
///
/// On the wire, one shape for every role: a list in forward-action order,
/// `[{"role": "production", "targetGroupArn": …, "weight": 900}, {"role": "baseline", …},
/// {"role": "canary", …}]`. The former object (`{"production": [...], "baseline": {...},
/// "canary": {...}}`) still reads, for records stored before.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "Vec<RoleWeight>", try_from = "WeightsWire")]
pub struct RuleWeights {
    pub production: Vec<WeightedTarget>,
    pub baseline: WeightedTarget,
    pub canary: WeightedTarget,
}

/// One entry of the rule's weights on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleWeight {
    /// `production`, `baseline` or `canary`.
    pub role: String,
    pub target_group_arn: String,
    pub weight: u32,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum WeightsWire {
    List(Vec<RoleWeight>),
    #[serde(rename_all = "camelCase")]
    Legacy { production: Vec<WeightedTarget>, baseline: WeightedTarget, canary: WeightedTarget },
}

impl From<RuleWeights> for Vec<RoleWeight> {
    fn from(w: RuleWeights) -> Vec<RoleWeight> {
        let entry = |role: &str, t: WeightedTarget| RoleWeight { role: role.into(), target_group_arn: t.target_group_arn, weight: t.weight };
        let mut v: Vec<RoleWeight> = w.production.into_iter().map(|t| entry("production", t)).collect();
        v.push(entry("baseline", w.baseline));
        v.push(entry("canary", w.canary));
        v
    }
}

impl TryFrom<WeightsWire> for RuleWeights {
    type Error = String;
    fn try_from(w: WeightsWire) -> Result<RuleWeights, String> {
        match w {
            WeightsWire::Legacy { production, baseline, canary } => Ok(RuleWeights { production, baseline, canary }),
            WeightsWire::List(list) => {
                let (mut production, mut baseline, mut canary) = (Vec::new(), Vec::new(), Vec::new());
                for e in list {
                    let t = WeightedTarget { target_group_arn: e.target_group_arn, weight: e.weight };
                    match e.role.as_str() {
                        "production" => production.push(t),
                        "baseline" => baseline.push(t),
                        "canary" => canary.push(t),
                        other => return Err(format!("weights: unknown role {other:?} (production, baseline or canary)")),
                    }
                }
                match (baseline.len(), canary.len()) {
                    (1, 1) => Ok(RuleWeights { production, baseline: baseline.remove(0), canary: canary.remove(0) }),
                    (b, c) => Err(format!("weights: need exactly one baseline and one canary entry, got {b} and {c}")),
                }
            }
        }
    }
}

impl RuleWeights {
    /// All target groups in forward-action order.
    pub fn all(&self) -> Vec<WeightedTarget> {
        let mut v = self.production.clone();
        v.push(self.baseline.clone());
        v.push(self.canary.clone());
        v
    }

    /// Canary share in percent of the rule's traffic.
    pub fn canary_percent(&self) -> f64 {
        let total: u32 = self.all().iter().map(|t| t.weight).sum();
        if total == 0 {
            0.0
        } else {
            (f64::from(self.canary.weight) * 1000.0 / f64::from(total)).round() / 10.0
        }
    }
}

/// Weights that send nothing to baseline and canary: the rule exists (so the ALB health-checks
/// their target groups) but every request still goes to production.
pub fn warmup_weights(production: &[WeightedTarget], baseline_tg: &str, canary_tg: &str) -> Result<RuleWeights, TrafficError> {
    weights_for(production, baseline_tg, canary_tg, 0)
}

/// Weights for a canary share.
pub fn share_weights(
    production: &[WeightedTarget],
    baseline_tg: &str,
    canary_tg: &str,
    share: TrafficShare,
) -> Result<RuleWeights, TrafficError> {
    weights_for(production, baseline_tg, canary_tg, share.tenths())
}

fn weights_for(production: &[WeightedTarget], baseline_tg: &str, canary_tg: &str, tenths: u32) -> Result<RuleWeights, TrafficError> {
    if production.is_empty() {
        return Err(TrafficError::NoProduction);
    }
    if production.len() + 2 > MAX_TARGET_GROUPS_PER_ACTION {
        return Err(TrafficError::TooManyTargetGroups(production.len()));
    }
    let production_total = 1000 - 2 * tenths;
    let split = split_proportionally(production, production_total);
    Ok(RuleWeights {
        production: split,
        baseline: WeightedTarget { target_group_arn: baseline_tg.into(), weight: tenths },
        canary: WeightedTarget { target_group_arn: canary_tg.into(), weight: tenths },
    })
}

/// Splits `total` over the production target groups in proportion to their existing weights
/// (largest remainder), capping each at [`MAX_WEIGHT`]. When everything is production, the
/// cap of 999 still leaves the proportions intact to within one unit.
fn split_proportionally(production: &[WeightedTarget], total: u32) -> Vec<WeightedTarget> {
    let total = total.min(MAX_WEIGHT * production.len() as u32);
    let sum: u64 = production.iter().map(|t| u64::from(t.weight.max(1))).sum();
    let mut parts: Vec<(usize, u32, u64)> = production
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let exact = u64::from(total) * u64::from(t.weight.max(1));
            (i, (exact / sum) as u32, exact % sum)
        })
        .collect();
    let mut remaining = total - parts.iter().map(|p| p.1).sum::<u32>();
    parts.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
    for p in parts.iter_mut() {
        if remaining == 0 {
            break;
        }
        p.1 += 1;
        remaining -= 1;
    }
    parts.sort_by_key(|p| p.0);
    parts
        .into_iter()
        .map(|(i, w, _)| WeightedTarget { target_group_arn: production[i].target_group_arn.clone(), weight: w.min(MAX_WEIGHT) })
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PriorityError {
    #[error("priority {0} is already used by another rule on this listener")]
    Taken(u32),
    #[error(
        "priority {priority} would put the canary rule ahead of the listener's existing rules (the last is at {last}); \
         leave priority out, or choose one above {last}"
    )]
    AheadOfExistingRules { priority: u32, last: u32 },
    #[error("no free rule priority after the listener's existing rules (the last is at {last}, the ALB's highest is 50000)")]
    NoneAfterExistingRules { last: u32 },
}

/// Chooses the rule priority. By default the canary rule goes after every rule the listener
/// has (so it only shares traffic that no user rule handles: a user's deny or redirect rule
/// keeps working), at the first free number after the highest priority in use; `skip` moves
/// further along after a lost race (`PriorityInUse`). There is no fallback below the last
/// rule: with no room after it, the answer is an error, never a jump ahead.
///
/// An explicit priority must be free, and after the existing rules unless `ahead_allowed`
/// (the spec opted in and the installation permits it).
pub fn choose_priority(used: &[u32], explicit: Option<u32>, skip: u32, ahead_allowed: bool) -> Result<u32, PriorityError> {
    let last = used.iter().copied().max().unwrap_or(0);
    if let Some(p) = explicit {
        if used.contains(&p) {
            return Err(PriorityError::Taken(p));
        }
        if p < last && !ahead_allowed {
            return Err(PriorityError::AheadOfExistingRules { priority: p, last });
        }
        return Ok(p);
    }
    let mut p = last.saturating_add(1).saturating_add(skip);
    while used.contains(&p) {
        p = p.saturating_add(1);
    }
    if p > MAX_RULE_PRIORITY {
        // Past the top after a lost race: the lowest free number after the last rule, if any.
        return (last + 1..=MAX_RULE_PRIORITY).find(|c| !used.contains(c)).ok_or(PriorityError::NoneAfterExistingRules { last });
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_have_one_shape_on_the_wire_and_the_former_object_still_reads() {
        let t = |a: &str, weight| WeightedTarget { target_group_arn: a.into(), weight };
        let w = RuleWeights { production: vec![t("p1", 800), t("p2", 100)], baseline: t("b", 50), canary: t("c", 50) };
        let json = serde_json::to_value(&w).unwrap();
        assert_eq!(
            json,
            serde_json::json!([
                {"role": "production", "targetGroupArn": "p1", "weight": 800},
                {"role": "production", "targetGroupArn": "p2", "weight": 100},
                {"role": "baseline", "targetGroupArn": "b", "weight": 50},
                {"role": "canary", "targetGroupArn": "c", "weight": 50}
            ])
        );
        assert_eq!(serde_json::from_value::<RuleWeights>(json).unwrap(), w);
        let legacy = serde_json::json!({"production": [{"targetGroupArn": "p1", "weight": 800}, {"targetGroupArn": "p2", "weight": 100}],
            "baseline": {"targetGroupArn": "b", "weight": 50}, "canary": {"targetGroupArn": "c", "weight": 50}});
        assert_eq!(serde_json::from_value::<RuleWeights>(legacy).unwrap(), w);
        let two_canaries = serde_json::json!([{"role": "canary", "targetGroupArn": "c", "weight": 1}, {"role": "canary", "targetGroupArn": "d", "weight": 1}]);
        assert!(serde_json::from_value::<RuleWeights>(two_canaries).is_err());
    }
    use proptest::prelude::*;

    fn prod(ws: &[u32]) -> Vec<WeightedTarget> {
        ws.iter().enumerate().map(|(i, w)| WeightedTarget { target_group_arn: format!("prod{i}"), weight: *w }).collect()
    }

    #[test]
    fn share_is_in_tenths_of_a_percent() {
        assert_eq!(TrafficShare::from_percent(5.0).unwrap().tenths(), 50);
        assert_eq!(TrafficShare::from_percent(0.1).unwrap().tenths(), 1);
        assert_eq!(TrafficShare::from_percent(50.0).unwrap().tenths(), 500);
        assert!(matches!(TrafficShare::from_percent(0.0), Err(TrafficError::OutOfRange { .. })));
        assert!(matches!(TrafficShare::from_percent(50.1), Err(TrafficError::OutOfRange { .. })));
        assert!(matches!(TrafficShare::from_percent(1.25), Err(TrafficError::TooFine(_))));
        assert!(matches!(TrafficShare::from_percent(0.01), Err(TrafficError::TooFine(_))));
        assert!(matches!(TrafficShare::from_percent(f64::NAN), Err(TrafficError::NotFinite(_))));
    }

    #[test]
    fn five_percent_gives_equal_baseline_and_canary() {
        let w = share_weights(&prod(&[1]), "b", "c", TrafficShare::from_percent(5.0).unwrap()).unwrap();
        assert_eq!(w.production[0].weight, 900);
        assert_eq!(w.baseline.weight, 50);
        assert_eq!(w.canary.weight, 50);
        assert_eq!(w.canary_percent(), 5.0);
    }

    #[test]
    fn warmup_sends_nothing_to_baseline_or_canary() {
        let w = warmup_weights(&prod(&[1]), "b", "c").unwrap();
        assert_eq!((w.baseline.weight, w.canary.weight), (0, 0));
        assert_eq!(w.production[0].weight, MAX_WEIGHT);
    }

    #[test]
    fn production_split_keeps_existing_proportions() {
        let w = share_weights(&prod(&[3, 1]), "b", "c", TrafficShare::from_percent(10.0).unwrap()).unwrap();
        assert_eq!(w.production.iter().map(|t| t.weight).collect::<Vec<_>>(), vec![600, 200]);
        assert!(matches!(warmup_weights(&prod(&[1, 1, 1, 1]), "b", "c"), Err(TrafficError::TooManyTargetGroups(4))));
        assert!(matches!(warmup_weights(&[], "b", "c"), Err(TrafficError::NoProduction)));
    }

    #[test]
    fn priority_goes_after_user_rules_and_skips_taken_numbers() {
        assert_eq!(choose_priority(&[], None, 0, false), Ok(1));
        assert_eq!(choose_priority(&[10, 20], None, 0, false), Ok(21));
        assert_eq!(choose_priority(&[10, 20], None, 2, false), Ok(23));
        assert_eq!(choose_priority(&[10], Some(10), 0, false), Err(PriorityError::Taken(10)));
        assert_eq!(choose_priority(&[10], Some(11), 0, false), Ok(11));
        // A lost race near the top: the lowest free number still after the last rule.
        assert_eq!(choose_priority(&[49_990], None, 100, false), Ok(49_991));
    }

    #[test]
    fn priority_never_jumps_ahead_of_the_users_rules_unless_allowed() {
        // A user rule at the very top (e.g. a catch-all deny at 50000): no room after it.
        assert_eq!(choose_priority(&[50_000], None, 0, false), Err(PriorityError::NoneAfterExistingRules { last: 50_000 }));
        assert_eq!(choose_priority(&[50_000], None, 0, true), Err(PriorityError::NoneAfterExistingRules { last: 50_000 }));
        // An explicit priority between or before existing rules needs the opt-in.
        assert_eq!(choose_priority(&[10, 20], Some(15), 0, false), Err(PriorityError::AheadOfExistingRules { priority: 15, last: 20 }));
        assert_eq!(choose_priority(&[10, 20], Some(1), 0, true), Ok(1));
        assert_eq!(choose_priority(&[10, 20], Some(21), 0, false), Ok(21));
    }

    proptest! {
        #[test]
        fn weights_stay_within_alb_limits(tenths in 1u32..=500, prod_ws in proptest::collection::vec(0u32..=999, 1..=3)) {
            let share = TrafficShare::from_percent(f64::from(tenths) / 10.0).unwrap();
            let w = share_weights(&prod(&prod_ws), "b", "c", share).unwrap();
            let all = w.all();
            prop_assert!(all.len() <= MAX_TARGET_GROUPS_PER_ACTION);
            prop_assert!(all.iter().all(|t| t.weight <= MAX_WEIGHT));
            prop_assert_eq!(w.baseline.weight, w.canary.weight);
            let total: u32 = all.iter().map(|t| t.weight).sum();
            prop_assert!(total == 1000 || (tenths == 0 && total == 999));
            prop_assert!((w.canary_percent() - share.percent()).abs() < 1e-9);
        }

        #[test]
        fn chosen_priority_is_always_free(used in proptest::collection::vec(1u32..=60, 0..40), skip in 0u32..10) {
            let p = choose_priority(&used, None, skip, false).unwrap();
            prop_assert!(!used.contains(&p));
            prop_assert!(used.iter().all(|u| *u < p), "{p} is not after every rule");
            prop_assert!((1..=MAX_RULE_PRIORITY).contains(&p));
        }
    }
}
