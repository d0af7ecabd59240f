//! Aviary's domain core: the deployment spec and its validation ([`spec`]) against the ALB's
//! limits ([`limits`]), the status machine ([`status`]), traffic-share and rule-priority maths
//! ([`traffic`]), the deployment record and its event log ([`model`]), the typed input/output
//! of every workflow step ([`steps`]), ids and names ([`ids`]), time ([`clock`], on the wire: [`times`]), the
//! installation's limits on what a deployment may do ([`guardrails`]), who may change a deployment
//! ([`ownership`]), where a deployment's secrets live ([`secrets`]) and the errors with
//! stable names the state machines match on ([`error`]).
//!
//! Owns: the vocabulary every other Aviary crate speaks. Must never import: an AWS SDK crate,
//! an async runtime, or any other Aviary crate. (`lambda_runtime` only behind the `lambda`
//! feature, for the one `StepError` → `Diagnostic` conversion the Lambda crates need.)

pub mod clock;
pub mod error;
pub mod guardrails;
pub mod ids;
pub mod limits;
#[cfg(feature = "lambda")]
pub mod lambda;
pub mod model;
pub mod ownership;
pub mod secrets;
pub mod spec;
pub mod status;
pub mod steps;
pub mod times;
pub mod traffic;

pub use error::StepError;
pub use spec::DeploymentSpec;
pub use status::Status;
