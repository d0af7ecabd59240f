//! The Aviary HTTP API client: one method per route, SigV4-signed when a [`Signer`] is set,
//! API errors decoded from `{"error","message","fields"}`, transient failures (connection
//! errors, 429, 502–504) retried a few times. Every route is safe to retry: creating a
//! deployment carries an idempotency key, the others are reads or idempotent changes.

use std::time::Duration;

use aviary_core::model::Event;
use aviary_core::spec::FieldError;
use aviary_core::status::Status;
use reqwest::{Method, Url};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::sigv4::{SignError, Signer};
use crate::wire::{ApiDeployment, DestroyAccepted, GrafanaLogin, Page, TrafficChange, UploadFile, Uploads};

const ATTEMPTS: u32 = 3;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("invalid endpoint '{endpoint}': {message}")]
    Endpoint { endpoint: String, message: String },
    #[error("cannot reach {url}: {message}")]
    Transport { url: String, message: String },
    #[error("{message} (HTTP {status} {error} from {method} {path}){}", fields_suffix(.fields))]
    Api { method: String, path: String, status: u16, error: String, message: String, fields: Vec<FieldError> },
    #[error("unexpected response from {what}: {message}")]
    Decode { what: String, message: String },
    #[error(transparent)]
    Sign(#[from] SignError),
}

fn fields_suffix(fields: &[FieldError]) -> String {
    fields.iter().map(|f| format!("\n  {}: {}", f.field, f.message)).collect()
}

impl ClientError {
    /// The server refused the request's content (HTTP 400 or 422).
    pub fn is_validation(&self) -> bool {
        matches!(self, ClientError::Api { status: 400 | 422, .. })
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}

#[derive(Deserialize)]
struct ApiErrorBody {
    #[serde(default)]
    error: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    fields: Vec<FieldError>,
}

pub struct Client {
    base: Url,
    http: reqwest::Client,
    signer: Option<Signer>,
}

impl Client {
    pub fn new(endpoint: &str, signer: Option<Signer>) -> Result<Client, ClientError> {
        let bad = |message: String| ClientError::Endpoint { endpoint: endpoint.to_string(), message };
        let mut base = Url::parse(endpoint).map_err(|e| bad(e.to_string()))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(bad("use an http:// or https:// URL".into()));
        }
        if !base.path().ends_with('/') {
            let p = format!("{}/", base.path());
            base.set_path(&p);
        }
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("aviary-cli/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| bad(e.to_string()))?;
        Ok(Client { base, http, signer })
    }

    pub fn base(&self) -> &Url {
        &self.base
    }

    /// The URL of `path` (relative to the endpoint, which may carry a stage path) with `query`.
    pub fn url(&self, path: &str, query: &[(&str, String)]) -> Url {
        let mut url = self.base.join(path.trim_start_matches('/')).expect("relative API path");
        if !query.is_empty() {
            let q: Vec<String> = query.iter().map(|(k, v)| format!("{k}={}", urlencoding::encode(v))).collect();
            url.set_query(Some(&q.join("&")));
        }
        url
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<Vec<u8>>,
        extra: &[(&str, String)],
    ) -> Result<(u16, T), ClientError> {
        let url = self.url(path, query);
        let mut headers: Vec<(String, String)> = vec![("host".into(), host_header(&url))];
        if body.is_some() {
            headers.push(("content-type".into(), "application/json".into()));
        }
        headers.extend(extra.iter().map(|(k, v)| (k.to_ascii_lowercase(), v.clone())));
        let body = body.unwrap_or_default();
        let mut attempt = 0;
        let (status, bytes) = loop {
            attempt += 1;
            match self.send_once(&method, &url, path, &headers, &body).await {
                Ok(ok) => break ok,
                Err((e, retry)) if !retry || attempt >= ATTEMPTS => return Err(e),
                Err(_) => tokio::time::sleep(Duration::from_millis(250 * u64::from(attempt))).await,
            }
        };
        let value = serde_json::from_slice(&bytes)
            .map_err(|e| ClientError::Decode { what: format!("{method} /{path}"), message: format!("{e} in {}", snippet(&bytes)) })?;
        Ok((status, value))
    }

