//! Orphans: Aviary-tagged resources whose deployment id has no record, or a final one
//! (DESTROYED, FAILED, REJECTED) — left behind by a crash between creating and recording, a
//! teardown that gave up, or a record removed by hand.
//!
//! Per deployment id, rule first: its rules are deleted on whichever listener they are (teardown
//! only searches the spec's listener), and only when none is left does teardown's
//! `remove_resources` take the target groups, instances and security groups (found by tag, so
//! no record is needed). Then the result is verified by describing, so the report says exactly
//! what is gone; what is not is retried by the next sweep.

use std::collections::{BTreeMap, HashSet};

use crate::Ports;
use crate::teardown::remove_resources;
use aviary_core::model::Outcome;
use aviary_core::StepError;

use crate::cleanup::inventory::{self, Inventory, Kind, Tagged};
use crate::cleanup::report::{ActionKind, ActionVerb, CleanupAction, CleanupReport};
use crate::cleanup::{log, CleanupOptions};

fn action(t: &Tagged, done: bool, detail: impl Into<String>) -> CleanupAction {
    CleanupAction {
        kind: ActionKind::Orphan,
        deployment_id: t.deployment_id.clone(),
        resource: Some(t.label()),
        action: ActionVerb::Delete,
        done,
        detail: detail.into(),
    }
}

pub(crate) async fn sweep(ports: &Ports, opts: &CleanupOptions, report: &mut CleanupReport) {
    let inv = inventory::scan(ports, report).await;
    let mut by_deployment: BTreeMap<&str, Vec<&Tagged>> = BTreeMap::new();
    for t in &inv.tagged {
        by_deployment.entry(t.deployment_id.as_str()).or_default().push(t);
    }
    let store = ports.deployments();
    for (id, found) in by_deployment {
        if id.trim().is_empty() {
            // Nothing to attribute it to, and teardown's lookups by this tag value would be
            // too broad: leave it for a human.
            for t in found {
                report.push(action(t, false, "left alone: its deployment-id tag is empty"));
            }
            continue;
        }
        let why = match store.get(id).await {
            Ok(None) => "its deployment has no record".to_string(),
            Ok(Some(d)) if d.status.is_final() => format!("its deployment is {}", d.status),
            // Live: its own workflows own these resources.
            Ok(Some(_)) => continue,
            Err(e) => {
                for t in found {
                    report.push(action(t, false, format!("could not read the deployment record: {e}")));
                }
                continue;
            }
        };
        if opts.dry_run {
            for t in found {
                report.push(action(t, false, format!("dry run: would delete ({why})")));
            }
            continue;
        }
        remove(ports, &inv, id, &found, &why, report).await;
    }
}

