//! The `cleanup` Lambda: builds the AWS clients once per cold start and serves the sweep,
//! invoked by the EventBridge schedule.

use lambda_runtime::{run, service_fn, tracing, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let aws = aviary_shared::aws::Aws::from_env().await;
    let defaults = cleanup::CleanupOptions::from_env();
    run(service_fn(|event: LambdaEvent<serde_json::Value>| cleanup::handler(&aws, &defaults, event))).await
}
