//! CloudWatch as a metric source: the ALB's per-target-group metrics (`AWS/ApplicationELB`,
//! dimensions `LoadBalancer` + `TargetGroup`), baseline and canary being two target groups
//! behind the same load balancer. One `GetMetricData` call per metric fetches both roles
//! (query ids `baseline` and `canary`), period = the window's step.
//!
//! Also the CloudWatch starter canary config, used when no config is given and Prometheus is
//! out of reach: it needs nothing but the ALB, so it works for every deployment.

use serde_json::{json, Value};

use super::query::{CloudWatchQuery, MetricQuery, QuerySpec};
use super::{MetricSource, MetricsError, RoleSeries, TimeWindow};
use aviary_core::model::Deployment;
use aviary_monitoring::canary_config::JUDGE;
use aviary_monitoring::context::{load_balancer_dimension, target_group_dimension};

/// The dimension values that tell baseline from canary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlbDimensions {
    /// `app/<name>/<id>`
    pub load_balancer: String,
    /// `targetgroup/<name>/<id>`
    pub baseline_target_group: String,
    pub canary_target_group: String,
}

impl AlbDimensions {
    /// From a deployment's recorded resources (the load balancer ARN, else the spec's
    /// listener ARN). Err says what is missing.
    pub fn for_deployment(d: &Deployment) -> Result<AlbDimensions, String> {
        let r = &d.resources;
        let (Some(b), Some(c)) = (&r.baseline_target_group_arn, &r.canary_target_group_arn) else {
            return Err(format!("deployment {} has no target groups yet (it is {})", d.id, d.status));
        };
        let tg = |arn: &str| target_group_dimension(arn).ok_or_else(|| format!("{arn} is not a target group ARN"));
        let load_balancer = r
            .load_balancer_arn
            .as_deref()
            .and_then(load_balancer_dimension_from_arn)
            .or_else(|| d.spec.as_ref().and_then(|s| load_balancer_dimension(&s.listener_arn)))
            .ok_or_else(|| format!("deployment {} has no application load balancer on record", d.id))?;
        Ok(AlbDimensions { load_balancer, baseline_target_group: tg(b)?, canary_target_group: tg(c)? })
    }
}

/// `arn:aws:elasticloadbalancing:<region>:<account>:loadbalancer/app/<name>/<id>` →
/// `app/<name>/<id>`.
pub fn load_balancer_dimension_from_arn(arn: &str) -> Option<String> {
    let resource = arn.strip_prefix("arn:")?.splitn(5, ':').nth(4)?;
    let dim = resource.strip_prefix("loadbalancer/")?;
    let parts: Vec<&str> = dim.split('/').collect();
    matches!(parts.as_slice(), ["app", name, id] if !name.is_empty() && !id.is_empty()).then(|| dim.to_string())
}

/// The starter config for CloudWatch: latency and errors judged, traffic reported (muted, so
/// an uneven split is visible without failing the canary). 5xx is critical, as in the
/// Prometheus starter config; latency must have data.
pub fn starter_config() -> Value {
    let q = |metric: &str, stat: &str| json!({"type": "cloudwatch", "namespace": super::query::ALB_NAMESPACE, "metricName": metric, "statistic": stat});
    json!({
        "name": "aviary-cloudwatch",
        "description": "Aviary's CloudWatch starter config: the load balancer's per-target-group metrics, baseline against canary.",
        "configVersion": "1",
        "applications": ["aviary"],
        "judge": {"name": JUDGE, "judgeConfigurations": {}},
        "metrics": [
            {"name": "target_response_time", "groups": ["Latency"], "query": q("TargetResponseTime", "Average"),
             // No latency at all means the canary served nothing: that must not pass.
             "analysisConfigurations": {"canary": {"direction": "increase", "nanStrategy": "remove", "mustHaveData": true,
                                                   "effectSize": {"allowedIncrease": 1.1}}}},
            // ALB 5xx metrics only exist for periods that had one: a missing point is a zero.
            {"name": "target_5xx", "groups": ["Errors"], "query": q("HTTPCode_Target_5XX_Count", "Sum"),
             "analysisConfigurations": {"canary": {"direction": "increase", "critical": true, "nanStrategy": "replace"}}},
            {"name": "target_connection_errors", "groups": ["Errors"], "query": q("TargetConnectionErrorCount", "Sum"),
             "analysisConfigurations": {"canary": {"direction": "increase", "nanStrategy": "replace"}}},
            {"name": "requests", "groups": ["Traffic"], "query": q("RequestCount", "Sum"),
             "analysisConfigurations": {"canary": {"direction": "either", "nanStrategy": "replace", "muted": true}}}
        ],
        "templates": {},
        "classifier": {"groupWeights": {"Errors": 50, "Latency": 50}}
    })
}

