//! `teardown`: Removes the rule first, then everything the deployment created; idempotent.
//! A thin adapter over [`aviary_shared::lifecycle::teardown::teardown`].

use aviary_shared::aws::Aws;
use aviary_shared::steps::{TeardownInput, TeardownOutput};
use aviary_shared::StepError;
use lambda_runtime::LambdaEvent;

pub async fn handler(aws: &Aws, event: LambdaEvent<TeardownInput>) -> Result<TeardownOutput, StepError> {
    aviary_shared::lifecycle::teardown::teardown(aws, &event.payload).await
}
