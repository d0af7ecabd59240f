//! `DELETE /deployments/{id}`: asks for teardown (idempotent) and answers 202 at once; the
//! teardown workflow does the work.

use aviary_lifecycle::destroy::request_teardown;
use axum::extract::State;
use axum::http::StatusCode;

use crate::context::Invocation;
use crate::error::ApiError;
use crate::extract::{DeploymentId, QueryPairs};
use crate::reply::Reply;
use crate::state::ApiState;
use crate::validation::Query;
use crate::views::{DeploymentView, TeardownAccepted};

pub async fn destroy(State(state): State<ApiState>, who: Invocation, DeploymentId(id): DeploymentId, QueryPairs(q): QueryPairs) -> Result<Reply, ApiError> {
    Query::parse(&q, &[])?;
    // The reason names the caller; the core logs it with the teardown request.
    let reason = format!("destroy requested through the API by {}", who.caller_label());
    let d = request_teardown(&state.ports, &id, &reason).await?;
    let links = DeploymentView::new(d.clone()).links;
    Ok(Reply::with_status(StatusCode::ACCEPTED, &TeardownAccepted { id: d.id, status: d.status, status_reason: d.status_reason, links }))
}