/// The CloudWatch port: a [`MetricSource`] over one deployment's two target groups. The
/// adapter (`aviary_aws::cloudwatch`) runs one `GetMetricData` per metric with the two
/// [`role_queries`] and turns the answer into a [`RoleSeries`] with [`series_from_points`];
/// the in-memory fake is [`crate::memory::MemoryCloudWatch`].
pub trait CloudWatchMetrics: Send + Sync {
    fn source(&self, dims: AlbDimensions) -> Box<dyn MetricSource>;
}

/// The query id of each role in a `GetMetricData` call.
pub const ROLES: [&str; 2] = ["baseline", "canary"];

/// One role's half of a metric's `GetMetricData` call, in plain words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleQuery {
    /// `baseline` or `canary` (the query id).
    pub id: &'static str,
    pub namespace: String,
    pub metric_name: String,
    /// `LoadBalancer`, the role's `TargetGroup`, then the query's own dimensions.
    pub dimensions: Vec<(String, String)>,
    pub statistic: String,
    pub period: i32,
}

/// The two queries (ids `baseline`, `canary`) for one metric: same metric, statistic and
/// period; the role's target group as the `TargetGroup` dimension.
pub fn role_queries(q: &CloudWatchQuery, dims: &AlbDimensions, period: i32) -> [RoleQuery; 2] {
    let one = |id: &'static str, tg: &str| {
        let mut dimensions = vec![("LoadBalancer".to_string(), dims.load_balancer.clone()), ("TargetGroup".to_string(), tg.to_string())];
        dimensions.extend(q.dimensions.iter().map(|(k, v)| (k.clone(), v.clone())));
        RoleQuery {
            id,
            namespace: q.namespace.clone(),
            metric_name: q.metric_name.clone(),
            dimensions,
            statistic: q.statistic.clone(),
            period,
        }
    };
    [one(ROLES[0], &dims.baseline_target_group), one(ROLES[1], &dims.canary_target_group)]
}

/// The period of a window's step, as `GetMetricData` takes it.
pub fn period_of(window: &TimeWindow) -> i32 {
    i32::try_from(window.step_seconds).unwrap_or(i32::MAX)
}

/// Both roles' datapoints placed on the window's grid. No datapoint at all is "no series"
/// (empty); otherwise gaps on the grid are NaN.
pub fn series_from_points(window: &TimeWindow, baseline: Vec<(f64, f64)>, canary: Vec<(f64, f64)>) -> RoleSeries {
    let role = |points: Vec<(f64, f64)>| if points.is_empty() { Vec::new() } else { window.fill(points) };
    RoleSeries { baseline: role(baseline), canary: role(canary) }
}

