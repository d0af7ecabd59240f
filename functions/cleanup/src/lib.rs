//! `cleanup`: the Lambda over [`aviary_lifecycle::cleanup`] — the scheduled sweep (EventBridge, e.g. every 10 minutes) for what no workflow
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

use aviary_core::StepError;
use aviary_lifecycle::cleanup::{run_cleanup, CleanupOptions, CleanupReport};
use aviary_lifecycle::Ports;
use lambda_runtime::LambdaEvent;

/// The Lambda handler: any JSON input (the scheduled event); see [`CleanupOptions::for_event`].
pub async fn handler(ports: &Ports, defaults: &CleanupOptions, event: LambdaEvent<serde_json::Value>) -> Result<CleanupReport, StepError> {
    let opts = defaults.for_event(&event.payload);
    let report = run_cleanup(ports, &opts).await?;
    tracing::info!(
        dry_run = report.dry_run,
        actions = report.actions.len(),
        failed = report.failures().count(),
        listing_errors = report.errors.len(),
        "cleanup sweep finished"
    );
    Ok(report)
}

#[cfg(test)]
mod tests {
    use aviary_lifecycle::cleanup::CleanupOptions;
    use aviary_lifecycle::testing::World;
    use lambda_runtime::{Context, LambdaEvent};
    use serde_json::json;

    use super::handler;

    #[tokio::test]
    async fn a_dry_run_event_reaches_the_sweep() {
        let w = World::new();
        w.active("web-1").await;
        w.clock.advance_secs(241 * 60);
        w.cloud.log.clear();
        let report = handler(&w.ports, &CleanupOptions::default(), LambdaEvent::new(json!({"detail": {"dryRun": true}}), Context::default()))
            .await
            .unwrap();
        assert!(report.dry_run && report.for_deployment("web-1").count() == 1);
        assert!(w.cloud.log.cloud_mutations().is_empty());
    }
}
