//! Load-time errors. Runtime failures of an execution are not Rust errors: they end the
//! execution as [`crate::Outcome::Failed`] with an ASL error name, exactly as Step Functions would.

/// Why a definition (or substitution, or executor option) was rejected.
///
/// Variant names are stable: callers and tests may match on them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AslError {
    /// The definition text is not JSON.
    #[error("definition is not valid JSON: {0}")]
    Json(String),

    /// Something the specification may allow but this executor does not implement (a field,
    /// a state type, a JSONPath feature, an intrinsic function). Never silently ignored.
    /// `state` is the state's name, or `(top level)` for machine-level fields.
    #[error("state `{state}`: {field} is not supported by the local ASL executor")]
    Unsupported { state: String, field: String },

    /// A definition that breaks the specification (wrong type, missing field, bad value).
    #[error("state `{state}`: {reason}")]
    Invalid { state: String, reason: String },

    /// A `Next`, `Default`, `Catch[].Next` or `StartAt` naming a state that does not exist.
    #[error("state `{state}`: {field} names `{target}`, which is not a state of this machine")]
    UnknownState {
        state: String,
        field: String,
        target: String,
    },

    /// `${Name}` in a definition with no value in the substitution map.
    #[error("definition substitution `${{{name}}}` has no value")]
    UndefinedSubstitution { name: String },

    /// `${` without a closing `}` (or with an empty or malformed name).
    #[error("malformed definition substitution at byte {offset}: {reason}")]
    MalformedSubstitution { offset: usize, reason: String },

    /// An executor option outside its domain (e.g. a negative `time_scale`).
    #[error("invalid executor option `{option}`: {reason}")]
    InvalidOption { option: String, reason: String },
}

impl AslError {
    pub(crate) fn invalid(state: &str, reason: impl Into<String>) -> Self {
        AslError::Invalid {
            state: state.to_string(),
            reason: reason.into(),
        }
    }
    pub(crate) fn unsupported(state: &str, field: impl Into<String>) -> Self {
        AslError::Unsupported {
            state: state.to_string(),
            field: field.into(),
        }
    }
}

/// A failure raised while running a state: becomes a task failure or the execution's failure.
/// `error` is an ASL error name (`States.Runtime`, `States.Timeout`, or a task's own).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StateFailure {
    pub error: String,
    pub cause: String,
}

/// The error name Step Functions uses for data-flow failures (bad paths, intrinsic failures).
/// It is never matched by `States.ALL` or any retrier/catcher: the execution fails.
pub const STATES_RUNTIME: &str = "States.Runtime";

impl StateFailure {
    pub(crate) fn runtime(cause: impl Into<String>) -> Self {
        StateFailure {
            error: STATES_RUNTIME.to_string(),
            cause: cause.into(),
        }
    }
}
