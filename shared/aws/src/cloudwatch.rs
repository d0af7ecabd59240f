//! CloudWatch as the analysis's metric store (the `CloudWatchMetrics` port of
//! `aviary-analysis`): one `GetMetricData` call per metric fetches both roles, the queries
//! being the analysis's [`role_queries`] (ids `baseline` and `canary`, the role's target group
//! as the `TargetGroup` dimension, period = the window's step), pages followed, the answer
//! placed on the window's grid by [`series_from_points`].

use std::collections::HashMap;

use async_trait::async_trait;
use aviary_analysis::metrics::cloudwatch::{
    cloudwatch_query, period_of, role_queries, series_from_points, AlbDimensions, CloudWatchMetrics, RoleQuery,
};
use aviary_analysis::metrics::{MetricQuery, MetricSource, MetricsError, RoleSeries, TimeWindow};
use aviary_core::StepError;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricDataResult, MetricStat, ScanBy, StatusCode};
use aws_sdk_cloudwatch::Client;
use aws_smithy_types::DateTime;

use crate::errors::aws_err;

/// The CloudWatch port on the SDK client: hands out a [`CloudWatchSource`] per deployment.
#[derive(Debug, Clone)]
pub struct SdkCloudWatch {
    client: Client,
}

impl SdkCloudWatch {
    pub fn new(client: Client) -> Self {
        SdkCloudWatch { client }
    }

    pub fn from_conf(config: &aws_config::SdkConfig) -> Self {
        SdkCloudWatch::new(Client::new(config))
    }
}

impl CloudWatchMetrics for SdkCloudWatch {
    fn source(&self, dims: AlbDimensions) -> Box<dyn MetricSource> {
        Box::new(CloudWatchSource::new(self.client.clone(), dims))
    }
}

/// `GetMetricData` on one deployment's target groups.
#[derive(Debug, Clone)]
pub struct CloudWatchSource {
    client: Client,
    dims: AlbDimensions,
}

impl CloudWatchSource {
    pub fn new(client: Client, dims: AlbDimensions) -> CloudWatchSource {
        CloudWatchSource { client, dims }
    }
}

/// One role's query as the SDK takes it.
pub fn metric_data_query(q: &RoleQuery) -> MetricDataQuery {
    let mut metric = Metric::builder().namespace(&q.namespace).metric_name(&q.metric_name);
    for (k, v) in &q.dimensions {
        metric = metric.dimensions(Dimension::builder().name(k).value(v).build());
    }
    MetricDataQuery::builder()
        .id(q.id)
        .metric_stat(MetricStat::builder().metric(metric.build()).period(q.period).stat(&q.statistic).build())
        .return_data(true)
        .build()
}

/// Adds one page of results to the per-id points; an `InternalError` result fails.
pub(crate) fn absorb(metric: &str, results: &[MetricDataResult], acc: &mut HashMap<String, Vec<(f64, f64)>>) -> Result<(), MetricsError> {
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

#[async_trait]
impl MetricSource for CloudWatchSource {
    fn kind(&self) -> &'static str {
        "cloudwatch"
    }

    fn supports(&self, query: &MetricQuery) -> bool {
        cloudwatch_query(query).is_ok()
    }

    async fn fetch(&self, query: &MetricQuery, window: &TimeWindow) -> Result<RoleSeries, MetricsError> {
        let q = cloudwatch_query(query)?;
        let metric = &query.name;
        let [b, c] = role_queries(q, &self.dims, period_of(window)).map(|rq| metric_data_query(&rq));
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
        let mut role = |id: &str| acc.remove(id).unwrap_or_default();
        Ok(series_from_points(window, role("baseline"), role("canary")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aviary_analysis::metrics::CloudWatchQuery;
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
        let [b, c] = role_queries(&q, &dims(), 60).map(|rq| metric_data_query(&rq));
        for (mdq, id, tg) in [(&b, "baseline", "targetgroup/av-web-b/aaa"), (&c, "canary", "targetgroup/av-web-c/ccc")] {
            assert_eq!(mdq.id(), Some(id));
            assert_eq!(mdq.return_data(), Some(true));
            let stat = mdq.metric_stat().unwrap();
            assert_eq!((stat.period(), stat.stat()), (Some(60), Some("Sum")));
            let m = stat.metric().unwrap();
            assert_eq!((m.namespace(), m.metric_name()), (Some("AWS/ApplicationELB"), Some("HTTPCode_Target_5XX_Count")));
            let d: Vec<(&str, &str)> = m.dimensions().iter().map(|d| (d.name().unwrap(), d.value().unwrap())).collect();
            assert_eq!(d, vec![("LoadBalancer", "app/prod/50dc6c495c0c9188"), ("TargetGroup", tg), ("AvailabilityZone", "eu-west-1a")]);
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
}
