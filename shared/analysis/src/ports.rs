//! The ports an analysis runs against, bundled: the lifecycle's [`Ports`] (deployment records
//! and their event log through `ports.deployments()`, the clock, the region), the
//! [`AnalysisStore`] and the [`CloudWatchMetrics`] source. Prometheus needs no port: it is
//! plain HTTP to the deployment's own monitor ([`crate::metrics::prometheus`]).
//!
//! A port left unwired answers with a configuration error naming it, as the lifecycle's do.

use std::sync::Arc;

use async_trait::async_trait;
use aviary_core::StepError;
use aviary_lifecycle::Ports;
use aviary_ports::Page;

use crate::metrics::cloudwatch::{cloudwatch_query, AlbDimensions, CloudWatchMetrics};
use crate::metrics::{MetricQuery, MetricSource, MetricsError, RoleSeries, TimeWindow};
use crate::record::{AnalysisRecord, AnalysisSummary};
use crate::store::AnalysisStore;

/// The ports, cheap to clone.
#[derive(Clone)]
pub struct AnalysisPorts {
    pub ports: Ports,
    pub analyses: Arc<dyn AnalysisStore>,
    pub cloudwatch: Arc<dyn CloudWatchMetrics>,
    /// The live verdict's period and settle time (AWS: 60 s periods; the local data plane's
    /// high-resolution metrics allow seconds).
    pub live: crate::live::LiveSettings,
}

impl AnalysisPorts {
    /// `ports` with the analysis store and CloudWatch unwired.
    pub fn new(ports: Ports) -> AnalysisPorts {
        AnalysisPorts { ports, analyses: Arc::new(NotWired), cloudwatch: Arc::new(NotWired), live: Default::default() }
    }
    pub fn with_analyses(mut self, p: Arc<dyn AnalysisStore>) -> Self {
        self.analyses = p;
        self
    }
    pub fn with_cloudwatch(mut self, p: Arc<dyn CloudWatchMetrics>) -> Self {
        self.cloudwatch = p;
        self
    }
    pub fn with_live(mut self, live: crate::live::LiveSettings) -> Self {
        self.live = live;
        self
    }
}

/// A port this function did not wire.
pub struct NotWired;

fn not_wired(port: &str) -> StepError {
    StepError::Config(format!("this function has no {port} wired"))
}

#[async_trait]
impl AnalysisStore for NotWired {
    async fn put_new(&self, _: &AnalysisRecord) -> Result<bool, StepError> {
        Err(not_wired("analysis store"))
    }
    async fn get(&self, _: &str, _: &str) -> Result<Option<AnalysisRecord>, StepError> {
        Err(not_wired("analysis store"))
    }
    async fn list(&self, _: &str, _: i32, _: Option<&str>) -> Result<Page<AnalysisSummary>, StepError> {
        Err(not_wired("analysis store"))
    }
    async fn get_live(&self, _: &str) -> Result<Option<crate::live::LiveState>, StepError> {
        Err(not_wired("analysis store"))
    }
    async fn put_live(&self, _: &crate::live::LiveState, _: Option<u64>) -> Result<bool, StepError> {
        Err(not_wired("analysis store"))
    }
}

impl CloudWatchMetrics for NotWired {
    fn source(&self, _: AlbDimensions) -> Box<dyn MetricSource> {
        Box::new(NotWired)
    }
}

#[async_trait]
impl MetricSource for NotWired {
    fn kind(&self) -> &'static str {
        "cloudwatch"
    }
    fn supports(&self, query: &MetricQuery) -> bool {
        cloudwatch_query(query).is_ok()
    }
    async fn fetch(&self, query: &MetricQuery, _: &TimeWindow) -> Result<RoleSeries, MetricsError> {
        cloudwatch_query(query)?;
        Err(MetricsError::CloudWatch { metric: query.name.clone(), error: not_wired("CloudWatch metrics source") })
    }
}