/// The CloudWatch part of a query, or the error a CloudWatch source answers for another kind.
pub fn cloudwatch_query(query: &MetricQuery) -> Result<&CloudWatchQuery, MetricsError> {
    match &query.spec {
        QuerySpec::CloudWatch(q) => Ok(q),
        other => Err(MetricsError::Unsupported { metric: query.name.clone(), kind: other.kind().to_string(), source_kind: "cloudwatch" }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_balancer_dimension_from_its_arn() {
        assert_eq!(
            load_balancer_dimension_from_arn("arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/prod/50dc6c495c0c9188")
                .as_deref(),
            Some("app/prod/50dc6c495c0c9188")
        );
        assert_eq!(load_balancer_dimension_from_arn("arn:aws:elasticloadbalancing:eu-west-1:1:loadbalancer/net/x/y"), None);
        assert_eq!(load_balancer_dimension_from_arn("app/prod/1"), None);
    }

    fn dims() -> AlbDimensions {
        AlbDimensions {
            load_balancer: "app/prod/50dc6c495c0c9188".into(),
            baseline_target_group: "targetgroup/av-web-b/aaa".into(),
            canary_target_group: "targetgroup/av-web-c/ccc".into(),
        }
    }

    #[test]
    fn builds_one_query_per_role() {
        let q = CloudWatchQuery {
            namespace: "AWS/ApplicationELB".into(),
            metric_name: "HTTPCode_Target_5XX_Count".into(),
            statistic: "Sum".into(),
            dimensions: [("AvailabilityZone".to_string(), "eu-west-1a".to_string())].into(),
        };
        let [b, c] = role_queries(&q, &dims(), 60);
        for (rq, id, tg) in [(&b, "baseline", "targetgroup/av-web-b/aaa"), (&c, "canary", "targetgroup/av-web-c/ccc")] {
            assert_eq!(rq.id, id);
            assert_eq!((rq.period, rq.statistic.as_str()), (60, "Sum"));
            assert_eq!((rq.namespace.as_str(), rq.metric_name.as_str()), ("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count"));
            let d: Vec<(&str, &str)> = rq.dimensions.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            assert_eq!(d, vec![("LoadBalancer", "app/prod/50dc6c495c0c9188"), ("TargetGroup", tg), ("AvailabilityZone", "eu-west-1a")]);
        }
    }

    #[test]
    fn points_land_on_the_grid_and_no_points_is_no_series() {
        let w = TimeWindow::new(60, 300, 60).unwrap();
        let s = series_from_points(&w, vec![(60.0, 1.0), (180.0, 3.0)], vec![]);
        assert_eq!(s.baseline.len(), 4);
        assert_eq!((s.baseline[0], s.baseline[2]), (1.0, 3.0));
        assert!(s.baseline[1].is_nan() && s.canary.is_empty());
        let prom = crate::metrics::queries_from_config(&json!({"metrics": [{"name": "p", "query": {"type": "prometheus", "metricName": "up"}}]})).unwrap();
        assert_eq!(cloudwatch_query(&prom[0]).unwrap_err().name(), "UnsupportedQuery");
    }

    #[test]
    fn starter_config_parses_and_queries_cloudwatch() {
        let cfg = starter_config();
        aviary_judge::parse_config(&cfg.to_string()).unwrap();
        let qs = crate::metrics::queries_from_config(&cfg).unwrap();
        assert!(qs.iter().all(|q| matches!(q.spec, QuerySpec::CloudWatch(_))));
        assert_eq!(qs.len(), 4);
    }

    #[test]
    fn starter_config_passes_twins_and_fails_an_idle_canary() {
        use aviary_judge::{judge, parse_config, Label, MetricData, Verdict};
        let cfg = parse_config(&starter_config().to_string()).unwrap();
        let lat: Vec<f64> = (0..30).map(|i| 0.1 + f64::from(i % 7) * 0.003).collect();
        let mut d = MetricData::new();
        d.insert("target_response_time", lat.clone(), lat.iter().rev().copied().collect());
        d.insert("target_5xx", vec![f64::NAN; 30], vec![f64::NAN; 30]);
        d.insert("requests", vec![100.0; 30], vec![101.0; 30]);
        let r = judge(&cfg, &d, None);
        assert_eq!((r.classification, r.score), (Verdict::Pass, 100.0), "{}", r.to_table());
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
        let idle = judge(&cfg, &MetricData::new(), None);
        assert_eq!(idle.metrics[0].label, Label::NodataFailMetric);
        assert_eq!(idle.classification, Verdict::Fail);
    }
}
