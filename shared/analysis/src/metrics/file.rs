//! The judge's data file as a metric source, for offline use: judge a run saved earlier (or
//! produced by another system) with the same code path as a live one. The window is ignored:
//! a data file holds exactly the samples to compare.

use super::error::MetricsError;
use aviary_judge::{parse_data, JudgeError, MetricData};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct FileSource {
    pub data: MetricData,
}

impl FileSource {
    pub fn new(data: MetricData) -> FileSource {
        FileSource { data }
    }

    /// From the data file's JSON (`docs/judge.md`).
    pub fn parse(json: &str) -> Result<FileSource, JudgeError> {
        parse_data(json).map(FileSource::new)
    }

    /// The samples of one metric, by its config name.
    pub fn get(&self, metric: &str) -> Result<super::RoleSeries, MetricsError> {
        let s = self.data.get(metric).ok_or_else(|| MetricsError::NotFound { metric: metric.to_string() })?;
        Ok(super::RoleSeries { baseline: s.baseline.clone(), canary: s.canary.clone() })
    }
}

#[async_trait::async_trait]
impl super::MetricSource for FileSource {
    fn kind(&self) -> &'static str {
        "file"
    }

    /// A file serves any metric by name, whatever its query says.
    fn supports(&self, _query: &super::MetricQuery) -> bool {
        true
    }

    async fn fetch(&self, query: &super::MetricQuery, _window: &super::TimeWindow) -> Result<super::RoleSeries, MetricsError> {
        self.get(&query.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"{"metrics": {"lat": {"baseline": [1, 2, null], "canary": ["NaN", 3]}}}"#;

    #[test]
    fn serves_metrics_by_name() {
        let f = FileSource::parse(FILE).unwrap();
        let s = f.get("lat").unwrap();
        assert_eq!(s.baseline[..2], [1.0, 2.0]);
        assert!(s.baseline[2].is_nan() && s.canary[0].is_nan());
        assert_eq!(f.get("cpu").unwrap_err(), MetricsError::NotFound { metric: "cpu".into() });
        assert_eq!(FileSource::parse("{}").unwrap_err().name(), "DataParse");
    }

    #[tokio::test]
    async fn collect_through_the_trait_leaves_missing_metrics_to_the_judge() {
        use aviary_judge::{judge, parse_config, Label};
        use crate::metrics::{collect, queries_from_config, TimeWindow};
        let cfg = serde_json::json!({"metrics": [
            {"name": "lat", "analysisConfigurations": {"canary": {"direction": "increase"}}},
            {"name": "cpu"}
        ]});
        let src = FileSource::parse(FILE).unwrap();
        let queries = queries_from_config(&cfg).unwrap();
        let data = collect(&src, &queries, &TimeWindow::new(0, 60, 60).unwrap()).await.unwrap();
        assert_eq!(data.metrics.len(), 1);
        let report = judge(&parse_config(&cfg.to_string()).unwrap(), &data, None);
        let cpu = report.metrics.iter().find(|m| m.name == "cpu").unwrap();
        assert_eq!(cpu.label, Label::Nodata);
        // The collected data round-trips as a data file.
        assert_eq!(FileSource::parse(&data.to_json()).unwrap().get("lat").unwrap().canary[1], 3.0);
    }
}
