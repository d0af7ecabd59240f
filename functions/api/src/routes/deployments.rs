//! `POST /deployments`, `GET /deployments`, `GET /deployments/{id}`.

use aviary_core::ids::deployment_id_for_request;
use aviary_core::model::Source;
use aviary_core::ownership::NotOwner;
use aviary_core::spec::{DeploymentSpec, FieldError};
use aviary_lifecycle::admission::{admit, AdmissionOutcome, AdmissionRequest, RejectMode};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;

use crate::context::Invocation;
use crate::error::ApiError;
use crate::extract::{Body, DeploymentId, QueryPairs};
use crate::reply::Reply;
use crate::state::ApiState;
use crate::validation::{cursor, cursor_fault, idempotency_key, json_body, Query};
use crate::views::{DeploymentView, PageView};

pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";
pub const DEFAULT_PAGE: i32 = 20;
pub const MAX_PAGE: i32 = 100;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CreateRequest {
    spec: DeploymentSpec,
    #[serde(default)]
    idempotency_key: Option<String>,
}

/// Spec field errors are relative to the spec; the API names them from the body's root.
fn in_spec(errors: Vec<FieldError>) -> ApiError {
    ApiError::Validation(errors.into_iter().map(|e| FieldError::new(format!("spec.{}", e.field), e.message)).collect())
}

/// The key that makes a retried request map to the same deployment: the `Idempotency-Key`
/// header, else the body's `idempotencyKey`, else the front's request id (which makes API
/// Gateway's own retries idempotent, not the client's).
fn key_of(headers: &HeaderMap, request_id: Option<&str>, body_key: Option<&str>) -> Result<String, ApiError> {
    let header = match headers.get(IDEMPOTENCY_HEADER) {
        None => None,
        Some(v) => Some(v.to_str().map_err(|_| ApiError::field("Idempotency-Key", "must be visible ASCII"))?),
    };
    if let Some(h) = header {
        idempotency_key("Idempotency-Key", h)?;
    }
    if let Some(b) = body_key {
        idempotency_key("idempotencyKey", b)?;
    }
    match (header, body_key) {
        (Some(h), Some(b)) if h != b => {
            Err(ApiError::field("idempotencyKey", "differs from the Idempotency-Key header; send one of them"))
        }
        (Some(k), _) | (None, Some(k)) => Ok(k.to_string()),
        (None, None) => request_id
            .map(str::to_string)
            .ok_or_else(|| ApiError::field("Idempotency-Key", "required (no request id to fall back on)")),
    }
}

pub async fn create(
    State(state): State<ApiState>,
    who: Invocation,
    headers: HeaderMap,
    QueryPairs(q): QueryPairs,
    Body(body): Body,
) -> Result<Reply, ApiError> {
    Query::parse(&q, &[])?;
    let body: CreateRequest = json_body(&body)?;
    let key = key_of(&headers, who.request_id.as_deref(), body.idempotency_key.as_deref())?;
    // Validate before anything reaches the cloud: the id embeds the name, and a name DynamoDB
    // cannot store as a key would otherwise come back as a 502.
    let errors = body.spec.validate();
    if !errors.is_empty() {
        return Err(in_spec(errors));
    }
    let spec = body.spec;
    // On AWS, API Gateway's IAM authoriser always names the caller; a request that names
    // nobody cannot own what it would create.
    if who.caller.is_none() {
        return Err(NotOwner::Unidentified { what: format!("canary name '{}'", spec.name) }.into());
    }
    let id = deployment_id_for_request(&spec.name, &key);
    let outcome = admit(
        &state.ports,
        AdmissionRequest {
            id,
            name: spec.name.clone(),
            source: Source::Api { idempotency_key: key },
            spec: Ok(spec),
            raw_spec: None,
            // Answer mode: a refused request writes nothing.
            mode: RejectMode::Answer,
            created_by: who.caller.clone(),
        },
    )
    .await?;
    match outcome {
        AdmissionOutcome::Started(d) => {
            crate::audit::log_caller(&state.ports, &d.id, &who, "POST /deployments").await;
            let location = format!("/deployments/{}", d.id);
            Ok(Reply::with_status(StatusCode::CREATED, &DeploymentView::new(*d)).at(location))
        }
        AdmissionOutcome::Duplicate(d) => {
            let location = format!("/deployments/{}", d.id);
            Ok(Reply::ok(&DeploymentView::new(*d)).at(location))
        }
        AdmissionOutcome::KeyReused { existing, differs } => Err(ApiError::Conflict {
            name: "IdempotencyKeyReused",
            message: format!(
                "this idempotency key was used for deployment {} with another spec (it differs in: {}); use a new key for a new deployment",
                existing.id,
                differs.join(", ")
            ),
        }),
        AdmissionOutcome::Invalid(errors) => Err(in_spec(errors)),
        AdmissionOutcome::NotOwner(e) => Err(ApiError::NotOwner(e)),
        // Only the S3 path records rejections; in Answer mode this cannot happen, but if it
        // did the record exists and is the honest answer.
        AdmissionOutcome::Rejected(d) => Ok(Reply::ok(&DeploymentView::new(*d))),
    }
}

pub async fn list(State(state): State<ApiState>, QueryPairs(q): QueryPairs) -> Result<Reply, ApiError> {
    let q = Query::parse(&q, &["status", "limit", "cursor"])?;
    let status = q.status()?;
    let limit = q.limit(DEFAULT_PAGE, MAX_PAGE)?;
    let cursor = cursor(&q)?;
    let page = state.ports.store.list(status, limit, cursor).await.map_err(cursor_fault(cursor.is_some()))?;
    Ok(Reply::ok(&PageView { items: page.items.into_iter().map(DeploymentView::new).collect(), next: page.next }))
}

pub async fn get(State(state): State<ApiState>, DeploymentId(id): DeploymentId, QueryPairs(q): QueryPairs) -> Result<Reply, ApiError> {
    Query::parse(&q, &[])?;
    let d = state.ports.store.get(&id).await?.ok_or_else(|| ApiError::not_found(&id))?;
    Ok(Reply::ok(&DeploymentView::new(d)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(h: Option<&str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(h) = h {
            headers.insert(IDEMPOTENCY_HEADER, HeaderValue::from_str(h).unwrap());
        }
        headers
    }

    #[test]
    fn the_idempotency_key_prefers_the_header_then_the_body_then_the_request_id() {
        assert_eq!(key_of(&headers(Some("h")), Some("r"), None).unwrap(), "h");
        assert_eq!(key_of(&headers(Some("k")), Some("r"), Some("k")).unwrap(), "k");
        assert_eq!(key_of(&headers(None), Some("r"), Some("b")).unwrap(), "b");
        assert_eq!(key_of(&headers(None), Some("r"), None).unwrap(), "r");
        assert!(matches!(key_of(&headers(None), None, None), Err(ApiError::Validation(_))));
    }

    #[test]
    fn conflicting_or_malformed_keys_are_400() {
        match key_of(&headers(Some("a")), None, Some("b")) {
            Err(ApiError::Validation(f)) => assert_eq!(f[0].field, "idempotencyKey"),
            other => panic!("{other:?}"),
        }
        match key_of(&headers(Some("has space")), None, None) {
            Err(ApiError::Validation(f)) => assert_eq!(f[0].field, "Idempotency-Key"),
            other => panic!("{other:?}"),
        }
        assert!(key_of(&headers(None), None, Some("")).is_err());
    }
}
