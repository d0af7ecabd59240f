//! `POST /deployments`, `GET /deployments`, `GET /deployments/{id}`.

use aviary_shared::admission::{admit, AdmissionOutcome, AdmissionRequest, RejectMode};
use aviary_shared::aws::Aws;
use aviary_shared::ids::deployment_id_for_request;
use aviary_shared::model::Source;
use aviary_shared::spec::{DeploymentSpec, FieldError};
use serde::Deserialize;

use crate::request::ApiRequest;
use crate::responses::{ApiError, Reply};
use crate::validation::{deployment_id, idempotency_key, json_body, list_cursor, Query};
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
/// header, else the body's `idempotencyKey`, else API Gateway's request id (which makes
/// API Gateway's own retries idempotent, not the client's).
fn key_of(req: &ApiRequest, body_key: Option<&str>) -> Result<String, ApiError> {
    let header = match req.headers.get(IDEMPOTENCY_HEADER) {
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
        (None, None) => req
            .request_id
            .clone()
            .ok_or_else(|| ApiError::field("Idempotency-Key", "required (no request id to fall back on)")),
    }
}

pub async fn create(aws: &Aws, req: &ApiRequest) -> Result<Reply, ApiError> {
    Query::parse(req, &[])?;
    let body: CreateRequest = json_body(req)?;
    let key = key_of(req, body.idempotency_key.as_deref())?;
    // Validate before anything reaches AWS: the id embeds the name, and a name DynamoDB
    // cannot store as a key would otherwise come back as a 502.
    let errors = body.spec.validate();
    if !errors.is_empty() {
        return Err(in_spec(errors));
    }
    let spec = body.spec;
    let id = deployment_id_for_request(&spec.name, &key);
    let outcome = admit(
        aws,
        AdmissionRequest {
            id,
            name: spec.name.clone(),
            source: Source::Api { idempotency_key: key },
            spec: Ok(spec),
            raw_spec: None,
            // Answer mode: a refused request writes nothing.
            mode: RejectMode::Answer,
        },
    )
    .await?;
    match outcome {
        AdmissionOutcome::Started(d) => {
            super::log_caller(aws, &d.id, req, "POST /deployments").await;
            let location = format!("/deployments/{}", d.id);
            Ok(Reply::with_status(201, &DeploymentView::new(*d)).at(location))
        }
        AdmissionOutcome::Duplicate(d) => {
            let location = format!("/deployments/{}", d.id);
            Ok(Reply::ok(&DeploymentView::new(*d)).at(location))
        }
        AdmissionOutcome::Invalid(errors) => Err(in_spec(errors)),
        // Only the S3 path records rejections; in Answer mode this cannot happen, but if it
        // did the record exists and is the honest answer.
        AdmissionOutcome::Rejected(d) => Ok(Reply::ok(&DeploymentView::new(*d))),
    }
}

pub async fn list(aws: &Aws, req: &ApiRequest) -> Result<Reply, ApiError> {
    let q = Query::parse(req, &["status", "limit", "cursor"])?;
    let status = q.status()?;
    let limit = q.limit(DEFAULT_PAGE, MAX_PAGE)?;
    let cursor = q.get("cursor");
    list_cursor(cursor, status)?;
    let page = aws.store().list(status, limit, cursor).await?;
    Ok(Reply::ok(&PageView { items: page.items.into_iter().map(DeploymentView::new).collect(), next: page.next }))
}

pub async fn get(aws: &Aws, req: &ApiRequest, id: &str) -> Result<Reply, ApiError> {
    deployment_id(id)?;
    Query::parse(req, &[])?;
    let d = aws.store().get(id).await?.ok_or_else(|| ApiError::not_found(id))?;
    Ok(Reply::ok(&DeploymentView::new(d)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn req(header: Option<&str>, request_id: Option<&str>) -> ApiRequest {
        let mut headers = http::HeaderMap::new();
        if let Some(h) = header {
            headers.insert(IDEMPOTENCY_HEADER, HeaderValue::from_str(h).unwrap());
        }
        ApiRequest {
            method: http::Method::POST,
            path: "/deployments".into(),
            query: vec![],
            headers,
            body: None,
            request_id: request_id.map(str::to_string),
            caller: None,
        }
    }

    #[test]
    fn the_idempotency_key_prefers_the_header_then_the_body_then_the_request_id() {
        assert_eq!(key_of(&req(Some("h"), Some("r")), None).unwrap(), "h");
        assert_eq!(key_of(&req(Some("k"), Some("r")), Some("k")).unwrap(), "k");
        assert_eq!(key_of(&req(None, Some("r")), Some("b")).unwrap(), "b");
        assert_eq!(key_of(&req(None, Some("r")), None).unwrap(), "r");
        assert!(matches!(key_of(&req(None, None), None), Err(ApiError::Validation(_))));
    }

    #[test]
    fn conflicting_or_malformed_keys_are_400() {
        match key_of(&req(Some("a"), None), Some("b")) {
            Err(ApiError::Validation(f)) => assert_eq!(f[0].field, "idempotencyKey"),
            other => panic!("{other:?}"),
        }
        match key_of(&req(Some("has space"), None), None) {
            Err(ApiError::Validation(f)) => assert_eq!(f[0].field, "Idempotency-Key"),
            other => panic!("{other:?}"),
        }
        assert!(key_of(&req(None, None), Some("")).is_err());
    }
}
