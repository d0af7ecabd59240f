//! Responses: JSON bodies with the right status, and [`ApiError`], the one error type every
//! route returns. Each error has a stable `error` name clients can match on; what a user typed
//! is always a 4xx, AWS trouble a 502/503 with the AWS error's name, and a 500 only for a
//! misconfigured function or an internal inconsistency.

use aviary_shared::spec::FieldError;
use aviary_shared::StepError;
use aws_lambda_events::apigw::ApiGatewayV2httpResponse;
use aws_lambda_events::encodings::Body;
use http::header::{HeaderValue, ALLOW, CACHE_CONTROL, CONTENT_TYPE, LOCATION, RETRY_AFTER};
use http::HeaderMap;
use serde::Serialize;

use crate::router::RouteError;

/// A successful answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub body: serde_json::Value,
    pub location: Option<String>,
}

impl Reply {
    pub fn ok<T: Serialize>(body: &T) -> Reply {
        Reply::with_status(200, body)
    }

    pub fn with_status<T: Serialize>(status: u16, body: &T) -> Reply {
        // Serialising our own types cannot fail (no maps with non-string keys); `Null` would
        // show up in the contract tests if it ever did.
        Reply { status, body: serde_json::to_value(body).unwrap_or(serde_json::Value::Null), location: None }
    }

