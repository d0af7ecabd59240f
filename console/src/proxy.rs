//! The API proxy: `/api/<route>` on the console is forwarded to `<endpoint>/<route>` — only
//! Aviary's own routes (see [`is_aviary_route`]); anything else is refused without reaching
//! the network. Calls are signed with SigV4 when the console signs; only `content-type` and
//! `idempotency-key` are passed on from the browser. The upstream answer (status, body,
//! `content-type`, `location`, `retry-after`) reaches the page unchanged, errors included.
//!
//! Uploads: the pages `PUT /upload` with `x-upload-url` naming one of the presigned URLs a
//! `POST /uploads` answer gave through this proxy; the body is streamed to that URL with
//! the plan's signed headers. (The artifact bucket has no CORS rules, so the browser cannot
//! PUT to S3 itself; relaying through loopback keeps XHR upload progress.) No other URL is
//! relayed.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use crate::sign::Signer;
use crate::ConsoleError;

/// Upload URLs remembered for the relay (the newest win).
const MAX_ISSUED: usize = 256;
/// Headers passed on from the browser to the API.
const FORWARDED: [&str; 2] = ["content-type", "idempotency-key"];
/// Headers passed back from the API to the browser.
const RETURNED: [&str; 3] = ["content-type", "location", "retry-after"];

/// Where API calls go, and how.
pub struct Upstream {
    base: reqwest::Url,
    http: reqwest::Client,
    signer: Option<Signer>,
    issued: Mutex<VecDeque<Issued>>,
}

#[derive(Clone)]
struct Issued {
    url: String,
    headers: Vec<(String, String)>,
}

impl Upstream {
    pub fn new(mut base: reqwest::Url, signer: Option<Signer>) -> Result<Upstream, ConsoleError> {
        if !base.path().ends_with('/') {
            let p = format!("{}/", base.path());
            base.set_path(&p);
        }
        base.set_query(None);
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ConsoleError::Client(e.to_string()))?;
        Ok(Upstream { base, http, signer, issued: Mutex::new(VecDeque::new()) })
    }

    /// The upstream URL for an API path (`deployments/x`) and raw query.
    pub fn url(&self, path: &str, query: Option<&str>) -> reqwest::Url {
        let mut url = self.base.join(path.trim_start_matches('/')).expect("checked API path");
        url.set_query(query.filter(|q| !q.is_empty()));
        url
    }

    fn remember(&self, plan: &serde_json::Value) {
        let Some(uploads) = plan.get("uploads").and_then(|u| u.as_array()) else { return };
        let mut issued = self.issued.lock().expect("issued lock");
        for u in uploads {
            let Some(url) = u.get("url").and_then(|v| v.as_str()) else { continue };
            let headers = u
                .get("headers")
                .and_then(|h| h.as_object())
                .map(|h| h.iter().filter_map(|(k, v)| v.as_str().map(|v| (k.to_ascii_lowercase(), v.to_string()))).collect())
                .unwrap_or_default();
            issued.retain(|i| i.url != url);
            issued.push_back(Issued { url: url.to_string(), headers });
            while issued.len() > MAX_ISSUED {
                issued.pop_front();
            }
        }
    }

    fn issued(&self, url: &str) -> Option<Issued> {
        self.issued.lock().expect("issued lock").iter().find(|i| i.url == url).cloned()
    }
}

/// Whether `method path` (relative to the API root) is one of Aviary's routes.
pub fn is_aviary_route(method: &Method, path: &str) -> bool {
    let Some(rest) = path.strip_prefix('/') else { return false };
    let segs: Vec<&str> = rest.split('/').collect();
    let plain = |s: &str| !s.is_empty() && s.len() <= 128 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !segs.iter().all(|s| plain(s)) {
        return false;
    }
    let m = method.as_str();
    match segs.as_slice() {
        ["deployments"] => matches!(m, "GET" | "POST"),
        ["deployments", _] => matches!(m, "GET" | "DELETE"),
        ["deployments", _, "events"] => m == "GET",
        ["deployments", _, "traffic"] => m == "PATCH",
        ["deployments", _, "analyses"] => matches!(m, "GET" | "POST"),
        ["deployments", _, "analyses", _] => m == "GET",
        ["deployments", _, "verdict"] => m == "GET",
        ["uploads"] => m == "POST",
        ["environment"] => m == "GET",
        _ => false,
    }
}

