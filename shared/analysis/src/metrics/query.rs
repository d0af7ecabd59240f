//! What to fetch for each metric: the `query` block of a Kayenta-shaped canary config, which
//! the judge's own parser ignores.
//!
//! * Prometheus (Kayenta's `PrometheusCanaryMetricSetQueryConfig`):
//!   `{"type": "prometheus", "customInlineTemplate": "PromQL:<expr>"}` with `${scope}` (bound
//!   to `baseline` / `canary`) and `${deployment}` (the deployment id) in the expression; or
//!   `{"type": "prometheus", "metricName": "m", "customFilter": "path=\"/api\""}`, which
//!   becomes `avg(m{deployment="<id>",role="<role>",path="/api"})`. `promql` is accepted as
//!   a shorter spelling of `customInlineTemplate`.
//! * CloudWatch (Aviary's; Kayenta has no CloudWatch store):
//!   `{"type": "cloudwatch", "metricName": "TargetResponseTime", "statistic": "Average",
//!   "namespace": "AWS/ApplicationELB", "dimensions": {"AvailabilityZone": "eu-west-1a"}}` —
//!   the source adds `LoadBalancer` and the role's `TargetGroup`.
//!
//! `type` (or Kayenta's `serviceType`) is case-insensitive. A metric without a `query` can
//! only be served by a data file.

use std::collections::BTreeMap;

use serde_json::Value;

use super::error::MetricsError;

/// Namespace of the ALB metrics; the CloudWatch query's default.
pub const ALB_NAMESPACE: &str = "AWS/ApplicationELB";

#[derive(Debug, Clone, PartialEq)]
pub struct MetricQuery {
    /// The config metric's name (the judge's key).
    pub name: String,
    pub spec: QuerySpec,
}

#[derive(Debug, Clone, PartialEq)]
pub enum QuerySpec {
    Prometheus(PromQuery),
    CloudWatch(CloudWatchQuery),
    /// A store Aviary does not query (Kayenta's `atlas`, `datadog`, ...): its name.
    Other(String),
    /// No `query` block.
    None,
}