    pub fn at(mut self, location: String) -> Reply {
        self.location = Some(location);
        self
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApiError {
    /// Anything wrong with what the client sent: 400 with every field at fault.
    #[error("the request is not valid: {}", aviary_shared::spec::describe_errors(.0))]
    Validation(Vec<FieldError>),
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Route(#[from] RouteError),
    /// The request is valid but conflicts with the deployment's current state.
    #[error("{message}")]
    Conflict { name: &'static str, message: String },
    #[error("the request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// A route that is declared but not served yet.
    #[error("{0}")]
    NotImplemented(String),
    /// A failure below the API (AWS, configuration, stored data).
    #[error(transparent)]
    Step(#[from] StepError),
    /// A bug in the handler (a panic); never caused by input alone.
    #[error("{0}")]
    Internal(String),
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
            ApiError::NotFound(_) | ApiError::Route(RouteError::NotFound { .. }) => "NotFound",
            ApiError::Route(RouteError::MethodNotAllowed { .. }) => "MethodNotAllowed",
            ApiError::Conflict { name, .. } => name,
            ApiError::PayloadTooLarge { .. } => "PayloadTooLarge",
            ApiError::NotImplemented(_) => "NotImplemented",
            ApiError::Internal(_) => "InternalError",
            ApiError::Step(StepError::DeploymentNotFound(_)) => "NotFound",
            ApiError::Step(e) => e.name(),
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            ApiError::Validation(_) => 400,
            ApiError::NotFound(_) | ApiError::Route(RouteError::NotFound { .. }) => 404,
            ApiError::Route(RouteError::MethodNotAllowed { .. }) => 405,
            ApiError::Conflict { .. } => 409,
            ApiError::PayloadTooLarge { .. } => 413,
            ApiError::NotImplemented(_) => 501,
            ApiError::Internal(_) => 500,
            ApiError::Step(e) => step_status(e),
        }
    }
}

/// Where a shared-core error lands. Statuses, not names, are what clients branch on first.
fn step_status(e: &StepError) -> u16 {
    match e {
        StepError::DeploymentNotFound(_) => 404,
        // The deployment moved on under us, or the environment no longer supports the change.
        StepError::StatusConflict { .. }
        | StepError::Environment(_)
        | StepError::PriorityExhausted(_)
        | StepError::TargetsNotHealthy(_) => 409,
        // Worth retrying: throttling, AWS 5xx, network; an instance still starting.
        StepError::AwsTransient { .. } | StepError::InstancesNotReady(_) | StepError::TeardownIncomplete(_) => 503,
        // AWS refused or did not show our change.
        StepError::Aws { .. } | StepError::RuleVerificationFailed(_) => 502,
        // User input is validated before the core runs, so these are ours to fix.
        StepError::Config(_) | StepError::InvalidInput(_) => 500,
    }
}

fn json_headers() -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    // Deployment state changes by the second; no cache may keep an answer.
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h
}

fn response(status: u16, headers: HeaderMap, body: String) -> ApiGatewayV2httpResponse {
    let mut r = ApiGatewayV2httpResponse::default();
    r.status_code = i64::from(status);
    r.headers = headers;
    r.body = Some(Body::Text(body));
    r.is_base64_encoded = false;
    r
}

impl From<Reply> for ApiGatewayV2httpResponse {
    fn from(reply: Reply) -> Self {
        let mut headers = json_headers();
        if let Some(loc) = reply.location.and_then(|l| HeaderValue::from_str(&l).ok()) {
            headers.insert(LOCATION, loc);
        }
        response(reply.status, headers, reply.body.to_string())
    }
}

impl From<ApiError> for ApiGatewayV2httpResponse {
    fn from(e: ApiError) -> Self {
        let status = e.status();
        if status >= 500 {
            tracing::error!(error = e.name(), status, "{e}");
        } else {
            tracing::info!(error = e.name(), status, "{e}");
        }
        let mut headers = json_headers();
        match &e {
            ApiError::Route(RouteError::MethodNotAllowed { allowed, .. }) => {
                if let Ok(v) = HeaderValue::from_str(&allowed.join(", ")) {
                    headers.insert(ALLOW, v);
                }
            }
            ApiError::Step(StepError::AwsTransient { .. }) => {
                headers.insert(RETRY_AFTER, HeaderValue::from_static("2"));
            }
            _ => {}
        }
        let fields = match &e {
            ApiError::Validation(f) => Some(f.as_slice()),
            _ => None,
        };
        let body = ErrorBody { error: e.name(), message: e.to_string(), fields };
        response(status, headers, serde_json::to_string(&body).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(r: &ApiGatewayV2httpResponse) -> serde_json::Value {
        match &r.body {
            Some(Body::Text(t)) => serde_json::from_str(t).unwrap(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn validation_errors_list_every_field() {
        let r: ApiGatewayV2httpResponse =
            ApiError::Validation(vec![FieldError::new("spec.name", "bad"), FieldError::new("spec.appPort", "bad")]).into();
        assert_eq!(r.status_code, 400);
        let b = body(&r);
        assert_eq!(b["error"], "ValidationFailed");
        assert_eq!(b["fields"].as_array().unwrap().len(), 2);
        assert_eq!(b["fields"][1]["field"], "spec.appPort");
        assert_eq!(r.headers.get(CONTENT_TYPE).unwrap(), "application/json");
    }

    #[test]
    fn aws_failures_are_502_or_503_with_the_error_name() {
        let r: ApiGatewayV2httpResponse = ApiError::Step(StepError::aws("Query", true, "ThrottlingException: slow down")).into();
        assert_eq!((r.status_code, body(&r)["error"].as_str().unwrap()), (503, "AwsTransient"));
        assert!(r.headers.get(RETRY_AFTER).is_some());
        let r: ApiGatewayV2httpResponse = ApiError::Step(StepError::aws("ModifyRule", false, "AccessDenied: no")).into();
        assert_eq!((r.status_code, body(&r)["error"].as_str().unwrap()), (502, "AwsError"));
        assert!(body(&r).get("fields").is_none());
    }

    #[test]
    fn not_found_ids_and_routes_share_one_name() {
        let a: ApiGatewayV2httpResponse = ApiError::Step(StepError::DeploymentNotFound("x".into())).into();
        let b: ApiGatewayV2httpResponse = ApiError::Route(RouteError::NotFound { path: "/x".into() }).into();
        assert_eq!((a.status_code, b.status_code), (404, 404));
        assert_eq!(body(&a)["error"], "NotFound");
        assert_eq!(body(&b)["error"], "NotFound");
    }

    #[test]
    fn method_not_allowed_names_the_allowed_methods() {
        let e = ApiError::Route(RouteError::MethodNotAllowed { method: "PUT".into(), path: "/deployments".into(), allowed: &["GET", "POST"] });
        let r: ApiGatewayV2httpResponse = e.into();
        assert_eq!(r.status_code, 405);
        assert_eq!(r.headers.get(ALLOW).unwrap(), "GET, POST");
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
            let s = ApiError::Step(e).status();
            assert!(s == 404 || s == 409 || s >= 500, "{name} -> {s}");
        }
    }
}
