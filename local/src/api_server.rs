//! The API on localhost: an HTTP server on 127.0.0.1 (a free port) serving the very router the
//! `api` Lambda serves (`api::router`), in-process, against the local runtime's ports.
//!
//! Differences from AWS, on purpose: there is no SigV4 check (every request is attributed to
//! [`LOCAL_CALLER`] with a `local-…` request id, where API Gateway would name the signer and
//! its own request id); unknown routes reach the router (which answers 404/405 itself, as API
//! Gateway would answer 404 before invoking the Lambda).
//!
//! Like the console, it answers only requests whose `Host` is a loopback address, and refuses
//! a changing request whose `Origin` is another site's page (`aviary_client::local_guard`):
//! a web page the user visits cannot drive it through DNS rebinding or a cross-site form.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::runtime::LocalRuntime;

/// The identity every local request is attributed to (API Gateway would put the SigV4
/// signer's ARN here).
pub const LOCAL_CALLER: &str = "arn:aws:iam::123456789012:user/aviary-local";

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

/// What the API runs against locally: the runtime's ports and artifact bucket, and analyses
/// on the emulator's table and CloudWatch (through the bridge).
pub fn state(rt: &LocalRuntime) -> api::ApiState {
    let ports = rt.invoker.ports_for("api");
    let analysis = rt.analysis_ports(ports.clone());
    api::ApiState::new(ports, api::Presigner::new(&rt.artifacts)).with_analysis(analysis)
}

/// Loopback `Host` only; a changing request from another site's page refused.
async fn loopback_only(req: Request, next: Next) -> Response {
    use aviary_client::local_guard::{host_allowed, origin_allowed};
    use axum::http::{header, Method, StatusCode};
    use axum::response::IntoResponse;
    let refuse = |status: StatusCode, message: &str| {
        (status, [(header::CONTENT_TYPE, "application/json")], serde_json::json!({"error": "Refused", "message": message}).to_string())
            .into_response()
    };
    let host = req.headers().get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !host_allowed(host, None) {
        return refuse(StatusCode::MISDIRECTED_REQUEST, "the local API answers only on a loopback address");
    }
    let changes = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if let (true, Some(origin)) = (changes, req.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok())) {
        if !origin_allowed(origin, None) {
            return refuse(StatusCode::FORBIDDEN, "cross-origin request refused");
        }
    }
    next.run(req).await
}

/// The API's router as the local front serves it: each request attributed to
/// [`LOCAL_CALLER`] with its own request id, behind the loopback guard.
pub fn router(state: api::ApiState) -> axum::Router {
    let requests = Arc::new(AtomicU64::new(0));
    api::router(state).layer(middleware::from_fn(loopback_only)).layer(middleware::from_fn(move |mut req: Request, next: Next| {
        let n = requests.fetch_add(1, Ordering::Relaxed);
        async move {
            let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
            req.extensions_mut()
                .insert(api::Invocation { request_id: Some(format!("local-{now_ms:x}-{n}")), caller: Some(LOCAL_CALLER.into()) });
            let r: Response = next.run(req).await;
            r
        }
    }))
}

impl ApiServer {
    /// Serves the API with the local runtime's ports.
    pub async fn start(rt: &LocalRuntime) -> Result<ApiServer, ApiServerError> {
        ApiServer::start_with(state(rt)).await
    }

    /// Serves the API with any state (a test's own ports, another emulator).
    pub async fn start_with(state: api::ApiState) -> Result<ApiServer, ApiServerError> {
        // Loopback only: the local API has no authentication.
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.map_err(ApiServerError::Bind)?;
        let addr = listener.local_addr().map_err(ApiServerError::Bind)?;
        let app = router(state);
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let server = axum::serve(listener, app).with_graceful_shutdown(async {
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
