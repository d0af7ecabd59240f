//! The `register-targets` Lambda: wires the adapters its step calls (store, router, compute) once per cold
//! start — and only those, so the binary links no other SDK client — and serves the handler.

use std::sync::Arc;

use aviary_aws::ec2::Ec2Compute;
use aviary_aws::elb::AlbRouter;
use aviary_aws::store::DynamoStore;
use aviary_aws::Resources;
use aviary_lifecycle::{Ports, Settings};
use lambda_runtime::{run, service_fn, tracing, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let config = aviary_aws::sdk_config().await;
    let resources = Resources::from_env();
    let ports = Ports::new(Settings::from_env().or_region(aviary_aws::region_of(&config)))
        .with_store(Arc::new(DynamoStore::from_conf(&config, &resources.table_name)))
        .with_router(Arc::new(AlbRouter::from_conf(&config, &resources.installation)))
        .with_compute(Arc::new(Ec2Compute::from_conf(&config, &resources.installation)));
    run(service_fn(|event: LambdaEvent<_>| register_targets::handler(&ports, event))).await
}
