//! Keeps the console local: requests must name the console's own loopback address in `Host`
//! (so a web page on another site cannot reach it through DNS rebinding), and requests that
//! change something must come from the console's own pages (`Origin`, when the browser sends
//! it, is the console). Every answer carries headers that keep the pages self-contained.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub async fn local_only(State(port): State<u16>, req: Request, next: Next) -> Response {
    let host = req.headers().get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !is_own_host(host, port) {
        return refuse(StatusCode::MISDIRECTED_REQUEST, "this console answers only on its own loopback address");
    }
    let changes = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if changes {
        if let Some(origin) = req.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
            if !is_own_origin(origin, port) {
                return refuse(StatusCode::FORBIDDEN, "cross-origin request refused");
            }
        }
    }
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    h.insert(
        "content-security-policy",
        HeaderValue::from_static("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'"),
    );
    resp
}

pub fn is_own_host(host: &str, port: u16) -> bool {
    aviary_client::local_guard::host_allowed(host, Some(port))
}

pub fn is_own_origin(origin: &str, port: u16) -> bool {
    aviary_client::local_guard::origin_allowed(origin, Some(port))
}

fn refuse(status: StatusCode, message: &str) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], serde_json::json!({"error": "Refused", "message": message}).to_string())
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_consoles_own_address() {
        assert!(is_own_host("127.0.0.1:8080", 8080));
        assert!(is_own_host("localhost:8080", 8080));
        assert!(!is_own_host("evil.example:8080", 8080));
        assert!(!is_own_host("127.0.0.1:8081", 8080));
        assert!(is_own_origin("http://127.0.0.1:8080", 8080));
        assert!(!is_own_origin("https://evil.example", 8080));
    }
}
