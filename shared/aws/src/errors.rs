//! Turns SDK errors into [`StepError`]s: transient ones (throttling, 5xx, timeouts, network)
//! become `AwsTransient` so the state machine's retrier handles them; the rest keep the
//! service's error code and message. "Not found" checks for idempotent deletes live here too.

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

/// Converts an SDK error into a step error, keeping the operation, code and message.
pub fn step_error<E, R>(operation: &str, err: SdkError<E, R>) -> StepError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let transient = is_transient(&err);
    let message = match &err {
        SdkError::ServiceError(e) => {
            let inner = e.err();
            format!("{}: {}", inner.code().unwrap_or("Unknown"), inner.message().unwrap_or("no message"))
        }
        other => aws_smithy_types::error::display::DisplayErrorContext(other).to_string(),
    };
    StepError::aws(operation, transient, message)
}

/// `result.map_err(aws_err("RunInstances"))`.
pub fn aws_err<E, R>(operation: &'static str) -> impl FnOnce(SdkError<E, R>) -> StepError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
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
