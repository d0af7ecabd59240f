//! CloudWatch as a metric source: the ALB's per-target-group metrics (`AWS/ApplicationELB`,
//! dimensions `LoadBalancer` + `TargetGroup`), baseline and canary being two target groups
//! behind the same load balancer. One `GetMetricData` call per metric fetches both roles
//! (query ids `baseline` and `canary`), period = the window's step.
//!
//! Also the CloudWatch starter canary config, used when no config is given and Prometheus is
//! out of reach: it needs nothing but the ALB, so it works for every deployment.

use serde_json::{json, Value};

use crate::model::Deployment;
use crate::monitoring::canary_config::JUDGE;
use crate::monitoring::context::{load_balancer_dimension, target_group_dimension};

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

#[cfg(feature = "aws")]
pub use client::{metric_data_queries, CloudWatchSource};

#[cfg(feature = "aws")]
mod client {
    use std::collections::HashMap;

    use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricDataResult, MetricStat, ScanBy, StatusCode};
    use aws_smithy_types::DateTime;

    use super::AlbDimensions;
    use crate::aws::errors::aws_err;
    use crate::error::StepError;
    use crate::metrics::query::{CloudWatchQuery, MetricQuery, QuerySpec};
    use crate::metrics::window::{RoleSeries, TimeWindow};
    use crate::metrics::{MetricSource, MetricsError};

    /// `GetMetricData` on one deployment's target groups.
    #[derive(Debug, Clone)]
    pub struct CloudWatchSource {
        client: aws_sdk_cloudwatch::Client,
        dims: AlbDimensions,
    }

    impl CloudWatchSource {
        pub fn new(client: aws_sdk_cloudwatch::Client, dims: AlbDimensions) -> CloudWatchSource {
            CloudWatchSource { client, dims }
        }
    }

    /// The two queries (ids `baseline`, `canary`) for one metric: same metric, statistic and
    /// period; the role's target group as the `TargetGroup` dimension.
    pub fn metric_data_queries(q: &CloudWatchQuery, dims: &AlbDimensions, period: i32) -> [MetricDataQuery; 2] {
        let one = |id: &str, tg: &str| {
            let mut metric = Metric::builder()
                .namespace(&q.namespace)
                .metric_name(&q.metric_name)
                .dimensions(Dimension::builder().name("LoadBalancer").value(&dims.load_balancer).build())
                .dimensions(Dimension::builder().name("TargetGroup").value(tg).build());
            for (k, v) in &q.dimensions {
                metric = metric.dimensions(Dimension::builder().name(k).value(v).build());
            }
            MetricDataQuery::builder()
                .id(id)
                .metric_stat(MetricStat::builder().metric(metric.build()).period(period).stat(&q.statistic).build())
                .return_data(true)
                .build()
        };
        [one("baseline", &dims.baseline_target_group), one("canary", &dims.canary_target_group)]
    }

    /// Adds one page of results to the per-id points; an `InternalError` result fails.
    pub(crate) fn absorb(
        metric: &str,
        results: &[MetricDataResult],
        acc: &mut HashMap<String, Vec<(f64, f64)>>,
    ) -> Result<(), MetricsError> {
        for r in results {
            if r.status_code() == Some(&StatusCode::InternalError) {
                let why: Vec<&str> = r.messages().iter().filter_map(|m| m.value()).collect();
                return Err(MetricsError::CloudWatch {
                    metric: metric.to_string(),
                    error: StepError::aws("GetMetricData", true, format!("InternalError: {}", why.join("; "))),
                });
            }
            let points = acc.entry(r.id().unwrap_or_default().to_string()).or_default();
            points.extend(r.timestamps().iter().zip(r.values()).map(|(t, v)| (t.as_secs_f64(), *v)));
        }
        Ok(())
    }

    #[async_trait::async_trait]
    impl MetricSource for CloudWatchSource {
        fn kind(&self) -> &'static str {
            "cloudwatch"
        }

        fn supports(&self, query: &MetricQuery) -> bool {
            matches!(query.spec, QuerySpec::CloudWatch(_))
        }

        async fn fetch(&self, query: &MetricQuery, window: &TimeWindow) -> Result<RoleSeries, MetricsError> {
            let QuerySpec::CloudWatch(q) = &query.spec else {
                return Err(MetricsError::Unsupported {
                    metric: query.name.clone(),
                    kind: query.spec.kind().to_string(),
                    source_kind: "cloudwatch",
                });
            };
            let metric = &query.name;
            let period = i32::try_from(window.step_seconds).unwrap_or(i32::MAX);
            let [b, c] = metric_data_queries(q, &self.dims, period);
            let mut acc: HashMap<String, Vec<(f64, f64)>> = HashMap::new();
            let mut token: Option<String> = None;
            loop {
                let out = self
                    .client
                    .get_metric_data()
                    .metric_data_queries(b.clone())
                    .metric_data_queries(c.clone())
                    .start_time(DateTime::from_secs(window.start))
                    .end_time(DateTime::from_secs(window.end))
                    .scan_by(ScanBy::TimestampAscending)
                    .set_next_token(token.take())
                    .send()
                    .await
                    .map_err(|e| MetricsError::CloudWatch { metric: metric.clone(), error: aws_err("GetMetricData")(e) })?;
                absorb(metric, out.metric_data_results(), &mut acc)?;
                match out.next_token() {
                    Some(t) if !t.is_empty() => token = Some(t.to_string()),
                    _ => break,
                }
            }
            // No datapoint at all is "no series" (empty); otherwise gaps on the grid are NaN.
            let mut role = |id: &str| match acc.remove(id) {
                Some(points) if !points.is_empty() => window.fill(points),
                _ => Vec::new(),
            };
            Ok(RoleSeries { baseline: role("baseline"), canary: role("canary") })
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use crate::metrics::query::queries_from_config;
        use aws_sdk_cloudwatch::types::MessageData;

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
            let [b, c] = metric_data_queries(&q, &dims(), 60);
            for (mdq, id, tg) in [(&b, "baseline", "targetgroup/av-web-b/aaa"), (&c, "canary", "targetgroup/av-web-c/ccc")] {
                assert_eq!(mdq.id(), Some(id));
                assert_eq!(mdq.return_data(), Some(true));
                let stat = mdq.metric_stat().unwrap();
                assert_eq!((stat.period(), stat.stat()), (Some(60), Some("Sum")));
                let m = stat.metric().unwrap();
                assert_eq!((m.namespace(), m.metric_name()), (Some("AWS/ApplicationELB"), Some("HTTPCode_Target_5XX_Count")));
                let d: Vec<(&str, &str)> = m.dimensions().iter().map(|d| (d.name().unwrap(), d.value().unwrap())).collect();
                assert_eq!(
                    d,
                    vec![("LoadBalancer", "app/prod/50dc6c495c0c9188"), ("TargetGroup", tg), ("AvailabilityZone", "eu-west-1a")]
                );
            }
        }

        #[test]
        fn absorbs_pages_and_fails_on_internal_errors() {
            let page = |id: &str, ts: &[i64], vs: &[f64]| {
                let mut r = MetricDataResult::builder().id(id).status_code(StatusCode::Complete);
                for (t, v) in ts.iter().zip(vs) {
                    r = r.timestamps(DateTime::from_secs(*t)).values(*v);
                }
                r.build()
            };
            let mut acc = HashMap::new();
            absorb("m", &[page("baseline", &[60, 120], &[1.0, 2.0]), page("canary", &[60], &[5.0])], &mut acc).unwrap();
            absorb("m", &[page("baseline", &[180], &[3.0])], &mut acc).unwrap();
            assert_eq!(acc["baseline"], vec![(60.0, 1.0), (120.0, 2.0), (180.0, 3.0)]);
            let w = TimeWindow::new(60, 300, 60).unwrap();
            assert_eq!(w.fill(acc["canary"].clone())[0], 5.0);
            let failed = MetricDataResult::builder()
                .id("canary")
                .status_code(StatusCode::InternalError)
                .messages(MessageData::builder().code("X").value("boom").build())
                .build();
            let e = absorb("m", &[failed], &mut acc).unwrap_err();
            assert!(e.is_transient() && e.to_string().contains("boom"), "{e}");
        }

        #[test]
        fn starter_config_parses_and_queries_cloudwatch() {
            let cfg = super::super::starter_config();
            crate::judge::parse_config(&cfg.to_string()).unwrap();
            let qs = queries_from_config(&cfg).unwrap();
            assert!(qs.iter().all(|q| matches!(q.spec, QuerySpec::CloudWatch(_))));
            assert_eq!(qs.len(), 4);
        }
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

    #[test]
    fn starter_config_passes_twins_and_fails_an_idle_canary() {
        use crate::judge::{judge, parse_config, Label, MetricData, Verdict};
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
