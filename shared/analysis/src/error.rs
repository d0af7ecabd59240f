//! What an analysis can end with. [`AnalysisError::name`] is the stable name the `analyze`
//! function reports as `errorType`; [`AnalysisError::http_status`] is the suggested API status.

use aviary_core::StepError;
use crate::metrics::MetricsError;
use aviary_core::spec::{describe_errors, FieldError};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AnalysisError {
    /// No deployment with that id.
    #[error("deployment {0} not found")]
    NotFound(String),
    /// The request (window, source, canary config, thresholds) is unusable.
    #[error("invalid analysis request: {}", describe_errors(.fields))]
    InvalidRequest { fields: Vec<FieldError> },
    /// The deployment exists but cannot be analysed (yet): no target groups, no monitor.
    #[error("deployment {id} cannot be analysed: {reason}")]
    NotReady { id: String, reason: String },
    /// Fetching the metrics failed.
    #[error("{0}")]
    Source(#[from] MetricsError),
    /// DynamoDB (or configuration) trouble.
    #[error(transparent)]
    Step(#[from] StepError),
}

impl AnalysisError {
    pub fn invalid(field: &str, message: impl Into<String>) -> AnalysisError {
        AnalysisError::InvalidRequest { fields: vec![FieldError::new(field, message)] }
    }

    /// `DeploymentNotFound` (as [`StepError`] names it), `InvalidRequest`, `NotReady`,
    /// `MetricSourceError`, or the step error's own name (`AwsTransient`, `AwsError`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            AnalysisError::NotFound(_) => "DeploymentNotFound",
            AnalysisError::InvalidRequest { .. } => "InvalidRequest",
            AnalysisError::NotReady { .. } => "NotReady",
            AnalysisError::Source(_) => "MetricSourceError",
            AnalysisError::Step(e) => e.name(),
        }
    }

    /// 404, 400, 409, 502 (the metrics store failed us), 503 (transient AWS) or 500.
    pub fn http_status(&self) -> u16 {
        match self {
            AnalysisError::NotFound(_) => 404,
            AnalysisError::InvalidRequest { .. } => 400,
            AnalysisError::NotReady { .. } => 409,
            AnalysisError::Source(_) => 502,
            AnalysisError::Step(StepError::DeploymentNotFound(_)) => 404,
            AnalysisError::Step(StepError::AwsTransient { .. }) => 503,
            AnalysisError::Step(_) => 500,
        }
    }
}

#[cfg(feature = "lambda")]
impl From<AnalysisError> for lambda_runtime::Diagnostic {
    fn from(e: AnalysisError) -> Self {
        lambda_runtime::Diagnostic { error_type: e.name().to_string(), error_message: e.to_string() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_statuses() {
        let cases = [
            (AnalysisError::NotFound("d".into()), "DeploymentNotFound", 404),
            (AnalysisError::invalid("start", "bad"), "InvalidRequest", 400),
            (AnalysisError::NotReady { id: "d".into(), reason: "r".into() }, "NotReady", 409),
            (MetricsError::NotFound { metric: "m".into() }.into(), "MetricSourceError", 502),
            (StepError::aws("Query", true, "slow").into(), "AwsTransient", 503),
            (StepError::Config("x".into()).into(), "ConfigError", 500),
        ];
        for (e, name, status) in cases {
            assert_eq!((e.name(), e.http_status()), (name, status), "{e}");
        }
        let e = AnalysisError::InvalidRequest { fields: vec![FieldError::new("a", "x"), FieldError::new("b", "y")] };
        assert_eq!(e.to_string(), "invalid analysis request: a: x; b: y");
    }
}
