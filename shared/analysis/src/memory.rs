//! In-memory fakes of the analysis ports, for unit tests of the use case (and of the
//! functions over it). Both take a [`Cloud`] so they share the call log and the fault table
//! of the other fakes (`aviary_ports::memory`): operations are named as on AWS
//! (`PutItem:analysis`, `GetItem:analysis`, `Query:analyses`, `GetMetricData`), and a fault
//! injected for `GetMetricData` fails the next metric fetched.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use aviary_core::StepError;
use aviary_ports::memory::Cloud;
use aviary_ports::Page;

use crate::metrics::cloudwatch::{cloudwatch_query, period_of, role_queries, series_from_points, AlbDimensions, CloudWatchMetrics};
use crate::metrics::{MetricQuery, MetricSource, MetricsError, RoleSeries, TimeWindow};
use crate::record::{AnalysisRecord, AnalysisSummary};
use crate::store::{is_analysis_id, AnalysisStore};

/// Analyses by (deployment id, analysis id).
#[derive(Clone, Default)]
pub struct MemoryAnalyses {
    records: Arc<Mutex<BTreeMap<(String, String), AnalysisRecord>>>,
    live: Arc<Mutex<HashMap<String, crate::live::LiveState>>>,
    pub cloud: Cloud,
}

impl MemoryAnalyses {
    pub fn new(cloud: Cloud) -> Self {
        MemoryAnalyses { records: Arc::default(), live: Arc::default(), cloud }
    }
    /// Every stored analysis of `deployment_id`, oldest first, without a logged call.
    pub fn stored(&self, deployment_id: &str) -> Vec<AnalysisRecord> {
        self.records.lock().unwrap().iter().filter(|((d, _), _)| d == deployment_id).map(|(_, r)| r.clone()).collect()
    }
}

#[async_trait]
impl AnalysisStore for MemoryAnalyses {
    async fn put_new(&self, record: &AnalysisRecord) -> Result<bool, StepError> {
        self.cloud.faults.check(&self.cloud.log, "PutItem:analysis")?;
        let mut records = self.records.lock().unwrap();
        let key = (record.deployment_id.clone(), record.analysis_id.clone());
        if records.contains_key(&key) {
            return Ok(false);
        }
        records.insert(key, record.clone());
        Ok(true)
    }

    async fn get(&self, deployment_id: &str, analysis_id: &str) -> Result<Option<AnalysisRecord>, StepError> {
        if !is_analysis_id(analysis_id) {
            return Ok(None);
        }
        self.cloud.faults.check(&self.cloud.log, "GetItem:analysis")?;
        Ok(self.records.lock().unwrap().get(&(deployment_id.to_string(), analysis_id.to_string())).cloned())
    }

    async fn get_live(&self, deployment_id: &str) -> Result<Option<crate::live::LiveState>, StepError> {
        self.cloud.faults.check(&self.cloud.log, "GetItem:live")?;
        Ok(self.live.lock().unwrap().get(deployment_id).cloned())
    }

    async fn put_live(&self, state: &crate::live::LiveState, expected: Option<u64>) -> Result<bool, StepError> {
        self.cloud.faults.check(&self.cloud.log, "PutItem:live")?;
        let mut live = self.live.lock().unwrap();
        if live.get(&state.deployment_id).map(|s| s.version) != expected {
            return Ok(false);
        }
        live.insert(state.deployment_id.clone(), state.clone());
        Ok(true)
    }

    async fn list(&self, deployment_id: &str, limit: i32, cursor: Option<&str>) -> Result<Page<AnalysisSummary>, StepError> {
        self.cloud.faults.check(&self.cloud.log, "Query:analyses")?;
        let start = match cursor {
            None => 0,
            Some(c) => c.parse::<usize>().map_err(|_| StepError::InvalidInput("cursor is not valid".into()))?,
        };
        let mut all = self.stored(deployment_id);
        all.reverse();
        let start = start.min(all.len());
        let end = (start + limit.clamp(1, 100) as usize).min(all.len());
        Ok(Page { items: all[start..end].iter().map(AnalysisRecord::summary).collect(), next: (end < all.len()).then(|| end.to_string()) })
    }
}

/// Datapoints by (`TargetGroup` dimension, metric name, statistic), as the test puts them.
type Points = HashMap<(String, String, String), Vec<(f64, f64)>>;

/// CloudWatch's per-target-group metrics in memory.
#[derive(Clone, Default)]
pub struct MemoryCloudWatch {
    points: Arc<Mutex<Points>>,
    /// The dimensions of every source handed out.
    sources: Arc<Mutex<Vec<AlbDimensions>>>,
    pub cloud: Cloud,
}

impl MemoryCloudWatch {
    pub fn new(cloud: Cloud) -> Self {
        MemoryCloudWatch { cloud, ..Default::default() }
    }

    /// Adds datapoints `(Unix seconds, value)` of `metric`/`statistic` for one target group
    /// (its ARN or its `targetgroup/<name>/<id>` dimension).
    pub fn put(&self, target_group: &str, metric: &str, statistic: &str, points: impl IntoIterator<Item = (i64, f64)>) {
        let tg = aviary_monitoring::context::target_group_dimension(target_group).unwrap_or_else(|| target_group.to_string());
        let mut all = self.points.lock().unwrap();
        all.entry((tg, metric.into(), statistic.into())).or_default().extend(points.into_iter().map(|(t, v)| (t as f64, v)));
    }

    /// The dimensions of every source asked for so far.
    pub fn sources(&self) -> Vec<AlbDimensions> {
        self.sources.lock().unwrap().clone()
    }
}

impl CloudWatchMetrics for MemoryCloudWatch {
    fn source(&self, dims: AlbDimensions) -> Box<dyn MetricSource> {
        self.sources.lock().unwrap().push(dims.clone());
        Box::new(MemoryCloudWatchSource { cw: self.clone(), dims })
    }
}

struct MemoryCloudWatchSource {
    cw: MemoryCloudWatch,
    dims: AlbDimensions,
}

#[async_trait]
impl MetricSource for MemoryCloudWatchSource {
    fn kind(&self) -> &'static str {
        "cloudwatch"
    }

    fn supports(&self, query: &MetricQuery) -> bool {
        cloudwatch_query(query).is_ok()
    }

    async fn fetch(&self, query: &MetricQuery, window: &TimeWindow) -> Result<RoleSeries, MetricsError> {
        let q = cloudwatch_query(query)?;
        let cloud = &self.cw.cloud;
        cloud.faults.check(&cloud.log, "GetMetricData").map_err(|error| MetricsError::CloudWatch { metric: query.name.clone(), error })?;
        let all = self.cw.points.lock().unwrap();
        let [b, c] = role_queries(q, &self.dims, period_of(window)).map(|rq| {
            let tg = rq.dimensions.iter().find(|(k, _)| k == "TargetGroup").map(|(_, v)| v.clone()).unwrap_or_default();
            let key = (tg, rq.metric_name, rq.statistic);
            let inside = |t: &f64| *t >= window.start as f64 && *t < window.end as f64;
            all.get(&key).map(|p| p.iter().copied().filter(|(t, _)| inside(t)).collect::<Vec<_>>()).unwrap_or_default()
        });
        Ok(series_from_points(window, b, c))
    }
}
