//! The Aviary web console (`aviary console`): a small web server on 127.0.0.1 that serves the
//! console's pages (HTML, CSS and JavaScript modules embedded in the binary, see [`assets`])
//! and proxies the pages' API calls to Aviary's HTTP API (see [`proxy`]), signing them with
//! SigV4 from the standard AWS credential chain (see [`sign`]) — or, for a loopback endpoint
//! such as `aviary local up`'s, forwarding them unsigned.
//!
//! ```no_run
//! # async fn f() -> Result<(), aviary_console::ConsoleError> {
//! let server = aviary_console::serve(aviary_console::ConsoleOptions::new("http://127.0.0.1:4566", 0)).await?;
//! println!("console: {}", server.url);
//! # Ok(()) }
//! ```

pub mod assets;
pub mod guard;
pub mod proxy;
pub mod sign;

use std::sync::Arc;

use aws_credential_types::provider::SharedCredentialsProvider;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use proxy::Upstream;

#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error("invalid --endpoint '{endpoint}': {message}")]
    Endpoint { endpoint: String, message: String },
    #[error("could not listen on 127.0.0.1:{port}: {source}")]
    Bind { port: u16, source: std::io::Error },
    #[error("no AWS region to sign requests for: pass --region or set AWS_REGION")]
    NoRegion,
    #[error("no AWS credentials provider configured (set AWS_PROFILE or AWS_ACCESS_KEY_ID, or point --endpoint at a local API)")]
    NoCredentials,
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}

/// Whether API calls are signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SignMode {
    /// Sign for `https://` endpoints, not for loopback (the local API front has no SigV4
    /// check); a plain-`http://` endpoint elsewhere is refused.
    #[default]
    Auto,
    Always,
    Never,
}

/// What `aviary console` was asked for.
#[derive(Clone, Default)]
pub struct ConsoleOptions {
    /// Aviary API base URL (the stack's `ApiUrl`, possibly with a stage path, or a local front).
    pub endpoint: String,
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    pub sign: SignMode,
    /// Region to sign for; default: from the endpoint's host, else the AWS config.
    pub region: Option<String>,
    /// Credentials to sign with; default: the standard AWS chain.
    pub credentials: Option<SharedCredentialsProvider>,
}

impl ConsoleOptions {
    pub fn new(endpoint: impl Into<String>, port: u16) -> Self {
        ConsoleOptions { endpoint: endpoint.into(), port, ..Default::default() }
    }
}

impl std::fmt::Debug for ConsoleOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleOptions")
            .field("endpoint", &self.endpoint)
            .field("port", &self.port)
            .field("sign", &self.sign)
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

/// A running console. Stops when dropped (or with [`ConsoleServer::stop`]).
pub struct ConsoleServer {
    /// `http://127.0.0.1:<port>/`
    pub url: String,
    /// Whether API calls are signed.
    pub signing: bool,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl ConsoleServer {
    /// Serves until the task ends (it ends only on [`ConsoleServer::stop`] or a server error).
    pub async fn wait(mut self) {
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for ConsoleServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Starts the console on 127.0.0.1 (never on another interface: it holds the user's AWS
/// credentials' authority).
pub async fn serve(opts: ConsoleOptions) -> Result<ConsoleServer, ConsoleError> {
    let endpoint = reqwest::Url::parse(&opts.endpoint)
        .map_err(|e| ConsoleError::Endpoint { endpoint: opts.endpoint.clone(), message: e.to_string() })?;
    if !matches!(endpoint.scheme(), "http" | "https") || endpoint.host_str().is_none() {
        return Err(ConsoleError::Endpoint { endpoint: opts.endpoint.clone(), message: "expected an http(s) URL".into() });
    }
    let sign = match opts.sign {
        SignMode::Never => false,
        SignMode::Always => true,
        // Only over https (or never, for loopback): a plain-http endpoint elsewhere is refused.
        SignMode::Auto => aviary_client::auto_sign(&endpoint).map_err(|e| ConsoleError::Endpoint { endpoint: opts.endpoint.clone(), message: e.to_string() })?,
    };
    let signer = if sign { Some(sign::signer_from_options(&endpoint, opts.region.clone(), opts.credentials.clone()).await?) } else { None };
    let signing = signer.is_some();
    let upstream = Upstream::new(endpoint, signer)?;

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", opts.port))
        .await
        .map_err(|source| ConsoleError::Bind { port: opts.port, source })?;
    let addr = listener.local_addr().map_err(|source| ConsoleError::Bind { port: opts.port, source })?;
    let app = router(Arc::new(upstream), addr.port());
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let server = axum::serve(listener, app).with_graceful_shutdown(async {
            let _ = rx.await;
        });
        if let Err(e) = server.await {
            tracing::warn!(error = %e, "console server stopped");
        }
    });
    Ok(ConsoleServer { url: format!("http://{addr}/"), signing, shutdown: Some(tx), task: Some(task) })
}

/// The console's routes: pages and assets, `/api/*` (the proxy), `/upload` (the upload relay).
pub fn router(upstream: Arc<Upstream>, port: u16) -> axum::Router {
    use axum::routing::{any, get, put};
    axum::Router::new()
        .route("/", get(assets::index))
        .route("/assets/{*file}", get(assets::asset))
        .route("/api/{*path}", any(proxy::forward))
        .route("/upload", put(proxy::upload))
        .fallback(assets::not_found)
        .layer(axum::middleware::from_fn_with_state(port, guard::local_only))
        .with_state(upstream)
}
