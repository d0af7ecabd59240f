//! The `cleanup` Lambda: wires the deployment store, the router, compute and the workflow
//! engine once per cold start, and serves the scheduled sweep.

use std::sync::Arc;

use aviary_aws::ec2::Ec2Compute;
use aviary_aws::elb::AlbRouter;
use aviary_aws::store::DynamoStore;
use aviary_aws::workflow::SfnWorkflow;
use aviary_aws::Resources;
use aviary_lifecycle::{Ports, Settings};
use lambda_runtime::{run, service_fn, tracing, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let config = aviary_aws::sdk_config().await;
    let r = Resources::from_env();
    let ports = Ports::new(Settings::from_env().or_region(aviary_aws::region_of(&config)))
        .with_store(Arc::new(DynamoStore::from_conf(&config, &r.table_name)))
        .with_router(Arc::new(AlbRouter::from_conf(&config, &r.installation)))
        .with_compute(Arc::new(Ec2Compute::from_conf(&config, &r.installation)))
        .with_workflow(Arc::new(SfnWorkflow::from_conf(&config, &r.deploy_state_machine_arn, &r.teardown_state_machine_arn)));
    let defaults = cleanup::options_from_env();
    run(service_fn(|event: LambdaEvent<_>| cleanup::handler(&ports, &defaults, event))).await
}
