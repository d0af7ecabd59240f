//! Expired and stuck deployments. The decision is a pure function of the record, the time and
//! the options ([`due`]); acting on it goes through the same teardown workflow a human destroy
//! does (`request_teardown`), or for a teardown that ended unfinished, [`crate::cleanup::restart`].

use crate::Ports;
use aviary_core::clock::rfc3339_ms;
use crate::destroy::request_teardown;
use aviary_core::model::{Deployment, Outcome};
use aviary_core::status::Status;
use aviary_core::StepError;

use crate::cleanup::report::{ActionKind, ActionVerb, CleanupAction, CleanupReport};
use crate::cleanup::{log, restart, CleanupOptions};

/// What the record alone says about a live deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Due {
    /// Past its TTL.
    Expired,
    /// Deploying and not updated for `stuck_after_secs`.
    Stuck,
    /// Deploying, quiet for the grace period: stuck if its deploy workflow has ended.
    CheckDeployWorkflow,
    /// TEARING_DOWN: stuck if no workflow is working on it.
    CheckTeardown,
}

pub(crate) fn due(d: &Deployment, now: i64, opts: &CleanupOptions) -> Option<Due> {
    if d.status.is_final() {
        return None;
    }
    if d.status == Status::TearingDown {
        // Already on its way out: the TTL no longer matters, only whether it gets there.
        return Some(Due::CheckTeardown);
    }
    if d.expires_at <= now {
        return Some(Due::Expired);
    }
    if d.status.is_deploying() {
        let quiet = now - d.updated_at;
        if quiet >= opts.stuck_after_secs {
            return Some(Due::Stuck);
        }
        if quiet >= opts.workflow_grace_secs && d.execution_arn.is_some() {
            return Some(Due::CheckDeployWorkflow);
        }
    }
    None
}

pub(crate) async fn sweep_one(ports: &Ports, opts: &CleanupOptions, now: i64, d: &Deployment, report: &mut CleanupReport) {
    match due(d, now, opts) {
        None => {}
        Some(Due::Expired) => expire(ports, opts, d, report).await,
        Some(Due::Stuck) => {
            let why = format!("stuck in {} since {} (no progress for {}s)", d.status, rfc3339_ms(d.updated_at * 1000), now - d.updated_at);
            stop_stuck(ports, opts, d, why, report).await
        }
        Some(Due::CheckDeployWorkflow) => {
            let arn = d.execution_arn.as_deref().unwrap_or_default();
            match ports.workflow.execution_status(arn).await {
                Ok(Some(s)) if s == "RUNNING" => {}
                Ok(status) => {
                    let ended = status.unwrap_or_else(|| "gone".into());
                    let why = format!("stuck in {}: its deploy workflow has ended ({ended}) without moving it on", d.status);
                    stop_stuck(ports, opts, d, why, report).await
                }
                Err(e) => report.push(action(ActionKind::Stuck, d, false, format!("could not read the deploy workflow's status: {e}"))),
            }
        }
        Some(Due::CheckTeardown) => restart::check(ports, opts, now, d, report).await,
    }
}

fn action(kind: ActionKind, d: &Deployment, done: bool, detail: String) -> CleanupAction {
    CleanupAction { kind, deployment_id: d.id.clone(), resource: None, action: ActionVerb::Teardown, done, detail }
}

async fn expire(ports: &Ports, opts: &CleanupOptions, d: &Deployment, report: &mut CleanupReport) {
    let when = rfc3339_ms(d.expires_at * 1000);
    if opts.dry_run {
        report.push(action(ActionKind::Expired, d, false, format!("dry run: would tear down ({} since {when}, TTL expired)", d.status)));
        return;
    }
    log(ports, &d.id, Outcome::Info, format!("TTL expired at {when}: requesting teardown")).await;
    let result = request_teardown(ports, &d.id, "TTL expired").await;
    report.push(requested(ActionKind::Expired, d, result));
}

