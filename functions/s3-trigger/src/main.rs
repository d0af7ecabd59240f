//! The `s3-trigger` Lambda: wires what admission calls (the deployment store, the router to
//! check the listener, compute to check subnets, the workflow engine and the artifact bucket)
//! once per cold start, and serves the handler.

use std::sync::Arc;

use aviary_aws::artifacts::S3Artifacts;
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
        .with_workflow(Arc::new(SfnWorkflow::from_conf(&config, &r.deploy_state_machine_arn, &r.teardown_state_machine_arn)))
        .with_artifacts(Arc::new(S3Artifacts::from_conf(&config, &r.artifact_bucket)));
    run(service_fn(|event: LambdaEvent<_>| s3_trigger::handler(&ports, event))).await
}
