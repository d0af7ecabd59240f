//! Destroy requests (API `DELETE`, CLI, cleanup): mark the deployment TEARING_DOWN at once, so
//! any deploy step still running stops at its next status check, and start the teardown
//! workflow under a deterministic name. Idempotent: a second request returns the same state.

use aviary_core::StepError;
use aviary_core::ids::teardown_execution_name;
use aviary_core::model::{Deployment, Outcome};
use aviary_core::ownership::NotOwner;
use aviary_core::status::Status;
use aviary_core::steps::TeardownInput;

use aviary_ports::WorkflowKind;

use crate::actor::Actor;
use crate::{log, Ports};

/// Why a destroy request by a caller was not taken.
#[derive(Debug, thiserror::Error)]
pub enum DestroyError {
    #[error(transparent)]
    NotOwner(#[from] NotOwner),
    #[error(transparent)]
    Step(#[from] StepError),
}

/// A teardown the installation asks for (cleanup, the demo): no ownership check.
pub async fn request_teardown(ports: &Ports, id: &str, reason: &str) -> Result<Deployment, StepError> {
    let store = ports.deployments();
    let d = store.require(id).await?;
    teardown_of(ports, d, reason).await
}

/// A teardown asked for by `actor`, refused unless the actor may change the deployment
/// (checked before anything is written, whatever the deployment's state).
pub async fn request_teardown_as(ports: &Ports, id: &str, reason: &str, actor: Actor<'_>) -> Result<Deployment, DestroyError> {
    let d = ports.deployments().require(id).await?;
    actor.may_change(ports, &d)??;
    Ok(teardown_of(ports, d, reason).await?)
}

async fn teardown_of(ports: &Ports, d: Deployment, reason: &str) -> Result<Deployment, StepError> {
    let store = ports.deployments();
    let id = d.id.as_str();
    if d.status.is_final() || (d.status == Status::TearingDown && d.teardown_execution_arn.is_some()) {
        return Ok(d);
    }
    let d = store
        .transition(id, Status::TearingDown, |d| {
            d.status_reason.get_or_insert_with(|| reason.to_string());
        })
        .await?;
    let input = TeardownInput { deployment_id: id.into(), failure: None, reason: Some(reason.into()) };
    let input = serde_json::to_value(&input).map_err(|e| StepError::InvalidInput(e.to_string()))?;
    let arn = ports.workflow.start_once(WorkflowKind::Teardown, &teardown_execution_name(id), &input).await?;
    let d = store
        .update(id, &[Status::TearingDown, Status::Destroyed, Status::Failed], |d| d.teardown_execution_arn = Some(arn.clone()))
        .await
        .unwrap_or(d);
    log(ports, id, "destroy", Outcome::Info, format!("teardown requested ({reason}): {}", aviary_core::ids::short_arn(&arn))).await;
    Ok(d)
}
