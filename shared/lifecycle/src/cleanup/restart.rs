//! TEARING_DOWN deployments nobody is tearing down: the teardown workflow gave up
//! (`TeardownFailed` after its retries, a timeout), was never started (a crash between the
//! status write and `StartExecution`), or the deploy workflow's in-line teardown died.
//!
//! Such a deployment gets the teardown **workflow** again, not a direct call of teardown's core
//! from here: the workflow brings its retries (security groups stay in use while instances shut
//! down) and its own timeout, and the deployment keeps one kind of teardown history.
//!
//! Execution names must be new (Step Functions keeps names for 90 days), and must be the same
//! for every sweep that looks at the same state, so overlapping sweeps start one execution,
//! not two: the candidates are `teardown-<id>`, `teardown-<id>-r1`, `-r2`, ...; the first one
//! after the recorded execution that has never been started is started, and a running one
//! found on the way is adopted instead (a previous sweep started it but did not record it).

use aviary_ports::WorkflowKind;
use crate::Ports;
use aviary_core::ids::teardown_execution_name;
use aviary_core::model::{Deployment, Outcome};
use aviary_core::status::Status;
use aviary_core::steps::TeardownInput;
use aviary_core::StepError;

use crate::cleanup::report::{ActionKind, ActionVerb, CleanupAction, CleanupReport};
use crate::cleanup::{log, CleanupOptions};

/// Step Functions' limit on execution names.
const MAX_NAME: usize = 80;
/// Candidates probed in one sweep (each probe is one DescribeExecution).
const MAX_PROBES: u32 = 20;

/// The `n`-th execution name for a deployment's teardown: 0 is the one a destroy request
/// uses, then `-r1`, `-r2`, ... (the base is shortened if needed to keep the suffix).
pub fn candidate_name(deployment_id: &str, n: u32) -> String {
    let mut base = teardown_execution_name(deployment_id);
    if n == 0 {
        return base;
    }
    let suffix = format!("-r{n}");
    base.truncate(MAX_NAME - suffix.len());
    base + &suffix
}

/// Which candidate `name` is, if it is one of this deployment's.
pub fn attempt_of(deployment_id: &str, name: &str) -> Option<u32> {
    if name == candidate_name(deployment_id, 0) {
        return Some(0);
    }
    let (_, n) = name.rsplit_once("-r")?;
    let n: u32 = n.parse().ok()?;
    (n > 0 && candidate_name(deployment_id, n) == name).then_some(n)
}

fn action(d: &Deployment, done: bool, detail: String) -> CleanupAction {
    CleanupAction { kind: ActionKind::Stuck, deployment_id: d.id.clone(), resource: None, action: ActionVerb::Teardown, done, detail }
}

/// Decides whether a TEARING_DOWN deployment needs its teardown workflow (again), and starts it.
pub(crate) async fn check(ports: &Ports, opts: &CleanupOptions, now: i64, d: &Deployment, report: &mut CleanupReport) {
    let why = match stalled(ports, opts, now, d).await {
        Ok(Some(why)) => why,
        Ok(None) => return,
        Err(e) => {
            report.push(action(d, false, format!("could not read its workflows' status: {e}")));
            return;
        }
    };
    if opts.dry_run {
        report.push(action(d, false, format!("dry run: would start the teardown workflow again ({why})")));
        return;
    }
    match restart(ports, d, &why).await {
        Ok(Some(detail)) => report.push(action(d, true, detail)),
        Ok(None) => {}
        Err(e) => report.push(action(d, false, format!("could not restart the teardown workflow: {e} ({})", e.name()))),
    }
}

/// Why nobody is tearing `d` down, or `None` when a workflow still is.
async fn stalled(ports: &Ports, opts: &CleanupOptions, now: i64, d: &Deployment) -> Result<Option<String>, StepError> {
    if let Some(arn) = &d.teardown_execution_arn {
        return Ok(match ports.workflow.execution_status(arn).await?.as_deref() {
            // Bounded by the teardown state machine's own TimeoutSeconds.
            Some("RUNNING") => None,
            Some(status) => Some(format!("its teardown workflow ended {status} before the deployment was torn down")),
            None => Some("its teardown workflow does not exist".into()),
        });
    }
    // No teardown execution: the deploy workflow's failure path tears down in-line. Give it
    // time, then start the teardown workflow anyway (teardown waits for the deploy workflow).
    if let Some(exec) = &d.execution_arn {
        if ports.workflow.execution_status(exec).await?.as_deref() == Some("RUNNING") {
            let quiet = now - d.updated_at;
            return Ok((quiet >= opts.teardown_stuck_after_secs).then(|| format!("tearing down in its deploy workflow for {quiet}s")));
        }
    }
    Ok(Some("no teardown workflow was started".into()))
}

