//! Canary analysis: judge a deployment's baseline against its canary over a time window, with
//! a Kayenta-shaped canary config, store the report beside the deployment and return it. The
//! `analyze` function and the API (`POST /deployments/{id}/analyses`,
//! `GET .../analyses/{aid}`) both call this.
//!
//! 1. The deployment must exist ([`AnalysisError::NotFound`]) and have its target groups
//!    ([`AnalysisError::NotReady`]).
//! 2. The source: `cloudwatch` (the ALB's per-target-group metrics), `prometheus` (the
//!    monitor's), or `auto` — from the config's query types, or without a config Prometheus
//!    if it answers within 2 s, else CloudWatch. Without a config, the source's starter
//!    config is used ([`metrics::cloudwatch::starter_config`],
//!    [`aviary_monitoring::canary_config::render_canary_config`]).
//! 3. The window ([`request::resolve_window`]): default the last 30 minutes of the ACTIVE
//!    period, read from the event log.
//! 4. Every metric is fetched (any failure fails the analysis: a metric silently missing could
//!    turn a Fail into a Pass), judged by [`aviary_judge`], stored ([`AnalysisStore`]) and
//!    logged as an event (`judge: Pass, score 100 (...)`).
//!
//! It runs against ports ([`AnalysisPorts`]): the lifecycle's [`aviary_lifecycle::Ports`]
//! for the deployment record and its event log, an [`AnalysisStore`] and a
//! [`CloudWatchMetrics`] source. `aviary-aws` implements them on DynamoDB and CloudWatch;
//! [`memory`] in memory.
//!
//! Owns: the analysis use case, the request and its window, the stored record, the metric
//! sources that are not AWS (Prometheus over HTTP, the judge's data file), what a CloudWatch
//! query asks for, and the two ports above with their fakes. Must never import: an AWS SDK
//! crate (no SDK type crosses [`CloudWatchMetrics`] or [`AnalysisStore`]) or an adapter
//! crate (`aviary-aws`).

pub mod error;
pub mod live;
pub mod memory;
pub mod metrics;
pub mod ports;
pub mod record;
pub mod request;
pub mod store;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod live_tests;

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

pub use error::AnalysisError;
pub use metrics::cloudwatch::{AlbDimensions, CloudWatchMetrics};
pub use ports::AnalysisPorts;
pub use record::{AnalysisRecord, AnalysisSummary, ChartSeries, MAX_CHART_POINTS};
pub use request::{ActivePeriod, AnalysisRequest, SourceChoice, TimeSpec};
pub use store::{is_analysis_id, new_analysis_id, AnalysisStore};

use aviary_core::model::{Deployment, Outcome};
use aviary_core::StepError;
use aviary_judge::{judge, parse_config, CanaryConfig, MetricData, Verdict};
use aviary_lifecycle::log;
use aviary_monitoring::canary_config::render_canary_config;
use aviary_monitoring::MonitorContext;
use aviary_ports::Page;
use metrics::cloudwatch::starter_config;
use metrics::prometheus::PrometheusSource;
use metrics::{queries_from_config, MetricQuery, MetricSource, MetricsError, RoleSeries, TimeWindow};

/// The event log's step name for analyses.
pub const STEP: &str = "analyze";
/// How long `auto` waits for Prometheus before falling back to CloudWatch.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// DynamoDB items stop at 400 KB; leave room for the keys and the summary.
const MAX_DOC_BYTES: usize = 350 * 1024;

/// Runs one analysis and stores it. See the module docs for the steps.
pub async fn run_analysis(p: &AnalysisPorts, deployment_id: &str, req: &AnalysisRequest) -> Result<AnalysisRecord, AnalysisError> {
    if let Some(aid) = &req.analysis_id {
        if !is_analysis_id(aid) {
            return Err(AnalysisError::invalid("analysisId", format!("{aid:?} is not an analysis id (an-<ms>-<hex>)")));
        }
    }
    let d = p.ports.deployments().get(deployment_id).await?.ok_or_else(|| AnalysisError::NotFound(deployment_id.to_string()))?;
    let dims = AlbDimensions::for_deployment(&d).map_err(|reason| AnalysisError::NotReady { id: d.id.clone(), reason })?;
    // The user's config is checked before anything is fetched.
    let user = req.canary_config.as_ref().map(parse_user_config).transpose()?;
    let mut notes = Vec::new();
    let plan = plan_source(&d, req, user.as_ref().map(|u| u.queries.as_slice()), &mut notes).await?;
    let cfg = match user {
        Some(u) => u,
        None => starter(&plan, &d, &p.ports.settings.region)?,
    };
    let active = if req.start.is_none() || req.end.is_none() { active_period(p, &d.id).await? } else { ActivePeriod::default() };
    let window = request::resolve_window(req, p.ports.clock.now_secs(), active, matches!(plan, Plan::CloudWatch))?;
    let source: Box<dyn MetricSource> = match plan {
        Plan::CloudWatch => p.cloudwatch.source(dims),
        Plan::Prometheus(p) => Box::new(p),
    };
    let mut data = MetricData::new();
    let mut samples = BTreeMap::new();
    for q in &cfg.queries {
        let s = source.fetch(q, &window).await?;
        data.insert(q.name.clone(), s.baseline.clone(), s.canary.clone());
        samples.insert(q.name.clone(), s);
    }
    let report = judge(&cfg.config, &data, req.thresholds);

    let now_ms = p.ports.clock.now_ms();
    let mut record = AnalysisRecord {
        analysis_id: req.analysis_id.clone().unwrap_or_else(|| new_analysis_id(now_ms)),
        deployment_id: d.id.clone(),
        created_at: now_ms.div_euclid(1000),
        window,
        source: source.kind().to_string(),
        canary_config: cfg.value,
        report,
        series: BTreeMap::new(),
        notes,
    };
    fit_series(&mut record, &samples);
    store_new(p, &mut record, req.analysis_id.is_some()).await?;
    let outcome = if record.report.classification == Verdict::Pass { Outcome::Ok } else { Outcome::Info };
    log(&p.ports, &d.id, STEP, outcome, record.event_detail()).await;
    Ok(record)
}

