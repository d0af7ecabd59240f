//! The API over HTTP through the local front (`aviary_local::api_server`), as a client sees
//! it: a canary's whole life through the API with the ALB rule checked at every step, the
//! upload path through presigned URLs, and HTTP-level errors.

mod api_support;

use std::time::Duration;

use aviary_local::api_server::{ApiServer, LOCAL_CALLER};
use aviary_core::status::Status;
use reqwest::StatusCode;
use serde_json::{json, Value};

use api_support::{canary_rule, fast, start};

async fn json_of(r: reqwest::Response) -> (StatusCode, Value) {
    let status = r.status();
    assert_eq!(r.headers().get("content-type").and_then(|v| v.to_str().ok()), Some("application/json"));
    (status, r.json().await.expect("a JSON body"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_canary_lives_and_dies_through_the_http_api() {
    let api = start(fast()).await;
    let server = ApiServer::start(&api.rt).await.unwrap();
    assert!(server.url.starts_with("http://127.0.0.1:"), "loopback only: {}", server.url);
    let http = reqwest::Client::new();
    let listener = api.env.listener_arn.clone();
    let before = api.rt.rules(&listener).await.unwrap();
    api.put_artifacts("web").await;

    // Create, and retry with the same idempotency key: one deployment.
    let create = || {
        http.post(format!("{}/deployments", server.url))
            .header("Idempotency-Key", "deploy-web-1")
            .json(&json!({ "spec": api.spec("web") }))
            .send()
    };
    let (status, created) = json_of(create().await.unwrap()).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    let (status, again) = json_of(create().await.unwrap()).await;
    assert_eq!((status, again["id"].as_str().unwrap()), (StatusCode::OK, id.as_str()));
    let (_, list) = json_of(http.get(format!("{}/deployments", server.url)).send().await.unwrap()).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "one deployment for one key: {list}");

    api.wait(&id, Status::Active).await;
    let (status, d) = json_of(http.get(format!("{}/deployments/{id}", server.url)).send().await.unwrap()).await;
    assert_eq!((status, d["status"].as_str().unwrap()), (StatusCode::OK, "ACTIVE"));
    let rules = api.rt.rules(&listener).await.unwrap();
    assert_eq!(canary_rule(&rules).forward.iter().map(|t| t.weight).collect::<Vec<_>>(), vec![900, 50, 50]);
    assert_eq!(canary_rule(&rules).stickiness_seconds, Some(600));
    assert_eq!(canary_rule(&rules).conditions, vec!["http-request-method:GET,HEAD".to_string()]);

    // Traffic, conditions and stickiness: the ALB rule really changes.
    let (status, changed) = json_of(
        http.patch(format!("{}/deployments/{id}/traffic", server.url))
            .json(&json!({
                "trafficPercent": 25,
                "conditions": {"hostHeaders": ["shop.example.com"], "queryStrings": [{"key": "beta", "value": "1"}]},
                "stickiness": {"enabled": true, "durationSeconds": 60}
            }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["traffic"]["canaryPercent"], json!(25.0));
    let rules = api.rt.rules(&listener).await.unwrap();
    let rule = canary_rule(&rules);
    assert_eq!(rule.forward.iter().map(|t| t.weight).collect::<Vec<_>>(), vec![500, 250, 250]);
    assert_eq!(rule.conditions, vec!["host-header:shop.example.com".to_string(), "query-string:beta=1".to_string()]);
    assert_eq!(rule.stickiness_seconds, Some(60));
    // The user's own rule and the default rule never change.
    let others = |rs: &[aviary_ports::RuleSnapshot]| rs.iter().filter(|r| r.forward.len() != 3).cloned().collect::<Vec<_>>();
    assert_eq!(others(&rules), before);

    let (status, events) = json_of(http.get(format!("{}/deployments/{id}/events?limit=500", server.url)).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    let items = events["items"].as_array().unwrap();
    assert!(items.iter().any(|e| e["step"] == "traffic" && e["detail"].as_str().unwrap().contains("canary 25.0%")), "{events}");
    assert!(items.iter().any(|e| e["step"] == "api" && e["detail"].as_str().unwrap().contains(LOCAL_CALLER)), "{events}");

    // Destroy (twice: idempotent), then the listener is exactly as before.
    for _ in 0..2 {
        let (status, body) = json_of(http.delete(format!("{}/deployments/{id}", server.url)).send().await.unwrap()).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    }
    assert_eq!(api.wait_final(&id).await.status, Status::Destroyed);
    assert_eq!(api.rt.rules(&listener).await.unwrap(), before, "rules restored exactly");
    let (status, body) = json_of(
        http.patch(format!("{}/deployments/{id}/traffic", server.url)).json(&json!({"trafficPercent": 5})).send().await.unwrap(),
    )
    .await;
    assert_eq!((status, body["error"].as_str().unwrap()), (StatusCode::CONFLICT, "DeploymentNotActive"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presigned_uploads_put_the_artifacts_and_the_canary_tarball_starts_the_deployment() {
    let api = start(fast()).await;
    let server = ApiServer::start(&api.rt).await.unwrap();
    let http = reqwest::Client::new();
    let files = ["canary.tar", "aviary.json", "compose.yml", "baseline.tar"];
    let bytes: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(api.dir.join(f)).unwrap()).collect();
    let request = json!({
        "name": "web",
        "files": files.iter().zip(&bytes).map(|(f, b)| json!({"file": f, "contentLength": b.len()})).collect::<Vec<_>>()
    });
    let (status, plan) = json_of(http.post(format!("{}/uploads", server.url)).json(&request).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{plan}");
    let uploads = plan["uploads"].as_array().unwrap();
    assert_eq!(uploads.last().unwrap()["file"], "canary.tar", "the canary tarball is last");

    for u in uploads {
        let file = u["file"].as_str().unwrap();
        let body = bytes[files.iter().position(|f| *f == file).unwrap()].clone();
        let mut put = http.put(u["url"].as_str().unwrap()).body(body);
        for (k, v) in u["headers"].as_object().unwrap() {
            if k != "content-length" {
                put = put.header(k, v.as_str().unwrap());
            }
        }
        let r = put.send().await.unwrap();
        assert!(r.status().is_success(), "PUT {file}: {} {}", r.status(), r.text().await.unwrap_or_default());
    }
    // The canary tarball's S3 event reaches s3-trigger, which starts the deployment.
    let mut id = None;
    for _ in 0..40 {
        for o in api.rt.pump(Duration::from_millis(250)).await.unwrap() {
            if o.outcome == "started" {
                id = o.deployment_id;
            }
        }
        if id.is_some() {
            break;
        }
    }
    let id = id.expect("the canary tarball's upload started a deployment");
    api.wait(&id, Status::Active).await;
    let (_, d) = json_of(http.get(format!("{}/deployments/{id}", server.url)).send().await.unwrap()).await;
    assert_eq!(d["source"]["kind"], "s3");
    assert_eq!(d["source"]["key"], "canaries/web/canary.tar");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_errors_are_json_with_stable_names() {
    let api = start(fast()).await;
    let server = ApiServer::start(&api.rt).await.unwrap();
    let http = reqwest::Client::new();
    let url = |p: &str| format!("{}{p}", server.url);

    let (s, b) = json_of(http.get(url("/nope")).send().await.unwrap()).await;
    assert_eq!((s, b["error"].as_str().unwrap()), (StatusCode::NOT_FOUND, "NotFound"));
    let r = http.put(url("/deployments")).send().await.unwrap();
    assert_eq!(r.headers().get("allow").unwrap(), "GET, POST");
    let (s, b) = json_of(r).await;
    assert_eq!((s, b["error"].as_str().unwrap()), (StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed"));

    // Malformed JSON, sent without a JSON content type (through API Gateway it would arrive
    // base64-encoded) and with one.
    for ct in ["application/octet-stream", "application/json"] {
        let (s, b) = json_of(http.post(url("/deployments")).header("content-type", ct).body("{\"spec\":").send().await.unwrap()).await;
        assert_eq!((s, b["fields"][0]["field"].as_str().unwrap()), (StatusCode::BAD_REQUEST, "body"), "{ct}: {b}");
    }
    let (s, b) = json_of(
        http.post(url("/deployments")).header("content-type", "application/json").body(vec![b'{'; 300 * 1024]).send().await.unwrap(),
    )
    .await;
    assert_eq!((s, b["error"].as_str().unwrap()), (StatusCode::PAYLOAD_TOO_LARGE, "PayloadTooLarge"));
    // Query strings are decoded as API Gateway does (`+` and %-escapes).
    let (s, b) = json_of(http.get(url("/deployments?status=WAITING%5FHEALTHY&limit=+5")).send().await.unwrap()).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "' 5' is not a number: {b}");
    let (s, b) = json_of(http.get(url("/deployments?status=WAITING%5FHEALTHY")).send().await.unwrap()).await;
    assert_eq!((s, b["items"].as_array().unwrap().len()), (StatusCode::OK, 0));
    server.stop().await;
}

/// The local front shares the console's guard: a foreign `Host` (DNS rebinding) or a changing
/// request from another site's page is refused before the API sees it; loopback passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_local_front_answers_only_loopback_hosts_and_its_own_origins() {
    let api = start(fast()).await;
    let server = ApiServer::start(&api.rt).await.unwrap();
    let http = reqwest::Client::new();
    let r = http.get(format!("{}/deployments", server.url)).header("host", "rebound.example:80").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::MISDIRECTED_REQUEST);
    let r = http
        .post(format!("{}/deployments", server.url))
        .header("origin", "https://evil.example")
        .json(&json!({ "spec": api.spec("web") }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(api.rt.ports.deployments().list(None, 10, None).await.unwrap().items.len(), 0, "nothing was created");
    let r = http.get(format!("{}/deployments", server.url)).header("origin", "http://127.0.0.1:9").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = http.get(format!("{}/deployments", server.url.replace("127.0.0.1", "localhost"))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}
