//! The live verdict: anytime-valid tests over a running canary, refreshed as often as anyone
//! asks (`GET /deployments/{id}/verdict`, `aviary watch`) without inflating false alarms.
//!
//! Per metric of the starter config (muted metrics left out), the state holds one e-process
//! from [`aviary_judge::sequential`]:
//! * **counts** (a CloudWatch `Sum`/`SampleCount`, or a PromQL query using `increase(`):
//!   [`CountTest`], the mixture test of the canary's share of each period's events. Baseline
//!   and canary get equal weights on the rule, so each period's exposure is equal.
//! * **everything else** (latency, ratios): [`SignTest`] on the two arms' values of each period,
//!   paired by period: under "no difference" the canary is higher with probability ½ whatever
//!   the (drifting) level both arms share.
//!
//! Each metric is tested at α/k (k metrics), so the overall decision's false-alarm probability
//! over the canary's whole life, however often it is refreshed, is at most α (Ville's
//! inequality plus Bonferroni). A refresh reads only the periods that closed since the last one
//! (`through`), at least [`settle_seconds`] old (CloudWatch publishes late), and stores the new
//! state with a conditional write on its version: two refreshes never count a period twice;
//! the loser answers what the winner stored.

use std::collections::BTreeMap;

use aviary_core::model::Deployment;
use aviary_judge::config::{Direction, NanStrategy};
use aviary_judge::parse_config;
use aviary_judge::sequential::{CountTest, LiveStatus, SignTest};
use serde::{Deserialize, Serialize};

use crate::metrics::cloudwatch::starter_config;
use crate::metrics::prometheus::PrometheusSource;
use crate::metrics::{queries_from_config, MetricQuery, MetricSource, PromQuery, QuerySpec, TimeWindow};
use crate::{AlbDimensions, AnalysisError, AnalysisPorts};

/// The overall false-alarm bound of the live verdict.
pub const LIVE_ALPHA: f64 = 0.05;
/// The period both arms are compared over on AWS (the ALB's CloudWatch metrics are per minute).
pub const PERIOD_SECONDS: u32 = 60;

/// How the live verdict cuts time: the period, and how old a period must be to be counted
/// (None: [`settle_seconds`] of the source).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveSettings {
    pub period_seconds: u32,
    pub settle_seconds: Option<i64>,
}

impl Default for LiveSettings {
    fn default() -> Self {
        LiveSettings { period_seconds: PERIOD_SECONDS, settle_seconds: None }
    }
}

fn default_period() -> u32 {
    PERIOD_SECONDS
}
/// At most this many periods are read per refresh (a day); a longer gap is caught up over
/// several refreshes.
const MAX_PERIODS_PER_REFRESH: i64 = 1440;

/// How old a period must be before it is counted: CloudWatch may publish ALB metrics a few
/// minutes late, Prometheus scrapes every 15 s.
pub fn settle_seconds(source: &str) -> i64 {
    if source == "prometheus" {
        30
    } else {
        180
    }
}

/// One metric's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Decision {
    CanaryWorse,
    CanaryBetter,
    NoDifferenceYet,
}

/// Which test a metric gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum MetricKind {
    Count,
    Continuous,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "test")]
