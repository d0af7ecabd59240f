//! `cleanup`: the scheduled sweep (EventBridge, e.g. every 10 minutes) for what no workflow
//! will finish on its own:
//!
//! - **expired** deployments (`expiresAt` passed) → the teardown workflow, as a destroy request;
//! - **stuck** deployments: deploying for longer than the deploy workflow's own timeout, or
//!   whose deploy workflow has ended without moving the record on → teardown (ending FAILED);
//!   TEARING_DOWN with no teardown workflow running → the teardown workflow again;
//! - **orphans**: resources carrying Aviary's tags (rules on every ALB listener, target groups,
//!   instances, security groups) whose deployment id has no record or a final one → deleted,
//!   rule first. Found by tag only: untagged resources are never touched.
//!
//! Every step is idempotent, so overlapping or repeated sweeps are harmless, and one failing
//! item never stops the sweep. A dry run reports the same actions and changes nothing (not
//! even the event log).

mod deployments;
mod inventory;
mod orphans;
pub mod report;
pub mod restart;
#[cfg(test)]
mod tests;

use crate::Ports;
use aviary_core::model::Outcome;
use aviary_core::status::Status;
use aviary_core::StepError;

pub use report::{ActionKind, ActionVerb, CleanupAction, CleanupReport};

/// The deploy state machine's `TimeoutSeconds`: by then its execution has ended for sure.
pub const DEFAULT_STUCK_AFTER_SECS: i64 = 3 * 3600;
/// The teardown state machine's `TimeoutSeconds`.
pub const DEFAULT_TEARDOWN_STUCK_AFTER_SECS: i64 = 3600;
/// How long a deploying record may sit after its deploy workflow ended (a record write and
/// the execution's end are not atomic; this leaves room for the last write to land).
pub const DEFAULT_WORKFLOW_GRACE_SECS: i64 = 600;

/// The event log's step name for cleanup's entries.
pub(crate) const STEP: &str = "cleanup";

/// How one sweep runs. The Lambda builds these from its environment and event; the local
/// stack and tests build them directly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CleanupOptions {
    /// Report what would be done; change nothing.
    pub dry_run: bool,
    /// A deploying status (PENDING … WAITING_HEALTHY) not updated for this long is stuck.
    pub stuck_after_secs: i64,
    /// A TEARING_DOWN record with no teardown execution of its own, whose deploy workflow is
    /// still running (that workflow's failure path tears down in-line), is left to that
    /// workflow for this long after its last update; afterwards the teardown workflow starts.
    /// (A teardown *execution* that has ended is restarted at once; a running one is bounded
    /// by the state machine's own timeout.)
    pub teardown_stuck_after_secs: i64,
    /// A deploying record whose deploy execution has ended is stuck once it is this old.
    pub workflow_grace_secs: i64,
}

impl Default for CleanupOptions {
    fn default() -> Self {
        CleanupOptions {
            dry_run: false,
            stuck_after_secs: DEFAULT_STUCK_AFTER_SECS,
            teardown_stuck_after_secs: DEFAULT_TEARDOWN_STUCK_AFTER_SECS,
            workflow_grace_secs: DEFAULT_WORKFLOW_GRACE_SECS,
        }
    }
}

/// Non-final statuses: the ones the sweep looks at.
const LIVE: [Status; 7] = [
    Status::Pending,
    Status::Provisioning,
    Status::Registering,
    Status::Routing,
    Status::WaitingHealthy,
    Status::Active,
    Status::TearingDown,
];

/// One sweep: expired and stuck deployments first (they become TEARING_DOWN, so the orphan
/// pass below leaves their resources to the teardown workflow), then orphans.
///
/// Fails only when the deployment table cannot be listed: without it nothing can be decided.
/// Everything else is reported in the [`CleanupReport`].
pub async fn run_cleanup(ports: &Ports, opts: &CleanupOptions) -> Result<CleanupReport, StepError> {
    let mut report = CleanupReport { dry_run: opts.dry_run, ..Default::default() };
    let now = ports.clock.now_secs();
    let live = ports.deployments().all_in(&LIVE).await?;
    for d in &live {
        deployments::sweep_one(ports, opts, now, d, &mut report).await;
    }
    orphans::sweep(ports, opts, &mut report).await;
    Ok(report)
}

/// Appends an event to the deployment's log; a failure to log never stops the sweep.
pub(crate) async fn log(ports: &Ports, id: &str, outcome: Outcome, detail: impl Into<String>) {
    let detail = detail.into();
    if let Err(e) = ports.deployments().append_event(id, STEP, outcome, detail.clone()).await {
        tracing::warn!(deployment = id, error = %e, "could not append event: {detail}");
    }
}
