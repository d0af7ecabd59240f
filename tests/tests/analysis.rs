//! Canary analysis end to end: the Prometheus source against an in-process fake Prometheus
//! (hermetic), and `run_analysis` / the `analyze` function against the emulator — CloudWatch
//! data written for a real ACTIVE deployment's two target groups (a regressed canary fails, a
//! healthy one passes, both are stored, listed and logged), the Prometheus starter config
//! through the fake server, and every refusal (unknown deployment, no target groups, bad
//! configs, metric store errors).

mod alb_metrics;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use alb_metrics::{noise, put_alb_metrics};
use aviary_analysis::live;
use aviary_analysis::metrics::prometheus::PrometheusSource;
use aviary_analysis::metrics::{queries_from_config, MetricQuery, MetricSource, TimeWindow};
use aviary_analysis::{
    get_analysis, list_analyses, run_analysis, AnalysisError, AnalysisPorts, AnalysisRecord, AnalysisRequest, SourceChoice, TimeSpec,
};
use aviary_aws::cloudwatch::SdkCloudWatch;
use aviary_aws::store::DynamoStore;
use aviary_core::clock::{rfc3339_ms, Clock, ManualClock, SystemClock};
use aviary_core::model::{Deployment, Resources, Source};
use aviary_core::spec::parse_and_validate;
use aviary_core::status::Status;
use aviary_judge::{Label, ScoreThresholds, Verdict};
use aviary_monitoring::context::{load_balancer_dimension, target_group_dimension};
use aviary_tests::{harness, Harness};
use axum::extract::Query;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

// ---------------------------------------------------------------------------------------------
// A fake Prometheus: answers query_range from the query's text, and records every query.
// ---------------------------------------------------------------------------------------------


/// Value `i` of `role` for the metric the query reads: latency and 5xx regressed on the
/// canary, CPU and memory the same distribution on both.
fn fake_value(query: &str, role: &str, i: usize) -> f64 {
    let canary = role == "canary";
    let u = noise(i, if canary { 7 } else { 3 });
    if query.contains("http_request_duration_seconds_bucket") {
        (0.1 + 0.02 * u) * if canary { 1.4 } else { 1.0 }
    } else if query.contains("code=~") {
        if canary {
            0.05 + 0.01 * u
        } else {
            0.01 + 0.01 * u
        }
    } else if query.contains("node_cpu") {
        30.0 + 5.0 * u
    } else {
        40.0 + 3.0 * u
    }
}

fn fake_answer(p: &HashMap<String, String>) -> (StatusCode, Json<Value>) {
    let q = p.get("query").cloned().unwrap_or_default();
    if q.contains("syntax_error") {
        return (StatusCode::BAD_REQUEST, Json(json!({"status": "error", "errorType": "bad_data", "error": "1:1: parse error"})));
    }
    if q.contains("empty_metric") {
        return (StatusCode::OK, Json(json!({"status": "success", "data": {"resultType": "matrix", "result": []}})));
    }
    let num = |k: &str| p.get(k).and_then(|v| v.parse::<f64>().ok()).expect("start/end/step");
    let (start, end, step) = (num("start"), num("end"), num("step"));
    let roles: Vec<&str> = ["baseline", "canary"].into_iter().filter(|r| !q.contains("role=\"") || q.contains(&format!("role=\"{r}\""))).collect();
    let by_role = q.contains("by (role");
    let result: Vec<Value> = roles
        .iter()
        .map(|role| {
            let n = ((end - start) / step).round() as usize + 1;
            let values: Vec<Value> = (0..n)
                .filter(|i| !(q.contains("gappy") && i % 2 == 1))
                .map(|i| {
                    let v = if q.contains("gappy") && i == 2 { "NaN".to_string() } else { fake_value(&q, role, i).to_string() };
                    json!([start + i as f64 * step, v])
                })
                .collect();
            let metric = if by_role { json!({"role": role}) } else { json!({}) };
            json!({"metric": metric, "values": values})
        })
        .collect();
    (StatusCode::OK, Json(json!({"status": "success", "data": {"resultType": "matrix", "result": result}})))
}

struct FakePrometheus {
    url: String,
    queries: Arc<Mutex<Vec<String>>>,
}

