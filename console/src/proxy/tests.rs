//! The proxy against a fake API on loopback: only Aviary routes reach it, calls are signed
//! when the console signs, and the API's errors reach the page unchanged.

use std::sync::{Arc, Mutex};

use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use axum::extract::Request;
use axum::http::Method;

use super::*;
use crate::sign::Signer;

/// (method, path?query, authorization, body) of one request the fake API received.
type Received = (String, String, Option<String>, Vec<u8>);

#[derive(Default, Clone)]
struct Seen(Arc<Mutex<Vec<Received>>>);

/// A fake API: records (method, path?query, authorization, body); `/deployments?status=BAD`
/// answers a 400 with fields, `/uploads` a plan pointing back at `/s3/…`.
async fn fake_api(seen: Seen) -> String {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let base2 = base.clone();
    let app = axum::Router::new().fallback(move |req: Request| {
        let seen = seen.clone();
        let base = base2.clone();
        async move {
            let (parts, body) = req.into_parts();
            let body = axum::body::to_bytes(body, 1 << 20).await.unwrap().to_vec();
            let auth = parts.headers.get("authorization").map(|v| v.to_str().unwrap().to_string());
            let pq = parts.uri.path_and_query().unwrap().to_string();
            let len = parts.headers.get("content-length").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
            seen.0.lock().unwrap().push((parts.method.to_string(), pq.clone(), auth, body));
            if pq.contains("status=BAD") {
                return (StatusCode::BAD_REQUEST, [(header::CONTENT_TYPE, "application/json")], r#"{"error":"ValidationFailed","message":"bad","fields":[{"field":"status","message":"not a status"}]}"#.to_string()).into_response();
            }
            if pq.ends_with("/uploads") {
                let plan = serde_json::json!({"uploads": [{"file": "a.tar", "url": format!("{base}/s3/a.tar?sig=1"), "headers": {"content-length": "5", "x-amz-meta-k": "v"}}]});
                return (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], plan.to_string()).into_response();
            }
            if pq.starts_with("/s3/") {
                return (StatusCode::OK, format!("stored {len}")).into_response();
            }
            (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], r#"{"items":[]}"#.to_string()).into_response()
        }
    });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

async fn console(api: &str, signed: bool) -> String {
    let signer = signed.then(|| {
        Signer::new(SharedCredentialsProvider::new(Credentials::new("AKIDTEST", "secret", None, None, "test")), "eu-west-1")
    });
    let up = Upstream::new(reqwest::Url::parse(&format!("{api}/prod")).unwrap(), signer).unwrap();
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = crate::router(Arc::new(up), port);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://127.0.0.1:{port}")
}

#[test]
fn only_aviary_routes_are_forwarded() {
    let ok = |m: Method, p: &str| is_aviary_route(&m, p);
    assert!(ok(Method::GET, "/deployments"));
    assert!(ok(Method::POST, "/deployments"));
    assert!(ok(Method::GET, "/deployments/web-0123456789"));
    assert!(ok(Method::DELETE, "/deployments/web-0123456789"));
    assert!(ok(Method::GET, "/deployments/web-0123456789/events"));
    assert!(ok(Method::PATCH, "/deployments/web-0123456789/traffic"));
    assert!(ok(Method::POST, "/deployments/web-0123456789/analyses"));
    assert!(ok(Method::GET, "/deployments/web-0123456789/analyses/a1"));
    assert!(ok(Method::POST, "/uploads"));
    assert!(ok(Method::GET, "/environment"));
    assert!(!ok(Method::GET, "/"));
    assert!(!ok(Method::GET, "/latest/meta-data"));
    assert!(!ok(Method::GET, "/deployments/../environment"));
    assert!(!ok(Method::GET, "/deployments/a%2Fb"));
    assert!(!ok(Method::GET, "//deployments"));
    assert!(!ok(Method::GET, "/deployments/"));
    assert!(!ok(Method::PUT, "/deployments/x"));
    assert!(!ok(Method::GET, "/uploads"));
    assert!(!ok(Method::GET, "/deployments/x/y/z/w/v"));
}

#[tokio::test]
async fn forwards_signed_and_passes_errors_through() {
    let seen = Seen::default();
    let api = fake_api(seen.clone()).await;
    let c = console(&api, true).await;
    let http = reqwest::Client::new();

    let r = http.get(format!("{c}/api/deployments?status=BAD")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["fields"][0]["field"], "status");

    let r = http.post(format!("{c}/api/deployments")).header("content-type", "application/json").header("cookie", "x=1").body("{}").send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);

    // Not an Aviary route: refused, never forwarded.
    let r = http.get(format!("{c}/api/admin")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 404);
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["error"], "NotForwarded");

    let seen = seen.0.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[0].1, "/prod/deployments?status=BAD");
    assert_eq!(seen[1].0, "POST");
    assert_eq!(seen[1].3, b"{}");
    for (_, _, auth, _) in &seen {
        let auth = auth.as_deref().expect("signed");
        assert!(auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDTEST/"), "{auth}");
        assert!(auth.contains("/eu-west-1/execute-api/aws4_request, SignedHeaders="), "{auth}");
        assert!(!auth.contains("cookie"), "browser headers other than content-type are not passed on: {auth}");
    }
}

#[tokio::test]
async fn loopback_endpoint_is_not_signed_and_unreachable_api_is_a_502() {
    let seen = Seen::default();
    let api = fake_api(seen.clone()).await;
    let c = console(&api, false).await;
    let r = reqwest::get(format!("{c}/api/environment")).await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(seen.0.lock().unwrap()[0].2, None);

    let dead = console("http://127.0.0.1:9", false).await;
    let r = reqwest::get(format!("{dead}/api/environment")).await.unwrap();
    assert_eq!(r.status().as_u16(), 502);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"], "ProxyError");
}

#[tokio::test]
async fn relays_only_issued_upload_urls() {
    let seen = Seen::default();
    let api = fake_api(seen.clone()).await;
    let c = console(&api, false).await;
    let http = reqwest::Client::new();
    let target = format!("{api}/s3/a.tar?sig=1");

    let r = http.put(format!("{c}/upload")).header("x-upload-url", &target).body("hello").send().await.unwrap();
    assert_eq!(r.status().as_u16(), 403, "not issued yet");

    let r = http.post(format!("{c}/api/uploads")).header("content-type", "application/json").body("{}").send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let r = http.put(format!("{c}/upload")).header("x-upload-url", &target).body("hello").send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.text().await.unwrap(), "stored 5");
    let last = seen.0.lock().unwrap().last().cloned().unwrap();
    assert_eq!((last.0.as_str(), last.1.as_str(), last.3.as_slice()), ("PUT", "/s3/a.tar?sig=1", &b"hello"[..]));

    // Another host is refused by the guard (DNS rebinding).
    let r = http.get(format!("{c}/")).header("host", "evil.example").send().await.unwrap();
    assert_eq!(r.status().as_u16(), 421);
    // A cross-origin write is refused.
    let r = http.post(format!("{c}/api/deployments")).header("origin", "https://evil.example").body("{}").send().await.unwrap();
    assert_eq!(r.status().as_u16(), 403);
}
