//! The router as a whole: the route table with its state, behind the request-wide steps (the
//! body cap, the Lambda context) that run before routing, so they see the path as the client
//! sent it.

use axum::extract::DefaultBodyLimit;
use axum::{middleware, Router};

use crate::state::ApiState;
use crate::{body, context, routes};

/// The API: every route of [`route_keys`], answering JSON.
pub fn router(state: ApiState) -> Router {
    let routes = routes::table().with_state(state);
    Router::new()
        .fallback_service(routes)
        .layer(middleware::from_fn(context::from_lambda))
        .layer(middleware::from_fn(body::buffered))
        .layer(DefaultBodyLimit::max(body::MAX_BODY_BYTES))
}

/// Every route the router serves, as API Gateway names them (`GET /deployments/{id}`).
pub fn route_keys() -> Vec<&'static str> {
    routes::ROUTES.iter().map(|(key, _)| *key).collect()
}
