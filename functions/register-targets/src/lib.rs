//! `register-targets`: Creates the baseline and canary target groups and registers the instances.
//! A thin adapter over [`aviary_shared::lifecycle::register::register_targets`].

use aviary_shared::aws::Aws;
use aviary_shared::steps::{DeploymentRef, RegisterTargetsOutput};
use aviary_shared::StepError;
use lambda_runtime::LambdaEvent;

pub async fn handler(aws: &Aws, event: LambdaEvent<DeploymentRef>) -> Result<RegisterTargetsOutput, StepError> {
    aviary_shared::lifecycle::register::register_targets(aws, &event.payload).await
}
