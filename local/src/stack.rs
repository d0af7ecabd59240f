//! Aviary's own resources on the emulated AWS (what `sam deploy` creates on a real account):
//! the deployment table with its indexes, the versioned artifact bucket with its S3 event
//! notification (delivered to an SQS queue the local pump reads), and the instance profile.
//! Also builds the SDK configuration the local handlers use.

use std::sync::Arc;

use aviary_aws::artifacts::S3Artifacts;
use aviary_aws::ec2::Ec2Compute;
use aviary_aws::elb::{AlbRouter, AlbTargetHealth};
use aviary_aws::store::{DynamoStore, GSI_BY_CREATED, GSI_BY_STATUS};
use aviary_aws::workflow::SfnWorkflow;
use aviary_core::guardrails::Guardrails;
use aviary_lifecycle::{Ports, Settings};
use aviary_ports::TargetHealthSource;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType,
};
use aws_sdk_s3::types::{
    BucketVersioningStatus, Event, FilterRule, FilterRuleName, NotificationConfiguration, NotificationConfigurationFilter,
    QueueConfiguration, S3KeyFilter, VersioningConfiguration,
};

use crate::invoker::{LOCAL_ACCOUNT, LOCAL_REGION};
use crate::sfn::state_machine_arn;

#[derive(Debug, thiserror::Error)]
#[error("setting up {what} on the emulator failed: {message}")]
pub struct StackError {
    pub what: &'static str,
    pub message: String,
}

fn stack_err<E: std::fmt::Debug>(what: &'static str) -> impl FnOnce(E) -> StackError {
    move |e| StackError { what, message: format!("{e:?}") }
}

/// Names of Aviary's resources in the local account.
#[derive(Debug, Clone)]
pub struct StackNames {
    pub table: String,
    pub bucket: String,
    pub queue: String,
    pub instance_profile: String,
    /// The monitor's instance profile (its own role).
    pub monitor_instance_profile: String,
    /// Tagged on every resource this local installation creates (`aviary:installation`).
    pub installation: String,
}

impl Default for StackNames {
    fn default() -> Self {
        StackNames {
            table: "aviary-deployments".into(),
            bucket: format!("aviary-artifacts-{LOCAL_ACCOUNT}"),
            queue: "aviary-artifact-events".into(),
            instance_profile: "aviary-instance".into(),
            monitor_instance_profile: "aviary-monitor-instance".into(),
            installation: "aviary-local".into(),
        }
    }
}

/// SDK configuration for an emulator endpoint with dummy credentials.
pub async fn sdk_config(endpoint: &str) -> SdkConfig {
    sdk_config_as(endpoint, "testing", "testing").await
}

/// SDK configuration for an emulator endpoint with the given access key (an emulator that
/// enforces IAM knows which user, and so which policy, signed each request).
pub async fn sdk_config_as(endpoint: &str, access_key_id: &str, secret_access_key: &str) -> SdkConfig {
    let creds = aws_sdk_s3::config::Credentials::new(access_key_id, secret_access_key, None, None, "aviary-local");
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(aviary_aws::https_client())
        .region(Region::new(LOCAL_REGION))
        .credentials_provider(creds)
        .endpoint_url(endpoint)
        .load()
        .await
}

/// The artifact bucket on the emulator (path-style addressing).
pub fn artifacts(config: &SdkConfig, names: &StackNames) -> S3Artifacts {
    S3Artifacts::new(aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(config).force_path_style(true).build()), &names.bucket)
}

/// The handlers' ports: every adapter on the emulator, Step Functions on the local endpoint,
/// target health from `health` when given (the emulator reports every target healthy).
pub fn handler_ports(
    config: &SdkConfig,
    sfn_url: &str,
    names: &StackNames,
    guardrails: &Guardrails,
    health: Option<Arc<dyn TargetHealthSource>>,
) -> Ports {
    // Every local API request is signed as LOCAL_CALLER, the one person using this installation:
    // an operator of it, so deployments uploaded straight to the bucket (no owner) stay theirs.
    let mut guardrails = guardrails.clone();
    if !guardrails.ownership.is_operator(crate::api_server::LOCAL_CALLER) {
        guardrails.ownership.operators.push(crate::api_server::LOCAL_CALLER.into());
    }
    let settings = Settings {
        instance_profile: names.instance_profile.clone(),
        monitor_instance_profile: names.monitor_instance_profile.clone(),
        region: LOCAL_REGION.into(),
        ..Settings::default()
    }
        .with_guardrails(guardrails);
    let ports = rebind(Ports::new(settings), config, sfn_url, names);
    match health {
        Some(h) => ports.with_health(h),
        None => ports,
    }
}

/// `ports` with every cloud adapter rebuilt on `config` (other credentials), keeping the
/// settings and the clock. Target health comes from the load balancer again.
pub fn rebind(ports: Ports, config: &SdkConfig, sfn_url: &str, names: &StackNames) -> Ports {
    let sfn = aws_sdk_sfn::Client::from_conf(aws_sdk_sfn::config::Builder::from(config).endpoint_url(sfn_url).build());
    ports
        .with_store(Arc::new(DynamoStore::from_conf(config, &names.table)))
        .with_router(Arc::new(AlbRouter::from_conf(config, &names.installation)))
        .with_health(Arc::new(AlbTargetHealth::from_conf(config)))
        .with_compute(Arc::new(Ec2Compute::from_conf(config, &names.installation)))
        .with_workflow(Arc::new(SfnWorkflow::new(sfn, &state_machine_arn("deploy"), &state_machine_arn("teardown"))))
        .with_artifacts(Arc::new(artifacts(config, names)))
}

