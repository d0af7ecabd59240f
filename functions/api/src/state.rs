//! [`ApiState`]: what the routes run against — the lifecycle's ports, the analysis ports and
//! the upload presigner. Built once per cold start (or per local server) and cloned into
//! every request.

use std::sync::Arc;

use aviary_analysis::AnalysisPorts;
use aviary_aws::cloudwatch::SdkCloudWatch;
use aviary_aws::store::DynamoStore;
use aviary_lifecycle::Ports;

use crate::presign::Presigner;

#[derive(Clone)]
pub struct ApiState {
    pub ports: Ports,
    pub analysis: AnalysisPorts,
    pub uploads: Presigner,
}

impl ApiState {
    /// `ports`, with analyses on the same ports and their own stores unwired (every analysis
    /// route then answers a configuration error) until [`ApiState::with_analysis`].
    pub fn new(ports: Ports, uploads: Presigner) -> ApiState {
        ApiState { analysis: AnalysisPorts::new(ports.clone()), ports, uploads }
    }

    pub fn with_analysis(mut self, analysis: AnalysisPorts) -> ApiState {
        self.analysis = analysis;
        self
    }
}

/// The analyses' adapters on AWS, over `ports`: the deployment table `table` (analyses are
/// stored beside their deployment) and CloudWatch, from `config`.
pub fn aws_analysis(ports: Ports, config: &aws_config::SdkConfig, table: &str) -> AnalysisPorts {
    AnalysisPorts::new(ports)
        .with_analyses(Arc::new(DynamoStore::from_conf(config, table)))
        .with_cloudwatch(Arc::new(SdkCloudWatch::from_conf(config)))
}
