//! Aviary's shared library: the domain (spec, validation, status machine, traffic maths,
//! tarball checks, judge, monitoring files) with no AWS types, plus AWS adapters in [`aws`]
//! behind the `aws` feature.

pub mod clock;
pub mod error;
pub mod ids;
pub mod judge;
pub mod metrics;
pub mod model;
pub mod monitoring;
pub mod spec;
pub mod status;
pub mod steps;
pub mod tarball;
pub mod traffic;

#[cfg(feature = "aws")]
pub mod admission;
#[cfg(feature = "aws")]
pub mod analysis;
#[cfg(feature = "aws")]
pub mod aws;
#[cfg(feature = "lambda")]
pub mod lambda;
#[cfg(feature = "aws")]
pub mod lifecycle;

pub use error::StepError;
pub use spec::DeploymentSpec;
pub use status::Status;
