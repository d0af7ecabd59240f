//! `provision`: Creates the security groups and the baseline, canary and monitor instances of a deployment.
//! A thin adapter over [`aviary_shared::lifecycle::provision::provision`].

use aviary_shared::aws::Aws;
use aviary_shared::steps::{DeploymentRef, ProvisionOutput};
use aviary_shared::StepError;
use lambda_runtime::LambdaEvent;

pub async fn handler(aws: &Aws, event: LambdaEvent<DeploymentRef>) -> Result<ProvisionOutput, StepError> {
    aviary_shared::lifecycle::provision::provision(aws, &event.payload).await
}
