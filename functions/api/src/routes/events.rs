//! `GET /deployments/{id}/events`: the deployment's event log, oldest first, paginated.

use aviary_shared::aws::Aws;

use crate::request::ApiRequest;
use crate::responses::{ApiError, Reply};
use crate::validation::{deployment_id, events_cursor, Query};
use crate::views::EventPage;

pub const DEFAULT_PAGE: i32 = 100;
pub const MAX_PAGE: i32 = 500;

pub async fn list(aws: &Aws, req: &ApiRequest, id: &str) -> Result<Reply, ApiError> {
    deployment_id(id)?;
    let q = Query::parse(req, &["limit", "cursor"])?;
    let limit = q.limit(DEFAULT_PAGE, MAX_PAGE)?;
    let cursor = q.get("cursor");
    events_cursor(cursor, id)?;
    let store = aws.store();
    // An unknown id would otherwise read as an empty log.
    if store.get(id).await?.is_none() {
        return Err(ApiError::not_found(id));
    }
    let page = store.events(id, limit, cursor).await?;
    Ok(Reply::ok(&EventPage { items: page.items, next: page.next }))
}
