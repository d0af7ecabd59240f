//! `DELETE /deployments/{id}`: asks for teardown (idempotent) and answers 202 at once; the
//! teardown workflow does the work.

use aviary_shared::aws::Aws;
use aviary_shared::lifecycle::destroy::request_teardown;

use crate::request::ApiRequest;
use crate::responses::{ApiError, Reply};
use crate::validation::{deployment_id, Query};
use crate::views::{DeploymentView, TeardownAccepted};

pub async fn destroy(aws: &Aws, req: &ApiRequest, id: &str) -> Result<Reply, ApiError> {
    deployment_id(id)?;
    Query::parse(req, &[])?;
    // The reason names the caller; the core logs it with the teardown request.
    let reason = format!("destroy requested through the API by {}", req.caller_label());
    let d = request_teardown(aws, id, &reason).await?;
    let links = DeploymentView::new(d.clone()).links;
    Ok(Reply::with_status(202, &TeardownAccepted { id: d.id, status: d.status, status_reason: d.status_reason, links }))
}