impl QuerySpec {
    /// `prometheus`, `cloudwatch`, the other store's name, or `none`.
    pub fn kind(&self) -> &str {
        match self {
            QuerySpec::Prometheus(_) => "prometheus",
            QuerySpec::CloudWatch(_) => "cloudwatch",
            QuerySpec::Other(k) => k,
            QuerySpec::None => "none",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum PromQuery {
    /// PromQL with `${scope}` / `${deployment}` placeholders (no `PromQL:` prefix).
    Template(String),
    /// A metric name, averaged over the role's series, with optional extra label matchers.
    Metric { name: String, filter: Option<String> },
}

#[derive(Debug, Clone, PartialEq)]
pub struct CloudWatchQuery {
    pub namespace: String,
    pub metric_name: String,
    /// `Average`, `Sum`, `Minimum`, `Maximum`, `SampleCount` or a percentile such as `p99`.
    pub statistic: String,
    /// Dimensions besides `LoadBalancer` and `TargetGroup`.
    pub dimensions: BTreeMap<String, String>,
}

/// Reads every metric's query from a canary config (the raw JSON, as the user sent it).
/// Only the shape of `query` is checked here; the judge's `parse_config` checks the rest.
pub fn queries_from_config(config: &Value) -> Result<Vec<MetricQuery>, MetricsError> {
    let metrics = config.get("metrics").and_then(Value::as_array).ok_or_else(|| MetricsError::InvalidQuery {
        metric: String::new(),
        message: "the canary config has no metrics array".into(),
    })?;
    metrics
        .iter()
        .map(|m| {
            let name = m.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
            let spec = parse_query(&name, m.get("query"))?;
            Ok(MetricQuery { name, spec })
        })
        .collect()
}

fn parse_query(metric: &str, q: Option<&Value>) -> Result<QuerySpec, MetricsError> {
    let invalid = |message: String| MetricsError::InvalidQuery { metric: metric.to_string(), message };
    let q = match q {
        None | Some(Value::Null) => return Ok(QuerySpec::None),
        Some(Value::Object(o)) => o,
        Some(_) => return Err(invalid("query must be an object".into())),
    };
    let text = |k: &str| -> Result<Option<String>, MetricsError> {
        match q.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
            Some(_) => Err(invalid(format!("query.{k} must be a string"))),
        }
    };
    let kind = text("type")?.or(text("serviceType")?).ok_or_else(|| invalid("query.type is required".into()))?;
    match kind.to_ascii_lowercase().as_str() {
        "prometheus" => {
            if let Some(t) = text("customInlineTemplate")?.or(text("promql")?) {
                // Kayenta's inline templates carry a `PromQL:` marker before the expression.
                let t = t.strip_prefix("PromQL:").unwrap_or(&t).trim().to_string();
                if t.is_empty() {
                    return Err(invalid("query.customInlineTemplate holds no expression".into()));
                }
                return Ok(QuerySpec::Prometheus(PromQuery::Template(t)));
            }
            let name = text("metricName")?
                .ok_or_else(|| invalid("a prometheus query needs customInlineTemplate (PromQL) or metricName".into()))?;
            if !is_prom_metric_name(&name) {
                return Err(invalid(format!("query.metricName {name:?} is not a Prometheus metric name")));
            }
            let filter = text("customFilter")?;
            if let Some(f) = &filter {
                if f.contains(['{', '}']) {
                    return Err(invalid("query.customFilter holds label matchers without braces".into()));
                }
            }
            Ok(QuerySpec::Prometheus(PromQuery::Metric { name, filter }))
        }
        "cloudwatch" => {
            let metric_name = text("metricName")?.ok_or_else(|| invalid("a cloudwatch query needs metricName".into()))?;
            let statistic = text("statistic")?.unwrap_or_else(|| "Average".into());
            if !is_statistic(&statistic) {
                return Err(invalid(format!(
                    "query.statistic {statistic:?}: use Average, Sum, Minimum, Maximum, SampleCount or a percentile like p99"
                )));
            }
            let mut dimensions = BTreeMap::new();
            match q.get("dimensions") {
                None | Some(Value::Null) => {}
                Some(Value::Object(d)) => {
                    for (k, v) in d {
                        let v = v.as_str().ok_or_else(|| invalid(format!("query.dimensions.{k} must be a string")))?;
                        if k == "LoadBalancer" || k == "TargetGroup" {
                            return Err(invalid(format!("query.dimensions.{k} is set by Aviary per role")));
                        }
                        dimensions.insert(k.clone(), v.to_string());
                    }
                }
                Some(_) => return Err(invalid("query.dimensions must be an object of strings".into())),
            }
            Ok(QuerySpec::CloudWatch(CloudWatchQuery {
                namespace: text("namespace")?.unwrap_or_else(|| ALB_NAMESPACE.into()),
                metric_name,
                statistic,
                dimensions,
            }))
        }
        other => Ok(QuerySpec::Other(other.to_string())),
    }
}

fn is_prom_metric_name(s: &str) -> bool {
    let mut cs = s.chars();
    cs.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && cs.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// CloudWatch's statistics, and percentiles `p0`–`p100` (with decimals, e.g. `p99.9`).
pub fn is_statistic(s: &str) -> bool {
    if ["Average", "Sum", "Minimum", "Maximum", "SampleCount"].contains(&s) {
        return true;
    }
    s.strip_prefix('p').and_then(|p| p.parse::<f64>().ok()).is_some_and(|p| (0.0..=100.0).contains(&p))
        && s[1..].chars().all(|c| c.is_ascii_digit() || c == '.')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_each_kind_of_query() {
        let cfg = json!({"metrics": [
            {"name": "p50", "query": {"type": "prometheus", "customInlineTemplate": "PromQL:avg(x{role=\"${scope}\"})"}},
            {"name": "cpu", "query": {"serviceType": "Prometheus", "metricName": "node_load1", "customFilter": "job=\"node\""}},
            {"name": "lat", "query": {"type": "cloudwatch", "metricName": "TargetResponseTime"}},
            {"name": "err", "query": {"type": "CloudWatch", "metricName": "HTTPCode_Target_5XX_Count", "statistic": "Sum",
                                      "dimensions": {"AvailabilityZone": "eu-west-1a"}}},
            {"name": "atlas", "query": {"type": "atlas", "q": "name,x,:eq"}},
            {"name": "file-only"}
        ]});
        let q = queries_from_config(&cfg).unwrap();
        assert_eq!(q[0].spec, QuerySpec::Prometheus(PromQuery::Template("avg(x{role=\"${scope}\"})".into())));
        assert_eq!(
            q[1].spec,
            QuerySpec::Prometheus(PromQuery::Metric { name: "node_load1".into(), filter: Some("job=\"node\"".into()) })
        );
        let QuerySpec::CloudWatch(lat) = &q[2].spec else { panic!("{:?}", q[2]) };
        assert_eq!((lat.namespace.as_str(), lat.statistic.as_str()), (ALB_NAMESPACE, "Average"));
        let QuerySpec::CloudWatch(err) = &q[3].spec else { panic!() };
        assert_eq!(err.statistic, "Sum");
        assert_eq!(err.dimensions["AvailabilityZone"], "eu-west-1a");
        assert_eq!(q[4].spec.kind(), "atlas");
        assert_eq!(q[5].spec, QuerySpec::None);
        assert_eq!(q.iter().map(|m| m.name.as_str()).collect::<Vec<_>>(), ["p50", "cpu", "lat", "err", "atlas", "file-only"]);
    }

    #[test]
    fn rejects_unusable_queries() {
        let bad = [
            json!({"metricName": "x"}),
            json!({"type": "prometheus"}),
            json!({"type": "prometheus", "customInlineTemplate": "PromQL:"}),
            json!({"type": "prometheus", "metricName": "not a name"}),
            json!({"type": "prometheus", "metricName": "x", "customFilter": "{a=\"b\"}"}),
            json!({"type": "cloudwatch"}),
            json!({"type": "cloudwatch", "metricName": "X", "statistic": "Median"}),
            json!({"type": "cloudwatch", "metricName": "X", "statistic": "p101"}),
            json!({"type": "cloudwatch", "metricName": "X", "dimensions": {"TargetGroup": "t"}}),
            json!({"type": "cloudwatch", "metricName": "X", "dimensions": {"AZ": 1}}),
            json!("avg(x)"),
        ];
        for q in bad {
            let e = queries_from_config(&json!({"metrics": [{"name": "m", "query": q}]})).unwrap_err();
            assert_eq!(e.name(), "InvalidQuery", "{q}");
            assert!(e.to_string().contains("\"m\""), "{e}");
        }
        assert!(queries_from_config(&json!({"name": "x"})).is_err());
        assert!(is_statistic("p99.9") && is_statistic("p50") && !is_statistic("p") && !is_statistic("pX"));
    }
}
