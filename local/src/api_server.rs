//! The API on localhost: an HTTP server on 127.0.0.1 (a free port) that does what API Gateway
//! does in front of the `api` Lambda — turns each request into a payload-format-2.0 event
//! (rawPath, rawQueryString, headers, queryStringParameters, pathParameters, routeKey,
//! requestContext with method, path, request id and the IAM caller, body with
//! isBase64Encoded) — and calls the real `api::handler` in-process, returning its answer.
//!
//! Differences from AWS, on purpose: there is no SigV4 check (every request is signed by
//! [`LOCAL_CALLER`]); unknown routes reach the handler (which answers 404/405 itself, as API
//! Gateway would answer 404 before invoking it).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use aviary_shared::aws::Aws;
use aws_lambda_events::apigw::{
    ApiGatewayRequestAuthorizer, ApiGatewayRequestAuthorizerIamDescription, ApiGatewayV2httpRequest, ApiGatewayV2httpResponse,
};
use aws_lambda_events::encodings::Body as LambdaBody;
use aws_lambda_events::query_map::QueryMap;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use lambda_runtime::{Context, LambdaEvent};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::invoker::{LOCAL_ACCOUNT, LOCAL_REGION};
use crate::runtime::LocalRuntime;

/// The identity every local request is attributed to (API Gateway would put the SigV4
/// signer's ARN here).
pub const LOCAL_CALLER: &str = "arn:aws:iam::123456789012:user/aviary-local";
/// API Gateway's own payload limit; the handler enforces its smaller one.
const MAX_REQUEST_BYTES: usize = 10 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ApiServerError {
    #[error("could not listen on 127.0.0.1: {0}")]
    Bind(std::io::Error),
}

/// A running local API. Stops when dropped (or with [`ApiServer::stop`]).
pub struct ApiServer {
    /// `http://127.0.0.1:<port>`
    pub url: String,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

struct Front {
    aws: Aws,
    requests: AtomicU64,
}

impl ApiServer {
    /// Serves the API with the local runtime's handler clients.
    pub async fn start(rt: &LocalRuntime) -> Result<ApiServer, ApiServerError> {
        ApiServer::start_with(rt.aws.clone()).await
    }

    /// Serves the API with any `Aws` (a test's own clients, another emulator).
    pub async fn start_with(aws: Aws) -> Result<ApiServer, ApiServerError> {
        // Loopback only: the local API has no authentication.
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.map_err(ApiServerError::Bind)?;
        let addr = listener.local_addr().map_err(ApiServerError::Bind)?;
        let front = Arc::new(Front { aws, requests: AtomicU64::new(0) });
        let app = axum::Router::new().fallback(serve).with_state(front);
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let server = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                });
            if let Err(e) = server.await {
                tracing::warn!(error = %e, "local API server stopped");
            }
        });
        Ok(ApiServer { url: format!("http://{addr}"), shutdown: Some(tx), task: Some(task) })
    }

    /// Stops accepting requests and waits for the server to finish.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

async fn serve(State(front): State<Arc<Front>>, ConnectInfo(peer): ConnectInfo<SocketAddr>, req: Request) -> Response {
    let n = front.requests.fetch_add(1, Ordering::Relaxed);
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_REQUEST_BYTES).await {
        Ok(b) => b,
        Err(_) => return plain(StatusCode::PAYLOAD_TOO_LARGE, r#"{"message":"Request Entity Too Large"}"#),
    };
    let event = to_event(&parts, &bytes, peer, n);
    let ctx = Context::default();
    let Ok(answer) = api::handler(&front.aws, LambdaEvent::new(event, ctx)).await;
    from_response(answer)
}