async fn remove(ports: &Ports, inv: &Inventory, id: &str, found: &[&Tagged], why: &str, report: &mut CleanupReport) {
    let (rules, others): (Vec<&Tagged>, Vec<&Tagged>) = found.iter().copied().partition(|t| t.kind == Kind::Rule);
    // A group some rule other than this deployment's own still forwards to carries traffic
    // (a hand-made rule, or another deployment's): dismantling it or its instances would hurt
    // that traffic, so this deployment waits until the reference is gone.
    let own_rules: HashSet<&str> = rules.iter().map(|t| t.id.as_str()).collect();
    let in_use: Vec<String> = others
        .iter()
        .filter(|t| t.kind == Kind::TargetGroup)
        .flat_map(|t| {
            inv.forwarded_by.get(&t.id).into_iter().flatten().filter(|r| !own_rules.contains(r.as_str())).map(move |r| format!("{} by rule {r}", t.id))
        })
        .collect();
    if !in_use.is_empty() {
        let detail = format!("left in place: still forwarded to ({}); remove that reference first", in_use.join("; "));
        for t in found {
            report.push(action(t, false, detail.clone()));
        }
        log(ports, id, Outcome::Error, detail).await;
        return;
    }

    let listed: Vec<String> = found.iter().map(|t| t.label()).collect();
    log(ports, id, Outcome::Info, format!("orphaned resources found by tag ({why}): {}; removing them, rule first", listed.join(", "))).await;
    let elb = &*ports.router;
    let mut rules_gone = true;
    for t in &rules {
        match elb.delete_rule(&t.id).await {
            Ok(existed) => {
                let detail = if existed { "deleted" } else { "already gone" };
                log(ports, id, Outcome::Ok, format!("orphaned rule {}: {detail}", t.id)).await;
                report.push(action(t, true, detail));
            }
            Err(e) => {
                rules_gone = false;
                log(ports, id, Outcome::Error, format!("orphaned rule {}: {e}", t.id)).await;
                report.push(action(t, false, format!("{e}")));
            }
        }
    }
    if others.is_empty() {
        return;
    }
    let blocker = if !rules_gone {
        Some("skipped: its rule could not be removed first".to_string())
    } else if !inv.rules_complete {
        Some("skipped: not every listener's rules could be listed, so a rule may still point at it".to_string())
    } else {
        None
    };
    if let Some(detail) = blocker {
        for t in &others {
            report.push(action(t, false, detail.clone()));
        }
        log(ports, id, Outcome::Error, detail).await;
        return;
    }

    let mut failure = remove_resources(ports, id, None).await.err();
    if matches!(failure, Some(StepError::TeardownIncomplete(_))) {
        // Without a record teardown cannot know which security group references which (the
        // app group admits the monitor group), so it may try them in the wrong order.
        if let Err(e) = delete_security_groups_in_passes(ports, id).await {
            failure = Some(e);
        }
    }
    let remaining = match &failure {
        None => Ok(HashSet::new()),
        Some(_) => still_there(ports, id).await,
    };
    let mut left = 0usize;
    for t in &others {
        let (done, detail) = outcome(&t.label(), &remaining, failure.as_ref());
        left += usize::from(!done);
        report.push(action(t, done, detail));
    }
    match left {
        0 => log(ports, id, Outcome::Ok, format!("orphaned resources removed ({} in all)", found.len())).await,
        n => log(ports, id, Outcome::Error, format!("{n} orphaned resources are still there; the next sweep retries")).await,
    }
}

/// Whether a resource is gone after the removal, and how to say so.
fn outcome(label: &str, remaining: &Result<HashSet<String>, StepError>, failure: Option<&StepError>) -> (bool, String) {
    match (remaining, failure) {
        (Ok(r), _) if !r.contains(label) => (true, "deleted".to_string()),
        (Ok(_), Some(e)) => (false, format!("still there: {e}; the next sweep retries")),
        (Ok(_), None) => (false, "still there; the next sweep retries".to_string()),
        (Err(v), Some(e)) => (false, format!("not verified ({v}) after: {e}")),
        (Err(v), None) => (false, format!("not verified: {v}")),
    }
}

/// Deletes the deployment's security groups, in passes (see [`in_passes`]).
async fn delete_security_groups_in_passes(ports: &Ports, id: &str) -> Result<(), StepError> {
    let ec2 = &*ports.compute;
    let groups: Vec<String> = ec2.aviary_security_groups(Some(id)).await?.into_iter().map(|(g, _)| g).collect();
    let (deleted, failure) = in_passes(groups, |g| {
        async move { ec2.delete_security_group(&g).await }
    })
    .await;
    for g in deleted {
        log(ports, id, Outcome::Ok, format!("deleted security group {g}")).await;
    }
    failure.map_or(Ok(()), Err)
}

/// Tries to delete every item, again and again while a pass makes progress: an item still
/// referenced by another (a security group admitting another group) fails until that one is
/// gone. Returns what was deleted and, if something is left, the last error.
async fn in_passes<F, Fut>(mut items: Vec<String>, mut delete: F) -> (Vec<String>, Option<StepError>)
where
    F: FnMut(String) -> Fut,
    Fut: std::future::Future<Output = Result<bool, StepError>>,
{
    let mut deleted = Vec::new();
    while !items.is_empty() {
        let before = items.len();
        let mut last = None;
        let mut kept = Vec::new();
        for item in items {
            match delete(item.clone()).await {
                Ok(_) => deleted.push(item),
                Err(e) => {
                    last = Some(e);
                    kept.push(item);
                }
            }
        }
        if kept.len() == before {
            return (deleted, last);
        }
        items = kept;
    }
    (deleted, None)
}

