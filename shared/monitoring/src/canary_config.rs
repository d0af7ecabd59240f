//! The starter canary config, in Kayenta's canary-config JSON shape, loaded into Kayenta when
//! the monitor boots. Metrics are the dashboard's PromQL with the role bound to Kayenta's
//! `${scope}` (baseline or canary scope) and the deployment fixed, grouped and weighted:
//! Errors (critical 5xx ratio), Latency (p50, p99), System (CPU, memory). Without app metrics
//! only the System group remains.

use serde_json::{json, Value};

use super::context::MonitorContext;
use super::queries::{self, promql_string, Query};
use aviary_core::spec::DeploymentSpec;

/// The range window inside Kayenta's queries (its default step is one minute).
pub const WINDOW: &str = "1m";
/// Kayenta's judge (see the notes on NetflixACAJudge).
pub const JUDGE: &str = "NetflixACAJudge-v1.0";

pub fn canary_config_name(spec: &DeploymentSpec) -> String {
    format!("aviary-{}", spec.name)
}

/// The selector Kayenta's FreeMarker template expands: `${scope}` becomes the scope's name.
pub fn kayenta_selector(deployment_id: &str) -> String {
    format!("deployment={},role=\"${{scope}}\"", promql_string(deployment_id))
}

fn metric(q: &Query, group: &str, selector: &str, analysis: Value) -> Value {
    json!({
        "name": q.title,
        "query": {
            "type": "prometheus",
            "serviceType": "prometheus",
            "metricName": q.metric,
            "customInlineTemplate": format!("PromQL:{}", q.expr(selector, WINDOW))
        },
        "groups": [group],
        "analysisConfigurations": {"canary": analysis},
        "scopeName": "default"
    })
}

pub fn render_canary_config(spec: &DeploymentSpec, ctx: &MonitorContext) -> Value {
    let sel = kayenta_selector(&ctx.deployment_id);
    // "Higher is worse" everywhere; a small effect-size allowance keeps noise from failing runs.
    let worse_if_higher = |allowed: f64| json!({"direction": "increase", "nanStrategy": "remove", "effectSize": {"allowedIncrease": allowed}});
    let mut metrics = Vec::new();
    let weights = if spec.monitoring.app_metrics_path.is_some() {
        // No traffic means no errors: NaN becomes 0 rather than a missing, unjudged metric.
        metrics.push(metric(
            &queries::ERROR_RATIO,
            "Errors",
            &sel,
            json!({"direction": "increase", "critical": true, "nanStrategy": "replace"}),
        ));
        metrics.push(metric(&queries::LATENCY_P50, "Latency", &sel, worse_if_higher(1.1)));
        metrics.push(metric(&queries::LATENCY_P99, "Latency", &sel, worse_if_higher(1.1)));
        json!({"Errors": 50, "Latency": 30, "System": 20})
    } else {
        json!({"System": 100})
    };
    metrics.push(metric(&queries::CPU_BUSY, "System", &sel, worse_if_higher(1.2)));
    metrics.push(metric(&queries::MEMORY_USED, "System", &sel, worse_if_higher(1.2)));

    json!({
        "name": canary_config_name(spec),
        "description": format!("Aviary starter config for deployment {}: compares role=\"baseline\" with role=\"canary\".", ctx.deployment_id),
        "configVersion": "1",
        "applications": ["aviary"],
        "judge": {"name": JUDGE, "judgeConfigurations": {}},
        "metrics": metrics,
        "templates": {},
        "classifier": {"groupWeights": weights}
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::tests::spec;

    #[test]
    fn shape_and_scoping() {
        let c = render_canary_config(&spec(Some("/metrics")), &MonitorContext::new("web-0123456789", "eu-west-1"));
        assert_eq!(c["name"], "aviary-web");
        assert_eq!(c["judge"]["name"], JUDGE);
        let metrics = c["metrics"].as_array().unwrap();
        assert_eq!(metrics.len(), 5);
        let weights = c["classifier"]["groupWeights"].as_object().unwrap();
        assert_eq!(weights.values().map(|w| w.as_u64().unwrap()).sum::<u64>(), 100);
        for m in metrics {
            let t = m["query"]["customInlineTemplate"].as_str().unwrap();
            assert!(t.starts_with("PromQL:"), "{t}");
            assert!(t.contains(r#"deployment="web-0123456789",role="${scope}""#), "{t}");
            assert_eq!(m["query"]["type"], "prometheus");
            assert_eq!(m["scopeName"], "default");
            let group = m["groups"][0].as_str().unwrap();
            assert!(weights.contains_key(group), "{group} has a weight");
            assert_eq!(m["analysisConfigurations"]["canary"]["direction"], "increase");
        }
        let errors: Vec<&Value> = metrics.iter().filter(|m| m["groups"][0] == "Errors").collect();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0]["analysisConfigurations"]["canary"]["critical"], true);
        assert_eq!(metrics.iter().filter(|m| m["analysisConfigurations"]["canary"]["critical"] == true).count(), 1);
    }

    #[test]
    fn system_only_without_app_metrics() {
        let c = render_canary_config(&spec(None), &MonitorContext::new("web-1", "eu-west-1"));
        assert_eq!(c["classifier"]["groupWeights"], json!({"System": 100}));
        assert!(!c.to_string().contains("http_request"));
    }
}