/// The event API Gateway would send for this request.
pub fn to_event(parts: &axum::http::request::Parts, body: &[u8], peer: SocketAddr, n: u64) -> ApiGatewayV2httpRequest {
    let path = parts.uri.path().to_string();
    let raw_query = parts.uri.query().unwrap_or("").to_string();
    let route = api::router::resolve(&parts.method, &path).ok();

    // Payload 2.0: header names lowercase, repeated headers joined with commas, cookies apart.
    let mut headers = HeaderMap::new();
    let mut cookies = Vec::new();
    for name in parts.headers.keys() {
        let values: Vec<&str> = parts.headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).collect();
        if name == axum::http::header::COOKIE {
            cookies.extend(values.iter().flat_map(|v| v.split(';')).map(|c| c.trim().to_string()).filter(|c| !c.is_empty()));
            continue;
        }
        if let Ok(v) = HeaderValue::from_str(&values.join(",")) {
            headers.insert(name.clone(), v);
        }
    }

    let mut query: HashMap<String, Vec<String>> = HashMap::new();
    for (k, v) in api::request::parse_query(&raw_query) {
        query.entry(k).or_default().push(v);
    }
    let joined: HashMap<String, String> = query.into_iter().map(|(k, v)| (k, v.join(","))).collect();

    let textual = parts
        .headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json") || ct.starts_with("text/") || ct.contains("+json"));
    let (body, is_base64) = if body.is_empty() {
        (None, false)
    } else {
        match std::str::from_utf8(body) {
            Ok(text) if textual => (Some(text.to_string()), false),
            // Like API Gateway: anything not declared as text arrives base64-encoded.
            _ => (Some(aws_smithy_types::base64::encode(body)), true),
        }
    };

    let route_key = route.as_ref().map(|r| r.route_key().to_string()).unwrap_or_else(|| "$default".into());
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0);

    let mut iam = ApiGatewayRequestAuthorizerIamDescription::default();
    iam.account_id = Some(LOCAL_ACCOUNT.into());
    iam.user_arn = Some(LOCAL_CALLER.into());
    iam.caller_id = Some("AIDALOCAL".into());
    let mut authorizer = ApiGatewayRequestAuthorizer::default();
    authorizer.iam = Some(iam);

    let mut e = ApiGatewayV2httpRequest::default();
    e.version = Some("2.0".into());
    e.route_key = Some(route_key.clone());
    e.raw_path = Some(path.clone());
    e.raw_query_string = Some(raw_query);
    e.cookies = if cookies.is_empty() { None } else { Some(cookies) };
    e.headers = headers;
    e.query_string_parameters = QueryMap::from(joined);
    e.path_parameters = route.as_ref().map(|r| r.path_parameters()).unwrap_or_default();
    e.body = body;
    e.is_base64_encoded = is_base64;
    let ctx = &mut e.request_context;
    ctx.route_key = Some(route_key);
    ctx.account_id = Some(LOCAL_ACCOUNT.into());
    ctx.stage = Some("$default".into());
    ctx.request_id = Some(format!("local-{now_ms:x}-{n}"));
    ctx.apiid = Some("local".into());
    ctx.domain_name = Some(format!("local.execute-api.{LOCAL_REGION}.amazonaws.com"));
    ctx.domain_prefix = Some("local".into());
    ctx.time_epoch = now_ms;
    ctx.authorizer = Some(authorizer);
    ctx.http.method = parts.method.clone();
    ctx.http.path = Some(path);
    ctx.http.protocol = Some(format!("{:?}", parts.version));
    ctx.http.source_ip = Some(peer.ip().to_string());
    ctx.http.user_agent = parts.headers.get(axum::http::header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_string);
    e
}

/// The HTTP response API Gateway would send for the handler's answer.
pub fn from_response(r: ApiGatewayV2httpResponse) -> Response {
    let status = u16::try_from(r.status_code).ok().and_then(|s| StatusCode::from_u16(s).ok()).unwrap_or(StatusCode::BAD_GATEWAY);
    let bytes: Vec<u8> = match r.body {
        None | Some(LambdaBody::Empty) => Vec::new(),
        Some(LambdaBody::Text(t)) if r.is_base64_encoded => aws_smithy_types::base64::decode(&t).unwrap_or_default(),
        Some(LambdaBody::Text(t)) => t.into_bytes(),
        Some(LambdaBody::Binary(b)) => b,
        Some(_) => Vec::new(),
    };
    let mut builder = Response::builder().status(status);
    if let Some(h) = builder.headers_mut() {
        for (k, v) in r.headers.iter().chain(r.multi_value_headers.iter()) {
            h.append(k, v.clone());
        }
        for c in &r.cookies {
            if let Ok(v) = HeaderValue::from_str(c) {
                h.append(axum::http::header::SET_COOKIE, v);
            }
        }
    }
    builder.body(Body::from(bytes)).unwrap_or_else(|_| plain(StatusCode::BAD_GATEWAY, r#"{"message":"Internal Server Error"}"#))
}

fn plain(status: StatusCode, body: &'static str) -> Response {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    r.headers_mut().insert(axum::http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}
