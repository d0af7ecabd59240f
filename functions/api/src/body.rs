//! The request body, read once before routing and capped at [`MAX_BODY_BYTES`]: a larger
//! body is a 413 whatever the route (as it was in front of the old event handler), so no
//! route ever holds more than the cap.

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// Largest request body accepted. Specs are at most 256 KiB (the S3 path's limit); the rest
/// of the API takes small JSON documents.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Middleware: buffers the body within the limit set by `DefaultBodyLimit` (installed around
/// it by [`crate::router`]).
pub async fn buffered(req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    match Bytes::from_request(Request::from_parts(parts.clone(), body), &()).await {
        Ok(bytes) => next.run(Request::from_parts(parts, Body::from(bytes))).await,
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge { limit: MAX_BODY_BYTES }.into_response(),
        Err(e) => ApiError::field("body", format!("the body could not be read: {}", e.body_text())).into_response(),
    }
}