impl FakePrometheus {
    async fn start() -> FakePrometheus {
        let queries = Arc::new(Mutex::new(Vec::new()));
        let seen = queries.clone();
        let app = Router::new().route("/-/ready", get(|| async { "Prometheus Server is Ready.\n" })).route(
            "/api/v1/query_range",
            get(move |Query(p): Query<HashMap<String, String>>| {
                let seen = seen.clone();
                async move {
                    seen.lock().unwrap().push(p.get("query").cloned().unwrap_or_default());
                    fake_answer(&p)
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        FakePrometheus { url: format!("http://{addr}/"), queries }
    }

    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.queries.lock().unwrap())
    }
}

/// A loopback URL nothing listens on.
fn closed_url() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    format!("http://127.0.0.1:{port}/")
}

fn prom_query(name: &str, query: Value) -> MetricQuery {
    queries_from_config(&json!({"metrics": [{"name": name, "query": query}]})).unwrap().remove(0)
}

#[tokio::test]
async fn prometheus_source_reads_query_range_from_a_fake_server() {
    let fake = FakePrometheus::start().await;
    let src = PrometheusSource::new(&fake.url, "web-0123456789");
    src.ready(Duration::from_secs(2)).await.expect("ready");
    let now = SystemClock.now_secs();
    let window = TimeWindow::new(now - 600, now, 60).unwrap();

    // Kayenta-style template: one query per role, scoped to the deployment.
    let q = prom_query("rate", json!({"type": "prometheus", "customInlineTemplate": "PromQL:avg(rate(x_total{deployment=\"${deployment}\",role=\"${scope}\"}[1m]))"}));
    let s = src.fetch(&q, &window).await.unwrap();
    assert_eq!((s.baseline.len(), s.canary.len()), (10, 10));
    assert_eq!(
        fake.take(),
        vec![
            r#"avg(rate(x_total{deployment="web-0123456789",role="baseline"}[1m]))"#.to_string(),
            r#"avg(rate(x_total{deployment="web-0123456789",role="canary"}[1m]))"#.to_string()
        ]
    );

    // A dashboard-style `by (role)` query without ${scope}: run once, split by the role label.
    let q = prom_query(
        "p50",
        json!({"type": "prometheus", "promql": "histogram_quantile(0.5, sum by (role, le) (rate(http_request_duration_seconds_bucket{deployment=\"${deployment}\"}[1m])))"}),
    );
    let s = src.fetch(&q, &window).await.unwrap();
    assert_eq!(fake.take().len(), 1);
    for i in 0..10 {
        assert!(s.baseline[i] >= 0.1 && s.baseline[i] < 0.12 && s.canary[i] >= 0.14, "{i}: {} {}", s.baseline[i], s.canary[i]);
    }

    // Missing steps and "NaN" samples are NaN on the grid.
    let q = prom_query("gaps", json!({"type": "prometheus", "customInlineTemplate": "PromQL:gappy{role=\"${scope}\"}"}));
    let s = src.fetch(&q, &window).await.unwrap();
    assert!(s.baseline[0].is_finite() && s.baseline[1].is_nan() && s.baseline[2].is_nan() && s.baseline[4].is_finite());

    // metricName queries are averaged over the role's series.
    let q = prom_query("load", json!({"type": "prometheus", "metricName": "node_load1"}));
    src.fetch(&q, &window).await.unwrap();
    assert!(fake.take().contains(&r#"avg(node_load1{deployment="web-0123456789",role="canary"})"#.to_string()));

    // No series: no samples. Prometheus errors keep their type; unsupported kinds are refused.
    let q = prom_query("none", json!({"type": "prometheus", "promql": "empty_metric{role=\"${scope}\"}"}));
    let s = src.fetch(&q, &window).await.unwrap();
    assert!(s.baseline.is_empty() && s.canary.is_empty());
    let q = prom_query("bad", json!({"type": "prometheus", "promql": "syntax_error{role=\"${scope}\"}"}));
    let e = src.fetch(&q, &window).await.unwrap_err();
    assert_eq!(e.name(), "PrometheusQueryError");
    assert!(e.to_string().contains("bad_data"), "{e}");
    let q = prom_query("cw", json!({"type": "cloudwatch", "metricName": "TargetResponseTime"}));
    assert!(!src.supports(&q));
    assert_eq!(src.fetch(&q, &window).await.unwrap_err().name(), "UnsupportedQuery");

    // Nothing listening.
    let gone = PrometheusSource::new(&closed_url(), "web-0123456789");
    assert_eq!(gone.ready(Duration::from_secs(2)).await.unwrap_err().name(), "PrometheusUnreachable");
    let q = prom_query("rate", json!({"type": "prometheus", "metricName": "x"}));
    let e = gone.fetch(&q, &window).await.unwrap_err();
    assert!(e.is_transient() && e.name() == "PrometheusUnreachable", "{e}");
}

/// The analysis ports as the `analyze` function wires them (the deployment table for
/// deployments, events and analyses; CloudWatch), with CloudWatch through the bridge; and the
/// bridged client, for writing metrics.
async fn with_cloudwatch_bridge(h: &Harness) -> (AnalysisPorts, aws_sdk_cloudwatch::Client) {
    let cloudwatch = h.rt.cloudwatch();
    let table = Arc::new(DynamoStore::from_conf(&h.rt.config, &h.rt.names.table));
    let ports = AnalysisPorts::new(h.rt.ports.clone().with_store(table.clone()))
        .with_analyses(table)
        .with_cloudwatch(Arc::new(SdkCloudWatch::new(cloudwatch.clone())));
    (ports, cloudwatch)
}

// ---------------------------------------------------------------------------------------------
// The emulator.
// ---------------------------------------------------------------------------------------------

fn invalid_fields(e: &AnalysisError) -> Vec<String> {
    match e {
        AnalysisError::InvalidRequest { fields } => fields.iter().map(|f| f.field.clone()).collect(),
        e => panic!("expected InvalidRequest, got {} ({e})", e.name()),
    }
}

fn label(r: &AnalysisRecord, metric: &str) -> (Label, bool) {
    let m = r.report.metrics.iter().find(|m| m.name == metric).unwrap_or_else(|| panic!("{metric} in the report"));
    (m.label, m.critical)
}

/// Writes per-minute ALB metrics for one target group, as the ALB would (5xx only for minutes
/// that had any).
fn between(start: i64, end: i64) -> AnalysisRequest {
    AnalysisRequest {
        source: SourceChoice::Cloudwatch,
        start: Some(TimeSpec::Text(rfc3339_ms(start * 1000))),
        end: Some(TimeSpec::Text(rfc3339_ms(end * 1000))),
        ..Default::default()
    }
}

/// An ACTIVE canary from the sample upload, with the CloudWatch dimensions of its load
/// balancer and target groups.
struct Active {
    id: String,
    lb: String,
    b_tg: String,
    c_tg: String,
}

async fn active_canary(h: &Harness) -> Active {
    let id = h.upload("web").await;
    let d = h.rt.wait_for(&id, "ACTIVE", Duration::from_secs(60), |s| s == Status::Active || s.is_final()).await.unwrap();
    assert_eq!(d.status, Status::Active, "{:?}", d.status_reason);
    let lb = load_balancer_dimension(&h.env.listener_arn).expect("LoadBalancer dimension");
    let tg = |arn: &Option<String>| target_group_dimension(arn.as_deref().expect("target group")).unwrap();
    let (b_tg, c_tg) = (tg(&d.resources.baseline_target_group_arn), tg(&d.resources.canary_target_group_arn));
    Active { id, lb, b_tg, c_tg }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloudwatch_analysis_fails_a_regressed_canary_and_passes_a_healthy_one() {
    let h = harness(None).await;
    let (aws, cw) = with_cloudwatch_bridge(&h).await;
    let Active { id, lb, b_tg, c_tg } = active_canary(&h).await;

    // Two past half hours: a healthy canary, then one with +40% latency and more 5xx.
    let base = SystemClock.now_secs() / 60 * 60;
    let (healthy, regressed) = (base - 150 * 60, base - 90 * 60);
    let latency = |seed: u64, factor: f64| move |i: usize| factor * (0.100 + 0.020 * noise(i, seed));
    let few_errors = |seed: u64| move |i: usize| (noise(i, seed) * 3.0) as u32; // 0–2 a minute
    put_alb_metrics(&cw, &lb, &b_tg, healthy, 30, latency(1, 1.0), few_errors(21)).await;
    put_alb_metrics(&cw, &lb, &c_tg, healthy, 30, latency(2, 1.0), few_errors(22)).await;
    put_alb_metrics(&cw, &lb, &b_tg, regressed, 30, latency(3, 1.0), few_errors(23)).await;
    put_alb_metrics(&cw, &lb, &c_tg, regressed, 30, latency(4, 1.4), move |i| 4 + few_errors(24)(i)).await;

    // The regressed half hour, through the library.
    let bad = run_analysis(&aws, &id, &between(regressed, regressed + 1800)).await.expect("analysis");
    assert_eq!(bad.source, "cloudwatch");
    assert_eq!((bad.window.start, bad.window.points(), bad.window.step_seconds), (regressed, 30, 60));
    assert_eq!(label(&bad, "target_response_time"), (Label::High, false));
    assert_eq!(label(&bad, "target_5xx"), (Label::High, true));
    assert_ne!(bad.report.classification, Verdict::Pass);
    assert_eq!((bad.report.classification, bad.report.score), (Verdict::Fail, 0.0));
    let lat = bad.report.metrics.iter().find(|m| m.name == "target_response_time").unwrap();
    assert_eq!((lat.samples.baseline.used, lat.samples.canary.used), (30, 30));
    assert!(lat.effect_size.unwrap().value.unwrap() > 1.3);
    let chart = &bad.series["target_response_time"];
    assert_eq!((chart.baseline.len(), chart.canary.len(), chart.step_seconds), (30, 30, 60));
    assert!((chart.canary[0].unwrap() / latency(4, 1.4)(0) - 1.0).abs() < 1e-5, "chart {:?}", chart.canary[0]);
    assert!(bad.series["target_5xx"].canary.iter().all(|v| v.unwrap() >= 4.0));

    // The healthy half hour, through the analyze function's handler.
    let ok = analyze::handle(
        &aws,
        json!({"deploymentId": id, "source": "cloudwatch",
               "start": rfc3339_ms(healthy * 1000), "end": rfc3339_ms((healthy + 1800) * 1000)}),
    )
    .await
    .expect("analyze");
    assert_eq!((ok.report.classification, ok.report.score), (Verdict::Pass, 100.0), "{}", ok.report.to_table());
    assert!(ok.report.metrics.iter().all(|m| m.label == Label::Pass), "{}", ok.report.to_table());

    // Stored, listed newest first, and logged.
    let back = get_analysis(&aws, &id, &bad.analysis_id).await.unwrap().expect("stored");
    assert_eq!((back.analysis_id.as_str(), back.report.classification, &back.series), (bad.analysis_id.as_str(), Verdict::Fail, &bad.series));
    assert_eq!(back.report.metrics.len(), bad.report.metrics.len());
    assert_eq!(get_analysis(&aws, &id, "an-0000000000000-000000").await.unwrap(), None);
    assert_eq!(get_analysis(&aws, "web-ffffffffff", &bad.analysis_id).await.unwrap(), None);
    let listed = list_analyses(&aws, &id, 10, None).await.unwrap();
    let ids: Vec<&str> = listed.items.iter().map(|s| s.analysis_id.as_str()).collect();
    assert_eq!(ids, vec![ok.analysis_id.as_str(), bad.analysis_id.as_str()]);
    assert_eq!(listed.items[1].classification, Verdict::Fail);
    let page = list_analyses(&aws, &id, 1, None).await.unwrap();
    let rest = list_analyses(&aws, &id, 1, page.next.as_deref()).await.unwrap();
    assert_eq!(rest.items[0].analysis_id, bad.analysis_id);
    let events = h.rt.events(&id).await.unwrap();
    let analyze_events: Vec<&str> = events.iter().filter(|e| e.step == "analyze").map(|e| e.detail.as_str()).collect();
    assert_eq!(analyze_events.len(), 2, "{analyze_events:?}");
    assert!(analyze_events[0].starts_with("judge: Fail, score 0 (cloudwatch, 30 min"), "{}", analyze_events[0]);
    assert!(analyze_events[0].contains("target_5xx High (critical)"), "{}", analyze_events[0]);
    assert!(analyze_events[1].starts_with("judge: Pass, score 100"), "{}", analyze_events[1]);

    // The default window starts at the first whole minute of the ACTIVE period.
    let active_ms = events.iter().find(|e| e.step == "add-listener-rule" && e.detail.contains("traffic shifted")).expect("activation").at_ms;
    let at = |secs: i64| {
        let mut a = aws.clone();
        a.ports.clock = Arc::new(ManualClock::at_secs(secs));
        a
    };
    let e = run_analysis(&at(active_ms / 1000 + 20), &id, &AnalysisRequest::default()).await.unwrap_err();
    assert_eq!(invalid_fields(&e), ["start"]);
    assert!(e.to_string().contains("ACTIVE"), "{e}");
    let later = run_analysis(&at(active_ms / 1000 + 11 * 60), &id, &AnalysisRequest { source: SourceChoice::Cloudwatch, ..Default::default() })
        .await
        .unwrap();
    assert!(later.window.start * 1000 >= active_ms && later.window.start * 1000 < active_ms + 60_000, "{:?}", later.window);
    assert_eq!(later.window.points(), 10);

    // A user's CloudWatch config under `auto`, with thresholds that let a High latency pass.
    let cfg = json!({"metrics": [{"name": "lat", "groups": ["Latency"],
        "query": {"type": "cloudwatch", "metricName": "TargetResponseTime", "statistic": "Maximum"},
        "analysisConfigurations": {"canary": {"direction": "increase"}}},
        {"name": "req", "groups": ["Traffic"], "query": {"type": "cloudwatch", "metricName": "RequestCount", "statistic": "Sum"}}]});
    let req = AnalysisRequest {
        source: SourceChoice::Auto,
        canary_config: Some(cfg.clone()),
        thresholds: Some(ScoreThresholds::new(40.0, 50.0).unwrap()),
        ..between(regressed, regressed + 1800)
    };
    let own = run_analysis(&aws, &id, &req).await.unwrap();
    assert_eq!((own.source.as_str(), &own.canary_config), ("cloudwatch", &cfg));
    assert_eq!(label(&own, "lat").0, Label::High);
    assert_eq!((own.report.score, own.report.classification), (50.0, Verdict::Pass));
}

/// A deployment record as the lifecycle leaves it once ACTIVE (target groups need not exist
/// for Prometheus), written directly.
async fn put_active(h: &Harness, id: &str, with_target_groups: bool) {
    let spec = parse_and_validate(&std::fs::read(h.dir.join("aviary.json")).unwrap()).expect("sample spec");
    let now = SystemClock.now_secs();
    let tg = |role: &str| format!("arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/av-{id}-{role}/0123456789abcdef");
    let d = Deployment {
        id: id.into(),
        name: "web".into(),
        spec: Some(spec),
        raw_spec: None,
        status: if with_target_groups { Status::Active } else { Status::Provisioning },
        status_reason: None,
        status_history: Vec::new(),
        failure_reason: None,
        version: 1,
        source: Source::Api { idempotency_key: id.into() },
        artifact_bucket: h.rt.names.bucket.clone(),
        artifact_prefix: "canaries/web/".into(),
        created_at: now - 3600,
        updated_at: now - 3600,
        expires_at: now + 3600,
        health_deadline: None,
        resources: Resources {
            load_balancer_arn: Some(h.env.load_balancer_arn.clone()),
            baseline_target_group_arn: with_target_groups.then(|| tg("b")),
            canary_target_group_arn: with_target_groups.then(|| tg("c")),
            ..Default::default()
        },
        weights: None,
        monitoring: None,
        execution_arn: None,
        teardown_execution_arn: None,
        created_by: None,
        pinned_artifacts: None,
        traffic_lease_until: None,
    };
    h.rt.ports.store.create(&d).await.expect("record");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_analysis_and_every_refusal() {
    let h = harness(None).await;
    let (aws, _) = with_cloudwatch_bridge(&h).await;
    let fake = FakePrometheus::start().await;
    let id = "web-0a1b2c3d4e";
    put_active(&h, id, true).await;
    put_active(&h, "web-5f6a7b8c9d", false).await;
    let last_30 = |source| AnalysisRequest { source, start: Some(TimeSpec::MinutesAgo(30.0)), ..Default::default() };

    // Unknown deployment; no target groups yet; no Prometheus known.
    let e = run_analysis(&aws, "web-ffffffffff", &last_30(SourceChoice::Cloudwatch)).await.unwrap_err();
    assert_eq!((e.name(), e.http_status()), ("DeploymentNotFound", 404));
    assert!(matches!(e, AnalysisError::NotFound(ref d) if d == "web-ffffffffff"));
    let e = analyze::handle(&aws, json!({"deploymentId": "web-5f6a7b8c9d"})).await.unwrap_err();
    assert_eq!(e.name(), "NotReady");
    assert!(e.to_string().contains("no target groups"), "{e}");
    let e = run_analysis(&aws, id, &last_30(SourceChoice::Prometheus)).await.unwrap_err();
    assert_eq!(e.name(), "NotReady");
    assert!(e.to_string().contains("no Prometheus"), "{e}");

    // The monitoring stack's starter config, through the fake Prometheus.
    let mut req = last_30(SourceChoice::Prometheus);
    req.prometheus_url = Some(fake.url.clone());
    let r = run_analysis(&aws, id, &req).await.expect("prometheus analysis");
    assert_eq!((r.source.as_str(), r.window.points()), ("prometheus", 30));
    assert_eq!(label(&r, "Latency p50"), (Label::High, false));
    assert_eq!(label(&r, "Latency p99"), (Label::High, false));
    assert_eq!(label(&r, "5xx error ratio"), (Label::High, true));
    assert_eq!(label(&r, "CPU busy").0, Label::Pass);
    assert_eq!(label(&r, "Memory used").0, Label::Pass);
    assert_eq!(r.report.classification, Verdict::Fail);
    assert_eq!(r.series["Latency p50"].canary.len(), 30);
    let queries = fake.take();
    assert_eq!(queries.len(), 10, "5 metrics × 2 roles");
    for role in ["baseline", "canary"] {
        let scoped = format!("deployment=\"{id}\",role=\"{role}\"");
        assert_eq!(queries.iter().filter(|q| q.contains(&scoped)).count(), 5, "{role}: {queries:#?}");
    }

    // auto: Prometheus when it answers, else CloudWatch's starter config (with no ALB data
    // here, latency has no data: NodataFailMetric, so an idle canary cannot pass).
    let mut auto = last_30(SourceChoice::Auto);
    auto.prometheus_url = Some(fake.url.clone());
    let r = run_analysis(&aws, id, &auto).await.unwrap();
    assert_eq!(r.source, "prometheus");
    assert!(r.notes[0].contains("answered"), "{:?}", r.notes);
    auto.prometheus_url = Some(closed_url());
    let r = run_analysis(&aws, id, &auto).await.unwrap();
    assert_eq!(r.source, "cloudwatch");
    assert!(r.notes[0].contains("not reachable"), "{:?}", r.notes);
    assert_eq!(label(&r, "target_response_time").0, Label::NodataFailMetric);
    assert_eq!(r.report.classification, Verdict::Fail);

    // A user's Kayenta-style Prometheus config, stored with the record.
    let cfg = json!({"name": "mine", "metrics": [
        {"name": "cpu", "groups": ["System"], "scopeName": "default",
         "query": {"type": "prometheus", "customInlineTemplate": "PromQL:avg(rate(node_cpu_seconds_total{deployment=\"${deployment}\",role=\"${scope}\"}[1m]))"},
         "analysisConfigurations": {"canary": {"direction": "increase"}}}],
        "classifier": {"groupWeights": {"System": 100}}});
    let mut mine = last_30(SourceChoice::Auto);
    mine.prometheus_url = Some(fake.url.clone());
    mine.canary_config = Some(cfg.clone());
    mine.analysis_id = Some("an-1795714098123-abcdef".into());
    let r = run_analysis(&aws, id, &mine).await.unwrap();
    assert_eq!((r.analysis_id.as_str(), r.report.classification, &r.canary_config), ("an-1795714098123-abcdef", Verdict::Pass, &cfg));
    // The same pre-assigned id again is refused, not overwritten.
    assert_eq!(invalid_fields(&run_analysis(&aws, id, &mine).await.unwrap_err()), ["analysisId"]);

    // Bad configs are refused before anything is fetched, naming the field.
    let stored_before = list_analyses(&aws, id, 100, None).await.unwrap().items.len();
    fake.take();
    let with = |cfg: Value, source| AnalysisRequest { canary_config: Some(cfg), prometheus_url: Some(fake.url.clone()), ..last_30(source) };
    let dup = json!({"metrics": [{"name": "a"}, {"name": "a"}]});
    assert_eq!(invalid_fields(&run_analysis(&aws, id, &with(dup, SourceChoice::Auto)).await.unwrap_err()), ["canaryConfig"]);
    let prom_only = json!({"metrics": [{"name": "a", "query": {"type": "prometheus", "metricName": "up"}}]});
    assert_eq!(
        invalid_fields(&run_analysis(&aws, id, &with(prom_only, SourceChoice::Cloudwatch)).await.unwrap_err()),
        ["canaryConfig.metrics[0].query"]
    );
    let mixed = json!({"metrics": [{"name": "a", "query": {"type": "prometheus", "metricName": "up"}},
                                   {"name": "b", "query": {"type": "cloudwatch", "metricName": "RequestCount"}}]});
    assert_eq!(invalid_fields(&run_analysis(&aws, id, &with(mixed, SourceChoice::Auto)).await.unwrap_err()), ["canaryConfig"]);
    let broken = json!({"metrics": [{"name": "a", "query": {"type": "cloudwatch"}}]});
    assert_eq!(
        invalid_fields(&run_analysis(&aws, id, &with(broken, SourceChoice::Auto)).await.unwrap_err()),
        ["canaryConfig.metrics[0].query"]
    );
    let e = analyze::handle(&aws, json!({"deploymentId": id, "start": "yesterday"})).await.unwrap_err();
    assert_eq!(invalid_fields(&e), ["start"]);
    assert!(fake.take().is_empty(), "nothing fetched for refused requests");

    // A metric store error fails the whole analysis and stores nothing.
    let bad_query = json!({"metrics": [{"name": "a", "query": {"type": "prometheus", "promql": "syntax_error{role=\"${scope}\"}"}}]});
    let e = run_analysis(&aws, id, &with(bad_query, SourceChoice::Prometheus)).await.unwrap_err();
    assert_eq!((e.name(), e.http_status()), ("MetricSourceError", 502));
    assert!(e.to_string().contains("bad_data"), "{e}");
    assert_eq!(list_analyses(&aws, id, 100, None).await.unwrap().items.len(), stored_before);
}

/// The live verdict through the real adapters: CloudWatch (through the bridge) and the
/// table's conditional write. Two refreshes at once count each period once; a +30% latency
/// canary is found; the stored state is the one item beside the deployment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_verdict_on_the_emulator_counts_each_period_once_and_finds_a_regression() {
    let h = harness(None).await;
    let (aws, cw) = with_cloudwatch_bridge(&h).await;
    let Active { id, lb, b_tg, c_tg } = active_canary(&h).await;
    let events = h.rt.events(&id).await.unwrap();
    let active = events.iter().find(|e| e.step == "add-listener-rule" && e.detail.contains("traffic shifted")).expect("activation").at_ms / 1000;
    let first = active / 60 * 60 + 60;
    let latency = |seed: u64, factor: f64| move |i: usize| factor * (0.100 + 0.020 * noise(i, seed));
    let few_errors = |seed: u64| move |i: usize| (noise(i, seed) * 3.0) as u32;
    put_alb_metrics(&cw, &lb, &b_tg, first, 60, latency(5, 1.0), few_errors(25)).await;
    put_alb_metrics(&cw, &lb, &c_tg, first, 60, latency(6, 1.3), few_errors(26)).await;
    let at = |secs: i64| {
        let mut a = aws.clone();
        a.ports.clock = Arc::new(ManualClock::at_secs(secs));
        a
    };

    let v = live::refresh_verdict(&at(first + 20 * 60), &id).await.expect("first refresh");
    assert_eq!((v.source.as_str(), v.through), ("cloudwatch", Some(first + 17 * 60)));
    let periods = |v: &live::LiveVerdict| v.metrics.iter().find(|m| m.name == "target_response_time").unwrap().samples;
    assert_eq!((periods(&v).baseline, periods(&v).canary), (17, 17));

    // Two refreshes at once: one stores, the other answers what it stored.
    let (px, py) = (at(first + 40 * 60), at(first + 40 * 60));
    let (x, y) = tokio::join!(live::refresh_verdict(&px, &id), live::refresh_verdict(&py, &id));
    let (x, y) = (x.expect("refresh x"), y.expect("refresh y"));
    assert_eq!(periods(&x), periods(&y));
    assert_eq!(periods(&x).baseline, 37, "17 + 20 periods, none counted twice");

    let v = live::refresh_verdict(&at(first + 63 * 60), &id).await.expect("last refresh");
    let lat = v.metrics.iter().find(|m| m.name == "target_response_time").unwrap();
    assert_eq!(lat.samples.baseline, 60);
    assert_eq!(lat.decision, live::Decision::CanaryWorse, "{v:?}");
    assert_eq!(v.decision, live::Decision::CanaryWorse);
    let errors = v.metrics.iter().find(|m| m.name == "target_5xx").unwrap();
    assert_eq!(errors.decision, live::Decision::NoDifferenceYet, "errors did not change: {errors:?}");
}
