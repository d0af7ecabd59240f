//! Helpers for the API tests (`tests/tests/api_*.rs`): a local Aviary on a fresh emulator with
//! the sample production environment, the sample canary's artifacts in S3, and a way to call
//! the API the way the `api` Lambda runs it: an API Gateway payload-2.0 event, turned into an
//! HTTP request by `lambda_http`, answered by `api::router`.

#![allow(dead_code)]

use std::path::PathBuf;
use std::time::Duration;

use aviary_local::environment::ProductionEnv;
use aviary_local::runtime::{LocalOptions, LocalRuntime};
use aviary_core::model::Deployment;
use aviary_core::status::Status;
use aviary_ports::{ArtifactStore, RuleSnapshot};
use aws_lambda_events::apigw::{ApiGatewayRequestAuthorizer, ApiGatewayRequestAuthorizerIamDescription, ApiGatewayV2httpRequest};
use aws_lambda_events::http::{HeaderMap, HeaderName, HeaderValue, Method};
use lambda_http::request::LambdaRequest;
use serde_json::{json, Value};
use tower::ServiceExt;

pub const CALLER: &str = "arn:aws:iam::123456789012:user/api-test";

pub struct Api {
    pub rt: LocalRuntime,
    pub env: ProductionEnv,
    pub dir: PathBuf,
    pub rules_before: Vec<RuleSnapshot>,
}

/// A fresh emulator with Aviary's resources, the sample production environment and the
/// sample canary written to a temporary directory.
pub async fn start(options: LocalOptions) -> Api {
    let mut rt = LocalRuntime::start(options).await.expect("local runtime");
    let env = aviary_local::environment::create(&rt.config, "prod").await.expect("sample environment");
    rt.allow_listener(&env.listener_arn);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("aviary-api-test-{}-{nanos}", std::process::id()));
    aviary_local::demo::write_sample(&dir, &env.listener_arn).expect("sample canary");
    let rules_before = rt.rules(&env.listener_arn).await.expect("rules");
    Api { rt, env, dir, rules_before }
}

pub fn fast() -> LocalOptions {
    LocalOptions { time_scale: 0.002, ..Default::default() }
}

pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub headers: HeaderMap,
}

impl std::fmt::Debug for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.body)
    }
}

impl Answer {
    /// The `field`s of a 400's `fields`.
    pub fn fields(&self) -> Vec<String> {
        self.body["fields"].as_array().map(|a| a.iter().filter_map(|f| f["field"].as_str().map(str::to_string)).collect()).unwrap_or_default()
    }

    pub fn error(&self) -> &str {
        self.body["error"].as_str().unwrap_or("")
    }
}

/// A payload-format-2.0 event as API Gateway builds it.
pub fn event(method: &str, path_and_query: &str, body: Option<&str>, headers: &[(&str, &str)]) -> ApiGatewayV2httpRequest {
    let (path, query) = path_and_query.split_once('?').unwrap_or((path_and_query, ""));
    let mut e = ApiGatewayV2httpRequest::default();
    e.version = Some("2.0".into());
    e.raw_path = Some(path.into());
    e.raw_query_string = Some(query.into());
    let mut h = HeaderMap::new();
    for (k, v) in headers {
        h.insert(HeaderName::from_bytes(k.to_ascii_lowercase().as_bytes()).unwrap(), HeaderValue::from_str(v).unwrap());
    }
    e.headers = h;
    e.body = body.map(str::to_string);
    e.request_context.http.method = Method::from_bytes(method.as_bytes()).unwrap();
    e.request_context.http.path = Some(path.into());
    e.request_context.stage = Some("$default".into());
    e.request_context.request_id = Some(format!("req-{}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()));
    let mut iam = ApiGatewayRequestAuthorizerIamDescription::default();
    iam.user_arn = Some(CALLER.into());
    let mut auth = ApiGatewayRequestAuthorizer::default();
    auth.iam = Some(iam);
    e.request_context.authorizer = Some(auth);
    e
}

/// Calls the API the way the Lambda runtime does: `lambda_http` makes the event a request,
/// the router answers.
pub async fn invoke(api: &Api, e: ApiGatewayV2httpRequest) -> Answer {
    let req = aws_lambda_events::http::Request::from(LambdaRequest::ApiGatewayV2(e));
    let r = api::router(aviary_local::api_server::state(&api.rt)).oneshot(req).await.unwrap();
    let (parts, body) = r.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    let text = String::from_utf8_lossy(&bytes).to_string();
    assert_eq!(parts.headers.get("content-type").map(|v| v.to_str().unwrap()), Some("application/json"), "{text}");
    let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("body is not JSON ({e}): {text}"));
    Answer { status: parts.status.as_u16(), body, headers: parts.headers }
}

pub async fn call(api: &Api, method: &str, path: &str, body: Option<Value>) -> Answer {
    let b = body.map(|b| b.to_string());
    invoke(api, event(method, path, b.as_deref(), &[])).await
}

impl Api {
    /// The sample spec under another canary name.
    pub fn spec(&self, name: &str) -> Value {
        let mut v: Value = serde_json::from_slice(&std::fs::read(self.dir.join("aviary.json")).unwrap()).unwrap();
        v["name"] = json!(name);
        v
    }

    /// Puts the sample's tarballs and compose file under `canaries/<name>/` the way a user
    /// who calls `POST /deployments` does (no aviary.json: the spec travels in the request).
    pub async fn put_artifacts(&self, name: &str) {
        for f in ["baseline.tar", "compose.yml", "canary.tar"] {
            let bytes = std::fs::read(self.dir.join(f)).unwrap();
            self.rt.artifacts.put(&format!("canaries/{name}/{f}"), bytes).await.unwrap();
        }
    }

    /// Creates a deployment through the handler and waits until it is ACTIVE.
    pub async fn active(&self, name: &str) -> Deployment {
        self.put_artifacts(name).await;
        let a = invoke(self, event("POST", "/deployments", Some(&json!({"spec": self.spec(name)}).to_string()), &[("Idempotency-Key", name)])).await;
        assert_eq!(a.status, 201, "{a:?}");
        let id = a.body["id"].as_str().unwrap().to_string();
        self.wait(&id, Status::Active).await
    }

    pub async fn wait(&self, id: &str, wanted: Status) -> Deployment {
        // Stop early on a final status too (it will never become `wanted`).
        let d = self.rt.wait_for(id, wanted.as_str(), Duration::from_secs(30), |s| s == wanted || s.is_final()).await.expect("deployment status");
        assert_eq!(d.status, wanted, "{id}: {:?}", d.status_reason);
        d
    }

    pub async fn wait_final(&self, id: &str) -> Deployment {
        let d = self.rt.wait_for(id, "a final status", Duration::from_secs(30), |s| s.is_final()).await.expect("final");
        self.rt.sfn.wait_idle().await;
        d
    }

    /// Rules Aviary owns on the sample listener.
    pub async fn aviary_rules(&self) -> usize {
        self.rt.ports.router.aviary_rules(&self.env.listener_arn).await.unwrap().len()
    }

    pub async fn deployment_count(&self) -> usize {
        self.rt.ports.store.list(None, 100, None).await.unwrap().items.len()
    }
}

/// The canary rule (the one that forwards to more than one target group).
pub fn canary_rule(rules: &[RuleSnapshot]) -> &RuleSnapshot {
    rules.iter().find(|r| r.forward.len() == 3).expect("a canary rule")
}
