//! The `api` Lambda: builds the AWS clients once per cold start and serves the handler.

use lambda_runtime::{run, service_fn, tracing, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let aws = aviary_shared::aws::Aws::from_env().await;
    run(service_fn(|event: LambdaEvent<_>| api::handler(&aws, event))).await
}