pub enum LiveTest {
    /// Mixture e-process on the canary's share of each period's events.
    Count(CountTest),
    /// Sign e-process on period-paired values.
    Sign(SignTest),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveMetric {
    pub kind: MetricKind,
    pub direction: Direction,
    pub replace_nan: bool,
    pub state: LiveTest,
    /// Periods with a value for each arm.
    pub baseline_periods: u64,
    pub canary_periods: u64,
    /// The last [`RECENT_PERIODS`] periods' values (start, baseline, canary; NaN as null),
    /// for charts.
    #[serde(default)]
    pub recent: Vec<(i64, Option<f64>, Option<f64>)>,
}

/// How many periods of values the state keeps for charts (bounded: it is stored per refresh).
pub const RECENT_PERIODS: usize = 120;

/// What is stored between refreshes (one item per deployment).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveState {
    pub deployment_id: String,
    /// Incremented by every stored refresh; the conditional write compares it.
    pub version: u64,
    /// `prometheus` or `cloudwatch`, fixed at the first refresh.
    pub source: String,
    pub alpha: f64,
    /// Each metric's share of `alpha` (α/k).
    pub metric_alpha: f64,
    /// Fixed at the first refresh.
    #[serde(default = "default_period")]
    pub period_seconds: u32,
    /// Unix seconds: every period before this has been counted.
    pub through: i64,
    /// The canary config the metrics' queries come from (the source's starter config).
    pub config: serde_json::Value,
    pub metrics: BTreeMap<String, LiveMetric>,
}

/// One metric as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricVerdict {
    pub name: String,
    pub test: String,
    pub direction: Direction,
    pub decision: Decision,
    /// The e-value: the evidence against "no difference" (an alarm at `threshold`).
    pub e_value: f64,
    pub threshold: f64,
    pub samples: Samples,
    /// Counts: the canary's event rate over the baseline's; continuous: the share of periods
    /// with the canary higher.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effect: Option<f64>,
    /// The last periods' values of both arms (null: no value that period).
    pub recent: RecentSeries,
}

/// Values per period, oldest first, for a baseline-vs-canary chart.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecentSeries {
    /// Unix seconds of the first period (None: no period yet; RFC 3339 on the wire).
    #[serde(default, with = "aviary_core::times::opt_secs")]
    pub start: Option<i64>,
    pub step_seconds: u32,
    pub baseline: Vec<Option<f64>>,
    pub canary: Vec<Option<f64>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Samples {
    pub baseline: u64,
    pub canary: u64,
}

/// `GET /deployments/{id}/verdict`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveVerdict {
    pub deployment_id: String,
    pub decision: Decision,
    pub alpha: f64,
    pub source: String,
    pub period_seconds: u32,
    /// Unix seconds up to which periods are counted (`null` before the canary took traffic;
    /// RFC 3339 on the wire).
    #[serde(default, with = "aviary_core::times::opt_secs")]
    pub through: Option<i64>,
    pub metrics: Vec<MetricVerdict>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// Whether a query's values are event counts per period.
pub fn kind_of(q: &MetricQuery) -> MetricKind {
    match &q.spec {
        QuerySpec::CloudWatch(c) if matches!(c.statistic.as_str(), "Sum" | "SampleCount") => MetricKind::Count,
        QuerySpec::Prometheus(PromQuery::Template(t)) if t.contains("increase(") => MetricKind::Count,
        _ => MetricKind::Continuous,
    }
}

fn decision(status: LiveStatus, direction: Direction) -> Decision {
    match (status, direction) {
        (LiveStatus::Continue, _) => Decision::NoDifferenceYet,
        (LiveStatus::High, Direction::Decrease) | (LiveStatus::Low, Direction::Increase) => Decision::CanaryBetter,
        // Higher where higher is bad, lower where lower is bad, or any difference where either is.
        _ => Decision::CanaryWorse,
    }
}

impl LiveMetric {
    fn status(&self) -> LiveStatus {
        match &self.state {
            LiveTest::Count(t) => t.status(),
            LiveTest::Sign(t) => t.status(),
        }
    }

