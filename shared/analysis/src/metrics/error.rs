//! Errors of the metric sources. Variant names ([`MetricsError::name`]) are stable: the
//! `analyze` function reports them.

use aviary_core::StepError;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MetricsError {
    /// A metric's `query` block in the canary config is unusable.
    #[error("metric {metric:?}: invalid query: {message}")]
    InvalidQuery { metric: String, message: String },
    /// The query is of a kind this source cannot run (e.g. PromQL against CloudWatch).
    #[error("metric {metric:?}: a {kind} query cannot be run by the {source_kind} source")]
    Unsupported { metric: String, kind: String, source_kind: &'static str },
    /// The source has no such metric (a data file without it).
    #[error("metric {metric:?} is not in the data")]
    NotFound { metric: String },
    /// The Prometheus server could not be reached or did not answer in time.
    #[error("Prometheus at {url} is not reachable: {message}")]
    Unreachable { url: String, message: String },
    /// Prometheus answered with an error (bad PromQL, timeout, too many points...).
    #[error("Prometheus rejected the query for {metric:?} ({error_type}): {message}")]
    Query { metric: String, error_type: String, message: String },
    /// An answer that does not have the documented shape.
    #[error("unexpected answer from {from}: {message}")]
    BadResponse { from: String, message: String },
    /// The query returns several series for one role; the judge needs one.
    #[error("metric {metric:?}: the query returns {count} series for {role}; aggregate them to one per role (e.g. `sum by (role) (...)`)")]
    Ambiguous { metric: String, role: String, count: usize },
    /// A CloudWatch call failed.
    #[error("metric {metric:?}: {error}")]
    CloudWatch { metric: String, error: StepError },
}

impl MetricsError {
    pub fn name(&self) -> &'static str {
        match self {
            MetricsError::InvalidQuery { .. } => "InvalidQuery",
            MetricsError::Unsupported { .. } => "UnsupportedQuery",
            MetricsError::NotFound { .. } => "MetricNotFound",
            MetricsError::Unreachable { .. } => "PrometheusUnreachable",
            MetricsError::Query { .. } => "PrometheusQueryError",
            MetricsError::BadResponse { .. } => "BadResponse",
            MetricsError::Ambiguous { .. } => "AmbiguousSeries",
            MetricsError::CloudWatch { .. } => "CloudWatchError",
        }
    }

    /// Worth retrying as is (network trouble, throttling), as opposed to a config problem.
    pub fn is_transient(&self) -> bool {
        match self {
            MetricsError::Unreachable { .. } => true,
            MetricsError::CloudWatch { error, .. } => matches!(error, StepError::AwsTransient { .. }),
            _ => false,
        }
    }
}
