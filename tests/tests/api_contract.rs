//! The API's answers conform to `api/openapi.yaml`: requests covering every route and every
//! documented status below 500 go through the local HTTP front, and each answer (status,
//! content type, body) is checked against the document by `scripts/checks/api_contract.py`
//! (the document validated with openapi-spec-validator, bodies with jsonschema, Draft
//! 2020-12 as OpenAPI 3.1 uses, every `$ref` resolved). The checker is shown to fail on a
//! response that does not conform.
//!
//! `serve_local_api` (ignored) keeps a local API running for outside contract tools
//! (`scripts/checks/api-contract.sh` runs schemathesis against it when it is installed).

mod alb_metrics;
mod api_support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use aviary_local::api_server::ApiServer;
use aviary_core::status::Status;
use serde_json::{json, Value};

use alb_metrics::{noise, put_alb_metrics};
use api_support::{fast, start, Api};
use aviary_core::clock::{rfc3339_ms, Clock, SystemClock};
use aviary_monitoring::context::{load_balancer_dimension, target_group_dimension};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

struct Recorder {
    http: reqwest::Client,
    base: String,
    records: Vec<Value>,
}

impl Recorder {
    async fn send(&mut self, method: &str, path: &str, body: Option<Value>) -> Value {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.http.request(m, format!("{}{path}", self.base));
        if let Some(b) = body {
            req = req.json(&b);
        }
        self.record(method, path, req).await
    }

    async fn raw(&mut self, method: &str, path: &str, body: &'static [u8]) -> Value {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let req = self.http.request(m, format!("{}{path}", self.base)).header("content-type", "application/json").body(body.to_vec());
        self.record(method, path, req).await
    }

    async fn record(&mut self, method: &str, path: &str, req: reqwest::RequestBuilder) -> Value {
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let content_type = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        let text = r.text().await.unwrap();
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        assert!(status < 500 || status == 501, "{method} {path} answered {status}: {body}");
        self.records.push(json!({"method": method, "path": path, "status": status, "contentType": content_type, "body": body}));
        body
    }
}