/// Labels of the deployment's tagged resources that still exist (terminating instances count
/// as gone).
async fn still_there(ports: &Ports, id: &str) -> Result<HashSet<String>, StepError> {
    let elb = &*ports.router;
    let ec2 = &*ports.compute;
    let mut left = HashSet::new();
    for (arn, dep) in elb.aviary_target_groups().await? {
        if dep == id {
            left.insert(Tagged { kind: Kind::TargetGroup, id: arn, deployment_id: dep }.label());
        }
    }
    for i in ec2.instances(id, None).await? {
        left.insert(Tagged { kind: Kind::Instance, id: i.instance_id, deployment_id: id.into() }.label());
    }
    for (g, dep) in ec2.aviary_security_groups(Some(id)).await? {
        left.insert(Tagged { kind: Kind::SecurityGroup, id: g, deployment_id: dep }.label());
    }
    for (name, dep) in ec2.aviary_secrets().await? {
        if dep == id {
            left.insert(Tagged { kind: Kind::Secret, id: name, deployment_id: dep }.label());
        }
    }
    Ok(left)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// Fake groups: `app` admits `monitor`, so `monitor` cannot go while `app` exists.
    fn fake(existing: &[&str]) -> Arc<Mutex<HashSet<String>>> {
        Arc::new(Mutex::new(existing.iter().map(|s| s.to_string()).collect()))
    }

    fn delete(state: &Arc<Mutex<HashSet<String>>>) -> impl FnMut(String) -> std::future::Ready<Result<bool, StepError>> {
        let state = state.clone();
        move |g: String| {
            let mut s = state.lock().unwrap();
            std::future::ready(if (g == "monitor" && s.contains("app")) || g == "stuck" {
                Err(StepError::TeardownIncomplete(format!("security group {g} is still in use")))
            } else {
                Ok(s.remove(&g))
            })
        }
    }

    #[tokio::test]
    async fn referenced_groups_go_in_a_later_pass() {
        let state = fake(&["monitor", "app"]);
        let (deleted, failure) = in_passes(vec!["monitor".into(), "app".into()], delete(&state)).await;
        assert_eq!(deleted, vec!["app", "monitor"]);
        assert_eq!(failure, None);
        assert!(state.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn passes_stop_when_nothing_moves_and_report_the_error() {
        let state = fake(&["monitor", "app", "stuck"]);
        let (deleted, failure) = in_passes(vec!["stuck".into(), "monitor".into(), "app".into()], delete(&state)).await;
        assert_eq!(deleted, vec!["app", "monitor"]);
        assert_eq!(failure, Some(StepError::TeardownIncomplete("security group stuck is still in use".into())));
    }

    #[test]
    fn the_report_says_what_is_really_gone() {
        let err = StepError::TeardownIncomplete("security group sg-1 is still in use".into());
        let left: Result<HashSet<String>, StepError> = Ok(HashSet::from(["security group sg-1".to_string()]));
        assert_eq!(outcome("instance i-1", &left, Some(&err)), (true, "deleted".into()));
        let (done, detail) = outcome("security group sg-1", &left, Some(&err));
        assert!(!done && detail.contains("still in use") && detail.contains("next sweep"), "{detail}");
        let unknown: Result<HashSet<String>, StepError> = Err(StepError::aws("DescribeInstances", true, "throttled"));
        let (done, detail) = outcome("instance i-1", &unknown, Some(&err));
        assert!(!done && detail.contains("not verified") && detail.contains("throttled"), "{detail}");
        assert_eq!(outcome("instance i-1", &Ok(HashSet::new()), None), (true, "deleted".into()));
    }
}
