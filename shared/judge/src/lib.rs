//! Aviary's canary judge: Kayenta-compatible statistics (NetflixACAJudge semantics) with no
//! JVM, no Redis and no AWS, plus an anytime-valid live verdict Kayenta does not have.
//!
//! * [`judge`] — the fixed-horizon judgement the CLI (`aviary judge`) and the `analyze`
//!   Lambda call: per-metric Mann-Whitney classification ([`classify()`]) and the weighted group
//!   score ([`score`]), returned as a [`JudgeReport`] (JSON via serde, text via
//!   [`JudgeReport::to_table`]).
//! * [`parse_config`] / [`parse_data`] — Kayenta-shaped canary configs and the offline data
//!   file, with [`JudgeError`] for anything unreadable.
//! * [`sequential`] — live tests that may be re-evaluated at every refresh without inflating
//!   false alarms; [`calibration`] simulates them against a peeking Mann-Whitney test.
//!
//! Rules, formats and every deliberate difference from Kayenta: `docs/judge.md`.
//!
//! Owns: statistics and verdicts only. Must never import: another Aviary crate, an AWS SDK
//! crate, an async runtime or anything doing I/O — callers hand it numbers.

pub mod calibration;
pub mod classify;
pub mod config;
pub mod data;
pub mod error;
pub mod exact;
pub mod hodges_lehmann;
pub mod mannwhitney;
pub mod normal;
pub mod report;
pub mod rng;
pub mod score;
pub mod sequential;
pub mod transform;

pub use classify::{classify, Classification, ClassifierParams};
pub use config::{parse_config, CanaryConfig, ScoreThresholds};
pub use data::{parse_data, MetricData, MetricSeries};
pub use error::JudgeError;
pub use report::{JudgeReport, Label, MetricReport, Verdict};

