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
#[cfg(test)]
mod sweep_tests;
pub mod report;
pub mod restart;

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

/// Environment variable that turns every invocation into a dry run.
pub const DRY_RUN_ENV: &str = "AVIARY_CLEANUP_DRY_RUN";

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

impl CleanupOptions {
    /// The defaults, with `AVIARY_CLEANUP_DRY_RUN=true` selecting a dry run.
    pub fn from_env() -> Self {
        CleanupOptions { dry_run: is_true(std::env::var(DRY_RUN_ENV).ok().as_deref()), ..Default::default() }
    }

    /// These options for one invocation: `{"dryRun": true}` in the event (top level, or in
    /// `detail` of an EventBridge event) selects a dry run. An event cannot turn a dry run
    /// configured in the environment off.
    pub fn for_event(&self, event: &serde_json::Value) -> Self {
        let flag = |v: &serde_json::Value| match v.get("dryRun") {
            Some(serde_json::Value::Bool(b)) => *b,
            Some(serde_json::Value::String(s)) => is_true(Some(s)),
            _ => false,
        };
        let requested = flag(event) || event.get("detail").is_some_and(flag);
        CleanupOptions { dry_run: self.dry_run || requested, ..self.clone() }
    }
}

fn is_true(v: Option<&str>) -> bool {
    v.is_some_and(|s| matches!(s.trim().to_ascii_lowercase().as_str(), "true" | "1" | "yes"))
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dry_run_comes_from_the_event_or_the_environment_setting() {
        let defaults = CleanupOptions::default();
        assert!(!defaults.for_event(&json!({"source": "aws.events", "detail": {}})).dry_run);
        assert!(defaults.for_event(&json!({"dryRun": true})).dry_run);
        assert!(defaults.for_event(&json!({"dryRun": "true"})).dry_run);
        assert!(defaults.for_event(&json!({"detail-type": "Scheduled Event", "detail": {"dryRun": true}})).dry_run);
        assert!(!defaults.for_event(&json!({"dryRun": false})).dry_run);
        assert!(!defaults.for_event(&json!(null)).dry_run);
        let configured = CleanupOptions { dry_run: true, ..Default::default() };
        assert!(configured.for_event(&json!({"dryRun": false})).dry_run, "an event cannot switch a configured dry run off");
    }

    #[test]
    fn defaults_follow_the_state_machines_timeouts() {
        // A deploy still within its workflow's timeout is not stuck: the workflow will end it.
        let timeout = |asl: &str| serde_json::from_str::<serde_json::Value>(asl).unwrap()["TimeoutSeconds"].as_i64().unwrap();
        let o = CleanupOptions::default();
        assert!(o.stuck_after_secs >= timeout(include_str!("../../../../statemachines/deploy.asl.json")));
        assert!(o.teardown_stuck_after_secs >= timeout(include_str!("../../../../statemachines/teardown.asl.json")));
        assert!(o.workflow_grace_secs < o.stuck_after_secs);
        assert!(!o.dry_run);
    }

    #[test]
    fn truthy_values() {
        for v in ["true", "TRUE", " 1 ", "yes"] {
            assert!(is_true(Some(v)), "{v}");
        }
        for v in ["", "false", "0", "no"] {
            assert!(!is_true(Some(v)), "{v}");
        }
        assert!(!is_true(None));
    }
}
