//! `PATCH /deployments/{id}/traffic`: live traffic control on an ACTIVE canary. The change is
//! validated against the deployment's spec before its status is looked at, so an invalid
//! value is a 400 whatever the status; a valid one on a canary that is not ACTIVE is a 409.

use aviary_lifecycle::actor::Actor;
use aviary_lifecycle::traffic::{change_traffic_as, TrafficChange, TrafficChangeError};
use axum::extract::State;

use crate::context::Invocation;
use crate::error::ApiError;
use crate::extract::{Body, DeploymentId, QueryPairs};
use crate::reply::Reply;
use crate::state::ApiState;
use crate::validation::{json_body, Query};
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
            TrafficChangeError::Busy { id } => ApiError::Conflict {
                name: "TrafficChangeInProgress",
                message: format!("another traffic change of deployment {id} is being applied; retry in a few seconds"),
            },
            TrafficChangeError::NotOwner(e) => ApiError::NotOwner(e),
            TrafficChangeError::Step(s) => ApiError::Step(s),
        }
    }
}

pub async fn change(
    State(state): State<ApiState>,
    who: Invocation,
    DeploymentId(id): DeploymentId,
    QueryPairs(q): QueryPairs,
    Body(body): Body,
) -> Result<Reply, ApiError> {
    Query::parse(&q, &[])?;
    let change: TrafficChange = json_body(&body)?;
    if change == TrafficChange::default() {
        return Err(ApiError::field("body", "name at least one of trafficPercent, conditions, stickiness"));
    }
    // Refused unless the caller owns it (or is an operator); validated before the status is
    // looked at, then serialised with other changes: the core
    // does both (one read of the deployment).
    let updated = change_traffic_as(&state.ports, &id, &change, Actor::Caller(who.caller.as_deref())).await?;
    crate::audit::log_caller(&state.ports, &id, &who, "PATCH /deployments/{id}/traffic").await;
    Ok(Reply::ok(&DeploymentView::new(updated)))
}
