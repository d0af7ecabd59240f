//! Prometheus as a metric source: `/api/v1/query_range` on the monitor's Prometheus.
//!
//! Scoping follows Kayenta's: the metric's PromQL is run once per role with `${scope}` bound to
//! `baseline` / `canary` (the monitoring stack labels every series `role` and `deployment`,
//! see `monitoring::prometheus`), and `${deployment}` bound to the deployment id. A template
//! without `${scope}` is run once and its series are told apart by their `role` label (the
//! dashboard's `... by (role)` queries work as they are). A bare `metricName` becomes
//! `avg(<name>{deployment="<id>",role="<role>"[,<customFilter>]})`.
//!
//! Parsing and scoping are plain functions (no HTTP); [`PrometheusSource`] adds the client.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::error::MetricsError;
use super::query::PromQuery;
use aviary_monitoring::queries::promql_string;

/// Kayenta's template variable for the scope (here: the role).
pub const SCOPE_VAR: &str = "${scope}";
/// Aviary's template variable for the deployment id.
pub const DEPLOYMENT_VAR: &str = "${deployment}";

/// Whether the query selects the role itself (else results are split by their `role` label).
pub fn is_scoped(q: &PromQuery) -> bool {
    match q {
        PromQuery::Template(t) => t.contains(SCOPE_VAR),
        PromQuery::Metric { .. } => true,
    }
}

/// The PromQL for one role (`None`: an unscoped template, run once for both roles).
pub fn expression(metric: &str, q: &PromQuery, deployment_id: &str, role: Option<&str>) -> Result<String, MetricsError> {
    let expr = match q {
        PromQuery::Template(t) => {
            let mut e = t.replace(DEPLOYMENT_VAR, deployment_id);
            if let Some(r) = role {
                e = e.replace(SCOPE_VAR, r);
            }
            e
        }
        PromQuery::Metric { name, filter } => {
            let mut sel = format!("deployment={},role={}", promql_string(deployment_id), promql_string(role.unwrap_or_default()));
            if let Some(f) = filter {
                sel.push(',');
                sel.push_str(f);
            }
            format!("avg({name}{{{sel}}})")
        }
    };
    // Catch what Prometheus would only call a parse error: a variable Aviary does not bind.
    if let Some(at) = expr.find("${") {
        let var: String = expr[at..].chars().take_while(|&c| c != '}').chain(std::iter::once('}')).collect();
        return Err(MetricsError::InvalidQuery {
            metric: metric.to_string(),
            message: format!("unbound template variable {var}: only {SCOPE_VAR} and {DEPLOYMENT_VAR} are bound"),
        });
    }
    Ok(expr)
}

/// One series of a range query.
#[derive(Debug, Clone, PartialEq)]
pub struct PromSeries {
    pub labels: BTreeMap<String, String>,
    /// (Unix seconds, value); Prometheus's `"NaN"`, `"+Inf"`, `"-Inf"` are kept as such.
    pub points: Vec<(f64, f64)>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    status: String,
    #[serde(default)]
    data: Option<Data>,
    #[serde(default)]
    error_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Data {
    result_type: String,
    #[serde(default)]
    result: Vec<RawSeries>,
}

#[derive(Deserialize)]
struct RawSeries {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    #[serde(default)]
    values: Vec<(f64, String)>,
}

/// Parses a `query_range` answer (any HTTP status: Prometheus puts its errors in the same
/// JSON envelope). `from` names the server in errors.
pub fn parse_query_range(metric: &str, from: &str, body: &[u8]) -> Result<Vec<PromSeries>, MetricsError> {
    let bad = |message: String| MetricsError::BadResponse { from: from.to_string(), message };
    let env: Envelope = serde_json::from_slice(body).map_err(|e| {
        let snippet: String = String::from_utf8_lossy(body).chars().take(200).collect();
        bad(format!("not a Prometheus API answer ({e}): {snippet}"))
    })?;
    if env.status != "success" {
        return Err(MetricsError::Query {
            metric: metric.to_string(),
            error_type: env.error_type.unwrap_or_else(|| "unknown".into()),
            message: env.error.unwrap_or_else(|| format!("status {}", env.status)),
        });
    }
    let data = env.data.ok_or_else(|| bad("a success without data".into()))?;
    if data.result_type != "matrix" {
        return Err(bad(format!("resultType {} where query_range gives a matrix", data.result_type)));
    }
    data.result
        .into_iter()
        .map(|s| {
            let points = s
                .values
                .into_iter()
                .map(|(t, v)| parse_value(&v).map(|v| (t, v)).ok_or_else(|| bad(format!("sample value {v:?} is not a number"))))
                .collect::<Result<_, _>>()?;
            Ok(PromSeries { labels: s.metric, points })
        })
        .collect()
}

/// Prometheus writes sample values as strings: decimals, `NaN`, `+Inf`, `-Inf`.
pub fn parse_value(s: &str) -> Option<f64> {
    match s {
        "NaN" => Some(f64::NAN),
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        _ => s.parse::<f64>().ok().filter(|v| v.is_finite()),
    }
}

/// The series of one role: those labelled `role="<role>"` when the result carries role labels,
/// else (a query scoped to the role) all of them. None when there is none; an error when there
/// are several (the judge compares one sample per role).
pub fn pick_role<'a>(metric: &str, series: &'a [PromSeries], role: &str, scoped: bool) -> Result<Option<&'a PromSeries>, MetricsError> {
    let labelled = series.iter().any(|s| s.labels.contains_key("role"));
    if !scoped && !labelled && !series.is_empty() {
        return Err(MetricsError::InvalidQuery {
            metric: metric.to_string(),
            message: format!("the query neither uses {SCOPE_VAR} nor returns a role label, so baseline and canary cannot be told apart"),
        });
    }
    let mine: Vec<&PromSeries> =
        series.iter().filter(|s| !labelled || s.labels.get("role").map(String::as_str) == Some(role)).collect();
    match mine.len() {
        0 => Ok(None),
        1 => Ok(Some(mine[0])),
        count => Err(MetricsError::Ambiguous { metric: metric.to_string(), role: role.to_string(), count }),
    }
}

