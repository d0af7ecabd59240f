//! The deployment table in memory: conditional create, compare-and-swap on `version`, an event
//! log per deployment, listing newest first.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use aviary_core::model::{Deployment, Event};
use aviary_core::status::Status;
use aviary_core::StepError;

use super::Cloud;
use crate::store::{CreateOutcome, DeploymentStore, Page};

#[derive(Default)]
struct Tables {
    deployments: HashMap<String, Deployment>,
    events: BTreeMap<String, Vec<Event>>,
    names: HashMap<String, String>,
}

#[derive(Clone, Default)]
pub struct MemoryStore {
    tables: Arc<Mutex<Tables>>,
    pub cloud: Cloud,
}

impl MemoryStore {
    pub fn new(cloud: Cloud) -> Self {
        MemoryStore { tables: Arc::default(), cloud }
    }
    /// The record as stored, without a logged call.
    pub fn peek(&self, id: &str) -> Option<Deployment> {
        self.tables.lock().unwrap().deployments.get(id).cloned()
    }
    /// Replaces the stored record behind everyone's back (a concurrent writer).
    pub fn overwrite(&self, d: Deployment) {
        self.tables.lock().unwrap().deployments.insert(d.id.clone(), d);
    }
    /// The event details logged for `id`, oldest first.
    pub fn event_details(&self, id: &str) -> Vec<String> {
        self.tables.lock().unwrap().events.get(id).map(|v| v.iter().map(|e| format!("{}: {}", e.step, e.detail)).collect()).unwrap_or_default()
    }
    pub fn len(&self) -> usize {
        self.tables.lock().unwrap().deployments.len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn cursor_index(cursor: Option<&str>) -> Result<usize, StepError> {
    match cursor {
        None => Ok(0),
        Some(c) => c.parse().map_err(|_| StepError::InvalidInput("cursor is not valid".into())),
    }
}

fn page<T: Clone>(all: &[T], limit: i32, cursor: Option<&str>) -> Result<Page<T>, StepError> {
    let start = cursor_index(cursor)?.min(all.len());
    let end = (start + limit.max(1) as usize).min(all.len());
    Ok(Page { items: all[start..end].to_vec(), next: (end < all.len()).then(|| end.to_string()) })
}

#[async_trait]
impl DeploymentStore for MemoryStore {
    async fn create(&self, d: &Deployment) -> Result<CreateOutcome, StepError> {
        self.cloud.faults.check(&self.cloud.log, "PutItem:create")?;
        let mut t = self.tables.lock().unwrap();
        if let Some(existing) = t.deployments.get(&d.id) {
            return Ok(CreateOutcome::AlreadyExists(Box::new(existing.clone())));
        }
        t.deployments.insert(d.id.clone(), d.clone());
        Ok(CreateOutcome::Created)
    }

    async fn get(&self, id: &str) -> Result<Option<Deployment>, StepError> {
        self.cloud.faults.check(&self.cloud.log, "GetItem")?;
        Ok(self.tables.lock().unwrap().deployments.get(id).cloned())
    }

    async fn put_if_version(&self, d: &Deployment, expected_version: u64) -> Result<bool, StepError> {
        self.cloud.faults.check(&self.cloud.log, "PutItem:cas")?;
        let mut t = self.tables.lock().unwrap();
        match t.deployments.get(&d.id) {
            Some(current) if current.version == expected_version => {
                t.deployments.insert(d.id.clone(), d.clone());
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn append_event(&self, id: &str, event: &Event) -> Result<(), StepError> {
        self.cloud.faults.check(&self.cloud.log, "PutItem:event")?;
        self.tables.lock().unwrap().events.entry(id.to_string()).or_default().push(event.clone());
        Ok(())
    }

    async fn events(&self, id: &str, limit: i32, cursor: Option<&str>) -> Result<Page<Event>, StepError> {
        self.cloud.faults.check(&self.cloud.log, "Query:events")?;
        let all = self.tables.lock().unwrap().events.get(id).cloned().unwrap_or_default();
        page(&all, limit, cursor)
    }

    async fn list(&self, status: Option<Status>, limit: i32, cursor: Option<&str>) -> Result<Page<Deployment>, StepError> {
        self.cloud.faults.check(&self.cloud.log, "Query:deployments")?;
        let mut all: Vec<Deployment> =
            self.tables.lock().unwrap().deployments.values().filter(|d| status.is_none_or(|s| d.status == s)).cloned().collect();
        all.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
        page(&all, limit, cursor)
    }

    async fn name_owner(&self, name: &str) -> Result<Option<String>, StepError> {
        self.cloud.faults.check(&self.cloud.log, "GetItem:name")?;
        Ok(self.tables.lock().unwrap().names.get(name).cloned())
    }

    async fn claim_name(&self, name: &str, principal: &str) -> Result<String, StepError> {
        self.cloud.faults.check(&self.cloud.log, "PutItem:name")?;
        Ok(self.tables.lock().unwrap().names.entry(name.to_string()).or_insert_with(|| principal.to_string()).clone())
    }
}
