//! Deployment records with the status rules applied: every write is a compare-and-swap on the
//! record's `version` (retried a few times against concurrent writers), and a status may only
//! be left for one the status machine allows. The store port only stores; the rules live here
//! so they are the same on every store.

use std::sync::Arc;

use aviary_core::clock::Clock;
use aviary_core::model::{Deployment, Event, Outcome};
use aviary_core::status::Status;
use aviary_core::StepError;
use aviary_ports::{CreateOutcome, DeploymentStore, Page};

/// Conflicting writers are retried this many times before giving up.
const MAX_CAS_ATTEMPTS: usize = 8;

#[derive(Clone)]
pub struct Deployments {
    store: Arc<dyn DeploymentStore>,
    clock: Arc<dyn Clock>,
}

impl Deployments {
    pub fn new(store: Arc<dyn DeploymentStore>, clock: Arc<dyn Clock>) -> Self {
        Deployments { store, clock }
    }

    pub async fn create(&self, d: &Deployment) -> Result<CreateOutcome, StepError> {
        self.store.create(d).await
    }

    pub async fn get(&self, id: &str) -> Result<Option<Deployment>, StepError> {
        self.store.get(id).await
    }

    pub async fn require(&self, id: &str) -> Result<Deployment, StepError> {
        self.get(id).await?.ok_or_else(|| StepError::DeploymentNotFound(id.to_string()))
    }

    /// Writes `d` if the stored version is still `d.version`, bumping it. False when another
    /// writer got there first.
    async fn put_if_version(&self, d: &mut Deployment) -> Result<bool, StepError> {
        let expected = d.version;
        d.version += 1;
        d.updated_at = self.clock.now_secs();
        match self.store.put_if_version(d, expected).await {
            Ok(true) => Ok(true),
            other => {
                d.version = expected;
                other
            }
        }
    }

    /// Moves the deployment to `to` (or keeps it there: a retried step re-enters its own
    /// status) and applies `mutate`. Fails with `StatusConflict` when the current status may
    /// not lead to `to`.
    pub async fn transition<F>(&self, id: &str, to: Status, mut mutate: F) -> Result<Deployment, StepError>
    where
        F: FnMut(&mut Deployment),
    {
        for _ in 0..MAX_CAS_ATTEMPTS {
            let mut d = self.require(id).await?;
            let re_entry = d.status == to && to != Status::Active;
            if !re_entry && !Status::can_transition(d.status, to) {
                return Err(StepError::StatusConflict {
                    id: id.into(),
                    actual: d.status.to_string(),
                    expected: to.allowed_predecessors().iter().map(|s| s.as_str()).collect::<Vec<_>>().join("|"),
                });
            }
            if d.status != to && d.status_history.len() < aviary_core::model::MAX_STATUS_HISTORY {
                d.status_history.push(aviary_core::model::StatusChange { status: to, at_ms: self.clock.now_ms() });
            }
            d.status = to;
            mutate(&mut d);
            if self.put_if_version(&mut d).await? {
                return Ok(d);
            }
        }
        Err(StepError::aws("PutItem", true, format!("deployment {id} kept changing under concurrent writers")))
    }

    /// Applies `mutate` without changing status, provided the status is one of `expect`.
    pub async fn update<F>(&self, id: &str, expect: &[Status], mut mutate: F) -> Result<Deployment, StepError>
    where
        F: FnMut(&mut Deployment),
    {
        for _ in 0..MAX_CAS_ATTEMPTS {
            let mut d = self.require(id).await?;
            if !expect.contains(&d.status) {
                return Err(StepError::StatusConflict {
                    id: id.into(),
                    actual: d.status.to_string(),
                    expected: expect.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("|"),
                });
            }
            mutate(&mut d);
            if self.put_if_version(&mut d).await? {
                return Ok(d);
            }
        }
        Err(StepError::aws("PutItem", true, format!("deployment {id} kept changing under concurrent writers")))
    }

    /// Writes `d` only if nobody wrote since it was read (no retry): the caller decides what a
    /// lost race means. Returns the stored record on success.
    pub async fn replace_if_unchanged(&self, mut d: Deployment) -> Result<Option<Deployment>, StepError> {
        Ok(self.put_if_version(&mut d).await?.then_some(d))
    }

    pub async fn append_event(&self, id: &str, step: &str, outcome: Outcome, detail: impl Into<String>) -> Result<Event, StepError> {
        let event = Event::new(self.clock.now_ms(), step, outcome, detail);
        self.store.append_event(id, &event).await?;
        Ok(event)
    }

    pub async fn events(&self, id: &str, limit: i32, cursor: Option<&str>) -> Result<Page<Event>, StepError> {
        self.store.events(id, limit, cursor).await
    }

    pub async fn list(&self, status: Option<Status>, limit: i32, cursor: Option<&str>) -> Result<Page<Deployment>, StepError> {
        self.store.list(status, limit, cursor).await
    }

    /// Every deployment in one of `statuses` (cleanup's sweep), following pagination.
    pub async fn all_in(&self, statuses: &[Status]) -> Result<Vec<Deployment>, StepError> {
        let mut all = Vec::new();
        for st in statuses {
            let mut cursor: Option<String> = None;
            loop {
                let page = self.list(Some(*st), 100, cursor.as_deref()).await?;
                all.extend(page.items);
                match page.next {
                    Some(c) => cursor = Some(c),
                    None => break,
                }
            }
        }
        Ok(all)
    }
}