pub use client::PrometheusSource;

mod client {
    use std::time::Duration;

    use super::*;
    use crate::metrics::query::{MetricQuery, QuerySpec};
    use crate::metrics::window::{RoleSeries, TimeWindow};
    use crate::metrics::MetricSource;

    /// Answers larger than this are refused rather than buffered (a runaway query).
    const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

    /// `query_range` against one Prometheus, scoped to one deployment.
    #[derive(Debug, Clone)]
    pub struct PrometheusSource {
        base_url: String,
        deployment_id: String,
        client: reqwest::Client,
    }

    impl PrometheusSource {
        /// `base_url` as in the deployment's monitoring links (`http://host:9090/`).
        pub fn new(base_url: &str, deployment_id: &str) -> PrometheusSource {
            let client = reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(3))
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap_or_default();
            PrometheusSource { base_url: base_url.trim_end_matches('/').to_string(), deployment_id: deployment_id.to_string(), client }
        }

        pub fn base_url(&self) -> &str {
            &self.base_url
        }

        /// Whether Prometheus answers `/-/ready` within `timeout` (the monitor's port is open
        /// only to `monitoring.allowedCidr`, so from a Lambda it often is not reachable).
        pub async fn ready(&self, timeout: Duration) -> Result<(), MetricsError> {
            let url = format!("{}/-/ready", self.base_url);
            let unreachable = |message: String| MetricsError::Unreachable { url: self.base_url.clone(), message };
            let r = self.client.get(&url).timeout(timeout).send().await.map_err(|e| unreachable(e.to_string()))?;
            if r.status().is_success() {
                Ok(())
            } else {
                Err(unreachable(format!("/-/ready answered {}", r.status())))
            }
        }

