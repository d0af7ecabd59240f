//! `GET /deployments/{id}/events`: the deployment's event log, oldest first, paginated.

use axum::extract::State;

use crate::error::ApiError;
use crate::extract::{DeploymentId, QueryPairs};
use crate::reply::Reply;
use crate::state::ApiState;
use crate::validation::{cursor, cursor_fault, Query};
use crate::views::EventPage;

pub const DEFAULT_PAGE: i32 = 100;
pub const MAX_PAGE: i32 = 500;

pub async fn list(State(state): State<ApiState>, DeploymentId(id): DeploymentId, QueryPairs(q): QueryPairs) -> Result<Reply, ApiError> {
    let q = Query::parse(&q, &["limit", "cursor"])?;
    let limit = q.limit(DEFAULT_PAGE, MAX_PAGE)?;
    let cursor = cursor(&q)?;
    let store = &state.ports.store;
    // The page first: the store checks the cursor (another deployment's is refused) before
    // it reads anything.
    let page = store.events(&id, limit, cursor).await.map_err(cursor_fault(cursor.is_some()))?;
    // An unknown id would otherwise read as an empty log.
    if store.get(&id).await?.is_none() {
        return Err(ApiError::not_found(&id));
    }
    Ok(Reply::ok(&EventPage { items: page.items, next: page.next }))
}
