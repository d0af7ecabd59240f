//! `check-health`: Polls both target groups once; the state machine loops until healthy or past the deadline.
//! A thin adapter over [`aviary_shared::lifecycle::health::check_health`].

use aviary_shared::aws::Aws;
use aviary_shared::steps::{DeploymentRef, CheckHealthOutput};
use aviary_shared::StepError;
use lambda_runtime::LambdaEvent;

pub async fn handler(aws: &Aws, event: LambdaEvent<DeploymentRef>) -> Result<CheckHealthOutput, StepError> {
    aviary_shared::lifecycle::health::check_health(aws, &event.payload).await
}
