//! The baseline-vs-canary Grafana dashboard: application request rate, 5xx ratio and latency
//! (when the app exposes metrics), the ALB's per-target-group CloudWatch metrics, and node
//! exporter CPU, memory, network and disk — every panel one series per role.
//!
//! Prometheus panels use two Grafana variables: `$deployment` (a hidden constant holding the
//! deployment id) and `$__rate_interval`. CloudWatch panels name the `LoadBalancer` dimension
//! (from the listener ARN) and the `TargetGroup` dimensions, known or placeholders the monitor
//! replaces at boot (see [`super::post_start`]).

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::context::{load_balancer_dimension, MonitorContext};
use super::grafana::{CLOUDWATCH_UID, PROMETHEUS_UID};
use super::queries::{self, Query};
use super::ROLES;
use aviary_core::spec::DeploymentSpec;

/// The dashboard's Prometheus selector.
pub const SELECTOR: &str = r#"deployment="$deployment""#;
pub const RATE_WINDOW: &str = "$__rate_interval";
/// Shown when the listener ARN cannot be parsed (validation rejects such specs first).
pub const UNKNOWN_LOAD_BALANCER: &str = "__AVIARY_LB_UNKNOWN__";

/// Dashboard uid: stable per deployment and within Grafana's 40-character limit.
pub fn dashboard_uid(deployment_id: &str) -> String {
    let digest = Sha256::digest(deployment_id.as_bytes());
    format!("aviary-{}", &hex::encode(digest)[..12])
}

struct Layout {
    next_id: u32,
    y: u32,
    column: u32,
    panels: Vec<Value>,
}

impl Layout {
    fn id(&mut self) -> u32 {
        self.next_id += 1;
        self.next_id
    }

    fn row(&mut self, title: &str) {
        if self.column != 0 {
            self.y += 8;
            self.column = 0;
        }
        let id = self.id();
        self.panels.push(json!({
            "id": id, "type": "row", "title": title, "collapsed": false, "panels": [],
            "gridPos": {"h": 1, "w": 24, "x": 0, "y": self.y}
        }));
        self.y += 1;
    }

    fn panel(&mut self, title: &str, description: &str, unit: &str, datasource: Value, targets: Vec<Value>) {
        let id = self.id();
        self.panels.push(json!({
            "id": id, "type": "timeseries", "title": title, "description": description,
            "datasource": datasource,
            "gridPos": {"h": 8, "w": 12, "x": self.column * 12, "y": self.y},
            "fieldConfig": {
                "defaults": {"unit": unit, "custom": {"lineWidth": 2, "fillOpacity": 0, "spanNulls": true}},
                "overrides": [role_colour("baseline", "blue"), role_colour("canary", "orange")]
            },
            "options": {
                "legend": {"displayMode": "table", "placement": "bottom", "calcs": ["mean", "max", "lastNotNull"]},
                "tooltip": {"mode": "multi", "sort": "none"}
            },
            "targets": targets
        }));
        self.column = (self.column + 1) % 2;
        if self.column == 0 {
            self.y += 8;
        }
    }
}

fn role_colour(role: &str, colour: &str) -> Value {
    json!({
        "matcher": {"id": "byRegexp", "options": format!("^{role}.*")},
        "properties": [{"id": "color", "value": {"mode": "fixed", "fixedColor": colour}}]
    })
}

fn prometheus() -> Value {
    json!({"type": "prometheus", "uid": PROMETHEUS_UID})
}

fn cloudwatch() -> Value {
    json!({"type": "cloudwatch", "uid": CLOUDWATCH_UID})
}

fn prom_target(ref_id: &str, q: &Query, legend: &str) -> Value {
    json!({
        "refId": ref_id, "datasource": prometheus(), "expr": q.expr(SELECTOR, RATE_WINDOW),
        "legendFormat": legend, "range": true
    })
}

fn prom_panel(l: &mut Layout, q: &Query, description: &str) {
    l.panel(q.title, description, q.unit, prometheus(), vec![prom_target("A", q, "{{role}}")]);
}

