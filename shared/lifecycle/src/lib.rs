//! Aviary's use cases, written against the ports of `aviary-ports` and nothing else:
//!
//! - [`admission`]: everything between "a user asked for a canary" and "the deploy workflow
//!   runs" — validation, environment and artifact checks, the id claim, the workflow start.
//! - The deploy workflow's steps: [`provision`], [`register`], [`rule`] (create the rule at
//!   weight 0, later activate the share), [`health`]; and [`teardown`].
//! - [`traffic`]: live changes of a running canary's share, conditions or stickiness.
//! - [`destroy`]: destroy requests (API, CLI, cleanup).
//! - [`credentials`]: the monitor's Grafana login, for the deployment's owner or an operator.
//!
//! Every step moves (or re-enters) its status with a compare-and-swap ([`Deployments`]),
//! records what it created as soon as it exists, and appends a human-readable event.
//!
//! Owns: the order of cloud calls and what is recorded when. Must never import: an AWS SDK
//! crate or an adapter crate — the Lambda crates wire adapters into [`Ports`]; unit tests wire
//! the in-memory fakes.

pub mod actor;
pub mod admission;
pub mod cleanup;
pub mod credentials;
pub mod deployments;
pub mod destroy;
pub mod health;
pub mod ports;
pub mod provision;
pub mod register;
pub mod rule;
pub mod teardown;
pub mod traffic;

#[cfg(any(test, feature = "testing"))]
pub mod testing;
#[cfg(test)]
mod tests;

pub use deployments::Deployments;
pub use ports::{Ports, Settings};

use aviary_core::model::Outcome;
use aviary_core::StepError;

/// Appends an event; a failure to log never hides the step's own result.
pub async fn log(ports: &Ports, id: &str, step: &str, outcome: Outcome, detail: impl Into<String>) {
    let detail = detail.into();
    if let Err(e) = ports.deployments().append_event(id, step, outcome, detail.clone()).await {
        tracing::warn!(deployment = id, step, error = %e, "could not append event: {detail}");
    }
}

/// Logs a step's failure as an event and passes the error on.
pub(crate) async fn logged<T>(ports: &Ports, id: &str, step: &str, result: Result<T, StepError>) -> Result<T, StepError> {
    if let Err(e) = &result {
        log(ports, id, step, Outcome::Error, format!("{} ({})", e, e.name())).await;
    }
    result
}
