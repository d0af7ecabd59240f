//! `check-health`: one poll of both target groups' health. The state machine's Wait/Choice
//! loop calls it until both are healthy or the deadline (set when the rule was added) passes.

use aviary_core::StepError;
use aviary_core::model::Outcome;
use aviary_core::status::Status;
use aviary_core::steps::{CheckHealthOutput, DeploymentRef};

use crate::{log, logged, Ports};

const STEP: &str = "check-health";

pub async fn check_health(ports: &Ports, input: &DeploymentRef) -> Result<CheckHealthOutput, StepError> {
    let id = &input.deployment_id;
    let result = run(ports, id).await;
    logged(ports, id, STEP, result).await
}

async fn run(ports: &Ports, id: &str) -> Result<CheckHealthOutput, StepError> {
    let d = ports.deployments().require(id).await?;
    // A destroy request during the wait stops the loop (the Catch routes to teardown).
    if d.status != Status::WaitingHealthy {
        return Err(StepError::StatusConflict { id: id.into(), actual: d.status.to_string(), expected: "WAITING_HEALTHY".into() });
    }
    let (b_arn, c_arn) = match (&d.resources.baseline_target_group_arn, &d.resources.canary_target_group_arn) {
        (Some(b), Some(c)) => (b.clone(), c.clone()),
        _ => return Err(StepError::InvalidInput("no target groups recorded".into())),
    };
    let baseline = ports.health.target_health(&b_arn).await?;
    let canary = ports.health.target_health(&c_arn).await?;
    let all_healthy = baseline.is_healthy() && canary.is_healthy();
    let seconds_left = d.health_deadline.unwrap_or(0) - ports.clock.now_secs();
    let deadline_exceeded = !all_healthy && seconds_left <= 0;
    let detail = format!("baseline: {}; canary: {}; {}s left", baseline.summary(), canary.summary(), seconds_left.max(0));
    let outcome = if all_healthy { Outcome::Ok } else if deadline_exceeded { Outcome::Error } else { Outcome::Info };
    log(ports, id, STEP, outcome, detail).await;
    Ok(CheckHealthOutput { all_healthy, deadline_exceeded, baseline, canary, seconds_left })
}
