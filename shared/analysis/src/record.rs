//! The stored analysis: the judge's report plus what is needed to show and reproduce it (the
//! window, the source, the config used, and chart-sized baseline/canary series).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use aviary_judge::{JudgeReport, Verdict};
use crate::metrics::{downsample, RoleSeries, TimeWindow};

/// Points per role and metric kept for charts.
pub const MAX_CHART_POINTS: usize = 300;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnalysisRecord {
    pub analysis_id: String,
    pub deployment_id: String,
    /// Unix seconds (RFC 3339 on the wire, as the deployment's `createdAt`).
    #[serde(with = "aviary_core::times::secs")]
    pub created_at: i64,
    pub window: TimeWindow,
    /// `cloudwatch` or `prometheus`.
    pub source: String,
    /// The canary config judged with: the request's, or the source's starter config.
    pub canary_config: Value,
    pub report: JudgeReport,
    /// Per metric name: baseline and canary for a chart (see [`ChartSeries`]).
    pub series: BTreeMap<String, ChartSeries>,
    /// How the source was chosen, and anything dropped to fit the record.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// Point `i` is at `window.start + i × stepSeconds`; `null` marks a missing point. Values are
/// bucket means when the window held more than [`MAX_CHART_POINTS`] steps, rounded to 6
/// significant digits (the judge used the full-precision samples).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChartSeries {
    pub step_seconds: u32,
    pub baseline: Vec<Option<f64>>,
    pub canary: Vec<Option<f64>>,
}

impl ChartSeries {
    pub fn from_samples(s: &RoleSeries, window: &TimeWindow, max_points: usize) -> ChartSeries {
        let (baseline, kb) = downsample(&s.baseline, max_points);
        let (canary, kc) = downsample(&s.canary, max_points);
        // An empty role has factor 1; the other role's factor is the grid's.
        let k = kb.max(kc);
        ChartSeries {
            step_seconds: window.step_seconds.saturating_mul(k as u32),
            baseline: baseline.into_iter().map(round6).collect(),
            canary: canary.into_iter().map(round6).collect(),
        }
    }
}

fn round6(v: f64) -> Option<f64> {
    if !v.is_finite() {
        return None;
    }
    if v == 0.0 {
        return Some(0.0);
    }
    format!("{v:.5e}").parse().ok()
}

/// One line of `list_analyses` (read without the report and series).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnalysisSummary {
    pub analysis_id: String,
    #[serde(with = "aviary_core::times::secs")]
    pub created_at: i64,
    pub window: TimeWindow,
    pub source: String,
    pub classification: Verdict,
    pub score: f64,
}

impl AnalysisRecord {
    pub fn summary(&self) -> AnalysisSummary {
        AnalysisSummary {
            analysis_id: self.analysis_id.clone(),
            created_at: self.created_at,
            window: self.window,
            source: self.source.clone(),
            classification: self.report.classification,
            score: self.report.score,
        }
    }

    /// The event log line: `judge: Fail, score 0 (cloudwatch, 30 min; analysis …): a High (critical)`.
    pub fn event_detail(&self) -> String {
        let r = &self.report;
        let flagged: Vec<String> = r
            .metrics
            .iter()
            .filter(|m| !m.muted && m.label != aviary_judge::Label::Pass)
            .map(|m| format!("{} {}{}", m.name, m.label.as_str(), if m.critical { " (critical)" } else { "" }))
            .collect();
        let minutes = (self.window.end - self.window.start) / 60;
        let mut s = format!(
            "judge: {}, score {} ({}, {minutes} min from {}; analysis {})",
            r.classification.as_str(),
            r.score,
            self.source,
            aviary_core::clock::rfc3339_ms(self.window.start * 1000),
            self.analysis_id
        );
        if !flagged.is_empty() {
            s.push_str(": ");
            s.push_str(&flagged.join(", "));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chart_series_are_bounded_and_null_for_gaps() {
        let w = TimeWindow::new(0, 60 * 900, 60).unwrap();
        let s = RoleSeries {
            baseline: (0..900).map(|i| if i % 2 == 0 { f64::NAN } else { 0.123456789 }).collect(),
            canary: Vec::new(),
        };
        let c = ChartSeries::from_samples(&s, &w, MAX_CHART_POINTS);
        assert_eq!((c.baseline.len(), c.canary.len(), c.step_seconds), (300, 0, 180));
        assert_eq!(c.baseline[0], Some(0.123457));
        let short = RoleSeries { baseline: vec![f64::NAN, 1.0], canary: vec![f64::INFINITY, 0.0] };
        let c = ChartSeries::from_samples(&short, &w, MAX_CHART_POINTS);
        assert_eq!((c.baseline, c.canary, c.step_seconds), (vec![None, Some(1.0)], vec![None, Some(0.0)], 60));
        assert_eq!(round6(-1234567.0), Some(-1234570.0));
    }
}