    /// Counts one period's values of each arm (NaN: no data for that arm in that period).
    fn observe(&mut self, at: i64, baseline: f64, canary: f64) -> Result<(), AnalysisError> {
        let fix = |v: f64| if v.is_nan() && self.replace_nan { 0.0 } else { v };
        let (b, c) = (fix(baseline), fix(canary));
        let finite = |v: f64| v.is_finite().then_some(v);
        self.recent.push((at, finite(b), finite(c)));
        if self.recent.len() > RECENT_PERIODS {
            self.recent.drain(..self.recent.len() - RECENT_PERIODS);
        }
        self.baseline_periods += u64::from(!b.is_nan());
        self.canary_periods += u64::from(!c.is_nan());
        if b.is_nan() || c.is_nan() {
            return Ok(());
        }
        match &mut self.state {
            LiveTest::Count(t) => {
                let count = |v: f64| if v.is_finite() && v > 0.0 { v.round() as u64 } else { 0 };
                t.observe(count(c), count(b), 1.0, 1.0).map_err(|e| AnalysisError::invalid("metrics", e.to_string()))?;
            }
            LiveTest::Sign(t) => {
                t.observe(&[b], &[c]);
            }
        }
        Ok(())
    }

    fn verdict(&self, name: &str, alpha: f64, step_seconds: u32) -> MetricVerdict {
        let (test, e_value, effect) = match &self.state {
            LiveTest::Count(t) => ("count-mixture", t.e_value(), t.rate_ratio()),
            LiveTest::Sign(t) => ("sign", t.e_value(), t.canary_higher_share()),
        };
        MetricVerdict {
            name: name.to_string(),
            test: test.to_string(),
            direction: self.direction,
            decision: decision(self.status(), self.direction),
            e_value,
            threshold: 1.0 / alpha,
            samples: Samples { baseline: self.baseline_periods, canary: self.canary_periods },
            effect: effect.filter(|e| e.is_finite()),
            recent: RecentSeries {
                start: self.recent.first().map(|p| p.0),
                step_seconds,
                baseline: self.recent.iter().map(|p| p.1).collect(),
                canary: self.recent.iter().map(|p| p.2).collect(),
            },
        }
    }
}

impl LiveState {
    /// The state for a deployment's first refresh: the metrics of the source's starter config.
    pub fn new(deployment_id: &str, source: &str, config: &serde_json::Value, through: i64, period_seconds: u32) -> Result<LiveState, AnalysisError> {
        let starter = |e: String| AnalysisError::Step(aviary_core::StepError::Config(format!("live verdict config: {e}")));
        let parsed = parse_config(&config.to_string()).map_err(|e| starter(e.to_string()))?;
        let queries = queries_from_config(config).map_err(|e| starter(e.to_string()))?;
        let live: Vec<_> = parsed.metrics.iter().filter(|m| !m.analysis_configurations.canary.muted).collect();
        let alpha = LIVE_ALPHA / live.len().max(1) as f64;
        let mut metrics = BTreeMap::new();
        for m in live {
            let Some(q) = queries.iter().find(|q| q.name == m.name) else { continue };
            let c = &m.analysis_configurations.canary;
            let kind = kind_of(q);
            let state = match kind {
                MetricKind::Count => LiveTest::Count(CountTest::new(alpha, c.direction).map_err(|e| starter(e.to_string()))?),
                MetricKind::Continuous => LiveTest::Sign(SignTest::new(alpha, c.direction).map_err(|e| starter(e.to_string()))?),
            };
            metrics.insert(
                m.name.clone(),
                LiveMetric {
                    kind,
                    direction: c.direction,
                    replace_nan: c.nan_strategy == NanStrategy::Replace,
                    state,
                    baseline_periods: 0,
                    canary_periods: 0,
                    recent: Vec::new(),
                },
            );
        }
        Ok(LiveState {
            deployment_id: deployment_id.to_string(),
            version: 0,
            source: source.to_string(),
            alpha: LIVE_ALPHA,
            metric_alpha: alpha,
            period_seconds: period_seconds.max(1),
            through,
            config: config.clone(),
            metrics,
        })
    }

    pub fn verdict(&self, notes: Vec<String>) -> LiveVerdict {
        let metrics: Vec<MetricVerdict> = self.metrics.iter().map(|(n, m)| m.verdict(n, self.metric_alpha, self.period_seconds)).collect();
        LiveVerdict {
            deployment_id: self.deployment_id.clone(),
            decision: overall(&metrics),
            alpha: self.alpha,
            source: self.source.clone(),
            period_seconds: self.period_seconds,
            through: Some(self.through),
            metrics,
            notes,
        }
    }
}

