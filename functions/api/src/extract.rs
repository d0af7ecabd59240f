//! The request's parts each route reads, as axum extractors whose rejection is an
//! [`ApiError`]: path ids (percent-decoded and checked, so a malformed id is a 400 naming the
//! field rather than a 404), the query's decoded pairs and the body's bytes.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;

use crate::error::ApiError;
use crate::validation::{decode_segment, deployment_id, parse_query};

/// The path's `n`th segment (after the leading `/`), percent-decoded. The route matched, so
/// the segment exists; an empty one (`//`, a trailing `/`) never names a resource (API Gateway
/// would not match it either), so it is a 404 like any unknown path.
fn segment(parts: &Parts, n: usize) -> Result<String, ApiError> {
    match parts.uri.path().split('/').nth(n + 1) {
        Some(s) if !s.is_empty() => Ok(decode_segment(s)),
        _ => Err(ApiError::NoRoute { path: parts.uri.path().to_string() }),
    }
}

/// `{id}` of `/deployments/{id}/...`, checked.
pub struct DeploymentId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for DeploymentId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let id = segment(parts, 1)?;
        deployment_id(&id)?;
        Ok(DeploymentId(id))
    }
}

/// `{aid}` of `/deployments/{id}/analyses/{aid}`, checked.
pub struct AnalysisId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for AnalysisId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let aid = segment(parts, 3)?;
        if aid.is_empty() || aid.len() > 128 || !aid.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(ApiError::field("aid", "not an analysis id"));
        }
        Ok(AnalysisId(aid))
    }
}

/// The query string's pairs, decoded, in order (see [`parse_query`]).
pub struct QueryPairs(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for QueryPairs {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        Ok(QueryPairs(parse_query(parts.uri.query().unwrap_or(""))))
    }
}

/// The body's bytes (empty when there is none). The router has already read it within its
/// size limit, so this cannot fail on size.
pub struct Body(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        Bytes::from_request(req, state).await.map(Body).map_err(|e| ApiError::field("body", format!("the body could not be read: {e}")))
    }
}
