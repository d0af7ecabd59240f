//! `POST /deployments/{id}/analyses` (judge baseline against canary over a window, store and
//! return the report), `GET /deployments/{id}/analyses/{aid}`, and `GET
//! /deployments/{id}/verdict` (the live, anytime-valid verdict, refreshed with the periods
//! that closed since the last call), over `aviary_analysis`.

use aviary_analysis::{get_analysis, run_analysis, AnalysisError, AnalysisRequest};
use aviary_core::StepError;
use axum::extract::State;
use axum::http::StatusCode;

use crate::error::ApiError;
use crate::extract::{AnalysisId, Body, DeploymentId, QueryPairs};
use crate::reply::Reply;
use crate::state::ApiState;
use crate::validation::{json_body, Query};

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

pub async fn start(
    State(state): State<ApiState>,
    DeploymentId(id): DeploymentId,
    QueryPairs(q): QueryPairs,
    Body(body): Body,
) -> Result<Reply, ApiError> {
    Query::parse(&q, &[])?;
    // The body is optional: `{}` judges the default window with the starter config.
    let body: serde_json::Value = if body.iter().all(u8::is_ascii_whitespace) { serde_json::json!({}) } else { json_body(&body)? };
    let request = AnalysisRequest::from_value(body).map_err(api_error)?;
    let record = run_analysis(&state.analysis, &id, &request).await.map_err(api_error)?;
    let location = format!("/deployments/{id}/analyses/{}", record.analysis_id);
    Ok(Reply::with_status(StatusCode::CREATED, &record).at(location))
}

pub async fn get(
    State(state): State<ApiState>,
    DeploymentId(id): DeploymentId,
    AnalysisId(aid): AnalysisId,
    QueryPairs(q): QueryPairs,
) -> Result<Reply, ApiError> {
    Query::parse(&q, &[])?;
    match get_analysis(&state.analysis, &id, &aid).await? {
        Some(record) => Ok(Reply::ok(&record)),
        None => Err(ApiError::NotFound(format!("analysis {aid} of deployment {id} not found"))),
    }
}

pub async fn verdict(State(state): State<ApiState>, DeploymentId(id): DeploymentId, QueryPairs(q): QueryPairs) -> Result<Reply, ApiError> {
    Query::parse(&q, &[])?;
    let v = aviary_analysis::live::refresh_verdict(&state.analysis, &id).await.map_err(api_error)?;
    Ok(Reply::ok(&v))
}