/// One CloudWatch target per role and statistic.
fn alb_targets(ctx: &MonitorContext, lb: &str, metric: &str, stats: &[&str]) -> Vec<Value> {
    let tgs = ctx.target_group_dimensions();
    let mut targets = Vec::new();
    for stat in stats {
        for (i, role) in ROLES.iter().enumerate() {
            let ref_id = ((b'A' + targets.len() as u8) as char).to_string();
            let label = if stats.len() > 1 { format!("{role} {stat}") } else { role.to_string() };
            targets.push(json!({
                "refId": ref_id, "datasource": cloudwatch(), "queryMode": "Metrics",
                "metricQueryType": 0, "metricEditorMode": 0, "region": ctx.region,
                "namespace": "AWS/ApplicationELB", "metricName": metric, "statistic": stat, "period": "60",
                "dimensions": {"LoadBalancer": lb, "TargetGroup": tgs[i]}, "matchExact": true,
                "label": label, "id": "", "expression": ""
            }));
        }
    }
    targets
}

pub fn render_dashboard(spec: &DeploymentSpec, ctx: &MonitorContext) -> Value {
    let mut l = Layout { next_id: 0, y: 0, column: 0, panels: Vec::new() };

    if let Some(path) = &spec.monitoring.app_metrics_path {
        l.row(&format!("Application ({path} on port {})", spec.app_port));
        prom_panel(
            &mut l,
            &queries::REQUEST_RATE,
            "Requests per second the application counted (http_requests_total).",
        );
        prom_panel(&mut l, &queries::ERROR_RATIO, "Share of requests answered with a 5xx status.");
        prom_panel(&mut l, &queries::LATENCY_P50, "Median request duration (http_request_duration_seconds histogram).");
        prom_panel(&mut l, &queries::LATENCY_P99, "99th percentile request duration.");
    }

    let lb = load_balancer_dimension(&spec.listener_arn).unwrap_or_else(|| UNKNOWN_LOAD_BALANCER.to_string());
    l.row("Load balancer, per target group (CloudWatch, 1-minute periods)");
    let alb = [
        ("Requests", "RequestCount", "short", vec!["Sum"], "Requests the ALB routed to each target group."),
        (
            "Target 5XX responses",
            "HTTPCode_Target_5XX_Count",
            "short",
            vec!["Sum"],
            "5xx responses generated by the targets.",
        ),
        (
            "Target 4XX responses",
            "HTTPCode_Target_4XX_Count",
            "short",
            vec!["Sum"],
            "4xx responses generated by the targets.",
        ),
        (
            "Target response time",
            "TargetResponseTime",
            "s",
            vec!["Average", "p99"],
            "Seconds from request sent to target until response headers received.",
        ),
    ];
    for (title, metric, unit, stats, description) in alb {
        let targets = alb_targets(ctx, &lb, metric, &stats);
        l.panel(title, description, unit, cloudwatch(), targets);
    }

    l.row("Instances (node exporter)");
    prom_panel(&mut l, &queries::CPU_BUSY, "Average share of CPU time not idle.");
    prom_panel(&mut l, &queries::MEMORY_USED, "1 - MemAvailable / MemTotal.");
    l.panel(
        "Network",
        "Bytes per second on physical interfaces (container bridges excluded).",
        "Bps",
        prometheus(),
        vec![
            prom_target("A", &queries::NETWORK_RECEIVE, "{{role}} received"),
            prom_target("B", &queries::NETWORK_TRANSMIT, "{{role}} sent"),
        ],
    );
    l.panel(
        "Disk I/O",
        "Bytes per second read from and written to block devices.",
        "Bps",
        prometheus(),
        vec![
            prom_target("A", &queries::DISK_READ, "{{role}} read"),
            prom_target("B", &queries::DISK_WRITE, "{{role}} written"),
        ],
    );
    prom_panel(&mut l, &queries::DISK_USED, "Share of the root filesystem in use.");

    let id = &ctx.deployment_id;
    json!({
        "uid": dashboard_uid(id),
        "title": format!("Aviary {}: baseline vs canary", spec.name),
        "description": format!("Deployment {id}. Generated by Aviary; changes made in the UI are not kept."),
        "tags": ["aviary", spec.name],
        "timezone": "browser",
        "schemaVersion": 39,
        "version": 1,
        "editable": false,
        "graphTooltip": 1,
        "refresh": "30s",
        "time": {"from": "now-1h", "to": "now"},
        "templating": {"list": [{
            "name": "deployment", "label": "Deployment", "type": "constant", "hide": 2,
            "query": id, "current": {"text": id, "value": id, "selected": false},
            "options": [{"text": id, "value": id, "selected": true}]
        }]},
        "annotations": {"list": []},
        "links": [],
        "panels": l.panels
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::AlbDimensions;
    use crate::grafana::{render_datasources, DATASOURCES};
    use crate::render::tests::spec;

    fn targets(d: &Value) -> Vec<&Value> {
        d["panels"].as_array().unwrap().iter().flat_map(|p| p["targets"].as_array().into_iter().flatten()).collect()
    }

    #[test]
    fn structure_is_valid_and_datasources_exist() {
        let ctx = MonitorContext::new("web-0123456789", "eu-west-1");
        let d = render_dashboard(&spec(Some("/metrics")), &ctx);
        let provisioning = render_datasources(&ctx);
        let panels = d["panels"].as_array().unwrap();
        let mut ids = std::collections::HashSet::new();
        for p in panels {
            assert!(ids.insert(p["id"].as_u64().unwrap()), "duplicate panel id");
            let g = &p["gridPos"];
            assert!(g["x"].as_u64().unwrap() + g["w"].as_u64().unwrap() <= 24);
            if p["type"] == "row" {
                continue;
            }
            assert_eq!(p["type"], "timeseries");
            let ts = p["targets"].as_array().unwrap();
            assert!(!ts.is_empty(), "{}", p["title"]);
            let mut refs: Vec<&str> = ts.iter().map(|t| t["refId"].as_str().unwrap()).collect();
            refs.dedup();
            assert_eq!(refs.len(), ts.len(), "refIds unique in {}", p["title"]);
            for t in ts {
                let uid = t["datasource"]["uid"].as_str().unwrap();
                let kind = t["datasource"]["type"].as_str().unwrap();
                assert!(DATASOURCES.contains(&(uid, kind)), "{uid}/{kind}");
                assert!(provisioning.contains(&format!("uid: \"{uid}\"")));
                assert_eq!(t["datasource"], p["datasource"], "panel and target datasource agree");
            }
        }
        assert!(d["uid"].as_str().unwrap().len() <= 40);
        assert_eq!(d["templating"]["list"][0]["query"], "web-0123456789");
    }

    #[test]
    fn prometheus_targets_use_the_variables() {
        let d = render_dashboard(&spec(Some("/metrics")), &MonitorContext::new("web-1", "eu-west-1"));
        let exprs: Vec<&str> = targets(&d).iter().filter_map(|t| t["expr"].as_str()).collect();
        assert_eq!(exprs.len(), 11);
        for e in &exprs {
            assert!(e.contains("deployment=\"$deployment\""), "{e}");
            assert!(e.contains("by (role"), "{e}");
        }
        assert!(exprs.iter().any(|e| e.contains("histogram_quantile(0.99")));
        assert!(exprs.iter().any(|e| e.contains("http_requests_total")));
    }

    #[test]
    fn app_panels_only_with_a_metrics_path() {
        let d = render_dashboard(&spec(None), &MonitorContext::new("web-1", "eu-west-1"));
        let text = d.to_string();
        assert!(!text.contains("http_requests_total") && !text.contains("http_request_duration"));
        assert!(text.contains("node_cpu_seconds_total"));
    }

    #[test]
    fn alb_panels_cover_both_target_groups() {
        let mut ctx = MonitorContext::new("web-1", "eu-west-1");
        let d = render_dashboard(&spec(None), &ctx);
        let cw: Vec<&Value> = targets(&d).into_iter().filter(|t| t["datasource"]["type"] == "cloudwatch").collect();
        let metrics: std::collections::BTreeSet<&str> = cw.iter().map(|t| t["metricName"].as_str().unwrap()).collect();
        assert_eq!(
            metrics.into_iter().collect::<Vec<_>>(),
            ["HTTPCode_Target_4XX_Count", "HTTPCode_Target_5XX_Count", "RequestCount", "TargetResponseTime"]
        );
        for t in &cw {
            assert_eq!(t["dimensions"]["LoadBalancer"], "app/web/50dc6c495c0c9188");
            assert_eq!(t["namespace"], "AWS/ApplicationELB");
            assert_eq!(t["region"], "eu-west-1");
        }
        let text = d.to_string();
        assert!(text.contains("__AVIARY_TG_BASELINE__") && text.contains("__AVIARY_TG_CANARY__"));

        ctx.alb = AlbDimensions::Known {
            baseline_target_group: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/av-1-b/aaaa".into(),
            canary_target_group: "targetgroup/av-1-c/bbbb".into(),
        };
        let text = render_dashboard(&spec(None), &ctx).to_string();
        assert!(!text.contains("__AVIARY_TG_"));
        assert!(text.contains("\"TargetGroup\":\"targetgroup/av-1-b/aaaa\""));
        assert!(text.contains("\"TargetGroup\":\"targetgroup/av-1-c/bbbb\""));
    }
}
