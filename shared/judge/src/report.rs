//! The judgement report: serde types (camelCase JSON, documented in `docs/judge.md`) and a
//! plain-text table for terminals.

use serde::{Deserialize, Serialize};

use super::config::{Direction, EffectMeasure, ScoreThresholds};
use super::mannwhitney::Method;

/// Per-metric classification, with Kayenta's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Label {
    Pass,
    High,
    Low,
    NodataFailMetric,
    Nodata,
    Error,
}

impl Label {
    pub fn as_str(&self) -> &'static str {
        match self {
            Label::Pass => "Pass",
            Label::High => "High",
            Label::Low => "Low",
            Label::NodataFailMetric => "NodataFailMetric",
            Label::Nodata => "Nodata",
            Label::Error => "Error",
        }
    }
}

/// Overall canary classification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Verdict {
    Pass,
    Marginal,
    Fail,
}

impl Verdict {
    pub fn as_str(&self) -> &'static str {
        match self {
            Verdict::Pass => "Pass",
            Verdict::Marginal => "Marginal",
            Verdict::Fail => "Fail",
        }
    }
}

/// The Mann-Whitney test and Hodges-Lehmann interval behind a classification.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestSummary {
    pub p_value: f64,
    pub method: Method,
    /// U for the canary (pairs canary > baseline, ties ½).
    pub u: f64,
    /// Hodges-Lehmann shift, canary − baseline.
    pub estimate: f64,
    pub lower: f64,
    pub upper: f64,
    pub confidence: f64,
    /// tolerance × |estimate|: the interval must clear ±bound for High/Low.
    pub bound: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EffectSize {
    pub measure: EffectMeasure,
    /// None when undefined (mean ratio with a zero mean).
    pub value: Option<f64>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SideCounts {
    /// Points in the data file.
    pub raw: usize,
    /// Of which NaN/null.
    pub nan: usize,
    /// Removed as outliers.
    pub outliers: usize,
    /// Used by the test.
    pub used: usize,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SampleCounts {
    pub baseline: SideCounts,
    pub canary: SideCounts,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricReport {
    pub name: String,
    pub groups: Vec<String>,
    pub direction: Direction,
    /// Muted metrics are classified but left out of the score.
    pub muted: bool,
    pub label: Label,
    /// This result alone fails the canary.
    pub critical: bool,
    pub reasons: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test: Option<TestSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effect_size: Option<EffectSize>,
    pub samples: SampleCounts,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupScore {
    pub name: String,
    /// Effective weight in percent (configured, or a share of the remainder).
    pub weight: f64,
    /// Pass / (Pass + High + Low + NodataFailMetric) × 100; 100 when nothing counts.
    pub score: f64,
    pub pass: usize,
    pub high: usize,
    pub low: usize,
    pub nodata_fail: usize,
    pub nodata: usize,
    pub error: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JudgeReport {
    /// Weighted score 0–100, rounded to 2 decimals.
    pub score: f64,
    pub classification: Verdict,
    /// Why the score was forced to 0, when it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub thresholds: ScoreThresholds,
    pub tolerance: f64,
    pub confidence: f64,
    pub groups: Vec<GroupScore>,
    pub metrics: Vec<MetricReport>,
    /// Things worth knowing that do not change the result (unknown metrics in the data file,
    /// weights for absent groups, renormalised weights).
    pub warnings: Vec<String>,
}

impl JudgeReport {
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).expect("reports always serialise")
    }

    /// A human-readable table: one row per metric, then groups and the verdict.
    pub fn to_table(&self) -> String {
        let pct = (self.confidence * 100.0).to_string();
        let header = [
            "METRIC",
            "RESULT",
            "P-VALUE",
            "SHIFT",
            &format!("{pct}% INTERVAL"),
            "EFFECT",
            "N (B/C)",
            "NOTE",
        ];
        let mut rows: Vec<Vec<String>> = vec![header.iter().map(|s| s.to_string()).collect()];
        for m in &self.metrics {
            let mut result = m.label.as_str().to_string();
            if m.critical {
                result.push_str(" !critical");
            }
            if m.muted {
                result.push_str(" (muted)");
            }
            let (p, est, ci) = match &m.test {
                Some(t) => (
                    format!("{:.3e}", t.p_value),
                    num(t.estimate),
                    format!("[{}, {}]", num(t.lower), num(t.upper)),
                ),
                None => ("-".into(), "-".into(), "-".into()),
            };
            let eff = match &m.effect_size {
                Some(EffectSize {
                    value: Some(v),
                    measure,
                }) => {
                    format!(
                        "{} {v:.3}",
                        if *measure == EffectMeasure::Cles {
                            "cles"
                        } else {
                            "ratio"
                        }
                    )
                }
                Some(EffectSize { value: None, .. }) => "ratio n/a".into(),
                None => "-".into(),
            };
            let n = format!("{}/{}", m.samples.baseline.used, m.samples.canary.used);
            let note = m.reasons.first().cloned().unwrap_or_default();
            rows.push(vec![m.name.clone(), result, p, est, ci, eff, n, note]);
        }
        let widths: Vec<usize> = (0..header.len())
            .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
            .collect();
        let mut out = String::new();
        for r in &rows {
            let line: Vec<String> = r
                .iter()
                .enumerate()
                .map(|(c, cell)| {
                    if c + 1 == r.len() {
                        cell.clone()
                    } else {
                        format!("{cell:<w$}", w = widths[c])
                    }
                })
                .collect();
            out.push_str(line.join("  ").trim_end());
            out.push('\n');
        }
        out.push('\n');
        for g in &self.groups {
            out.push_str(&format!(
                "group {}: score {:.2} × weight {:.2}%  (pass {}, high {}, low {}, nodata-fail {}, nodata {}, error {})\n",
                g.name, g.score, g.weight, g.pass, g.high, g.low, g.nodata_fail, g.nodata, g.error
            ));
        }
        for w in &self.warnings {
            out.push_str(&format!("warning: {w}\n"));
        }
        out.push_str(&format!(
            "score {:.2} → {} (pass >= {}, marginal >= {})",
            self.score,
            self.classification.as_str(),
            self.thresholds.pass(),
            self.thresholds.marginal()
        ));
        if let Some(r) = &self.reason {
            out.push_str(&format!(": {r}"));
        }
        out.push('\n');
        out
    }
}

/// Compact number formatting: 4 significant digits, scientific when very large/small.
fn num(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else if v.abs() >= 1e5 || v.abs() < 1e-3 {
        format!("{v:.3e}")
    } else {
        let digits = (3 - v.abs().log10().floor() as i32).max(0) as usize;
        format!("{v:.digits$}")
    }
}
