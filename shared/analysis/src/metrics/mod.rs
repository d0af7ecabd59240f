//! Metric sources: where the judge's baseline and canary samples come from.
//!
//! One trait, [`MetricSource`], fetches one configured metric over a [`TimeWindow`] as a [`RoleSeries`] (baseline and canary
//! values on the window's grid, NaN for a missing point). Implementations:
//!
//! * [`prometheus::PrometheusSource`] — `/api/v1/query_range` on the monitor's Prometheus, the
//!   metric's PromQL scoped to the deployment and role (`${scope}` → `baseline`/`canary`, as
//!   Kayenta binds it), values parsed from Prometheus's strings (`"NaN"`, `"+Inf"` included).
//! * CloudWatch — `GetMetricData` on the ALB's per-target-group metrics (`AWS/ApplicationELB`,
//!   dimensions `LoadBalancer` + `TargetGroup`), one query per role. The SDK call lives in
//!   `aviary-aws` behind the [`cloudwatch::CloudWatchMetrics`] port; what it asks for
//!   ([`cloudwatch::role_queries`]) and how it reads the answer are here.
//! * [`file::FileSource`] — the judge's data file (`docs/judge.md`), for offline use.
//!
//! What to fetch comes from the canary config's `metrics[].query` (Kayenta's field, ignored by
//! the judge itself), parsed by [`query::queries_from_config`]. Nothing here has an AWS
//! dependency.

pub mod cloudwatch;
pub mod error;
pub mod file;
pub mod prometheus;
pub mod query;
pub mod window;

pub use error::MetricsError;
pub use file::FileSource;
pub use query::{queries_from_config, CloudWatchQuery, MetricQuery, PromQuery, QuerySpec};
pub use window::{downsample, RoleSeries, TimeWindow};

pub use source::{collect, MetricSource};

mod source {
    use super::{MetricQuery, MetricsError, RoleSeries, TimeWindow};
    use aviary_judge::MetricData;

    /// Fetches one metric's baseline and canary samples over a window.
    #[async_trait::async_trait]
    pub trait MetricSource: Send + Sync {
        /// `"prometheus"`, `"cloudwatch"`, `"file"`: recorded with an analysis.
        fn kind(&self) -> &'static str;

        /// Whether this source can serve the query (checked for every metric before any
        /// fetch, so a config that does not fit the source fails as a whole, up front).
        fn supports(&self, query: &MetricQuery) -> bool;

        async fn fetch(&self, query: &MetricQuery, window: &TimeWindow) -> Result<RoleSeries, MetricsError>;
    }

    /// Fetches every query into the judge's [`MetricData`] (what a data file holds, so
    /// `data.to_json()` saves a run for offline re-judging). A metric the source does not have
    /// ([`MetricsError::NotFound`], e.g. absent from a data file) is left out, so the judge
    /// reports it as missing; any other error stops the collection.
    pub async fn collect(
        source: &dyn MetricSource,
        queries: &[MetricQuery],
        window: &TimeWindow,
    ) -> Result<MetricData, MetricsError> {
        let mut data = MetricData::new();
        for q in queries {
            match source.fetch(q, window).await {
                Ok(s) => data.insert(q.name.clone(), s.baseline, s.canary),
                Err(MetricsError::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(data)
    }
}
