//! `PATCH /deployments/{id}/traffic`: live traffic control on an ACTIVE canary. The change is
//! validated against the deployment's spec before its status is looked at, so an invalid
//! value is a 400 whatever the status; a valid one on a canary that is not ACTIVE is a 409.

use aviary_shared::aws::Aws;
use aviary_shared::lifecycle::traffic::{change_traffic, merged_spec, TrafficChange, TrafficChangeError};

use crate::request::ApiRequest;
use crate::responses::{ApiError, Reply};
use crate::validation::{deployment_id, json_body, Query};
use crate::views::DeploymentView;

impl From<TrafficChangeError> for ApiError {
    fn from(e: TrafficChangeError) -> Self {
        match e {
            TrafficChangeError::Invalid(fields) => ApiError::Validation(fields),
            TrafficChangeError::NotActive { id, status } => ApiError::Conflict {
                name: "DeploymentNotActive",
                message: format!(
                    "deployment {id} is {status}; traffic can only change while it is ACTIVE{}",
                    if status.is_deploying() { " (wait until it is healthy and taking traffic)" } else { "" }
                ),
            },
            TrafficChangeError::Step(s) => ApiError::Step(s),
        }
    }
}

pub async fn change(aws: &Aws, req: &ApiRequest, id: &str) -> Result<Reply, ApiError> {
    deployment_id(id)?;
    Query::parse(req, &[])?;
    let change: TrafficChange = json_body(req)?;
    if change == TrafficChange::default() {
        return Err(ApiError::field("body", "name at least one of trafficPercent, conditions, stickiness"));
    }
    let d = aws.store().get(id).await?.ok_or_else(|| ApiError::not_found(id))?;
    // A deployment without a spec (REJECTED before parsing) has nothing to merge with; the
    // status check below answers it.
    if d.spec.is_some() {
        merged_spec(&d, &change)?;
    }
    let updated = change_traffic(aws, id, &change).await?;
    super::log_caller(aws, id, req, "PATCH /deployments/{id}/traffic").await;
    Ok(Reply::ok(&DeploymentView::new(updated)))
}