    /// One try; the error says whether trying again may help.
    async fn send_once(
        &self,
        method: &Method,
        url: &Url,
        path: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<(u16, Vec<u8>), (ClientError, bool)> {
        let mut all = headers.to_vec();
        if let Some(s) = &self.signer {
            all.extend(s.sign(method.as_str(), url.as_str(), headers, body).await.map_err(|e| (e.into(), false))?);
        }
        let mut req = self.http.request(method.clone(), url.clone());
        for (k, v) in &all {
            req = req.header(k.as_str(), v.as_str());
        }
        if !body.is_empty() || *method == Method::POST || *method == Method::PATCH {
            req = req.body(body.to_vec());
        }
        let transport = |e: reqwest::Error| (ClientError::Transport { url: url.to_string(), message: error_chain(&e) }, true);
        let resp = req.send().await.map_err(transport)?;
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.map_err(transport)?;
        if (200..300).contains(&status) {
            Ok((status, bytes.to_vec()))
        } else {
            Err((api_error(method, path, status, &bytes), matches!(status, 429 | 502 | 503 | 504)))
        }
    }

    /// `POST /uploads`: presigned URLs for the canary's files.
    pub async fn create_uploads(&self, name: &str, files: &[UploadFile]) -> Result<Uploads, ClientError> {
        let body = serde_json::json!({ "name": name, "files": files });
        Ok(self.call(Method::POST, "uploads", &[], Some(body.to_string().into_bytes()), &[]).await?.1)
    }

    /// `POST /deployments`; the flag says whether it was created now (201) or already
    /// existed for this idempotency key (200).
    pub async fn create_deployment(&self, spec: &serde_json::Value, idempotency_key: &str) -> Result<(ApiDeployment, bool), ClientError> {
        let body = serde_json::json!({ "spec": spec });
        let (status, d) = self
            .call(Method::POST, "deployments", &[], Some(body.to_string().into_bytes()), &[("Idempotency-Key", idempotency_key.to_string())])
            .await?;
        Ok((d, status == 201))
    }

    pub async fn list(&self, status: Option<Status>, limit: u32, cursor: Option<&str>) -> Result<Page<ApiDeployment>, ClientError> {
        let mut q = vec![("limit", limit.to_string())];
        if let Some(s) = status {
            q.push(("status", s.as_str().to_string()));
        }
        if let Some(c) = cursor {
            q.push(("cursor", c.to_string()));
        }
        Ok(self.call(Method::GET, "deployments", &q, None, &[]).await?.1)
    }

    pub async fn get(&self, id: &str) -> Result<ApiDeployment, ClientError> {
        Ok(self.call(Method::GET, &format!("deployments/{}", urlencoding::encode(id)), &[], None, &[]).await?.1)
    }

    pub async fn events(&self, id: &str, limit: u32, cursor: Option<&str>) -> Result<Page<Event>, ClientError> {
        let mut q = vec![("limit", limit.to_string())];
        if let Some(c) = cursor {
            q.push(("cursor", c.to_string()));
        }
        Ok(self.call(Method::GET, &format!("deployments/{}/events", urlencoding::encode(id)), &q, None, &[]).await?.1)
    }

    /// The monitor's Grafana login (`GET /deployments/{id}/credentials`): the deployment's
    /// creator or an operator only.
    pub async fn credentials(&self, id: &str) -> Result<GrafanaLogin, ClientError> {
        Ok(self.call(Method::GET, &format!("deployments/{}/credentials", urlencoding::encode(id)), &[], None, &[]).await?.1)
    }

    pub async fn change_traffic(&self, id: &str, change: &TrafficChange) -> Result<ApiDeployment, ClientError> {
        let body = serde_json::to_vec(change).expect("traffic change serialises");
        let path = format!("deployments/{}/traffic", urlencoding::encode(id));
        Ok(self.call(Method::PATCH, &path, &[], Some(body), &[]).await?.1)
    }

    pub async fn destroy(&self, id: &str) -> Result<DestroyAccepted, ClientError> {
        Ok(self.call(Method::DELETE, &format!("deployments/{}", urlencoding::encode(id)), &[], None, &[]).await?.1)
    }

    /// The live verdict (`GET /deployments/{id}/verdict`), refreshed by the call.
    pub async fn verdict(&self, id: &str) -> Result<serde_json::Value, ClientError> {
        Ok(self.call(Method::GET, &format!("deployments/{}/verdict", urlencoding::encode(id)), &[], None, &[]).await?.1)
    }

    pub async fn environment(&self) -> Result<serde_json::Value, ClientError> {
        Ok(self.call(Method::GET, "environment", &[], None, &[]).await?.1)
    }

    /// A plain HTTP client for presigned uploads (not signed by us: the URL carries the
    /// signature).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }
}

/// `host` or `host:port` as the request will carry it (the default port is omitted).
pub fn host_header(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    }
}

fn api_error(method: &Method, path: &str, status: u16, bytes: &[u8]) -> ClientError {
    let (error, message, fields) = match serde_json::from_slice::<ApiErrorBody>(bytes) {
        Ok(b) if !b.error.is_empty() || !b.message.is_empty() => (b.error, b.message, b.fields),
        _ => (String::new(), snippet(bytes), Vec::new()),
    };
    let message = if message.is_empty() { default_message(status).to_string() } else { message };
    ClientError::Api { method: method.to_string(), path: format!("/{path}"), status, error, message, fields }
}

fn default_message(status: u16) -> &'static str {
    match status {
        401 | 403 => "not authorised: check your AWS credentials and the execute-api:Invoke permission (or --no-sign for a local endpoint)",
        404 => "not found",
        409 => "conflict",
        _ => "request failed",
    }
}

