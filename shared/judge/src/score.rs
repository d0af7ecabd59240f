//! Scoring, as Kayenta's WeightedSumScorer + ThresholdScoreClassifier: muted metrics are left
//! out; each group scores Pass / (Pass + High + Low + NodataFailMetric) × 100 (Nodata and
//! Error do not count; a group with nothing counted scores 100); the summary is the weighted
//! sum of group scores, rounded to 2 decimals; it is 0 when a critical result is not Pass or
//! when half or more of the metrics are Nodata; then Pass / Marginal / Fail by thresholds.

use std::collections::BTreeMap;

use super::config::ScoreThresholds;
use super::report::{GroupScore, Label, MetricReport, Verdict};

/// Group for metrics that name none (Kayenta would silently leave them out of the score).
pub const UNGROUPED: &str = "ungrouped";

/// The outcome of scoring.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    pub score: f64,
    pub verdict: Verdict,
    pub reason: Option<String>,
    pub groups: Vec<GroupScore>,
    pub warnings: Vec<String>,
}

/// Scores classified metrics. `weights` are percentages per group name.
pub fn score(
    metrics: &[MetricReport],
    weights: &BTreeMap<String, f64>,
    thresholds: ScoreThresholds,
) -> Scored {
    let mut warnings = Vec::new();
    let counted: Vec<&MetricReport> = metrics.iter().filter(|m| !m.muted).collect();

    // Groups in order of first appearance.
    let mut groups: Vec<GroupScore> = Vec::new();
    for m in &counted {
        let names: Vec<&str> = if m.groups.is_empty() {
            vec![UNGROUPED]
        } else {
            m.groups.iter().map(String::as_str).collect()
        };
        for name in names {
            let idx = match groups.iter().position(|g| g.name == name) {
                Some(i) => i,
                None => {
                    groups.push(GroupScore {
                        name: name.to_string(),
                        weight: 0.0,
                        score: 100.0,
                        pass: 0,
                        high: 0,
                        low: 0,
                        nodata_fail: 0,
                        nodata: 0,
                        error: 0,
                    });
                    groups.len() - 1
                }
            };
            let g = &mut groups[idx];
            match m.label {
                Label::Pass => g.pass += 1,
                Label::High => g.high += 1,
                Label::Low => g.low += 1,
                Label::NodataFailMetric => g.nodata_fail += 1,
                Label::Nodata => g.nodata += 1,
                Label::Error => g.error += 1,
            }
        }
    }
    for g in &mut groups {
        let denom = g.pass + g.high + g.low + g.nodata_fail;
        g.score = if denom == 0 {
            100.0
        } else {
            g.pass as f64 / denom as f64 * 100.0
        };
    }
    assign_weights(&mut groups, weights, &mut warnings);

    let summary: f64 = groups.iter().map(|g| g.score * g.weight / 100.0).sum();
    let mut score = (summary * 100.0).round() / 100.0;

    let critical: Vec<&str> = counted
        .iter()
        .filter(|m| m.critical && m.label != Label::Pass)
        .map(|m| m.name.as_str())
        .collect();
    let nodata = counted.iter().filter(|m| m.label == Label::Nodata).count();
    let reason = if counted.is_empty() {
        Some("no unmuted metrics to judge".to_string())
    } else if !critical.is_empty() {
        Some(format!("critical metric failed: {}", critical.join(", ")))
    } else if 2 * nodata >= counted.len() {
        Some(format!(
            "too many metrics without data: {nodata} of {}",
            counted.len()
        ))
    } else {
        None
    };
    if reason.is_some() {
        score = 0.0;
    }
    // A forced zero fails even when the marginal threshold is 0.
    let verdict = if reason.is_some() {
        Verdict::Fail
    } else if score >= thresholds.pass() {
        Verdict::Pass
    } else if score >= thresholds.marginal() {
        Verdict::Marginal
    } else {
        Verdict::Fail
    };
    Scored {
        score,
        verdict,
        reason,
        groups,
        warnings,
    }
}