/// The event queue the bucket notifies, and where events that keep failing end up.
#[derive(Debug, Clone)]
pub struct Queues {
    pub events: String,
    pub dead_letters: String,
}

/// Creates (or finds) the table, bucket, queues, notification and instance profiles.
pub async fn ensure(config: &SdkConfig, names: &StackNames) -> Result<Queues, StackError> {
    ensure_table(&aws_sdk_dynamodb::Client::new(config), &names.table).await?;
    let queues = ensure_bucket_and_queue(config, names).await?;
    let iam = aws_sdk_iam::Client::new(config);
    ensure_instance_profile(&iam, &names.instance_profile).await?;
    ensure_instance_profile(&iam, &names.monitor_instance_profile).await?;
    Ok(queues)
}

async fn ensure_table(ddb: &aws_sdk_dynamodb::Client, table: &str) -> Result<(), StackError> {
    if ddb.describe_table().table_name(table).send().await.is_ok() {
        return Ok(());
    }
    let attr = |n: &str| {
        AttributeDefinition::builder().attribute_name(n).attribute_type(ScalarAttributeType::S).build().expect("attribute")
    };
    let key = |n: &str, t: KeyType| KeySchemaElement::builder().attribute_name(n).key_type(t).build().expect("key");
    let gsi = |name: &str, hash: &str| {
        GlobalSecondaryIndex::builder()
            .index_name(name)
            .key_schema(key(hash, KeyType::Hash))
            .key_schema(key("createdSort", KeyType::Range))
            .projection(Projection::builder().projection_type(ProjectionType::All).build())
            .build()
            .expect("gsi")
    };
    ddb.create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr("pk"))
        .attribute_definitions(attr("sk"))
        .attribute_definitions(attr("kind"))
        .attribute_definitions(attr("status"))
        .attribute_definitions(attr("createdSort"))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .global_secondary_indexes(gsi(GSI_BY_CREATED, "kind"))
        .global_secondary_indexes(gsi(GSI_BY_STATUS, "status"))
        .send()
        .await
        .map_err(stack_err("the deployment table"))?;
    Ok(())
}

async fn ensure_bucket_and_queue(config: &SdkConfig, names: &StackNames) -> Result<Queues, StackError> {
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(config).force_path_style(true).build());
    let sqs = aws_sdk_sqs::Client::new(config);
    if s3.head_bucket().bucket(&names.bucket).send().await.is_err() {
        s3.create_bucket().bucket(&names.bucket).send().await.map_err(stack_err("the artifact bucket"))?;
    }
    s3.put_bucket_versioning()
        .bucket(&names.bucket)
        .versioning_configuration(VersioningConfiguration::builder().status(BucketVersioningStatus::Enabled).build())
        .send()
        .await
        .map_err(stack_err("bucket versioning"))?;
    // A failed event comes back after the visibility timeout (short here: a local run should
    // not wait the 30 s SQS defaults to); after MAX_RECEIVES the pump moves it to the
    // dead-letter queue, as a redrive policy would.
    let queue_url = sqs
        .create_queue()
        .queue_name(&names.queue)
        .attributes(aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout, "2")
        .send()
        .await
        .map_err(stack_err("the event queue"))?
        .queue_url
        .unwrap_or_default();
    let dead_letters = sqs
        .create_queue()
        .queue_name(format!("{}-dead-letters", names.queue))
        .send()
        .await
        .map_err(stack_err("the dead-letter queue"))?
        .queue_url
        .unwrap_or_default();
    let queue_arn = format!("arn:aws:sqs:{LOCAL_REGION}:{LOCAL_ACCOUNT}:{}", names.queue);
    let filter = NotificationConfigurationFilter::builder()
        .key(
            S3KeyFilter::builder()
                .filter_rules(FilterRule::builder().name(FilterRuleName::Prefix).value("canaries/").build())
                .filter_rules(FilterRule::builder().name(FilterRuleName::Suffix).value(".tar").build())
                .build(),
        )
        .build();
    s3.put_bucket_notification_configuration()
        .bucket(&names.bucket)
        .notification_configuration(
            NotificationConfiguration::builder()
                .queue_configurations(
                    QueueConfiguration::builder()
                        .queue_arn(queue_arn)
                        .events(Event::S3ObjectCreated)
                        .filter(filter)
                        .build()
                        .map_err(stack_err("the notification"))?,
                )
                .build(),
        )
        .send()
        .await
        .map_err(stack_err("the bucket notification"))?;
    Ok(Queues { events: queue_url, dead_letters })
}

async fn ensure_instance_profile(iam: &aws_sdk_iam::Client, name: &str) -> Result<(), StackError> {
    if iam.get_instance_profile().instance_profile_name(name).send().await.is_ok() {
        return Ok(());
    }
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    iam.create_role().role_name(name).assume_role_policy_document(trust).send().await.map_err(stack_err("the instance role"))?;
    iam.create_instance_profile().instance_profile_name(name).send().await.map_err(stack_err("the instance profile"))?;
    iam.add_role_to_instance_profile()
        .instance_profile_name(name)
        .role_name(name)
        .send()
        .await
        .map_err(stack_err("the instance profile role"))?;
    Ok(())
}
