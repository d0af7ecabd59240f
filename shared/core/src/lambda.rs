//! The Lambda side of [`StepError`]: the runtime reports `errorType` = the error's stable
//! name, which is exactly what the state machines' `ErrorEquals` match.

use lambda_runtime::Diagnostic;

use crate::error::StepError;

impl From<StepError> for Diagnostic {
    fn from(e: StepError) -> Self {
        Diagnostic { error_type: e.name().to_string(), error_message: e.to_string() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_type_is_the_stable_name() {
        let d: Diagnostic = StepError::TargetsNotHealthy("x".into()).into();
        assert_eq!(d.error_type, "TargetsNotHealthy");
        assert_eq!(d.error_message, "targets not healthy: x");
    }
}
