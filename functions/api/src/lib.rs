//! `api`: Aviary's HTTP API behind API Gateway (HTTP API, payload format 2.0, IAM-authorised
//! with SigV4). A thin layer over the shared core: [`request`] reads the event, [`router`]
//! names the route, [`validation`] checks every input a user typed, the `routes` modules
//! call the core (admission, store, traffic, destroy, environment) and [`responses`] shapes
//! JSON answers and errors.
//!
//! The handler never fails the invocation: every outcome, including a panic, is an HTTP
//! answer with a JSON body and a stable `error` name (see [`responses::ApiError`]).

pub mod request;
pub mod responses;
pub mod router;
mod routes;
pub mod validation;
pub mod views;

use std::convert::Infallible;

use aviary_shared::aws::Aws;
use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use lambda_runtime::LambdaEvent;

pub use routes::{MAX_SPEC_BYTES, MAX_TARBALL_BYTES, MAX_TEXT_ARTIFACT_BYTES, UPLOAD_EXPIRY_SECS};

use request::ApiRequest;
use responses::ApiError;

/// The Lambda entry point.
pub async fn handler(aws: &Aws, event: LambdaEvent<ApiGatewayV2httpRequest>) -> Result<ApiGatewayV2httpResponse, Infallible> {
    Ok(handle(aws, &event.payload).await)
}

/// Answers one request. Runs the route on its own task so that a bug that panics still
/// produces a JSON 500 instead of a failed invocation (which API Gateway would turn into an
/// opaque error).
pub async fn handle(aws: &Aws, event: &ApiGatewayV2httpRequest) -> ApiGatewayV2httpResponse {
    let (aws, event) = (aws.clone(), event.clone());
    match tokio::spawn(async move { respond(&aws, &event).await }).await {
        Ok(response) => response,
        Err(e) => ApiError::Internal(format!("the request could not be completed ({})", if e.is_panic() { "a bug" } else { "cancelled" })).into(),
    }
}

async fn respond(aws: &Aws, event: &ApiGatewayV2httpRequest) -> ApiGatewayV2httpResponse {
    let result = async {
        let req = ApiRequest::from_event(event)?;
        let route = router::resolve(&req.method, &req.path)?;
        routes::dispatch(aws, &req, route).await
    }
    .await;
    match result {
        Ok(reply) => reply.into(),
        Err(e) => e.into(),
    }
}
