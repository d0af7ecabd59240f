//! The route table ([`ROUTES`]: every route the API serves, as API Gateway names it, with its
//! handler) and one module per resource; each handler validates what the client sent, calls
//! the core and shapes the answer. A path the table does not name is a 404, a method it does
//! not name on a known path a 405 listing the allowed ones (also for `HEAD`).

mod analyses;
mod credentials;
mod deployments;
mod destroy;
mod environment;
mod events;
mod traffic;
mod uploads;

use axum::extract::Request;
use axum::routing::{delete, get, patch, post, MethodFilter, MethodRouter};
use axum::Router;

use crate::error::ApiError;
use crate::state::ApiState;

pub use uploads::{MAX_SPEC_BYTES, MAX_TARBALL_BYTES, MAX_TEXT_ARTIFACT_BYTES, UPLOAD_EXPIRY_SECS};

type Handler = fn() -> MethodRouter<ApiState>;

/// Every route, as declared in the SAM template and `api/openapi.yaml` (`tests/declared_routes.rs`
/// checks the three agree).
pub const ROUTES: [(&str, Handler); 12] = [
    ("POST /deployments", || post(deployments::create)),
    ("GET /deployments", || get(deployments::list)),
    ("GET /deployments/{id}", || get(deployments::get)),
    ("DELETE /deployments/{id}", || delete(destroy::destroy)),
    ("GET /deployments/{id}/events", || get(events::list)),
    ("GET /deployments/{id}/credentials", || get(credentials::get)),
    ("PATCH /deployments/{id}/traffic", || patch(traffic::change)),
    ("POST /uploads", || post(uploads::create)),
    ("GET /environment", || get(environment::get)),
    ("POST /deployments/{id}/analyses", || post(analyses::start)),
    ("GET /deployments/{id}/analyses/{aid}", || get(analyses::get)),
    ("GET /deployments/{id}/verdict", || get(analyses::verdict)),
];

/// The order methods are listed in an `Allow` header.
const METHOD_ORDER: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/// The table as an axum router (without state).
pub fn table() -> Router<ApiState> {
    // (method, path, handler), in table order.
    let routes: Vec<(&'static str, &'static str, Handler)> =
        ROUTES.iter().map(|(key, handler)| key.split_once(' ').map_or(("", *key, *handler), |(m, p)| (m, p, *handler))).collect();
    let mut router = Router::new();
    let mut done: Vec<&str> = Vec::new();
    for (_, path, _) in &routes {
        if done.contains(path) {
            continue;
        }
        done.push(path);
        let here = routes.iter().filter(|(_, p, _)| p == path);
        let mut allowed: Vec<&'static str> = here.clone().map(|(m, _, _)| *m).collect();
        allowed.sort_by_key(|m| METHOD_ORDER.iter().position(|o| o == m));
        let not_allowed = move |req: Request| async move {
            ApiError::MethodNotAllowed { method: req.method().to_string(), path: req.uri().path().to_string(), allowed: allowed.clone() }
        };
        let methods = here
            .fold(MethodRouter::new(), |acc, (_, _, handler)| acc.merge(handler()))
            // axum would answer HEAD with the GET route; the API does not serve HEAD.
            .on(MethodFilter::HEAD, not_allowed.clone())
            .fallback(not_allowed);
        router = router.route(path, methods);
    }
    router.fallback(|req: Request| async move { ApiError::NoRoute { path: req.uri().path().to_string() } })
}
