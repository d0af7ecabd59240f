//! `POST /deployments/{id}/analyses` (judge baseline against canary over a window, store and
//! return the report) and `GET /deployments/{id}/analyses/{aid}`, over `aviary_shared::analysis`.

use aviary_shared::analysis::{get_analysis, run_analysis, AnalysisError, AnalysisRequest};
use aviary_shared::aws::Aws;
use aviary_shared::StepError;

use crate::request::ApiRequest;
use crate::responses::{ApiError, Reply};
use crate::validation::{deployment_id, json_body, Query};

fn api_error(e: AnalysisError) -> ApiError {
    match e {
        AnalysisError::NotFound(id) => ApiError::not_found(&id),
        AnalysisError::InvalidRequest { fields } => ApiError::Validation(fields),
        AnalysisError::NotReady { id, reason } => {
            ApiError::Conflict { name: "NotReady", message: format!("deployment {id} cannot be analysed: {reason}") }
        }
        // The metric store answered badly: an upstream failure, not the caller's.
        AnalysisError::Source(m) => ApiError::Step(StepError::Aws { operation: "metrics".into(), message: m.to_string() }),
        AnalysisError::Step(s) => ApiError::Step(s),
    }
}

pub async fn start(aws: &Aws, req: &ApiRequest, id: &str) -> Result<Reply, ApiError> {
    deployment_id(id)?;
    Query::parse(req, &[])?;
    // The body is optional: `{}` judges the default window with the starter config.
    let body: serde_json::Value = if req.body.as_deref().is_none_or(|b| b.iter().all(u8::is_ascii_whitespace)) {
        serde_json::json!({})
    } else {
        json_body(req)?
    };
    let request = AnalysisRequest::from_value(body).map_err(api_error)?;
    let record = run_analysis(aws, id, &request).await.map_err(api_error)?;
    let location = format!("/deployments/{id}/analyses/{}", record.analysis_id);
    Ok(Reply::with_status(201, &record).at(location))
}

pub async fn get(aws: &Aws, req: &ApiRequest, id: &str, analysis_id: &str) -> Result<Reply, ApiError> {
    deployment_id(id)?;
    Query::parse(req, &[])?;
    if analysis_id.is_empty() || analysis_id.len() > 128 || !analysis_id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(ApiError::field("aid", "not an analysis id"));
    }
    match get_analysis(aws, id, analysis_id).await? {
        Some(record) => Ok(Reply::ok(&record)),
        None => Err(ApiError::NotFound(format!("analysis {analysis_id} of deployment {id} not found"))),
    }
}