        async fn query_range(&self, metric: &str, expr: &str, window: &TimeWindow) -> Result<Vec<PromSeries>, MetricsError> {
            let url = format!("{}/api/v1/query_range", self.base_url);
            let params = [
                ("query", expr.to_string()),
                ("start", window.start.to_string()),
                ("end", window.last().to_string()),
                ("step", window.step_seconds.to_string()),
            ];
            let unreachable = |e: reqwest::Error| MetricsError::Unreachable { url: self.base_url.clone(), message: e.to_string() };
            let mut r = self.client.get(&url).query(&params).send().await.map_err(unreachable)?;
            let mut body = Vec::new();
            while let Some(chunk) = r.chunk().await.map_err(unreachable)? {
                body.extend_from_slice(&chunk);
                if body.len() > MAX_BODY_BYTES {
                    return Err(MetricsError::BadResponse {
                        from: self.base_url.clone(),
                        message: format!("answer for {metric:?} exceeds {MAX_BODY_BYTES} bytes"),
                    });
                }
            }
            parse_query_range(metric, &self.base_url, &body)
        }
    }

    #[async_trait::async_trait]
    impl MetricSource for PrometheusSource {
        fn kind(&self) -> &'static str {
            "prometheus"
        }

        fn supports(&self, query: &MetricQuery) -> bool {
            matches!(query.spec, QuerySpec::Prometheus(_))
        }

        async fn fetch(&self, query: &MetricQuery, window: &TimeWindow) -> Result<RoleSeries, MetricsError> {
            let QuerySpec::Prometheus(q) = &query.spec else {
                return Err(MetricsError::Unsupported {
                    metric: query.name.clone(),
                    kind: query.spec.kind().to_string(),
                    source_kind: "prometheus",
                });
            };
            let name = &query.name;
            let values = |s: Option<&PromSeries>| s.map(|s| window.fill(s.points.iter().copied())).unwrap_or_default();
            if is_scoped(q) {
                let mut out = RoleSeries::default();
                for (role, slot) in [("baseline", &mut out.baseline), ("canary", &mut out.canary)] {
                    let expr = expression(name, q, &self.deployment_id, Some(role))?;
                    let series = self.query_range(name, &expr, window).await?;
                    *slot = values(pick_role(name, &series, role, true)?);
                }
                Ok(out)
            } else {
                let expr = expression(name, q, &self.deployment_id, None)?;
                let series = self.query_range(name, &expr, window).await?;
                Ok(RoleSeries {
                    baseline: values(pick_role(name, &series, "baseline", false)?),
                    canary: values(pick_role(name, &series, "canary", false)?),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MATRIX: &str = r#"{"status":"success","data":{"resultType":"matrix","result":[
        {"metric":{"role":"baseline","deployment":"web-1"},"values":[[1700000000,"0.5"],[1700000060.0,"NaN"],[1700000120,"+Inf"]]},
        {"metric":{"role":"canary","deployment":"web-1"},"values":[[1700000000,"1e-3"],[1700000060,"-Inf"]]}]}}"#;

    #[test]
    fn parses_a_matrix_with_nan_and_infinities() {
        let s = parse_query_range("m", "prom", MATRIX.as_bytes()).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].labels["role"], "baseline");
        assert_eq!(s[0].points[0], (1_700_000_000.0, 0.5));
        assert!(s[0].points[1].1.is_nan());
        assert_eq!(s[0].points[2].1, f64::INFINITY);
        assert_eq!(s[1].points, vec![(1_700_000_000.0, 0.001), (1_700_000_060.0, f64::NEG_INFINITY)]);
    }

    #[test]
    fn parses_empty_results_and_errors() {
        let empty = r#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#;
        assert!(parse_query_range("m", "prom", empty.as_bytes()).unwrap().is_empty());
        let err = r#"{"status":"error","errorType":"bad_data","error":"1:5: parse error: unexpected \"}\""}"#;
        let e = parse_query_range("m", "prom", err.as_bytes()).unwrap_err();
        assert_eq!(e.name(), "PrometheusQueryError");
        assert!(e.to_string().contains("bad_data") && e.to_string().contains("parse error"), "{e}");
        for body in [
            "<html>502 Bad Gateway</html>",
            r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#,
            r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"fast"]]}]}}"#,
            r#"{"status":"success"}"#,
        ] {
            assert_eq!(parse_query_range("m", "prom", body.as_bytes()).unwrap_err().name(), "BadResponse", "{body}");
        }
    }

    #[test]
    fn templates_are_scoped_per_role_and_deployment() {
        let t = PromQuery::Template(r#"sum by (role) (rate(x{deployment="${deployment}",role="${scope}"}[1m]))"#.into());
        assert!(is_scoped(&t));
        assert_eq!(
            expression("m", &t, "web-1", Some("canary")).unwrap(),
            r#"sum by (role) (rate(x{deployment="web-1",role="canary"}[1m]))"#
        );
        let m = PromQuery::Metric { name: "node_load1".into(), filter: Some(r#"job="node""#.into()) };
        assert_eq!(
            expression("m", &m, "web-1", Some("baseline")).unwrap(),
            r#"avg(node_load1{deployment="web-1",role="baseline",job="node"})"#
        );
        let e = expression("m", &PromQuery::Template("x{a=\"${location}\"}".into()), "d", Some("canary")).unwrap_err();
        assert!(e.to_string().contains("${location}"), "{e}");
        // The starter config's fixed deployment and ${scope} binding.
        let starter = aviary_monitoring::canary_config::kayenta_selector("web-1");
        let q = PromQuery::Template(format!("avg(up{{{starter}}})"));
        assert_eq!(expression("m", &q, "ignored", Some("baseline")).unwrap(), r#"avg(up{deployment="web-1",role="baseline"})"#);
    }

    #[test]
    fn series_are_picked_by_role() {
        let s = parse_query_range("m", "p", MATRIX.as_bytes()).unwrap();
        assert_eq!(pick_role("m", &s, "canary", false).unwrap().unwrap().labels["role"], "canary");
        assert_eq!(pick_role("m", &s[..1], "canary", false).unwrap(), None);
        let unlabelled = vec![PromSeries { labels: BTreeMap::new(), points: vec![(0.0, 1.0)] }];
        assert!(pick_role("m", &unlabelled, "canary", true).unwrap().is_some());
        assert_eq!(pick_role("m", &unlabelled, "canary", false).unwrap_err().name(), "InvalidQuery");
        let two = vec![unlabelled[0].clone(), unlabelled[0].clone()];
        assert_eq!(pick_role("m", &two, "canary", true).unwrap_err().name(), "AmbiguousSeries");
        assert_eq!(pick_role("m", &[], "canary", false).unwrap(), None);
    }
}