/// A stored analysis; None when the deployment or the analysis does not exist.
pub async fn get_analysis(p: &AnalysisPorts, deployment_id: &str, analysis_id: &str) -> Result<Option<AnalysisRecord>, StepError> {
    if !is_analysis_id(analysis_id) {
        return Ok(None);
    }
    p.analyses.get(deployment_id, analysis_id).await
}

/// A deployment's analyses, newest first (`limit` 1–100; `cursor` from the previous page).
pub async fn list_analyses(p: &AnalysisPorts, deployment_id: &str, limit: i32, cursor: Option<&str>) -> Result<Page<AnalysisSummary>, StepError> {
    p.analyses.list(deployment_id, limit.clamp(1, 100), cursor).await
}

/// A config and the queries of its metrics.
struct Config {
    value: Value,
    config: CanaryConfig,
    queries: Vec<MetricQuery>,
}

fn parse_user_config(v: &Value) -> Result<Config, AnalysisError> {
    let config = parse_config(&v.to_string()).map_err(|e| AnalysisError::invalid("canaryConfig", e.to_string()))?;
    let queries = queries_from_config(v).map_err(|e| {
        let field = match &e {
            MetricsError::InvalidQuery { metric, .. } => config
                .metrics
                .iter()
                .position(|m| &m.name == metric)
                .map_or("canaryConfig".to_string(), |i| format!("canaryConfig.metrics[{i}].query")),
            _ => "canaryConfig".to_string(),
        };
        AnalysisError::invalid(&field, e.to_string())
    })?;
    Ok(Config { value: v.clone(), config, queries })
}

enum Plan {
    CloudWatch,
    Prometheus(PrometheusSource),
}

fn prometheus_url(d: &Deployment, req: &AnalysisRequest) -> Option<String> {
    req.prometheus_url.clone().or_else(|| d.monitoring.as_ref().map(|m| m.prometheus.clone())).filter(|u| !u.is_empty())
}

/// Every metric's query must be of the chosen kind; each one that is not is a field error.
fn check_kinds(queries: &[MetricQuery], kind: &str) -> Result<(), AnalysisError> {
    let fields: Vec<_> = queries
        .iter()
        .enumerate()
        .filter(|(_, q)| q.spec.kind() != kind)
        .map(|(i, q)| {
            aviary_core::spec::FieldError::new(
                format!("canaryConfig.metrics[{i}].query"),
                format!("metric {:?}: a {} query cannot be run by the {kind} source", q.name, q.spec.kind()),
            )
        })
        .collect();
    if fields.is_empty() {
        Ok(())
    } else {
        Err(AnalysisError::InvalidRequest { fields })
    }
}

