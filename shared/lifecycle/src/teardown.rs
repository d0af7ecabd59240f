//! `teardown`: removes the rule **first** (so no request can reach a group being dismantled),
//! then deregisters and deletes the target groups, terminates the instances, deletes the
//! security groups and the deployment's secrets; marks the deployment DESTROYED (or FAILED after a failure).
//!
//! Idempotent: resources are found by tag as well as from the record (a crash can happen
//! between creating and recording), "not found" counts as done, and anything still in use
//! (security groups while instances shut down) ends the attempt with `TeardownIncomplete`,
//! which the state machine retries.

use aviary_core::StepError;
use aviary_core::model::{Deployment, Outcome};
use aviary_core::status::Status;
use aviary_core::steps::{TeardownInput, TeardownOutput};

use crate::{log, logged, Ports};

const STEP: &str = "teardown";

pub async fn teardown(ports: &Ports, input: &TeardownInput) -> Result<TeardownOutput, StepError> {
    let id = &input.deployment_id;
    let result = run(ports, input).await;
    logged(ports, id, STEP, result).await
}

async fn run(ports: &Ports, input: &TeardownInput) -> Result<TeardownOutput, StepError> {
    let id = &input.deployment_id;
    let store = ports.deployments();
    let current = store.require(id).await?;
    if current.status.is_final() {
        return Ok(TeardownOutput { status: current.status, removed: vec![] });
    }
    let failure = input.failure.as_ref().map(|f| f.reason());
    // A requested teardown waits for the deploy workflow to stop (it stops at its next status
    // check), or a step still creating resources could finish after we removed them. From the
    // deploy workflow's own Catch (`failure` set) that workflow is the caller: no wait.
    if failure.is_none() && current.status != Status::Pending {
        if let Some(exec) = &current.execution_arn {
            if ports.workflow.execution_status(exec).await?.as_deref() == Some("RUNNING") {
                return Err(StepError::TeardownIncomplete(format!("waiting for the deploy workflow {exec} to stop")));
            }
        }
    }
    let first_entry = current.status != Status::TearingDown;
    let d = store
        .transition(id, Status::TearingDown, |d| {
            if let Some(f) = &failure {
                d.failure_reason.get_or_insert_with(|| f.clone());
            }
            if d.status_reason.is_none() {
                d.status_reason = failure.clone().or_else(|| input.reason.clone());
            }
        })
        .await?;
    if first_entry {
        let why = failure.clone().or_else(|| input.reason.clone()).unwrap_or_else(|| "requested".into());
        log(ports, id, STEP, Outcome::Info, format!("tearing down ({why}); removing the listener rule first")).await;
    }
    let removed = remove_resources(ports, id, Some(&d)).await?;
    let final_status = if d.failure_reason.is_some() { Status::Failed } else { Status::Destroyed };
    store
        .transition(id, final_status, |d| {
            d.weights = None;
        })
        .await?;
    log(ports,
        id,
        STEP,
        Outcome::Ok,
        format!("{} ({} resources removed); the listener is back to its rules before the canary", final_status, removed.len()),
    )
    .await;
    Ok(TeardownOutput { status: final_status, removed })
}

/// Removes everything tagged with the deployment id (and whatever the record names), rule
/// first. Used by teardown and by cleanup for orphans that have no record.
pub async fn remove_resources(ports: &Ports, id: &str, record: Option<&Deployment>) -> Result<Vec<String>, StepError> {
    let elb = &*ports.router;
    let ec2 = &*ports.compute;
    let mut removed = Vec::new();

    // 1. The rule. Found by tag on the spec's listener, and from the record.
    let listener = record.and_then(|d| d.spec.as_ref()).map(|s| s.listener_arn.clone());
    let mut rules: Vec<String> = record.and_then(|d| d.resources.rule_arn.clone()).into_iter().collect();
    if let Some(l) = &listener {
        if elb.listener(l).await?.is_some() {
            for (rule, dep) in elb.aviary_rules(l).await? {
                if dep == id {
                    rules.push(rule.rule_arn);
                }
            }
        }
    }
    rules.sort();
    rules.dedup();
    for arn in &rules {
        if elb.delete_rule(arn).await? {
            log(ports, id, STEP, Outcome::Ok, format!("deleted rule {}", aviary_core::ids::short_arn(arn))).await;
            removed.push(format!("rule {arn}"));
        }
    }
    // Verify before touching anything else: no rule of ours may remain on the listener.
    if let Some(l) = &listener {
        if elb.listener(l).await?.is_some() && elb.aviary_rules(l).await?.iter().any(|(_, dep)| dep == id) {
            return Err(StepError::TeardownIncomplete(format!("a rule of {id} is still on listener {l}")));
        }
    }

    // 2. Target groups: deregister, then delete.
    let mut groups: Vec<String> = record
        .map(|d| [d.resources.baseline_target_group_arn.clone(), d.resources.canary_target_group_arn.clone()])
        .into_iter()
        .flatten()
        .flatten()
        .collect();
    groups.extend(elb.aviary_target_groups().await?.into_iter().filter(|(_, dep)| dep == id).map(|(arn, _)| arn));
    groups.sort();
    groups.dedup();
    for arn in &groups {
        let targets = elb.deregister_all(arn).await?;
        if elb.delete_target_group(arn).await? {
            let deregistered = if targets.is_empty() { "no targets".to_string() } else { targets.join(", ") };
            log(ports, id, STEP, Outcome::Ok, format!("deleted target group {} (deregistered {deregistered})", aviary_core::ids::short_arn(arn))).await;
            removed.push(format!("target group {arn}"));
        }
    }

    // 3. Instances.
    let instances: Vec<String> = ec2.instances(id, None).await?.into_iter().map(|i| i.instance_id).collect();
    if !instances.is_empty() {
        ec2.terminate(&instances).await?;
        log(ports, id, STEP, Outcome::Ok, format!("terminated {}", instances.join(", "))).await;
        removed.extend(instances.iter().map(|i| format!("instance {i}")));
    }

    // 4. Security groups: the app group references the monitor group, so it goes first.
    let mut sgs = ec2.aviary_security_groups(Some(id)).await?;
    sgs.sort_by_key(|(gid, _)| if record.and_then(|d| d.resources.monitor_security_group_id.as_ref()) == Some(gid) { 1 } else { 0 });
    for (gid, _) in &sgs {
        if ec2.delete_security_group(gid).await? {
            log(ports, id, STEP, Outcome::Ok, format!("deleted security group {gid}")).await;
            removed.push(format!("security group {gid}"));
        }
    }

    // 5. Secrets (the monitor's Grafana password), by name under the deployment's path.
    for name in ec2.delete_secrets(id).await? {
        log(ports, id, STEP, Outcome::Ok, format!("deleted secret {name}")).await;
        removed.push(format!("secret {name}"));
    }
    Ok(removed)
}
