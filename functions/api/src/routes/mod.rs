//! One module per resource; each route validates what the client sent, calls the shared core
//! and shapes the answer. [`dispatch`] is the only place that maps a [`Route`] to its code.

mod analyses;
mod deployments;
mod destroy;
mod environment;
mod events;
mod traffic;
mod uploads;

use aviary_shared::aws::Aws;
use aviary_shared::model::Outcome;

use crate::request::ApiRequest;
use crate::responses::{ApiError, Reply};
use crate::router::Route;

pub use uploads::{MAX_SPEC_BYTES, MAX_TARBALL_BYTES, MAX_TEXT_ARTIFACT_BYTES, UPLOAD_EXPIRY_SECS};

pub async fn dispatch(aws: &Aws, req: &ApiRequest, route: Route) -> Result<Reply, ApiError> {
    match route {
        Route::CreateDeployment => deployments::create(aws, req).await,
        Route::ListDeployments => deployments::list(aws, req).await,
        Route::GetDeployment { id } => deployments::get(aws, req, &id).await,
        Route::ListEvents { id } => events::list(aws, req, &id).await,
        Route::ChangeTraffic { id } => traffic::change(aws, req, &id).await,
        Route::DestroyDeployment { id } => destroy::destroy(aws, req, &id).await,
        Route::CreateUploads => uploads::create(aws, req).await,
        Route::GetEnvironment => environment::get(aws, req).await,
        // ---- Analyses: the lead wires `aviary_shared::analysis` in `analyses.rs`. ----
        Route::StartAnalysis { id } => analyses::start(aws, req, &id).await,
        Route::GetAnalysis { id, analysis_id } => analyses::get(aws, req, &id, &analysis_id).await,
    }
}

/// Records who asked for a change, after it succeeded. A failed append never fails the
/// request: the change itself is already logged by the core.
async fn log_caller(aws: &Aws, id: &str, req: &ApiRequest, what: &str) {
    let request = req.request_id.as_deref().map(|r| format!(" (request {r})")).unwrap_or_default();
    let detail = format!("{what} by {}{request}", req.caller_label());
    if let Err(e) = aws.store().append_event(id, "api", Outcome::Info, detail).await {
        tracing::warn!(deployment = id, error = %e, "could not record the caller");
    }
}
