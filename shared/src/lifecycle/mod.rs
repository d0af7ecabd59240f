//! The canary lifecycle's steps, one module each, written against [`crate::aws::Aws`]. The
//! Lambda crates under `functions/` are thin adapters over these functions.
//!
//! Every step starts by moving (or re-entering) its status with a conditional write, records
//! what it created as soon as it exists, and appends a human-readable event.

pub mod destroy;
pub mod health;
pub mod provision;
pub mod register;
pub mod rule;
pub mod teardown;
pub mod traffic;

use crate::aws::Aws;
use crate::error::StepError;
use crate::model::Outcome;

/// Appends an event; a failure to log never hides the step's own result.
pub(crate) async fn log(aws: &Aws, id: &str, step: &str, outcome: Outcome, detail: impl Into<String>) {
    let detail = detail.into();
    if let Err(e) = aws.store().append_event(id, step, outcome, detail.clone()).await {
        tracing::warn!(deployment = id, step, error = %e, "could not append event: {detail}");
    }
}

/// Logs a step's failure as an event and passes the error on.
pub(crate) async fn logged<T>(aws: &Aws, id: &str, step: &str, result: Result<T, StepError>) -> Result<T, StepError> {
    if let Err(e) = &result {
        log(aws, id, step, Outcome::Error, format!("{} ({})", e, e.name())).await;
    }
    result
}
