//! The router against the in-memory world of `aviary_lifecycle::testing` (fakes of every
//! port): routing errors, field errors, a happy create, conflicts and cursors, driven with
//! `tower::ServiceExt::oneshot` as any HTTP front would.

use aviary_aws::artifacts::S3Artifacts;
use aviary_core::status::Status;
use aviary_lifecycle::testing::World;
use aviary_ports::memory::SAMPLE_LISTENER;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::app::router;
use crate::context::Invocation;
use crate::presign::Presigner;
use crate::state::ApiState;

pub(crate) fn presigner() -> Presigner {
    let creds = aws_sdk_s3::config::Credentials::new("AKIDTEST", "secret", None, None, "test");
    let config = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_s3::config::SharedCredentialsProvider::new(creds))
        .build();
    Presigner::new(&S3Artifacts::from_conf(&config, "aviary-artifacts"))
}

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Value,
}

impl Answer {
    fn fields(&self) -> Vec<&str> {
        self.body["fields"].as_array().map(|a| a.iter().filter_map(|f| f["field"].as_str()).collect()).unwrap_or_default()
    }
    fn error(&self) -> &str {
        self.body["error"].as_str().unwrap_or("")
    }
}

async fn send(world: &World, req: Request<Body>) -> Answer {
    let r = router(ApiState::new(world.ports.clone(), presigner())).oneshot(req).await.unwrap();
    let (parts, body) = r.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    assert_eq!(parts.headers.get("content-type").unwrap(), "application/json");
    Answer { status: parts.status, headers: parts.headers, body: serde_json::from_slice(&bytes).unwrap() }
}

fn request(method: &str, path: &str, body: Option<Value>) -> Request<Body> {
    request_by(method, path, body, Some(ALICE))
}

const ALICE: &str = "arn:aws:iam::1:user/alice";
const MALLORY: &str = "arn:aws:iam::1:user/mallory";

fn request_by(method: &str, path: &str, body: Option<Value>, caller: Option<&str>) -> Request<Body> {
    let b = body.map(|b| Body::from(b.to_string())).unwrap_or_default();
    let mut req = Request::builder().method(method).uri(path).body(b).unwrap();
    req.extensions_mut().insert(Invocation { request_id: Some("req-1".into()), caller: caller.map(str::to_string) });
    req
}

async fn call(world: &World, method: &str, path: &str, body: Option<Value>) -> Answer {
    send(world, request(method, path, body)).await
}

fn spec(name: &str) -> Value {
    json!({
        "name": name,
        "listenerArn": SAMPLE_LISTENER,
        "trafficPercent": 5,
        "appPort": 8080,
        "healthCheck": { "path": "/health" },
        "monitoring": { "enabled": false }
    })
}

