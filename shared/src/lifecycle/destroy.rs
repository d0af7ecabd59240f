//! Destroy requests (API `DELETE`, CLI, cleanup): mark the deployment TEARING_DOWN at once, so
//! any deploy step still running stops at its next status check, and start the teardown
//! workflow under a deterministic name. Idempotent: a second request returns the same state.

use crate::aws::workflow::start_once;
use crate::aws::Aws;
use crate::error::StepError;
use crate::ids::teardown_execution_name;
use crate::model::{Deployment, Outcome};
use crate::status::Status;
use crate::steps::TeardownInput;

use super::log;

pub async fn request_teardown(aws: &Aws, id: &str, reason: &str) -> Result<Deployment, StepError> {
    let store = aws.store();
    let d = store.require(id).await?;
    if d.status.is_final() || (d.status == Status::TearingDown && d.teardown_execution_arn.is_some()) {
        return Ok(d);
    }
    let d = store
        .transition(id, Status::TearingDown, |d| {
            d.status_reason.get_or_insert_with(|| reason.to_string());
        })
        .await?;
    let sm = aws.settings.require(&aws.settings.teardown_state_machine_arn, "AVIARY_TEARDOWN_STATE_MACHINE_ARN")?;
    let input = TeardownInput { deployment_id: id.into(), failure: None, reason: Some(reason.into()) };
    let input = serde_json::to_value(&input).map_err(|e| StepError::InvalidInput(e.to_string()))?;
    let arn = start_once(&aws.sfn, sm, &teardown_execution_name(id), &input).await?;
    let d = store
        .update(id, &[Status::TearingDown, Status::Destroyed, Status::Failed], |d| d.teardown_execution_arn = Some(arn.clone()))
        .await
        .unwrap_or(d);
    log(aws, id, "destroy", Outcome::Info, format!("teardown requested ({reason}): {arn}")).await;
    Ok(d)
}
