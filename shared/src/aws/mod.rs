//! AWS adapters: thin wrappers over the SDK clients, built once per cold start, that speak the
//! domain's types. Everything above this module is AWS-type free.

pub mod artifacts;
pub mod ec2;
pub mod elb;
pub mod environment;
pub mod errors;
pub mod health;
pub mod store;
pub mod workflow;

#[cfg(test)]
mod mock_tests;

use std::sync::Arc;

use crate::clock::{Clock, SystemClock};
use crate::error::StepError;

/// What varies per installation, read from the function's environment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings {
    /// DynamoDB table holding deployments, events and idempotency records.
    pub table_name: String,
    /// The artifact bucket (`canaries/<name>/...`).
    pub artifact_bucket: String,
    /// Instance profile (name) for canary and monitor instances.
    pub instance_profile: String,
    pub deploy_state_machine_arn: String,
    pub teardown_state_machine_arn: String,
    pub region: String,
}

impl Settings {
    /// Reads `AVIARY_*` variables; a missing one is a configuration error only when a step
    /// needs it, so each function reads what it uses via [`Settings::require`].
    pub fn from_env() -> Settings {
        let var = |k: &str| std::env::var(k).unwrap_or_default();
        Settings {
            table_name: var("AVIARY_TABLE"),
            artifact_bucket: var("AVIARY_BUCKET"),
            instance_profile: var("AVIARY_INSTANCE_PROFILE"),
            deploy_state_machine_arn: var("AVIARY_DEPLOY_STATE_MACHINE_ARN"),
            teardown_state_machine_arn: var("AVIARY_TEARDOWN_STATE_MACHINE_ARN"),
            region: std::env::var("AWS_REGION").or_else(|_| std::env::var("AWS_DEFAULT_REGION")).unwrap_or_default(),
        }
    }

    pub fn require<'a>(&self, value: &'a str, name: &str) -> Result<&'a str, StepError> {
        if value.is_empty() {
            Err(StepError::Config(format!("environment variable {name} is not set")))
        } else {
            Ok(value)
        }
    }
}

/// The SDK clients and collaborators every step uses. Cheap to clone.
#[derive(Clone)]
pub struct Aws {
    pub ec2: aws_sdk_ec2::Client,
    pub elb: aws_sdk_elasticloadbalancingv2::Client,
    pub s3: aws_sdk_s3::Client,
    pub ddb: aws_sdk_dynamodb::Client,
    pub sfn: aws_sdk_sfn::Client,
    pub ssm: aws_sdk_ssm::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub settings: Settings,
    pub clock: Arc<dyn Clock>,
    /// Where target health comes from (the load balancer, or an injected source in tests).
    pub health: Arc<dyn health::TargetHealthSource>,
}

impl Aws {
    /// Builds every client from one shared SDK config (endpoint overrides such as
    /// `AWS_ENDPOINT_URL` are honoured by aws-config, which is how local runs reach moto).
    pub fn from_sdk_config(config: &aws_config::SdkConfig, settings: Settings) -> Aws {
        let s3_config = aws_sdk_s3::config::Builder::from(config)
            // Emulators serve buckets by path; real S3 works either way.
            .force_path_style(std::env::var("AWS_S3_FORCE_PATH_STYLE").is_ok_and(|v| v == "true"))
            .build();
        let elb = aws_sdk_elasticloadbalancingv2::Client::new(config);
        let mut settings = settings;
        if settings.region.is_empty() {
            settings.region = config.region().map(|r| r.to_string()).unwrap_or_default();
        }
        Aws {
            ec2: aws_sdk_ec2::Client::new(config),
            health: Arc::new(health::ElbTargetHealth::new(elb.clone())),
            elb,
            s3: aws_sdk_s3::Client::from_conf(s3_config),
            ddb: aws_sdk_dynamodb::Client::new(config),
            sfn: aws_sdk_sfn::Client::new(config),
            ssm: aws_sdk_ssm::Client::new(config),
            cloudwatch: aws_sdk_cloudwatch::Client::new(config),
            settings,
            clock: Arc::new(SystemClock),
        }
    }

    /// Loads the default SDK config from the environment and builds the clients.
    pub async fn from_env() -> Aws {
        let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        Aws::from_sdk_config(&config, Settings::from_env())
    }

    pub fn store(&self) -> store::DeploymentStore {
        store::DeploymentStore::new(self.ddb.clone(), self.settings.table_name.clone(), self.clock.clone())
    }
}