async fn plan_source(
    d: &Deployment,
    req: &AnalysisRequest,
    queries: Option<&[MetricQuery]>,
    notes: &mut Vec<String>,
) -> Result<Plan, AnalysisError> {
    let prometheus = |d: &Deployment| -> Result<PrometheusSource, AnalysisError> {
        let url = prometheus_url(d, req).ok_or_else(|| AnalysisError::NotReady {
            id: d.id.clone(),
            reason: "no Prometheus: the deployment has no monitor address".into(),
        })?;
        Ok(PrometheusSource::new(&url, &d.id))
    };
    match (req.source, queries) {
        (SourceChoice::Cloudwatch, q) => {
            check_kinds(q.unwrap_or_default(), "cloudwatch")?;
            Ok(Plan::CloudWatch)
        }
        (SourceChoice::Prometheus, q) => {
            check_kinds(q.unwrap_or_default(), "prometheus")?;
            Ok(Plan::Prometheus(prometheus(d)?))
        }
        (SourceChoice::Auto, Some(q)) => {
            if q.iter().all(|m| m.spec.kind() == "cloudwatch") {
                Ok(Plan::CloudWatch)
            } else if q.iter().all(|m| m.spec.kind() == "prometheus") {
                Ok(Plan::Prometheus(prometheus(d)?))
            } else {
                let mut kinds: Vec<&str> = q.iter().map(|m| m.spec.kind()).collect();
                kinds.sort_unstable();
                kinds.dedup();
                Err(AnalysisError::invalid(
                    "canaryConfig",
                    format!(
                        "its metrics have {} queries; an analysis reads one source: give every metric a cloudwatch or a prometheus query",
                        kinds.join(" and ")
                    ),
                ))
            }
        }
        (SourceChoice::Auto, None) => match prometheus_url(d, req) {
            Some(url) => {
                let p = PrometheusSource::new(&url, &d.id);
                match p.ready(PROBE_TIMEOUT).await {
                    Ok(()) => {
                        notes.push(format!("source auto: Prometheus at {} answered; its starter config was used", p.base_url()));
                        Ok(Plan::Prometheus(p))
                    }
                    Err(e) => {
                        notes.push(format!("source auto: {e}; CloudWatch's starter config was used"));
                        Ok(Plan::CloudWatch)
                    }
                }
            }
            None => {
                notes.push("source auto: the deployment has no Prometheus; CloudWatch's starter config was used".into());
                Ok(Plan::CloudWatch)
            }
        },
    }
}

fn starter(plan: &Plan, d: &Deployment, region: &str) -> Result<Config, AnalysisError> {
    let value = match plan {
        Plan::CloudWatch => starter_config(),
        Plan::Prometheus(_) => {
            let spec = d.spec().map_err(|e| AnalysisError::NotReady { id: d.id.clone(), reason: e.to_string() })?;
            render_canary_config(spec, &MonitorContext::new(&d.id, region))
        }
    };
    // The starter configs are tested to parse; a failure here is a bug, reported as such.
    let config = parse_config(&value.to_string()).map_err(|e| StepError::Config(format!("starter canary config: {e}")))?;
    let queries = queries_from_config(&value).map_err(|e| StepError::Config(format!("starter canary config: {e}")))?;
    Ok(Config { value, config, queries })
}

/// When the canary took traffic: the activation event (`add-listener-rule`, "traffic
/// shifted") and the first teardown event after it. Reads at most 1,000 events.
pub(crate) async fn active_period(p: &AnalysisPorts, id: &str) -> Result<ActivePeriod, StepError> {
    let mut period = ActivePeriod::default();
    let mut cursor: Option<String> = None;
    for _ in 0..10 {
        let page = p.ports.deployments().events(id, 100, cursor.as_deref()).await?;
        for e in &page.items {
            let secs = e.at_ms.div_euclid(1000);
            if period.since.is_none() && e.step == "add-listener-rule" && e.outcome == Outcome::Ok && e.detail.contains("traffic shifted") {
                period.since = Some(secs);
            } else if period.since.is_some() && (e.step == "teardown" || e.step == "destroy") {
                period.until = Some(secs);
                return Ok(period);
            }
        }
        match page.next {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    Ok(period)
}

/// Chart series at up to [`MAX_CHART_POINTS`], halved until the record fits an item.
fn fit_series(record: &mut AnalysisRecord, samples: &BTreeMap<String, RoleSeries>) {
    let window: TimeWindow = record.window;
    let mut points = MAX_CHART_POINTS;
    loop {
        record.series = samples.iter().map(|(k, s)| (k.clone(), ChartSeries::from_samples(s, &window, points))).collect();
        let size = serde_json::to_vec(record).map(|v| v.len()).unwrap_or(usize::MAX);
        if size <= MAX_DOC_BYTES {
            if points < MAX_CHART_POINTS {
                record.notes.push(format!("chart series reduced to {points} points per role to fit the record"));
            }
            return;
        }
        if points <= 20 {
            record.series.clear();
            record.notes.push("chart series dropped: the record would exceed DynamoDB's item size".into());
            return;
        }
        points /= 2;
    }
}

async fn store_new(p: &AnalysisPorts, record: &mut AnalysisRecord, assigned: bool) -> Result<(), AnalysisError> {
    for _ in 0..3 {
        if p.analyses.put_new(record).await? {
            return Ok(());
        }
        if assigned {
            return Err(AnalysisError::invalid("analysisId", format!("{} already exists", record.analysis_id)));
        }
        record.analysis_id = new_analysis_id(p.ports.clock.now_ms());
    }
    Err(StepError::aws("PutItem", true, "could not find a free analysis id").into())
}
