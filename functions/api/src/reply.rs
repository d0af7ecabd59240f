//! [`Reply`], a successful answer: a JSON body with its status and, for a created resource,
//! its `Location`. Every answer of the API, errors included, is JSON and never cached.

use axum::body::Body;
use axum::http::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE, LOCATION};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: StatusCode,
    pub body: serde_json::Value,
    pub location: Option<String>,
}

impl Reply {
    pub fn ok<T: Serialize>(body: &T) -> Reply {
        Reply::with_status(StatusCode::OK, body)
    }

    pub fn with_status<T: Serialize>(status: StatusCode, body: &T) -> Reply {
        // Serialising our own types cannot fail (no maps with non-string keys); `Null` would
        // show up in the contract tests if it ever did.
        Reply { status, body: serde_json::to_value(body).unwrap_or(serde_json::Value::Null), location: None }
    }

    pub fn at(mut self, location: String) -> Reply {
        self.location = Some(location);
        self
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let mut headers = HeaderMap::new();
        if let Some(loc) = self.location.and_then(|l| HeaderValue::from_str(&l).ok()) {
            headers.insert(LOCATION, loc);
        }
        json_response(self.status, headers, self.body.to_string())
    }
}

/// A JSON answer with `headers` added.
pub fn json_response(status: StatusCode, mut headers: HeaderMap, body: String) -> Response {
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    // Deployment state changes by the second; no cache may keep an answer.
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    *r.headers_mut() = headers;
    r
}
