//! The judge's error type. Variant names are a stable interface (the CLI prints them and the
//! `analyze` Lambda reports [`JudgeError::name`]), so never rename one.

/// Everything that can go wrong before a judgement: unreadable or invalid config/data files,
/// and invalid parameters for the live (sequential) tests. A judgement itself never fails: a
/// metric that cannot be judged gets the `Error` label in the report instead.
#[derive(Debug, thiserror::Error)]
pub enum JudgeError {
    /// The canary config is not valid JSON or does not have Kayenta's shape.
    #[error("canary config does not parse: {0}")]
    ConfigParse(#[source] serde_json::Error),
    /// The canary config parses but a value is out of range or inconsistent.
    #[error("invalid canary config at {path}: {message}")]
    InvalidConfig { path: String, message: String },
    /// The data file is not valid JSON or does not have the documented shape.
    #[error("metric data does not parse: {0}")]
    DataParse(#[source] serde_json::Error),
    /// Score thresholds must satisfy 0 <= marginal <= pass <= 100.
    #[error("invalid score thresholds (marginal {marginal}, pass {pass}): need 0 <= marginal <= pass <= 100")]
    InvalidThresholds { marginal: f64, pass: f64 },
    /// A parameter of a live (sequential) test is out of range.
    #[error("invalid live-test parameter {name} = {value}: {message}")]
    InvalidParameter {
        name: &'static str,
        value: f64,
        message: &'static str,
    },
    /// An observation fed to a live test is unusable (e.g. events with zero exposure).
    #[error("invalid observation: {0}")]
    InvalidObservation(String),
}

impl JudgeError {
    /// Stable machine-readable name of the variant.
    pub fn name(&self) -> &'static str {
        match self {
            JudgeError::ConfigParse(_) => "ConfigParse",
            JudgeError::InvalidConfig { .. } => "InvalidConfig",
            JudgeError::DataParse(_) => "DataParse",
            JudgeError::InvalidThresholds { .. } => "InvalidThresholds",
            JudgeError::InvalidParameter { .. } => "InvalidParameter",
            JudgeError::InvalidObservation(_) => "InvalidObservation",
        }
    }
}