/// A stuck deploy ends FAILED, like one the deploy workflow's own timeout catches: the
/// failure reason is set first, then teardown is requested as for any destroy.
async fn stop_stuck(ports: &Ports, opts: &CleanupOptions, d: &Deployment, why: String, report: &mut CleanupReport) {
    if opts.dry_run {
        report.push(action(ActionKind::Stuck, d, false, format!("dry run: would tear down ({why})")));
        return;
    }
    let marked = ports
        .deployments()
        .update(&d.id, &[d.status], |r| {
            r.failure_reason.get_or_insert_with(|| format!("cleanup: {why}"));
        })
        .await;
    match marked {
        Ok(_) => {}
        // It moved on since the listing: not stuck after all (or someone else is handling it).
        Err(StepError::StatusConflict { actual, .. }) => {
            tracing::info!(deployment = %d.id, "no longer {} (now {actual}): left alone", d.status);
            return;
        }
        Err(e) => {
            report.push(action(ActionKind::Stuck, d, false, format!("could not mark it failed: {e}")));
            return;
        }
    }
    log(ports, &d.id, Outcome::Error, format!("{why}: requesting teardown")).await;
    let result = request_teardown(ports, &d.id, &format!("cleanup: {why}")).await;
    report.push(requested(ActionKind::Stuck, d, result));
}

fn requested(kind: ActionKind, d: &Deployment, result: Result<Deployment, StepError>) -> CleanupAction {
    match result {
        Ok(after) if after.status.is_final() => action(kind, d, true, format!("already {}", after.status)),
        Ok(after) => {
            let exec = after.teardown_execution_arn.unwrap_or_else(|| "(execution not recorded)".into());
            action(kind, d, true, format!("teardown requested: {exec}"))
        }
        Err(e) => action(kind, d, false, format!("teardown request failed: {e} ({})", e.name())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aviary_core::model::Source;

    fn record(status: Status, updated_at: i64, expires_at: i64) -> Deployment {
        let mut d = Deployment::pending("web-0123456789", "web", Source::Api { idempotency_key: "k".into() }, "b", updated_at, expires_at);
        d.status = status;
        d.version = 3;
        d
    }

    const NOW: i64 = 1_800_000_000;

    #[test]
    fn ttl_applies_to_every_live_status_but_teardown() {
        let o = CleanupOptions::default();
        for st in [Status::Pending, Status::Provisioning, Status::WaitingHealthy, Status::Active] {
            assert_eq!(due(&record(st, NOW - 10, NOW), NOW, &o), Some(Due::Expired), "{st}");
            assert_eq!(due(&record(st, NOW - 10, NOW + 1), NOW, &o), None, "{st}");
        }
        assert_eq!(due(&record(Status::TearingDown, NOW, NOW - 100), NOW, &o), Some(Due::CheckTeardown));
    }

    #[test]
    fn final_deployments_are_never_due() {
        let o = CleanupOptions::default();
        for st in Status::ALL.into_iter().filter(|s| s.is_final()) {
            assert_eq!(due(&record(st, 0, 0), NOW, &o), None, "{st}");
        }
    }

    #[test]
    fn deploying_is_stuck_after_the_threshold_only() {
        let o = CleanupOptions::default();
        let far = NOW + 86_400;
        assert_eq!(due(&record(Status::Provisioning, NOW - o.stuck_after_secs, far), NOW, &o), Some(Due::Stuck));
        assert_eq!(due(&record(Status::Provisioning, NOW - o.stuck_after_secs + 1, far), NOW, &o), None);
        // ACTIVE is not deploying: only its TTL ends it.
        assert_eq!(due(&record(Status::Active, NOW - 30 * 86_400, far), NOW, &o), None);
    }

    #[test]
    fn a_quiet_deploy_with_a_workflow_gets_its_workflow_checked() {
        let o = CleanupOptions::default();
        let far = NOW + 86_400;
        let mut d = record(Status::WaitingHealthy, NOW - o.workflow_grace_secs, far);
        assert_eq!(due(&d, NOW, &o), None, "no execution recorded: only the stuck threshold applies");
        d.execution_arn = Some("arn:aws:states:r:a:execution:deploy:deploy-web".into());
        assert_eq!(due(&d, NOW, &o), Some(Due::CheckDeployWorkflow));
        d.updated_at = NOW - o.workflow_grace_secs + 1;
        assert_eq!(due(&d, NOW, &o), None, "within the grace period");
    }
}
