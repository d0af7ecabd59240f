//! `api`: Aviary's HTTP API as an axum [`Router`]. On AWS it runs behind API Gateway (HTTP
//! API, IAM-authorised with SigV4) through `lambda_http`, which turns each payload-2.0 event
//! into an HTTP request and the answer back; locally `aviary-local` serves the very same
//! router on 127.0.0.1.
//!
//! - `routes`: the route table and one module per resource; handlers
//!   validate what the client sent ([`validation`], [`extract`]), call the core
//!   (`aviary-lifecycle`, `aviary-analysis`) through [`ApiState`] and shape the answer
//!   ([`views`], [`reply::Reply`]).
//! - [`error::ApiError`]: every refusal and failure as JSON with a stable `error` name; what a
//!   user sent is always a 4xx, never a 500.
//! - [`context`]: the caller and request id ([`context::Invocation`]) and, on Lambda, the
//!   stage prefix; [`body`]: the body size cap.
//!
//! A bug that panics is not turned into an answer: release builds abort on panic (the
//! workspace's `panic = "abort"`), the invocation fails and API Gateway answers 500 itself.
//!
//! Owns: HTTP shapes (paths, statuses, bodies, headers). Must never hold a use case's logic
//! or call an SDK beyond presigning uploads ([`presign`]).

mod app;
pub mod audit;
pub mod body;
pub mod context;
pub mod error;
pub mod extract;
pub mod presign;
pub mod reply;
mod routes;
pub mod state;
pub mod validation;
pub mod views;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod live_verdict_tests;

pub use app::{route_keys, router};
pub use context::Invocation;
pub use presign::Presigner;
pub use routes::{MAX_SPEC_BYTES, MAX_TARBALL_BYTES, MAX_TEXT_ARTIFACT_BYTES, UPLOAD_EXPIRY_SECS};
pub use state::ApiState;