/// Worse if any metric is worse; better if none is worse and one is better; else no difference yet.
pub fn overall(metrics: &[MetricVerdict]) -> Decision {
    if metrics.iter().any(|m| m.decision == Decision::CanaryWorse) {
        Decision::CanaryWorse
    } else if metrics.iter().any(|m| m.decision == Decision::CanaryBetter) {
        Decision::CanaryBetter
    } else {
        Decision::NoDifferenceYet
    }
}

fn floor_to(t: i64, period: u32) -> i64 {
    let p = i64::from(period.max(1));
    t.div_euclid(p) * p
}

/// The source of a deployment's first refresh: its monitor's Prometheus if it answers, else
/// the load balancer's CloudWatch metrics.
async fn choose_source(d: &Deployment, region: &str, notes: &mut Vec<String>) -> (String, serde_json::Value) {
    if let Some(url) = d.monitoring.as_ref().map(|m| m.prometheus.clone()).filter(|u| !u.is_empty()) {
        let p = PrometheusSource::new(&url, &d.id);
        match p.ready(std::time::Duration::from_secs(2)).await {
            Ok(()) => {
                if let Ok(spec) = d.spec() {
                    let cfg = aviary_monitoring::canary_config::render_canary_config(spec, &aviary_monitoring::MonitorContext::new(&d.id, region));
                    return ("prometheus".into(), cfg);
                }
            }
            Err(e) => notes.push(format!("Prometheus did not answer ({e}); the load balancer's CloudWatch metrics are used")),
        }
    }
    ("cloudwatch".into(), starter_config())
}

/// The event log's step name for live-verdict decisions.
pub const LIVE_STEP: &str = "verdict";

impl Decision {
    pub fn as_str(&self) -> &'static str {
        match self {
            Decision::CanaryWorse => "canary-worse",
            Decision::CanaryBetter => "canary-better",
            Decision::NoDifferenceYet => "no-difference-yet",
        }
    }
}

/// `live verdict: canary-worse (target_response_time: e-value 97 ≥ 60 after 23 periods)`.
pub fn decision_event(v: &LiveVerdict) -> String {
    let deciding: Vec<String> = v
        .metrics
        .iter()
        .filter(|m| m.decision == v.decision)
        .map(|m| format!("{}: e-value {:.0} ≥ {:.0} after {} periods", m.name, m.e_value, m.threshold, m.samples.baseline.min(m.samples.canary)))
        .collect();
    format!("live verdict: {} ({})", v.decision.as_str(), deciding.join("; "))
}

/// What a scheduled refresh did for one deployment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefreshOutcome {
    pub deployment_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Refreshes every ACTIVE deployment's live verdict (the `analyze` function's schedule), so
/// decisions reach the event log even when nobody is watching. One deployment's failure is
/// recorded and the others go on.
pub async fn refresh_active(p: &AnalysisPorts) -> Result<Vec<RefreshOutcome>, AnalysisError> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = p.ports.store.list(Some(aviary_core::status::Status::Active), 100, cursor.as_deref()).await?;
        for d in page.items {
            let r = refresh_verdict(p, &d.id).await;
            out.push(RefreshOutcome {
                deployment_id: d.id.clone(),
                decision: r.as_ref().ok().map(|v| v.decision),
                error: r.err().map(|e| e.to_string()),
            });
        }
        match page.next {
            Some(c) => cursor = Some(c),
            None => return Ok(out),
        }
    }
}

