//! `POST /deployments/{id}/analyses` and `GET /deployments/{id}/analyses/{aid}`.
//!
//! LEAD: wire `aviary_shared::analysis` here — `run_analysis(aws, id, &AnalysisRequest)` for
//! `start` (parse the body with `validation::json_body`, answer 201/202 with the record) and
//! `get_analysis(aws, id, aid)` for `get` (404 when absent). Until then both answer 501 after
//! the same input checks the other routes make, so clients see the final error shapes.

use aviary_shared::aws::Aws;

use crate::request::ApiRequest;
use crate::responses::{ApiError, Reply};
use crate::validation::{deployment_id, Query};

pub async fn start(_aws: &Aws, req: &ApiRequest, id: &str) -> Result<Reply, ApiError> {
    deployment_id(id)?;
    Query::parse(req, &[])?;
    Err(ApiError::NotImplemented("analyses are not served yet".into()))
}

pub async fn get(_aws: &Aws, req: &ApiRequest, id: &str, analysis_id: &str) -> Result<Reply, ApiError> {
    deployment_id(id)?;
    Query::parse(req, &[])?;
    if analysis_id.is_empty() || analysis_id.len() > 128 || !analysis_id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(ApiError::field("aid", "not an analysis id"));
    }
    Err(ApiError::NotImplemented("analyses are not served yet".into()))
}
