//! The AWS adapters: each implements one port of `aviary-ports` with one SDK client (two for
//! compute: EC2 and SSM's public AMI parameters), built once per cold start from one shared
//! SDK config. Endpoint overrides such as `AWS_ENDPOINT_URL` are honoured by aws-config, which
//! is how local runs and the emulator suites reach moto.
//!
//! | port | adapter | feature |
//! |---|---|---|
//! | `DeploymentStore` | [`store::DynamoStore`] | `dynamodb` |
//! | `TrafficRouter`, `TargetHealthSource` | [`elb::AlbRouter`], [`elb::AlbTargetHealth`] | `elb` |
//! | `Compute` | [`ec2::Ec2Compute`] | `ec2` |
//! | `Workflow` | [`workflow::SfnWorkflow`] | `sfn` |
//! | `ArtifactStore` | [`artifacts::S3Artifacts`] | `s3` |
//! | `AnalysisStore` (aviary-analysis) | [`store::DynamoStore`] ([`analyses`]) | `dynamodb` + `analysis` |
//! | `CloudWatchMetrics` (aviary-analysis) | [`cloudwatch::SdkCloudWatch`] | `cloudwatch` |
//!
//! A Lambda enables the features of the adapters it wires and builds only those clients, so
//! its binary links only the SDK code it calls.
//!
//! Owns: SDK calls and the translation of SDK types and errors into the domain's. Must never
//! hold a use case's logic: nothing here decides what to call when.

pub mod errors;

#[cfg(all(feature = "dynamodb", feature = "analysis"))]
pub mod analyses;
#[cfg(feature = "s3")]
pub mod artifacts;
#[cfg(feature = "cloudwatch")]
pub mod cloudwatch;
#[cfg(feature = "ec2")]
pub mod ec2;
#[cfg(feature = "elb")]
pub mod elb;
#[cfg(feature = "elb")]
mod environment;
#[cfg(feature = "dynamodb")]
pub mod store;
#[cfg(feature = "sfn")]
pub mod workflow;

#[cfg(all(test, feature = "ec2", feature = "elb"))]
mod mock_tests;

/// Names of the installation's resources, from the function's environment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Resources {
    /// `AVIARY_TABLE`: deployments, events and analyses.
    pub table_name: String,
    /// `AVIARY_BUCKET`: the artifact bucket.
    pub artifact_bucket: String,
    pub deploy_state_machine_arn: String,
    pub teardown_state_machine_arn: String,
    /// `AVIARY_INSTALLATION`: the stack's name, tagged on every resource Aviary creates.
    pub installation: String,
}

impl Resources {
    pub fn from_env() -> Resources {
        let var = |k: &str| std::env::var(k).unwrap_or_default();
        Resources {
            table_name: var("AVIARY_TABLE"),
            artifact_bucket: var("AVIARY_BUCKET"),
            deploy_state_machine_arn: var("AVIARY_DEPLOY_STATE_MACHINE_ARN"),
            teardown_state_machine_arn: var("AVIARY_TEARDOWN_STATE_MACHINE_ARN"),
            installation: var("AVIARY_INSTALLATION"),
        }
    }
}

/// An adapter never creates a resource without the installation's tag: it would be invisible
/// to cleanup and outside the IAM conditions.
#[cfg(any(feature = "ec2", feature = "elb"))]
pub(crate) fn require_installation(installation: &str) -> Result<(), aviary_core::StepError> {
    if installation.is_empty() {
        return Err(aviary_core::StepError::Config("environment variable AVIARY_INSTALLATION is not set (the stack's name)".into()));
    }
    Ok(())
}

/// An HTTPS client for the AWS SDK: rustls with ring. The SDK's default client is switched off
/// workspace-wide: it would link aws-lc (~1.5 MiB more per Lambda, and a C build per target).
pub fn https_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
    aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).build_https()
}

/// The SDK config from the Lambda's environment (its role's credentials, its region), with
/// [`https_client`].
pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(https_client()).load().await
}

/// The region the config resolved, or the empty string.
pub fn region_of(config: &aws_config::SdkConfig) -> String {
    config.region().map(|r| r.to_string()).unwrap_or_default()
}

#[cfg(test)]
mod config_tests {
    #[tokio::test]
    async fn the_lambda_config_carries_aviarys_https_client() {
        // Without it (the SDK's default client is switched off) every call would fail at run time.
        assert!(super::sdk_config().await.http_client().is_some());
    }
}