/// Refreshes and returns a deployment's live verdict (see the module docs).
pub async fn refresh_verdict(p: &AnalysisPorts, deployment_id: &str) -> Result<LiveVerdict, AnalysisError> {
    let d = p.ports.deployments().get(deployment_id).await?.ok_or_else(|| AnalysisError::NotFound(deployment_id.to_string()))?;
    let dims = AlbDimensions::for_deployment(&d).map_err(|reason| AnalysisError::NotReady { id: d.id.clone(), reason })?;
    let mut notes = Vec::new();
    let stored = p.analyses.get_live(&d.id).await?;
    let period = crate::active_period(p, &d.id).await?;
    let expected = stored.as_ref().map(|s| s.version);
    let decided_before = stored.as_ref().map(|s| s.verdict(Vec::new()).decision).unwrap_or(Decision::NoDifferenceYet);
    let mut state = match stored {
        Some(s) => s,
        None => {
            let Some(since) = period.since else {
                return Ok(LiveVerdict {
                    deployment_id: d.id.clone(),
                    decision: Decision::NoDifferenceYet,
                    alpha: LIVE_ALPHA,
                    source: String::new(),
                    period_seconds: p.live.period_seconds,
                    through: None,
                    metrics: Vec::new(),
                    notes: vec![format!("{} has not taken traffic yet (it is {})", d.id, d.status)],
                });
            };
            let (source, config) = choose_source(&d, &p.ports.settings.region, &mut notes).await;
            // The first whole period after traffic started.
            let period = p.live.period_seconds.max(1);
            LiveState::new(&d.id, &source, &config, floor_to(since, period) + i64::from(period), period)?
        }
    };
    let now = p.ports.clock.now_secs();
    let step = state.period_seconds.max(1);
    let settle = p.live.settle_seconds.unwrap_or_else(|| settle_seconds(&state.source));
    let mut end = floor_to(now - settle, step);
    if let Some(until) = period.until {
        end = end.min(floor_to(until, step));
    }
    end = end.min(state.through + MAX_PERIODS_PER_REFRESH * i64::from(step));
    if end <= state.through {
        notes.push(format!("no new closed period since the last refresh (periods are counted once at least {settle} s old)"));
        return Ok(state.verdict(notes));
    }
    let window = TimeWindow::new(state.through, end, step).map_err(|e| AnalysisError::invalid("window", e))?;
    let source: Box<dyn MetricSource> = match state.source.as_str() {
        "prometheus" => match d.monitoring.as_ref().map(|m| m.prometheus.clone()) {
            Some(url) => Box::new(PrometheusSource::new(&url, &d.id)),
            None => return Err(AnalysisError::NotReady { id: d.id.clone(), reason: "its monitor address is gone".into() }),
        },
        _ => p.cloudwatch.source(dims),
    };
    let queries: Vec<MetricQuery> = queries_from_config(&state.config).map_err(|e| AnalysisError::invalid("metrics", e.to_string()))?;
    for (name, m) in state.metrics.iter_mut() {
        let Some(q) = queries.iter().find(|q| &q.name == name) else { continue };
        let s = source.fetch(q, &window).await?;
        for i in 0..window.points() {
            let at = |v: &Vec<f64>| v.get(i).copied().unwrap_or(f64::NAN);
            m.observe(window.time_at(i), at(&s.baseline), at(&s.canary))?;
        }
    }
    state.through = end;
    state.version = expected.unwrap_or(0) + 1;
    if p.analyses.put_live(&state, expected).await? {
        let v = state.verdict(notes);
        if v.decision != decided_before {
            // Only the refresh that stored the change logs it: once per decision.
            aviary_lifecycle::log(&p.ports, &d.id, LIVE_STEP, aviary_core::model::Outcome::Info, decision_event(&v)).await;
        }
        Ok(v)
    } else {
        // Another refresh stored these periods first: answer what it counted, never twice.
        let winner = p.analyses.get_live(&d.id).await?.ok_or_else(|| aviary_core::StepError::aws("GetItem", true, "the live verdict changed under this refresh"))?;
        notes.push("another refresh counted these periods at the same time; this is its result".into());
        Ok(winner.verdict(notes))
    }
}
