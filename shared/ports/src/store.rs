//! The deployment store: one record per deployment, written only by compare-and-swap on its
//! `version`, and an append-only event log beside it.

use async_trait::async_trait;
use aviary_core::model::{Deployment, Event};
use aviary_core::status::Status;
use aviary_core::StepError;

#[derive(Debug, Clone, PartialEq)]
pub enum CreateOutcome {
    Created,
    /// A record with that id exists already (a duplicate event or a retried request).
    AlreadyExists(Box<Deployment>),
}

/// A page of results and the opaque cursor for the next one.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

#[async_trait]
pub trait DeploymentStore: Send + Sync {
    /// Creates the record unless one with the same id exists.
    async fn create(&self, d: &Deployment) -> Result<CreateOutcome, StepError>;
    /// A strongly consistent read.
    async fn get(&self, id: &str) -> Result<Option<Deployment>, StepError>;
    /// Writes `d` if the stored record's version is still `expected_version`; `Ok(false)` when
    /// another writer got there first. The caller has already set `d.version`.
    async fn put_if_version(&self, d: &Deployment, expected_version: u64) -> Result<bool, StepError>;
    /// Appends one event; never overwrites another.
    async fn append_event(&self, id: &str, event: &Event) -> Result<(), StepError>;
    /// The event log, oldest first. A cursor that does not decode is `InvalidInput`.
    async fn events(&self, id: &str, limit: i32, cursor: Option<&str>) -> Result<Page<Event>, StepError>;
    /// Deployments newest first, optionally only those in `status`.
    async fn list(&self, status: Option<Status>, limit: i32, cursor: Option<&str>) -> Result<Page<Deployment>, StepError>;
    /// The principal that owns the canary name `name`, if one claimed it.
    async fn name_owner(&self, name: &str) -> Result<Option<String>, StepError>;
    /// Makes `principal` the owner of `name` unless another principal owns it already (a
    /// conditional write, so two first claims cannot both win). Returns the owner after the
    /// call: `principal`, or whoever claimed it first.
    async fn claim_name(&self, name: &str, principal: &str) -> Result<String, StepError>;
}