fn snippet(bytes: &[u8]) -> String {
    let s = String::from_utf8_lossy(bytes);
    let s = s.trim();
    if s.chars().count() > 300 {
        format!("{}…", s.chars().take(300).collect::<String>())
    } else {
        s.to_string()
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let m = c.to_string();
        if !s.contains(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        cur = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_keep_the_stage_path_and_encode_queries() {
        let c = Client::new("https://abc.execute-api.eu-west-1.amazonaws.com/prod", None).unwrap();
        assert_eq!(
            c.url("deployments", &[("status", "ACTIVE".into()), ("cursor", "a/b c".into())]).as_str(),
            "https://abc.execute-api.eu-west-1.amazonaws.com/prod/deployments?status=ACTIVE&cursor=a%2Fb%20c"
        );
        let c = Client::new("http://127.0.0.1:8080", None).unwrap();
        assert_eq!(c.url("deployments/x/events", &[]).as_str(), "http://127.0.0.1:8080/deployments/x/events");
        assert_eq!(host_header(c.base()), "127.0.0.1:8080");
        assert!(Client::new("ftp://x", None).is_err());
        assert!(Client::new("not a url", None).is_err());
    }

    #[test]
    fn api_errors_keep_field_messages() {
        let body = br#"{"error":"InvalidSpec","message":"the spec is invalid","fields":[{"field":"trafficPercent","message":"must be 0.1-50"}]}"#;
        let e = api_error(&Method::POST, "deployments", 400, body);
        assert!(e.is_validation());
        let text = e.to_string();
        assert!(text.contains("the spec is invalid") && text.contains("trafficPercent: must be 0.1-50") && text.contains("HTTP 400"), "{text}");
        let e = api_error(&Method::GET, "deployments/x", 404, b"");
        assert_eq!(e.status(), Some(404));
        assert!(!e.is_validation());
        assert!(e.to_string().contains("not found"));
    }
}
