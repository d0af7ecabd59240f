//! `GET /deployments/{id}/credentials`: the monitor's Grafana login, for the deployment's
//! creator or an operator only (403 for anyone else); 404 while the monitor has not stored it.
//! Answers are never cached (every API answer is `no-store`).

use aviary_lifecycle::actor::Actor;
use aviary_lifecycle::credentials::{grafana_login, CredentialsError};
use axum::extract::State;

use crate::context::Invocation;
use crate::error::ApiError;
use crate::extract::{DeploymentId, QueryPairs};
use crate::reply::Reply;
use crate::state::ApiState;
use crate::validation::Query;

pub async fn get(State(state): State<ApiState>, who: Invocation, DeploymentId(id): DeploymentId, QueryPairs(q): QueryPairs) -> Result<Reply, ApiError> {
    Query::parse(&q, &[])?;
    let login = grafana_login(&state.ports, &id, Actor::Caller(who.caller.as_deref())).await.map_err(|e| match e {
        CredentialsError::NotOwner(e) => ApiError::NotOwner(e),
        CredentialsError::NotStored(why) => ApiError::NotFound(why),
        CredentialsError::Step(e) => ApiError::Step(e),
    })?;
    Ok(Reply::ok(&login))
}