fn check(records: &[Value]) -> (bool, String) {
    let file = std::env::temp_dir().join(format!("aviary-api-contract-{}-{}.json", std::process::id(), records.len()));
    std::fs::write(&file, serde_json::to_vec_pretty(records).unwrap()).unwrap();
    let out = std::process::Command::new(root().join(".venv/bin/python"))
        .arg(root().join("scripts/checks/api_contract.py"))
        .arg(root().join("api/openapi.yaml"))
        .arg(&file)
        .output()
        .expect("run .venv/bin/python (scripts/setup.sh creates it)");
    let _ = std::fs::remove_file(&file);
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

async fn exercise(api: &Api, rec: &mut Recorder) {
    api.put_artifacts("web").await;
    let spec = api.spec("web");
    // POST /deployments: 201, 200 (retry), 409 (the key with another spec), 400, 413.
    let created = rec.send("POST", "/deployments", Some(json!({"spec": spec, "idempotencyKey": "contract-1"}))).await;
    let id = created["id"].as_str().unwrap().to_string();
    rec.send("POST", "/deployments", Some(json!({"spec": spec, "idempotencyKey": "contract-1"}))).await;
    let mut changed = spec.clone();
    changed["trafficPercent"] = json!(7);
    let reused = rec.send("POST", "/deployments", Some(json!({"spec": changed, "idempotencyKey": "contract-1"}))).await;
    assert_eq!(reused["error"], "IdempotencyKeyReused", "{reused}");
    rec.send("POST", "/deployments", Some(json!({"spec": {"name": "Bad"}}))).await;
    rec.raw("POST", "/deployments", b"{\"spec\":").await;
    rec.send("POST", "/deployments", Some(json!({"spec": spec, "pad": "x".repeat(300 * 1024)}))).await;
    let active = api.wait(&id, Status::Active).await;

    // Reads.
    rec.send("GET", "/deployments", None).await;
    let page = rec.send("GET", "/deployments?status=ACTIVE&limit=1", None).await;
    assert!(page["items"].as_array().is_some_and(|i| i.len() == 1));
    rec.send("GET", "/deployments?limit=0", None).await;
    rec.send("GET", &format!("/deployments/{id}"), None).await;
    rec.send("GET", "/deployments/nothing-0123456789", None).await;
    rec.send("GET", "/deployments/Bad_Id", None).await;
    rec.send("GET", &format!("/deployments/{id}/events?limit=3"), None).await;
    rec.send("GET", &format!("/deployments/{id}/events?cursor=zz"), None).await;
    rec.send("GET", "/deployments/nothing-0123456789/events", None).await;
    rec.send("GET", "/environment", None).await;
    rec.send("GET", "/environment?x=1", None).await;

    // Credentials: 404 until the monitor stored its password, then 200; 400.
    rec.send("GET", &format!("/deployments/{id}/credentials"), None).await;
    api.rt.store_monitor_password(&id, "contract-password").await.unwrap();
    let login = rec.send("GET", &format!("/deployments/{id}/credentials"), None).await;
    assert_eq!(login["password"], "contract-password", "{login}");
    rec.send("GET", &format!("/deployments/{id}/credentials?x=1"), None).await;

    // Traffic: 200, 400, 404, 409, 413.
    rec.send("PATCH", &format!("/deployments/{id}/traffic"), Some(json!({"trafficPercent": 10, "stickiness": {"enabled": false, "durationSeconds": 0}}))).await;
    rec.send("PATCH", &format!("/deployments/{id}/traffic"), Some(json!({"trafficPercent": 99}))).await;
    rec.send("PATCH", "/deployments/nothing-0123456789/traffic", Some(json!({"trafficPercent": 10}))).await;
    rec.send("PATCH", &format!("/deployments/{id}/traffic"), Some(json!({"conditions": {"pathPatterns": ["/x"]}, "pad": "y".repeat(300 * 1024)}))).await;

    // Uploads: 200, 400, 413.
    rec.send("POST", "/uploads", Some(json!({"name": "web", "files": [{"file": "aviary.json", "contentLength": 10}, {"file": "canary.tar", "contentLength": 2048}]}))).await;
    rec.send("POST", "/uploads", Some(json!({"name": "web", "files": [{"file": "../run.sh", "contentLength": 10}]}))).await;
    rec.send("POST", "/uploads", Some(json!({"name": "web", "files": [], "pad": "z".repeat(300 * 1024)}))).await;

    // Analyses: 201 and 200 on half an hour of both groups' ALB metrics (put through the local
    // runtime's CloudWatch bridge, which the API front reads too); 400, 404.
    let cw = api.rt.cloudwatch();
    let lb = load_balancer_dimension(&api.env.listener_arn).expect("LoadBalancer dimension");
    let start = SystemClock.now_secs() / 60 * 60 - 90 * 60;
    for (arn, seed) in [(&active.resources.baseline_target_group_arn, 1), (&active.resources.canary_target_group_arn, 2)] {
        let tg = target_group_dimension(arn.as_deref().expect("target group")).expect("TargetGroup dimension");
        put_alb_metrics(&cw, &lb, &tg, start, 30, move |i| 0.100 + 0.020 * noise(i, seed), |_| 0).await;
    }
    let window = json!({"source": "cloudwatch", "start": rfc3339_ms(start * 1000), "end": rfc3339_ms((start + 1800) * 1000)});
    let stored = rec.send("POST", &format!("/deployments/{id}/analyses"), Some(window)).await;
    let aid = stored["analysisId"].as_str().unwrap_or_else(|| panic!("a stored analysis: {stored}")).to_string();
    let back = rec.send("GET", &format!("/deployments/{id}/analyses/{aid}"), None).await;
    assert_eq!(back["analysisId"], aid.as_str(), "{back}");
    rec.send("POST", &format!("/deployments/{id}/analyses"), Some(json!({}))).await;
    rec.send("POST", "/deployments/Bad_Id/analyses", Some(json!({}))).await;
    rec.send("POST", "/deployments/nothing-0123456789/analyses", Some(json!({}))).await;
    rec.send("GET", &format!("/deployments/{id}/analyses/a-1"), None).await;
    rec.send("GET", &format!("/deployments/{id}/analyses/a%20b"), None).await;

    // The live verdict: 200 (the canary just took traffic: no period has closed yet), 400, 404.
    let v = rec.send("GET", &format!("/deployments/{id}/verdict"), None).await;
    assert_eq!(v["decision"], "no-difference-yet", "{v}");
    rec.send("GET", &format!("/deployments/{id}/verdict?x=1"), None).await;
    rec.send("GET", "/deployments/nothing-0123456789/verdict", None).await;

    // Routing errors.
    rec.send("GET", "/nope", None).await;
    rec.send("PUT", "/deployments", None).await;

    // Destroy: 202 (twice), 400, 404; then the traffic change is a 409.
    rec.send("DELETE", &format!("/deployments/{id}"), None).await;
    rec.send("DELETE", &format!("/deployments/{id}"), None).await;
    rec.send("DELETE", "/deployments/Bad_Id", None).await;
    rec.send("DELETE", "/deployments/nothing-0123456789", None).await;
    rec.send("PATCH", &format!("/deployments/{id}/traffic"), Some(json!({"trafficPercent": 10}))).await;
    api.wait_final(&id).await;
    rec.send("GET", &format!("/deployments/{id}"), None).await;
    rec.send("DELETE", &format!("/deployments/{id}"), None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_conforms_to_the_openapi_document() {
    let api = start(fast()).await;
    let server = ApiServer::start(&api.rt).await.unwrap();
    let mut rec = Recorder { http: reqwest::Client::new(), base: server.url.clone(), records: Vec::new() };
    exercise(&api, &mut rec).await;
    server.stop().await;

    let (ok, report) = check(&rec.records);
    assert!(ok, "responses do not conform to api/openapi.yaml:\n{report}");
    assert!(report.contains("0 problems"), "{report}");

    // The checker can fail: a body missing a required field, an undocumented status, an
    // undocumented field, a wrong enum value.
    let deployment = rec.records.iter().find(|r| r["status"] == 200 && r["method"] == "GET" && r["path"].as_str().unwrap().starts_with("/deployments/")).unwrap().clone();
    type Mutation = Box<dyn Fn(&mut Value)>;
    let mutations: Vec<(&str, Mutation)> = vec![
        ("missing links", Box::new(|r| drop(r["body"].as_object_mut().unwrap().remove("links")))),
        ("undocumented status", Box::new(|r| r["status"] = json!(418))),
        ("undocumented field", Box::new(|r| r["body"]["surprise"] = json!(1))),
        ("unknown status value", Box::new(|r| r["body"]["status"] = json!("SLEEPING"))),
        ("not JSON", Box::new(|r| r["contentType"] = json!("text/plain"))),
    ];
    for (what, mutate) in mutations {
        let mut broken = rec.records.clone();
        let mut bad = deployment.clone();
        mutate(&mut bad);
        broken.push(bad);
        let (ok, report) = check(&broken);
        assert!(!ok, "the checker must reject {what}:\n{report}");
    }
    // And coverage: dropping every 409 leaves a documented status unexercised.
    let without_409: Vec<Value> = rec.records.iter().filter(|r| r["status"] != 409).cloned().collect();
    let (ok, report) = check(&without_409);
    assert!(!ok && report.contains("never answered 409"), "{report}");
}

/// Serves the local API until killed, writing its URL to `$AVIARY_API_URL_FILE`, with one
/// ACTIVE deployment (its id in `$AVIARY_API_URL_FILE.id`). For `scripts/checks/api-contract.sh`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a server for outside tools; run by scripts/checks/api-contract.sh"]
async fn serve_local_api() {
    let api = start(fast()).await;
    let d = api.active("web").await;
    let server = ApiServer::start(&api.rt).await.unwrap();
    println!("local API: {} (deployment {})", server.url, d.id);
    if let Ok(file) = std::env::var("AVIARY_API_URL_FILE") {
        std::fs::write(format!("{file}.id"), &d.id).unwrap();
        std::fs::write(&file, &server.url).unwrap();
    }
    let limit: u64 = std::env::var("AVIARY_API_SERVE_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(600);
    tokio::time::sleep(Duration::from_secs(limit)).await;
}