/// Starts the next teardown execution (or adopts a running one) and records it. `None` when
/// the record changed since the listing (someone else acted).
async fn restart(ports: &Ports, listed: &Deployment, why: &str) -> Result<Option<String>, StepError> {
    let store = ports.deployments();
    let d = store.require(&listed.id).await?;
    if d.status != Status::TearingDown || d.teardown_execution_arn != listed.teardown_execution_arn {
        return Ok(None);
    }
    let first = match d.teardown_execution_arn.as_deref().and_then(|a| a.rsplit(':').next()) {
        // The recorded one has ended: the next name.
        Some(name) => attempt_of(&d.id, name).map_or(1, |n| n + 1),
        None => 0,
    };
    let reason = format!("cleanup: {why}");
    for n in first..first + MAX_PROBES {
        let name = candidate_name(&d.id, n);
        let arn = ports.workflow.execution_id(WorkflowKind::Teardown, &name)?;
        let (arn, detail) = match ports.workflow.execution_status(&arn).await?.as_deref() {
            None => {
                let input = TeardownInput { deployment_id: d.id.clone(), failure: None, reason: Some(reason.clone()) };
                let input = serde_json::to_value(&input).map_err(|e| StepError::InvalidInput(e.to_string()))?;
                let arn = ports.workflow.start_once(WorkflowKind::Teardown, &name, &input).await?;
                let detail = format!("teardown workflow started again ({why}): {arn}");
                (arn, detail)
            }
            Some("RUNNING") => {
                let detail = format!("adopted the running teardown workflow {arn} ({why})");
                (arn, detail)
            }
            // Ended earlier without being recorded: try the next name.
            Some(_) => continue,
        };
        match store.update(&d.id, &[Status::TearingDown], |r| r.teardown_execution_arn = Some(arn.clone())).await {
            // Finished meanwhile: the new execution finds it final and ends at once.
            Ok(_) | Err(StepError::StatusConflict { .. }) => {}
            Err(e) => return Err(e),
        }
        log(ports, &d.id, Outcome::Info, detail.clone()).await;
        return Ok(Some(detail));
    }
    Err(StepError::TeardownIncomplete(format!(
        "teardown execution names {}..{} are all used; the next sweep goes on from the last",
        candidate_name(&d.id, first),
        candidate_name(&d.id, first + MAX_PROBES - 1)
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_continue_from_the_destroy_requests_name() {
        assert_eq!(candidate_name("web-0123456789", 0), "teardown-web-0123456789");
        assert_eq!(candidate_name("web-0123456789", 1), "teardown-web-0123456789-r1");
        assert_eq!(candidate_name("web-0123456789", 12), "teardown-web-0123456789-r12");
        for n in [0, 1, 7, 12] {
            assert_eq!(attempt_of("web-0123456789", &candidate_name("web-0123456789", n)), Some(n));
        }
    }

    #[test]
    fn foreign_names_are_not_attempts() {
        assert_eq!(attempt_of("web-0123456789", "teardown-web-9999999999"), None);
        assert_eq!(attempt_of("web-0123456789", "teardown-web-0123456789-r0"), None);
        assert_eq!(attempt_of("web-0123456789", "teardown-web-0123456789-rx"), None);
        assert_eq!(attempt_of("web-0123456789", "deploy-web-0123456789"), None);
        // An id that itself ends like a suffix is still read against its own base.
        assert_eq!(attempt_of("a-r1", "teardown-a-r1"), Some(0));
        assert_eq!(attempt_of("a-r1", "teardown-a-r1-r2"), Some(2));
    }

    #[test]
    fn long_ids_keep_the_suffix_within_the_limit() {
        let id = "x".repeat(90);
        for n in [0, 1, 99, 12345] {
            let name = candidate_name(&id, n);
            assert!(name.len() <= MAX_NAME, "{name}");
            assert_eq!(attempt_of(&id, &name), Some(n));
        }
        assert_ne!(candidate_name(&id, 1), candidate_name(&id, 0));
    }
}
