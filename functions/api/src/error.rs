//! [`ApiError`], the one error every route returns, and its HTTP answer: a JSON body with a
//! stable `error` name clients can match on. What a user sent is always a 4xx; cloud trouble
//! is a 502/503 with the cloud error's name; a 500 only for a misconfigured function or
//! inconsistent stored data.

use aviary_core::spec::{describe_errors, FieldError};
use aviary_core::ownership::NotOwner;
use aviary_core::StepError;
use axum::http::header::{HeaderValue, ALLOW, RETRY_AFTER};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::reply::json_response;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApiError {
    /// Anything wrong with what the client sent: 400 with every field at fault.
    #[error("the request is not valid: {}", describe_errors(.0))]
    Validation(Vec<FieldError>),
    /// A deployment or analysis that does not exist.
    #[error("{0}")]
    NotFound(String),
    /// A path the API does not serve.
    #[error("no route for {path}")]
    NoRoute { path: String },
    #[error("{method} is not allowed on {path}; allowed: {}", allowed.join(", "))]
    MethodNotAllowed { method: String, path: String, allowed: Vec<&'static str> },
    /// The request is valid but conflicts with the deployment's current state.
    #[error("{message}")]
    Conflict { name: &'static str, message: String },
    #[error("the request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// The caller may not change what it named (another principal owns it): 403.
    #[error(transparent)]
    NotOwner(#[from] NotOwner),
    /// A failure below the API (the cloud, configuration, stored data).
    #[error(transparent)]
    Step(#[from] StepError),
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody<'a> {
    pub error: &'a str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<&'a [FieldError]>,
}

impl ApiError {
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::Validation(vec![FieldError::new(field, message)])
    }

    pub fn not_found(id: &str) -> ApiError {
        ApiError::NotFound(format!("deployment {id} not found"))
    }

    /// The stable name in the body's `error` field.
    pub fn name(&self) -> &'static str {
        match self {
            ApiError::Validation(_) => "ValidationFailed",
            ApiError::NotFound(_) | ApiError::NoRoute { .. } | ApiError::Step(StepError::DeploymentNotFound(_)) => "NotFound",
            ApiError::MethodNotAllowed { .. } => "MethodNotAllowed",
            ApiError::Conflict { name, .. } => name,
            ApiError::PayloadTooLarge { .. } => "PayloadTooLarge",
            ApiError::NotOwner(_) => "NotOwner",
            ApiError::Step(e) => e.name(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Validation(_) => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) | ApiError::NoRoute { .. } => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::NotOwner(_) => StatusCode::FORBIDDEN,
            ApiError::Step(e) => step_status(e),
        }
    }
}

/// Where a core error lands. Statuses, not names, are what clients branch on first.
fn step_status(e: &StepError) -> StatusCode {
    match e {
        StepError::DeploymentNotFound(_) => StatusCode::NOT_FOUND,
        // The deployment moved on under us, or the environment no longer supports the change.
        StepError::StatusConflict { .. }
        | StepError::Environment(_)
        | StepError::PriorityExhausted(_)
        | StepError::TargetsNotHealthy(_) => StatusCode::CONFLICT,
        // Worth retrying: throttling, cloud 5xx, network; an instance still starting.
        StepError::AwsTransient { .. } | StepError::InstancesNotReady(_) | StepError::TeardownIncomplete(_) => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        // The cloud refused or did not show our change.
        StepError::Aws { .. } | StepError::RuleVerificationFailed(_) => StatusCode::BAD_GATEWAY,
        // User input is validated before the core runs, so these are ours to fix.
        StepError::Config(_) | StepError::InvalidInput(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = self.name(), status = status.as_u16(), "{self}");
        } else {
            tracing::info!(error = self.name(), status = status.as_u16(), "{self}");
        }
        let mut headers = HeaderMap::new();
        match &self {
            ApiError::MethodNotAllowed { allowed, .. } => {
                if let Ok(v) = HeaderValue::from_str(&allowed.join(", ")) {
                    headers.insert(ALLOW, v);
                }
            }
            ApiError::Step(StepError::AwsTransient { .. }) => {
                headers.insert(RETRY_AFTER, HeaderValue::from_static("2"));
            }
            _ => {}
        }
        let fields = match &self {
            ApiError::Validation(f) => Some(f.as_slice()),
            _ => None,
        };
        let body = ErrorBody { error: self.name(), message: self.to_string(), fields };
        json_response(status, headers, serde_json::to_string(&body).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::header::CONTENT_TYPE;

    async fn answer(e: ApiError) -> (StatusCode, HeaderMap, serde_json::Value) {
        let r = e.into_response();
        let (parts, body) = r.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        (parts.status, parts.headers, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn validation_errors_list_every_field() {
        let (s, h, b) = answer(ApiError::Validation(vec![FieldError::new("spec.name", "bad"), FieldError::new("spec.appPort", "bad")])).await;
        assert_eq!(s, 400);
        assert_eq!(b["error"], "ValidationFailed");
        assert_eq!(b["fields"].as_array().unwrap().len(), 2);
        assert_eq!(b["fields"][1]["field"], "spec.appPort");
        assert_eq!(h.get(CONTENT_TYPE).unwrap(), "application/json");
    }

    #[tokio::test]
    async fn cloud_failures_are_502_or_503_with_the_error_name() {
        let (s, h, b) = answer(ApiError::Step(StepError::aws("Query", true, "ThrottlingException: slow down"))).await;
        assert_eq!((s.as_u16(), b["error"].as_str().unwrap()), (503, "AwsTransient"));
        assert!(h.get(RETRY_AFTER).is_some());
        let (s, _, b) = answer(ApiError::Step(StepError::aws("ModifyRule", false, "AccessDenied: no"))).await;
        assert_eq!((s.as_u16(), b["error"].as_str().unwrap()), (502, "AwsError"));
        assert!(b.get("fields").is_none());
    }

    #[tokio::test]
    async fn missing_deployments_and_routes_share_one_name() {
        let (a, _, ab) = answer(ApiError::Step(StepError::DeploymentNotFound("x".into()))).await;
        let (b, _, bb) = answer(ApiError::NoRoute { path: "/x".into() }).await;
        assert_eq!((a.as_u16(), b.as_u16()), (404, 404));
        assert_eq!((ab["error"].as_str(), bb["error"].as_str()), (Some("NotFound"), Some("NotFound")));
    }

    #[tokio::test]
    async fn method_not_allowed_names_the_allowed_methods() {
        let e = ApiError::MethodNotAllowed { method: "PUT".into(), path: "/deployments".into(), allowed: vec!["GET", "POST"] };
        let (s, h, _) = answer(e).await;
        assert_eq!(s, 405);
        assert_eq!(h.get(ALLOW).unwrap(), "GET, POST");
    }

    #[test]
    fn every_step_error_has_a_status_outside_400() {
        // User mistakes are caught before the core runs; a core error is never a 400.
        for name in StepError::NAMES {
            let e = match name {
                "DeploymentNotFound" => StepError::DeploymentNotFound("x".into()),
                "StatusConflict" => StepError::StatusConflict { id: "x".into(), actual: "A".into(), expected: "B".into() },
                "AwsTransient" => StepError::aws("Op", true, "m"),
                "AwsError" => StepError::aws("Op", false, "m"),
                "EnvironmentError" => StepError::Environment("e".into()),
                "PriorityExhausted" => StepError::PriorityExhausted("p".into()),
                "TargetsNotHealthy" => StepError::TargetsNotHealthy("t".into()),
                "RuleVerificationFailed" => StepError::RuleVerificationFailed("r".into()),
                "TeardownIncomplete" => StepError::TeardownIncomplete("t".into()),
                "ConfigError" => StepError::Config("c".into()),
                "InvalidInput" => StepError::InvalidInput("i".into()),
                "InstancesNotReady" => StepError::InstancesNotReady("n".into()),
                other => panic!("new StepError {other}: decide its HTTP status"),
            };
            let s = ApiError::Step(e).status().as_u16();
            assert!(s == 404 || s == 409 || s >= 500, "{name} -> {s}");
        }
    }
}