/// Judges a canary: classifies every configured metric against its data and scores the
/// result. `thresholds` overrides the config's score thresholds (e.g. from a CLI flag).
///
/// Never fails: a metric that cannot be judged is labelled `Error` with a reason, and one
/// missing from `data` is judged as having no data (and named in a reason). Data for metrics
/// the config does not mention is ignored with a warning.
pub fn judge(
    config: &CanaryConfig,
    data: &MetricData,
    thresholds: Option<ScoreThresholds>,
) -> JudgeReport {
    let params = ClassifierParams {
        tolerance: config.tolerance(),
        confidence: config.confidence(),
    };
    let mut metrics = Vec::with_capacity(config.metrics.len());
    for mc in &config.metrics {
        let a = &mc.analysis_configurations.canary;
        let (c, missing) = match data.get(&mc.name) {
            Some(s) => (classify(&s.baseline, &s.canary, a, params), false),
            None => (classify(&[], &[], a, params), true),
        };
        let mut reasons = c.reasons;
        if missing {
            reasons.insert(0, "metric is not in the data file".to_string());
        }
        metrics.push(MetricReport {
            name: mc.name.clone(),
            groups: mc.groups.clone(),
            direction: a.direction,
            muted: a.muted,
            label: c.label,
            critical: c.critical,
            reasons,
            test: c.test,
            effect_size: c.effect_size,
            samples: c.samples,
        });
    }
    let thresholds = config.thresholds(thresholds);
    let scored = score::score(&metrics, &config.classifier.group_weights, thresholds);
    let mut warnings = scored.warnings;
    for name in data.metrics.keys() {
        if !config.metrics.iter().any(|m| &m.name == name) {
            warnings.push(format!(
                "data for {name:?} ignored: not in the canary config"
            ));
        }
    }
    JudgeReport {
        score: scored.score,
        classification: scored.verdict,
        reason: scored.reason,
        thresholds,
        tolerance: params.tolerance,
        confidence: params.confidence,
        groups: scored.groups,
        metrics,
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r#"{
      "name": "demo",
      "metrics": [
        {"name": "latency", "groups": ["perf"], "query": {"type": "cloudwatch"},
         "analysisConfigurations": {"canary": {"direction": "increase", "critical": true}}},
        {"name": "cpu", "groups": ["perf"], "analysisConfigurations": {"canary": {"direction": "increase"}}},
        {"name": "errors", "groups": ["errors"],
         "analysisConfigurations": {"canary": {"nanStrategy": "replace", "direction": "increase"}}},
        {"name": "noise", "groups": ["perf"], "analysisConfigurations": {"canary": {"muted": true}}}
      ],
      "classifier": {"groupWeights": {"perf": 60, "errors": 40}}
    }"#;

    fn spread(lo: f64, n: usize) -> Vec<f64> {
        (0..n).map(|i| lo + ((i * 37) % n) as f64 * 0.5).collect()
    }

    fn data(latency_shift: f64) -> MetricData {
        let mut d = MetricData::new();
        let base = spread(100.0, 200);
        d.insert(
            "latency",
            base.clone(),
            base.iter().map(|v| v + latency_shift).collect(),
        );
        d.insert(
            "cpu",
            spread(10.0, 100),
            spread(10.0, 100).iter().map(|v| v * 1.5).collect(),
        );
        d.insert("errors", vec![0.0, f64::NAN, 0.0], vec![f64::NAN, 0.0, 0.0]);
        d.insert("noise", spread(1.0, 50), spread(90.0, 50));
        d.insert("stray", vec![1.0], vec![2.0]);
        d
    }

    #[test]
    fn end_to_end_pass_and_marginal() {
        let cfg = parse_config(CONFIG).unwrap();
        let r = judge(&cfg, &data(0.5), None);
        let label = |n: &str| r.metrics.iter().find(|m| m.name == n).unwrap().label;
        assert_eq!(label("latency"), Label::Pass);
        assert_eq!(label("cpu"), Label::High);
        assert_eq!(label("errors"), Label::Pass); // NaN → 0: identical
        assert_eq!(label("noise"), Label::High); // muted: reported, not scored
                                                 // perf: 1 of 2 pass → 50 × 0.6 + 100 × 0.4 = 70
        assert_eq!(r.score, 70.0);
        assert_eq!(r.classification, Verdict::Fail);
        assert!(r.warnings.iter().any(|w| w.contains("stray")));
        let r = judge(
            &cfg,
            &data(0.5),
            Some(ScoreThresholds::new(60.0, 90.0).unwrap()),
        );
        assert_eq!(r.classification, Verdict::Marginal);
        let table = r.to_table();
        assert!(
            table.contains("latency") && table.contains("Marginal") && table.contains("(muted)"),
            "{table}"
        );
        let json: serde_json::Value = serde_json::from_str(&r.to_json_pretty()).unwrap();
        assert_eq!(json["classification"], "Marginal");
        assert_eq!(json["metrics"][1]["label"], "High");
        assert!(json["metrics"][1]["test"]["pValue"].as_f64().unwrap() < 1e-6);
    }

    #[test]
    fn report_round_trips_through_json() {
        let cfg = parse_config(CONFIG).unwrap();
        let r = judge(&cfg, &data(60.0), None);
        let back: JudgeReport = serde_json::from_str(&r.to_json_pretty()).unwrap();
        assert_eq!(back.classification, r.classification);
        assert_eq!(back.metrics.len(), r.metrics.len());
        assert_eq!(back.metrics[0].test, r.metrics[0].test);
        assert_eq!(back.thresholds, r.thresholds);
    }

    #[test]
    fn critical_regression_fails_the_canary() {
        let cfg = parse_config(CONFIG).unwrap();
        let r = judge(&cfg, &data(60.0), None);
        let lat = &r.metrics[0];
        assert_eq!((lat.label, lat.critical), (Label::High, true));
        assert_eq!((r.score, r.classification), (0.0, Verdict::Fail));
        assert!(r.reason.as_deref().unwrap().contains("latency"));
        assert!(r.to_table().contains("High !critical"));
    }

    #[test]
    fn metric_missing_from_data_is_nodata() {
        let cfg = parse_config(CONFIG).unwrap();
        let mut d = data(0.0);
        d.metrics.remove("cpu");
        let r = judge(&cfg, &d, None);
        let cpu = r.metrics.iter().find(|m| m.name == "cpu").unwrap();
        assert_eq!(cpu.label, Label::Nodata);
        assert_eq!(cpu.reasons[0], "metric is not in the data file");
        // latency is critical and missing → critical Nodata → 0
        d.metrics.remove("latency");
        let r = judge(&cfg, &d, None);
        assert_eq!(r.score, 0.0);
    }
}
