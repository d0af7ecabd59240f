//! `GET /environment`: the account's load balancers, listeners, rules and target groups,
//! read-only, through the traffic router.

use axum::extract::State;

use crate::error::ApiError;
use crate::extract::QueryPairs;
use crate::reply::Reply;
use crate::state::ApiState;
use crate::validation::Query;

pub async fn get(State(state): State<ApiState>, QueryPairs(q): QueryPairs) -> Result<Reply, ApiError> {
    Query::parse(&q, &[])?;
    Ok(Reply::ok(&state.ports.router.environment().await?))
}
