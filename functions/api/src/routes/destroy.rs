//! `DELETE /deployments/{id}`: asks for teardown (idempotent) and answers 202 at once; the
//! teardown workflow does the work. Only the deployment's creator or an operator may (403).

use aviary_lifecycle::actor::Actor;
use aviary_lifecycle::destroy::{request_teardown_as, DestroyError};
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
    let d = request_teardown_as(&state.ports, &id, &reason, Actor::Caller(who.caller.as_deref())).await.map_err(|e| match e {
        DestroyError::NotOwner(e) => ApiError::NotOwner(e),
        DestroyError::Step(e) => ApiError::Step(e),
    })?;
    let links = DeploymentView::new(d.clone()).links;
    Ok(Reply::with_status(StatusCode::ACCEPTED, &TeardownAccepted { id: d.id, status: d.status, status_reason: d.status_reason, links }))
}