/// `ANY /api/*`: forwards an Aviary route.
pub async fn forward(State(up): State<Arc<Upstream>>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let path = uri.path().strip_prefix("/api").unwrap_or("");
    if !is_aviary_route(&method, path) {
        return error(StatusCode::NOT_FOUND, "NotForwarded", &format!("{method} {path} is not an Aviary API route; the console forwards only those"));
    }
    let url = up.url(path, uri.query());
    let mut send: Vec<(String, String)> = vec![("host".into(), host_header(&url))];
    for name in FORWARDED {
        if let Some(v) = headers.get(name).and_then(|v| v.to_str().ok()) {
            send.push((name.into(), v.into()));
        }
    }
    if let Some(signer) = &up.signer {
        match signer.sign(method.as_str(), url.as_str(), &send, &body).await {
            Ok(extra) => send.extend(extra),
            Err(e) => return error(StatusCode::UNAUTHORIZED, "SigningFailed", &e.to_string()),
        }
    }
    let mut req = up.http.request(method.clone(), url.clone()).timeout(Duration::from_secs(60));
    for (k, v) in &send {
        req = req.header(k.as_str(), v.as_str());
    }
    if !body.is_empty() || matches!(method, Method::POST | Method::PATCH) {
        req = req.body(body);
    }
    let resp = match req.send().await {
        Ok(r) => r,
        Err(e) => return error(StatusCode::BAD_GATEWAY, "ProxyError", &format!("cannot reach the Aviary API at {}: {}", up.base, chain(&e))),
    };
    let status = resp.status();
    let back: Vec<(String, String)> = RETURNED
        .iter()
        .filter_map(|n| resp.headers().get(*n).and_then(|v| v.to_str().ok()).map(|v| (n.to_string(), v.to_string())))
        .collect();
    let bytes = match resp.bytes().await {
        Ok(b) => b,
        Err(e) => return error(StatusCode::BAD_GATEWAY, "ProxyError", &format!("the Aviary API's answer was cut short: {}", chain(&e))),
    };
    if method == Method::POST && path == "/uploads" && status.is_success() {
        if let Ok(plan) = serde_json::from_slice::<serde_json::Value>(&bytes) {
            up.remember(&plan);
        }
    }
    let mut out = Response::builder().status(status.as_u16());
    for (k, v) in &back {
        out = out.header(k.as_str(), v.as_str());
    }
    out.body(Body::from(bytes)).unwrap_or_else(|_| error(StatusCode::BAD_GATEWAY, "ProxyError", "unreadable answer"))
}

/// `PUT /upload`: streams the body to a presigned URL issued through [`forward`].
pub async fn upload(State(up): State<Arc<Upstream>>, headers: HeaderMap, body: Body) -> Response {
    let Some(target) = headers.get("x-upload-url").and_then(|v| v.to_str().ok()) else {
        return error(StatusCode::BAD_REQUEST, "Refused", "x-upload-url is missing");
    };
    let Some(issued) = up.issued(target) else {
        return error(StatusCode::FORBIDDEN, "Refused", "not an upload URL issued by POST /uploads through this console");
    };
    let Ok(url) = reqwest::Url::parse(&issued.url) else {
        return error(StatusCode::BAD_REQUEST, "Refused", "the issued upload URL does not parse");
    };
    let mut req = up.http.put(url).body(reqwest::Body::wrap_stream(body.into_data_stream()));
    for (k, v) in &issued.headers {
        req = req.header(k.as_str(), v.as_str());
    }
    match req.send().await {
        Ok(resp) => {
            let status = resp.status().as_u16();
            let ct = resp.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("text/plain").to_string();
            let bytes = resp.bytes().await.unwrap_or_default();
            Response::builder()
                .status(status)
                .header(header::CONTENT_TYPE, ct)
                .body(Body::from(bytes))
                .unwrap_or_else(|_| error(StatusCode::BAD_GATEWAY, "ProxyError", "unreadable answer"))
        }
        Err(e) => error(StatusCode::BAD_GATEWAY, "UploadFailed", &format!("upload to S3 failed: {}", chain(&e))),
    }
}

/// `host[:port]` as the request will carry it (and sign it).
pub fn host_header(url: &reqwest::Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    }
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(c) = src {
        s.push_str(": ");
        s.push_str(&c.to_string());
        src = c.source();
    }
    s
}

fn error(status: StatusCode, name: &str, message: &str) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], serde_json::json!({"error": name, "message": message}).to_string()).into_response()
}

#[cfg(test)]
mod tests;
