//! The `analyze` Lambda: wires what an analysis calls once per cold start — the deployment
//! table (deployments, their events, and the analyses beside them) and CloudWatch, and
//! nothing else, so the binary links no other SDK client — and serves the handler.

use std::sync::Arc;

use aviary_analysis::AnalysisPorts;
use aviary_aws::cloudwatch::SdkCloudWatch;
use aviary_aws::store::DynamoStore;
use aviary_aws::Resources;
use aviary_lifecycle::{Ports, Settings};
use lambda_runtime::{run, service_fn, tracing, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let config = aviary_aws::sdk_config().await;
    let table = Arc::new(DynamoStore::from_conf(&config, &Resources::from_env().table_name));
    let ports = AnalysisPorts::new(Ports::new(Settings::from_env().or_region(aviary_aws::region_of(&config))).with_store(table.clone()))
        .with_analyses(table)
        .with_cloudwatch(Arc::new(SdkCloudWatch::from_conf(&config)));
    run(service_fn(|event: LambdaEvent<_>| analyze::handler(&ports, event))).await
}
