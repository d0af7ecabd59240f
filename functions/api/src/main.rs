//! The `api` Lambda: wires the adapters the routes call (store, router, compute for the
//! admission's subnet check, workflow engine, artifact bucket and its presigner; the analyses'
//! store and metrics) once per cold start and
//! serves the router through `lambda_http`.

use std::sync::Arc;

use aviary_aws::artifacts::S3Artifacts;
use aviary_aws::ec2::Ec2Compute;
use aviary_aws::elb::AlbRouter;
use aviary_aws::store::DynamoStore;
use aviary_aws::workflow::SfnWorkflow;
use aviary_aws::Resources;
use aviary_lifecycle::{Ports, Settings};
use lambda_http::{run, tracing, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let config = aviary_aws::sdk_config().await;
    let r = Resources::from_env();
    let artifacts = S3Artifacts::from_conf(&config, &r.artifact_bucket);
    let ports = Ports::new(Settings::from_env().or_region(aviary_aws::region_of(&config)))
        .with_store(Arc::new(DynamoStore::from_conf(&config, &r.table_name)))
        .with_router(Arc::new(AlbRouter::from_conf(&config, &r.installation)))
        .with_compute(Arc::new(Ec2Compute::from_conf(&config, &r.installation)))
        .with_workflow(Arc::new(SfnWorkflow::from_conf(&config, &r.deploy_state_machine_arn, &r.teardown_state_machine_arn)))
        .with_artifacts(Arc::new(artifacts.clone()));
    let analysis = api::state::aws_analysis(ports.clone(), &config, &r.table_name);
    run(api::router(api::ApiState::new(ports, api::Presigner::new(&artifacts)).with_analysis(analysis))).await
}
