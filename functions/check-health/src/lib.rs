//! `check-health`: Polls both target groups once; the state machine loops until healthy or past the deadline.
//! A thin adapter over [`aviary_shared::lifecycle::health::check_health`].

use aviary_shared::aws::Aws;
use aviary_shared::steps::{DeploymentRef, CheckHealthOutput};
use aviary_shared::StepError;
use lambda_runtime::LambdaEvent;

pub async fn handler(aws: &Aws, event: LambdaEvent<DeploymentRef>) -> Result<CheckHealthOutput, StepError> {
    aviary_shared::lifecycle::health::check_health(aws, &event.payload).await
}

#[cfg(test)]
mod tests {
    //! The handler against mocked DynamoDB and ELB clients: the unhealthy path (which the
    //! emulator cannot produce) and the stable error name the state machine catches.

    use std::sync::Arc;

    use aviary_shared::aws::health::ElbTargetHealth;
    use aviary_shared::aws::Settings;
    use aviary_shared::clock::ManualClock;
    use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
    use aws_sdk_dynamodb::operation::put_item::PutItemOutput;
    use aws_sdk_dynamodb::types::AttributeValue;
    use aws_sdk_elasticloadbalancingv2::operation::describe_target_health::DescribeTargetHealthOutput;
    use aws_sdk_elasticloadbalancingv2::types::{TargetDescription, TargetHealth, TargetHealthDescription, TargetHealthStateEnum};
    use aws_smithy_mocks::{mock, mock_client, RuleMode};
    use lambda_runtime::{Context, Diagnostic};

    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn record(status: &str, deadline: i64) -> String {
        serde_json::json!({
            "id": "web-1", "name": "web", "status": status, "version": 3,
            "spec": {"name": "web", "listenerArn": "arn:aws:elasticloadbalancing:us-east-1:1:listener/app/a/b/c", "trafficPercent": 5, "appPort": 8080},
            "source": {"kind": "api", "idempotencyKey": "k"},
            "artifactBucket": "b", "artifactPrefix": "canaries/web/", "createdAt": NOW - 600, "updatedAt": NOW - 60, "expiresAt": NOW + 3600,
            "healthDeadline": deadline,
            "resources": {"baselineTargetGroupArn": "arn:tg/b", "canaryTargetGroupArn": "arn:tg/c"}
        })
        .to_string()
    }

    fn aws_with(status: &str, deadline: i64, state: TargetHealthStateEnum) -> Aws {
        let doc = record(status, deadline);
        let get = mock!(aws_sdk_dynamodb::Client::get_item)
            .then_output(move || GetItemOutput::builder().item("doc", AttributeValue::S(doc.clone())).build());
        let put = mock!(aws_sdk_dynamodb::Client::put_item).then_output(|| PutItemOutput::builder().build());
        let health = mock!(aws_sdk_elasticloadbalancingv2::Client::describe_target_health).then_output(move || {
            DescribeTargetHealthOutput::builder()
                .target_health_descriptions(
                    TargetHealthDescription::builder()
                        .target(TargetDescription::builder().id("i-1").build())
                        .target_health(TargetHealth::builder().state(state.clone()).build())
                        .build(),
                )
                .build()
        });
        let config = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .build();
        let mut aws = Aws::from_sdk_config(&config, Settings { table_name: "t".into(), ..Default::default() });
        aws.ddb = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&get, &put]);
        let elb = mock_client!(aws_sdk_elasticloadbalancingv2, RuleMode::MatchAny, [&health]);
        aws.health = Arc::new(ElbTargetHealth::new(elb.clone()));
        aws.elb = elb;
        aws.clock = Arc::new(ManualClock::at_secs(NOW));
        aws
    }

    fn event() -> LambdaEvent<DeploymentRef> {
        LambdaEvent::new(DeploymentRef { deployment_id: "web-1".into() }, Context::default())
    }

    #[tokio::test]
    async fn unhealthy_before_the_deadline_keeps_waiting() {
        let out = handler(&aws_with("WAITING_HEALTHY", NOW + 300, TargetHealthStateEnum::Unhealthy), event()).await.unwrap();
        assert!(!out.all_healthy && !out.deadline_exceeded);
        assert_eq!(out.seconds_left, 300);
    }

    #[tokio::test]
    async fn unhealthy_past_the_deadline_ends_the_wait() {
        let out = handler(&aws_with("WAITING_HEALTHY", NOW - 1, TargetHealthStateEnum::Unhealthy), event()).await.unwrap();
        assert!(!out.all_healthy && out.deadline_exceeded);
    }

    #[tokio::test]
    async fn healthy_targets_are_reported_healthy_even_late() {
        let out = handler(&aws_with("WAITING_HEALTHY", NOW - 1, TargetHealthStateEnum::Healthy), event()).await.unwrap();
        assert!(out.all_healthy && !out.deadline_exceeded);
    }

    #[tokio::test]
    async fn a_destroy_request_stops_the_loop_with_the_caught_error_name() {
        let err = handler(&aws_with("TEARING_DOWN", NOW + 300, TargetHealthStateEnum::Healthy), event()).await.unwrap_err();
        let d: Diagnostic = err.into();
        assert_eq!(d.error_type, "StatusConflict");
    }
}