#[tokio::test]
async fn unknown_paths_are_404_and_methods_405_with_allow() {
    let w = World::new();
    for p in ["/", "/nope", "/deployments/", "/deployments//events", "/deployments/x/analyses/", "/uploads/x"] {
        let a = call(&w, "GET", p, None).await;
        assert_eq!((a.status, a.error()), (StatusCode::NOT_FOUND, "NotFound"), "{p}");
    }
    for (m, p, allow) in [("PUT", "/deployments", "GET, POST"), ("OPTIONS", "/environment", "GET"), ("POST", "/deployments/x", "GET, DELETE")] {
        let a = call(&w, m, p, None).await;
        assert_eq!((a.status, a.error()), (StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed"), "{m} {p}");
        assert_eq!(a.headers.get("allow").unwrap(), allow);
    }
    // HEAD is not served either (axum would answer it with the GET route); its answer has no body.
    let r = router(ApiState::new(w.ports.clone(), presigner())).oneshot(request("HEAD", "/deployments", None)).await.unwrap();
    assert_eq!((r.status(), r.headers().get("allow").unwrap().to_str().unwrap()), (StatusCode::METHOD_NOT_ALLOWED, "GET, POST"));
    assert!(w.cloud.log.all().is_empty(), "no port was called: {:?}", w.cloud.log.all());
}

#[tokio::test]
async fn a_missing_deployment_is_404_and_a_malformed_id_400() {
    let w = World::new();
    let a = call(&w, "GET", "/deployments/nothing-0123456789", None).await;
    assert_eq!((a.status, a.error()), (StatusCode::NOT_FOUND, "NotFound"));
    assert!(a.body["message"].as_str().unwrap().contains("nothing-0123456789"));
    let a = call(&w, "GET", "/deployments/nothing-0123456789/events", None).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND, "an unknown id is not an empty log");
    let a = call(&w, "DELETE", "/deployments/a%2Fb", None).await;
    assert_eq!((a.status, a.fields()), (StatusCode::BAD_REQUEST, vec!["id"]));
}

#[tokio::test]
async fn invalid_bodies_are_400_with_every_field_and_write_nothing() {
    let w = World::new();
    let mut s = spec("Bad Name");
    s["trafficPercent"] = json!(60);
    let a = call(&w, "POST", "/deployments", Some(json!({ "spec": s }))).await;
    assert_eq!((a.status, a.error()), (StatusCode::BAD_REQUEST, "ValidationFailed"));
    assert_eq!(a.fields(), vec!["spec.name", "spec.trafficPercent"]);
    // Well-formed, but the artifacts were never uploaded: admission's field errors.
    let a = call(&w, "POST", "/deployments", Some(json!({ "spec": spec("web") }))).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
    assert!(a.fields().contains(&"spec.artifacts.canaryTarball"), "{}", a.body);
    let a = call(&w, "POST", "/uploads", Some(json!({"name": "web", "files": [{"file": "../x.tar", "contentLength": 1}]}))).await;
    assert_eq!((a.status, a.fields()), (StatusCode::BAD_REQUEST, vec!["files[0].file"]));
    assert!(w.store.is_empty());
    assert!(w.cloud.log.cloud_mutations().is_empty());
}

#[tokio::test]
async fn a_valid_create_starts_the_workflow_once_per_key() {
    let w = World::new();
    w.upload_artifacts("web");
    let mut req = request("POST", "/deployments", Some(json!({ "spec": spec("web") })));
    req.headers_mut().insert("idempotency-key", "release-1".parse().unwrap());
    let a = send(&w, req).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    let id = a.body["id"].as_str().unwrap().to_string();
    assert_eq!(a.headers.get("location").unwrap(), &format!("/deployments/{id}"));
    assert_eq!(a.body["links"]["events"], json!(format!("/deployments/{id}/events")));
    assert_eq!(w.cloud.log.count("StartExecution"), 1);
    assert!(w.store.event_details(&id).iter().any(|e| e.contains("POST /deployments by arn:aws:iam::1:user/alice (request req-1)")));

    let retry = call(&w, "POST", "/deployments", Some(json!({ "spec": spec("web"), "idempotencyKey": "release-1" }))).await;
    assert_eq!((retry.status, retry.body["id"].as_str().unwrap()), (StatusCode::OK, id.as_str()));
    assert_eq!(w.cloud.log.count("StartExecution"), 1);
    assert_eq!(w.store.len(), 1);

    // The same key with another spec: refused, naming the difference; never the old answer.
    let mut changed = spec("web");
    changed["trafficPercent"] = json!(10);
    changed["conditions"] = json!({ "pathPatterns": ["/api/*"] });
    let reused = call(&w, "POST", "/deployments", Some(json!({ "spec": changed, "idempotencyKey": "release-1" }))).await;
    assert_eq!((reused.status, reused.error()), (StatusCode::CONFLICT, "IdempotencyKeyReused"), "{}", reused.body);
    let message = reused.body["message"].as_str().unwrap();
    assert!(message.contains("conditions, trafficPercent") && message.contains(&id), "{message}");
    assert_eq!(w.cloud.log.count("StartExecution"), 1);
    assert_eq!(w.store.len(), 1);

    let list = call(&w, "GET", "/deployments?status=PENDING", None).await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn traffic_on_a_canary_that_is_not_active_is_409() {
    let w = World::new();
    let mut d = w.admitted("web-0123456789").await;
    assert_eq!(d.status, Status::Pending);
    d.created_by = Some(ALICE.into());
    w.store.overwrite(d);
    let a = call(&w, "PATCH", "/deployments/web-0123456789/traffic", Some(json!({"trafficPercent": 10}))).await;
    assert_eq!((a.status, a.error()), (StatusCode::CONFLICT, "DeploymentNotActive"), "{}", a.body);
    // An invalid value is a 400 whatever the status.
    let a = call(&w, "PATCH", "/deployments/web-0123456789/traffic", Some(json!({"trafficPercent": 60}))).await;
    assert_eq!((a.status, a.fields()), (StatusCode::BAD_REQUEST, vec!["trafficPercent"]));
    assert_eq!(w.cloud.log.count("ModifyRule"), 0);
}

#[tokio::test]
async fn cursors_are_checked_by_the_store() {
    let w = World::new();
    for name in ["alpha", "beta"] {
        w.admitted(&format!("{name}-0123456789")).await;
    }
    let a = call(&w, "GET", "/deployments?limit=1", None).await;
    let next = a.body["next"].as_str().expect("a next page").to_string();
    let b = call(&w, "GET", &format!("/deployments?limit=1&cursor={next}"), None).await;
    assert_eq!((b.status, b.body["items"].as_array().unwrap().len()), (StatusCode::OK, 1));
    for c in ["zz", ""] {
        let a = call(&w, "GET", &format!("/deployments?cursor={c}"), None).await;
        assert_eq!((a.status, a.fields()), (StatusCode::BAD_REQUEST, vec!["cursor"]), "{c:?}");
        let a = call(&w, "GET", &format!("/deployments/alpha-0123456789/events?cursor={c}"), None).await;
        assert_eq!((a.status, a.fields()), (StatusCode::BAD_REQUEST, vec!["cursor"]), "{c:?}");
    }
}

#[tokio::test]
async fn oversized_bodies_are_413_before_routing() {
    let w = World::new();
    for (m, p) in [("POST", "/deployments"), ("POST", "/nope")] {
        let req = Request::builder().method(m).uri(p).body(Body::from(vec![b'{'; crate::body::MAX_BODY_BYTES + 1])).unwrap();
        let a = send(&w, req).await;
        assert_eq!((a.status, a.error()), (StatusCode::PAYLOAD_TOO_LARGE, "PayloadTooLarge"), "{m} {p}");
    }
}

#[tokio::test]
async fn the_environment_comes_from_the_router_port() {
    let w = World::new();
    let a = call(&w, "GET", "/environment", None).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert!(a.body["loadBalancers"][0]["listeners"].as_array().unwrap().iter().any(|l| l["listenerArn"] == json!(SAMPLE_LISTENER)));
    let a = call(&w, "GET", "/environment?vpc=x", None).await;
    assert_eq!((a.status, a.fields()), (StatusCode::BAD_REQUEST, vec!["vpc"]));
}

#[tokio::test]
async fn only_the_owner_may_change_destroy_or_upload_under_a_name() {
    let w = World::new();
    w.upload_artifacts("web");
    let a = call(&w, "POST", "/deployments", Some(json!({ "spec": spec("web"), "idempotencyKey": "k1" }))).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    let id = a.body["id"].as_str().unwrap().to_string();
    assert_eq!(w.store.peek(&id).unwrap().created_by.as_deref(), Some(ALICE));
    w.cloud.log.clear();

    let as_mallory = |m: &str, p: &str, b: Option<Value>| send(&w, request_by(m, p, b, Some(MALLORY)));
    for (m, p, b) in [
        ("PATCH", format!("/deployments/{id}/traffic"), Some(json!({"trafficPercent": 10}))),
        ("DELETE", format!("/deployments/{id}"), None),
        ("POST", "/uploads".to_string(), Some(json!({"name": "web", "files": [{"file": "canary.tar", "contentLength": 10}]}))),
        ("POST", "/deployments".to_string(), Some(json!({ "spec": spec("web"), "idempotencyKey": "k2" }))),
    ] {
        let a = as_mallory(m, &p, b).await;
        assert_eq!((a.status, a.error()), (StatusCode::FORBIDDEN, "NotOwner"), "{m} {p}: {}", a.body);
        assert!(a.body["message"].as_str().unwrap().contains(ALICE), "{}", a.body);
    }
    // No caller at all (a front that names nobody): refused too.
    let a = send(&w, request_by("DELETE", &format!("/deployments/{id}"), None, None)).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert!(w.cloud.log.cloud_mutations().is_empty(), "{:?}", w.cloud.log.cloud_mutations());
    assert_eq!(w.store.len(), 1);
    assert_eq!(w.store.peek(&id).unwrap().status, Status::Pending);

    // Alice may; her upload URLs carry her as the signed created-by metadata.
    let a = call(&w, "POST", "/uploads", Some(json!({"name": "web", "files": [{"file": "aviary.json", "contentLength": 10}]}))).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let grant = &a.body["uploads"][0];
    assert_eq!(grant["headers"]["x-amz-meta-aviary-created-by"], json!(ALICE), "{grant}");
    let url = grant["url"].as_str().unwrap();
    assert!(url.contains("x-amz-meta-aviary-created-by"), "the metadata header is signed: {url}");
    let a = call(&w, "DELETE", &format!("/deployments/{id}"), None).await;
    assert_eq!(a.status, StatusCode::ACCEPTED, "{}", a.body);
}

#[tokio::test]
async fn the_first_uploader_claims_a_name() {
    let w = World::new();
    let files = json!({"name": "shop", "files": [{"file": "canary.tar", "contentLength": 10}]});
    let a = send(&w, request_by("POST", "/uploads", Some(files.clone()), Some(MALLORY))).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let a = call(&w, "POST", "/uploads", Some(files)).await;
    assert_eq!((a.status, a.error()), (StatusCode::FORBIDDEN, "NotOwner"), "{}", a.body);
}

#[tokio::test]
async fn the_grafana_login_is_for_the_owner_only_and_404_until_stored() {
    let w = World::new();
    w.upload_artifacts("web");
    let mut body = spec("web");
    body["monitoring"] = json!({ "enabled": true });
    let a = call(&w, "POST", "/deployments", Some(json!({ "spec": body, "idempotencyKey": "k1" }))).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    let id = a.body["id"].as_str().unwrap().to_string();
    let path = format!("/deployments/{id}/credentials");

    let a = call(&w, "GET", &path, None).await;
    assert_eq!((a.status, a.error()), (StatusCode::NOT_FOUND, "NotFound"), "{}", a.body);
    assert!(a.body["message"].as_str().unwrap().contains("not stored its Grafana password yet"), "{}", a.body);

    w.compute.put_secret(&id, aviary_core::secrets::GRAFANA_PASSWORD, "pw-1");
    let a = send(&w, request_by("GET", &path, None, Some(MALLORY))).await;
    assert_eq!((a.status, a.error()), (StatusCode::FORBIDDEN, "NotOwner"), "{}", a.body);
    assert!(!a.body.to_string().contains("pw-1"));
    let a = call(&w, "GET", &path, None).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.body, json!({ "deploymentId": id, "username": "admin", "password": "pw-1" }));
    assert_eq!(a.headers.get("cache-control").map(|v| v.to_str().unwrap()), Some("no-store"));

    let a = call(&w, "GET", "/deployments/nope-0123456789/credentials", None).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND, "{}", a.body);
    let a = call(&w, "GET", &format!("{path}?x=1"), None).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
}
