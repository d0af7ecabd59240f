//! `aviary-client`: how a user's machine talks to a deployed Aviary.
//!
//! Owns the HTTP API client ([`api`]: one method per route, error decoding, retries of
//! transient failures), the API's wire types ([`wire`]) and SigV4 request signing for API
//! Gateway's `execute-api` ([`sigv4`]). The `aviary` CLI and the web console
//! (`aviary-console`) both use it.
//!
//! It must never import a Lambda crate (`functions/*`), `aviary-local`, or an AWS SDK service
//! crate (`aws-sdk-*`): only `aviary-core`'s domain types, `reqwest` and the SigV4 signer
//! (`aws-sigv4`, `aws-credential-types`), and the AWS config chain with Aviary's HTTPS client
//! ([`aws`]). Building a signer from that chain is the caller's business (it takes a
//! credentials provider).

pub mod api;
pub mod aws;
pub mod local_guard;
pub mod sigv4;
pub mod wire;

pub use api::{host_header, Client, ClientError};
pub use sigv4::{auto_sign, is_loopback, region_from_host, InsecureEndpoint, SignError, Signer};
pub use wire::{ApiDeployment, DestroyAccepted, GrafanaLogin, Page, TrafficChange, UploadFile, UploadTarget, Uploads};
