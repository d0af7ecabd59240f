//! Turns SDK errors into [`StepError`]s: transient ones (throttling, 5xx, timeouts, network)
//! become `AwsTransient` so the state machine's retrier handles them; the rest keep the
//! service's error code and message. "Not found" checks for idempotent deletes live here too.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use aviary_core::StepError;

const TRANSIENT_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "InternalError",
    "InternalFailure",
    "InternalServerError",
    "Unavailable",
];

/// The service error code, if the call reached the service.
pub fn code<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> Option<&str> {
    match err {
        SdkError::ServiceError(e) => e.err().code(),
        _ => None,
    }
}

pub fn is_transient<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    match err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => true,
        SdkError::ServiceError(e) => e.err().code().is_some_and(|c| TRANSIENT_CODES.contains(&c)),
        _ => false,
    }
}

/// The HTTP status of a raw response (for errors whose body the SDK could not parse).
pub trait RawStatus {
    fn http_status(&self) -> Option<u16>;
}

impl RawStatus for HttpResponse {
    fn http_status(&self) -> Option<u16> {
        Some(self.status().as_u16())
    }
}

/// Converts an SDK error into a step error, keeping the operation, code and message. An error
/// body without a code still says its HTTP status, so a denial (403) is never "Unknown".
pub fn step_error<E, R>(operation: &str, err: SdkError<E, R>) -> StepError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + RawStatus,
{
    let transient = is_transient(&err);
    let message = match &err {
        SdkError::ServiceError(e) => {
            let inner = e.err();
            match (inner.code(), e.raw().http_status()) {
                (Some(code), _) => format!("{code}: {}", inner.message().unwrap_or("no message")),
                (None, Some(403)) => "AccessDenied: HTTP 403 with an error body the SDK could not read".to_string(),
                (None, Some(status)) => format!("HTTP {status}: {}", inner.message().unwrap_or("an error body the SDK could not read")),
                (None, None) => format!("Unknown: {}", inner.message().unwrap_or("no message")),
            }
        }
        other => aws_smithy_types::error::display::DisplayErrorContext(other).to_string(),
    };
    StepError::aws(operation, transient, message)
}

/// `result.map_err(aws_err("RunInstances"))`.
pub fn aws_err<E, R>(operation: &'static str) -> impl FnOnce(SdkError<E, R>) -> StepError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + RawStatus,
{
    move |e| step_error(operation, e)
}

/// True when the error means the thing is already gone (idempotent deletes).
pub fn is_not_found<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    code(err).is_some_and(|c| {
        c.ends_with("NotFound")
            || c.ends_with(".NotFound")
            || c == "RuleNotFound"
            || c == "TargetGroupNotFound"
            || c == "ListenerNotFound"
            || c == "LoadBalancerNotFound"
            || c == "InvalidInstanceID.NotFound"
            || c == "InvalidGroup.NotFound"
            || c == "NoSuchKey"
            || c == "NotFound"
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    fn service_error(meta: ErrorMetadata, status: u16) -> SdkError<ErrorMetadata, HttpResponse> {
        SdkError::service_error(meta, HttpResponse::new(StatusCode::try_from(status).unwrap(), SdkBody::empty()))
    }

    #[test]
    fn an_unreadable_denial_is_named_by_its_status() {
        let e = step_error("CreateRule", service_error(ErrorMetadata::builder().build(), 403));
        assert_eq!(e.to_string(), "AWS error in CreateRule: AccessDenied: HTTP 403 with an error body the SDK could not read");
        let e = step_error("CreateRule", service_error(ErrorMetadata::builder().build(), 409));
        assert!(e.to_string().contains("HTTP 409"), "{e}");
    }

    #[test]
    fn a_coded_error_keeps_code_and_message() {
        let meta = ErrorMetadata::builder().code("ValidationError").message("bad priority").build();
        let e = step_error("CreateRule", service_error(meta, 400));
        assert_eq!(e.to_string(), "AWS error in CreateRule: ValidationError: bad priority");
    }
}