/// Configured weights for present groups; the rest of 100 shared equally by the others; then
/// renormalised to sum to 100 if they do not (a deliberate difference from Kayenta: a muted or
/// empty group, or weights not summing to 100, no longer cap the best possible score).
fn assign_weights(
    groups: &mut [GroupScore],
    weights: &BTreeMap<String, f64>,
    warnings: &mut Vec<String>,
) {
    for name in weights.keys() {
        if !groups.iter().any(|g| &g.name == name) {
            warnings.push(format!(
                "group weight for {name:?} ignored: no unmuted metric is in that group"
            ));
        }
    }
    let configured: f64 = groups
        .iter()
        .filter_map(|g| weights.get(&g.name))
        .map(|w| w.max(0.0))
        .sum();
    let unweighted = groups
        .iter()
        .filter(|g| !weights.contains_key(&g.name))
        .count();
    let share = if unweighted > 0 {
        (100.0 - configured).max(0.0) / unweighted as f64
    } else {
        0.0
    };
    for g in groups.iter_mut() {
        g.weight = weights.get(&g.name).map(|w| w.max(0.0)).unwrap_or(share);
    }
    let total: f64 = groups.iter().map(|g| g.weight).sum();
    if groups.is_empty() {
        return;
    }
    if total <= 0.0 {
        warnings.push("all group weights are 0; weighting groups equally".into());
        let each = 100.0 / groups.len() as f64;
        groups.iter_mut().for_each(|g| g.weight = each);
    } else if (total - 100.0).abs() > 1e-9 {
        warnings.push(format!("group weights sum to {total}; rescaled to 100"));
        groups.iter_mut().for_each(|g| g.weight *= 100.0 / total);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Direction;
    use crate::report::SampleCounts;

    fn m(name: &str, groups: &[&str], label: Label) -> MetricReport {
        MetricReport {
            name: name.into(),
            groups: groups.iter().map(|s| s.to_string()).collect(),
            direction: Direction::Either,
            muted: false,
            label,
            critical: false,
            reasons: vec![],
            test: None,
            effect_size: None,
            samples: SampleCounts::default(),
        }
    }

    fn w(pairs: &[(&str, f64)]) -> BTreeMap<String, f64> {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    fn th() -> ScoreThresholds {
        ScoreThresholds::new(75.0, 95.0).unwrap()
    }

    #[test]
    fn group_scores_and_weighted_sum() {
        let ms = vec![
            m("a", &["lat"], Label::Pass),
            m("b", &["lat"], Label::High),
            m("c", &["lat"], Label::Nodata), // not counted in the group
            m("d", &["err"], Label::Pass),
            m("e", &["err"], Label::Error), // not counted
            m("f", &["cpu"], Label::NodataFailMetric),
            m("g", &["cpu"], Label::Pass),
            m("h", &["cpu"], Label::Low),
        ];
        let s = score(&ms, &w(&[("lat", 50.0)]), th());
        let g = |n: &str| s.groups.iter().find(|g| g.name == n).unwrap().clone();
        assert_eq!((g("lat").score, g("lat").weight), (50.0, 50.0));
        assert_eq!((g("err").score, g("err").weight), (100.0, 25.0));
        assert!((g("cpu").score - 100.0 / 3.0).abs() < 1e-12);
        assert_eq!(g("cpu").weight, 25.0);
        // 50·0.5 + 100·0.25 + 33.33·0.25 = 58.333… → 58.33
        assert_eq!(s.score, 58.33);
        assert_eq!(s.verdict, Verdict::Fail);
        assert!(s.reason.is_none());
    }

    #[test]
    fn thresholds_and_rounding() {
        let mut ms: Vec<MetricReport> = (0..19)
            .map(|i| m(&format!("p{i}"), &["g"], Label::Pass))
            .collect();
        ms.push(m("x", &["g"], Label::High));
        let s = score(&ms, &BTreeMap::new(), th());
        assert_eq!((s.score, s.verdict), (95.0, Verdict::Pass));
        ms.push(m("y", &["g"], Label::Low));
        let s = score(&ms, &BTreeMap::new(), th());
        assert_eq!((s.score, s.verdict), (90.48, Verdict::Marginal)); // 19/21
        let s = score(
            &ms,
            &BTreeMap::new(),
            ScoreThresholds::new(91.0, 99.0).unwrap(),
        );
        assert_eq!(s.verdict, Verdict::Fail);
    }

    #[test]
    fn critical_failure_zeroes_the_score() {
        let mut bad = m("lat", &["g"], Label::High);
        bad.critical = true;
        let ms = vec![
            bad,
            m("b", &["g"], Label::Pass),
            m("c", &["g"], Label::Pass),
        ];
        let s = score(
            &ms,
            &BTreeMap::new(),
            ScoreThresholds::new(0.0, 50.0).unwrap(),
        );
        assert_eq!((s.score, s.verdict), (0.0, Verdict::Fail));
        assert!(s.reason.unwrap().contains("lat"));
        // group scores are still reported
        assert!((s.groups[0].score - 200.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn too_many_nodata_zeroes_the_score() {
        let ms = vec![m("a", &["g"], Label::Nodata), m("b", &["g"], Label::Pass)];
        let s = score(&ms, &BTreeMap::new(), th());
        assert_eq!(s.score, 0.0);
        assert!(s.reason.unwrap().contains("1 of 2"));
        let ms = vec![
            m("a", &["g"], Label::Nodata),
            m("b", &["g"], Label::Pass),
            m("c", &["g"], Label::Pass),
        ];
        assert_eq!(score(&ms, &BTreeMap::new(), th()).score, 100.0);
    }

    #[test]
    fn muted_metrics_do_not_count() {
        let mut muted = m("a", &["g"], Label::High);
        muted.muted = true;
        muted.critical = true;
        let ms = vec![muted, m("b", &["g"], Label::Pass)];
        let s = score(&ms, &BTreeMap::new(), th());
        assert_eq!((s.score, s.verdict), (100.0, Verdict::Pass));
        let only_muted = vec![ms[0].clone()];
        let s = score(&only_muted, &BTreeMap::new(), th());
        assert_eq!((s.score, s.verdict), (0.0, Verdict::Fail));
    }

    #[test]
    fn weights_are_shared_and_renormalised() {
        let ms = vec![
            m("a", &["x"], Label::Pass),
            m("b", &["y"], Label::High),
            m("c", &[], Label::Pass),
        ];
        // x weighted 60; y and the ungrouped metric share 40
        let s = score(&ms, &w(&[("x", 60.0)]), th());
        let names: Vec<(&str, f64)> = s
            .groups
            .iter()
            .map(|g| (g.name.as_str(), g.weight))
            .collect();
        assert_eq!(names, vec![("x", 60.0), ("y", 20.0), (UNGROUPED, 20.0)]);
        assert_eq!(s.score, 80.0);
        // weights for every group summing to 50 are rescaled; an unused weight is reported
        let s = score(&ms[..2], &w(&[("x", 30.0), ("y", 20.0), ("z", 10.0)]), th());
        assert_eq!((s.groups[0].weight, s.groups[1].weight), (60.0, 40.0));
        assert_eq!(s.score, 60.0);
        assert_eq!(s.warnings.len(), 2, "{:?}", s.warnings);
        // a metric in two groups counts in both
        let two = vec![
            m("a", &["x", "y"], Label::High),
            m("b", &["y"], Label::Pass),
        ];
        let s = score(&two, &BTreeMap::new(), th());
        assert_eq!(
            (s.groups[0].score, s.groups[1].score, s.score),
            (0.0, 50.0, 25.0)
        );
    }
}
