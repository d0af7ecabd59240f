//! Unit tests of the AWS adapters with `aws-smithy-mocks` (rule-based mocks that fail on any
//! unexpected call): the error paths the emulator cannot produce — throttling, "already gone",
//! "still in use" — and the exact requests that carry security properties.

use aws_sdk_ec2::operation::delete_security_group::{DeleteSecurityGroupError, DeleteSecurityGroupOutput};
use aws_sdk_ec2::operation::describe_instances::DescribeInstancesOutput;
use aws_sdk_ec2::operation::run_instances::RunInstancesOutput;
use aws_sdk_ec2::types::{HttpTokensState, Instance, ResourceType};
use aws_sdk_elasticloadbalancingv2::operation::create_rule::CreateRuleError;
use aws_sdk_elasticloadbalancingv2::operation::delete_rule::DeleteRuleError;
use aws_sdk_elasticloadbalancingv2::operation::delete_target_group::DeleteTargetGroupError;
use aws_sdk_elasticloadbalancingv2::operation::describe_rules::DescribeRulesError;
use aws_sdk_elasticloadbalancingv2::operation::describe_target_health::DescribeTargetHealthOutput;
use aws_sdk_elasticloadbalancingv2::types::{
    TargetDescription, TargetHealth, TargetHealthDescription, TargetHealthReasonEnum, TargetHealthStateEnum,
};
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use aws_smithy_types::error::ErrorMetadata;

use aviary_core::ids::{TAG_DEPLOYMENT_ID, TAG_INSTALLATION};
use aviary_core::spec::RuleConditions;
use aviary_core::traffic::{RuleWeights, WeightedTarget};
use aviary_core::StepError;
use aviary_ports::{Compute, CreateRuleError as RuleErr, LaunchRequest, OwnerTags, TargetHealthSource, TrafficRouter};

use crate::ec2::Ec2Compute;
use crate::elb::{AlbRouter as Elb, AlbTargetHealth as ElbTargetHealth};

type SsmClient = aws_sdk_ssm::Client;

/// EC2 compute over a mocked EC2 client (SSM unused by these tests: a mock that answers nothing).
fn ec2(client: Ec2Client) -> Ec2Compute {
    let ssm = mock!(SsmClient::get_parameter).then_error(|| aws_sdk_ssm::operation::get_parameter::GetParameterError::generic(meta("unused")));
    Ec2Compute::new(client, mock_client!(aws_sdk_ssm, [&ssm]), "prod-aviary")
}

type ElbClient = aws_sdk_elasticloadbalancingv2::Client;
type Ec2Client = aws_sdk_ec2::Client;

fn meta(code: &str) -> ErrorMetadata {
    ErrorMetadata::builder().code(code).message("mocked").build()
}

#[tokio::test]
async fn deleting_a_rule_that_is_gone_counts_as_done() {
    let gone = mock!(ElbClient::delete_rule).then_error(|| DeleteRuleError::generic(meta("RuleNotFound")));
    let elb = Elb::new(mock_client!(aws_sdk_elasticloadbalancingv2, [&gone]), "prod-aviary");
    assert_eq!(elb.delete_rule("arn:rule").await, Ok(false));
}

#[tokio::test]
async fn a_target_group_still_in_use_makes_teardown_retry() {
    let in_use = mock!(ElbClient::delete_target_group).then_error(|| DeleteTargetGroupError::generic(meta("ResourceInUse")));
    let elb = Elb::new(mock_client!(aws_sdk_elasticloadbalancingv2, [&in_use]), "prod-aviary");
    let err = elb.delete_target_group("arn:tg").await.unwrap_err();
    assert_eq!(err.name(), "TeardownIncomplete");
}

#[tokio::test]
async fn a_lost_priority_race_is_reported_as_such() {
    let taken = mock!(ElbClient::create_rule).then_error(|| CreateRuleError::generic(meta("PriorityInUse")));
    let elb = Elb::new(mock_client!(aws_sdk_elasticloadbalancingv2, [&taken]), "prod-aviary");
    let w = RuleWeights {
        production: vec![WeightedTarget { target_group_arn: "tg-p".into(), weight: 1 }],
        baseline: WeightedTarget { target_group_arn: "tg-b".into(), weight: 0 },
        canary: WeightedTarget { target_group_arn: "tg-c".into(), weight: 0 },
    };
    let r = elb.create_rule("arn:listener", 7, &RuleConditions::default(), &w, None, &OwnerTags::new("web-1", "rule")).await;
    assert!(matches!(r, Err(RuleErr::PriorityInUse)));
}

#[tokio::test]
async fn throttling_is_transient_and_other_errors_are_not() {
    let throttled = mock!(ElbClient::describe_rules).then_error(|| DescribeRulesError::generic(meta("Throttling")));
    let denied = mock!(ElbClient::describe_rules).then_error(|| DescribeRulesError::generic(meta("AccessDenied")));
    let elb = Elb::new(mock_client!(aws_sdk_elasticloadbalancingv2, RuleMode::Sequential, [&throttled, &denied]), "prod-aviary");
    let first = elb.rules("arn:listener").await.unwrap_err();
    assert_eq!(first.name(), "AwsTransient", "{first}");
    let second = elb.rules("arn:listener").await.unwrap_err();
    assert_eq!(second.name(), "AwsError");
    assert!(second.to_string().contains("AccessDenied"));
}

#[tokio::test]
async fn target_health_keeps_state_and_reason() {
    let health = mock!(ElbClient::describe_target_health).then_output(|| {
        DescribeTargetHealthOutput::builder()
            .target_health_descriptions(
                TargetHealthDescription::builder()
                    .target(TargetDescription::builder().id("i-1").build())
                    .target_health(
                        TargetHealth::builder()
                            .state(TargetHealthStateEnum::Unhealthy)
                            .reason(TargetHealthReasonEnum::FailedHealthChecks)
                            .build(),
                    )
                    .build(),
            )
            .build()
    });
    let source = ElbTargetHealth::new(mock_client!(aws_sdk_elasticloadbalancingv2, [&health]));
    let g = source.target_health("arn:tg").await.unwrap();
    assert!(!g.is_healthy());
    assert_eq!(g.summary(), "i-1=unhealthy (Target.FailedHealthChecks)");
}

#[tokio::test]
async fn security_group_in_use_retries_and_gone_is_done() {
    let in_use = mock!(Ec2Client::delete_security_group).then_error(|| DeleteSecurityGroupError::generic(meta("DependencyViolation")));
    let gone = mock!(Ec2Client::delete_security_group).then_error(|| DeleteSecurityGroupError::generic(meta("InvalidGroup.NotFound")));
    let ok = mock!(Ec2Client::delete_security_group).then_output(|| DeleteSecurityGroupOutput::builder().build());
    let ec2 = ec2(mock_client!(aws_sdk_ec2, RuleMode::Sequential, [&in_use, &gone, &ok]));
    assert!(matches!(ec2.delete_security_group("sg-1").await, Err(StepError::TeardownIncomplete(_))));
    assert_eq!(ec2.delete_security_group("sg-1").await, Ok(false));
    assert_eq!(ec2.delete_security_group("sg-1").await, Ok(true));
}

/// The launch request itself carries the security properties: IMDSv2 required, the instance
/// profile, tags on instance and volume at creation, an idempotency token. The mock only
/// answers a request that has all of them; any other request fails the test.
#[tokio::test]
async fn instances_launch_with_imdsv2_profile_and_tags() {
    let none_yet = mock!(Ec2Client::describe_instances).then_output(|| DescribeInstancesOutput::builder().build());
    let launch = mock!(Ec2Client::run_instances)
        .match_requests(|r| {
            let imds = r.metadata_options().and_then(|m| m.http_tokens()) == Some(&HttpTokensState::Required)
                && r.metadata_options().and_then(|m| m.http_put_response_hop_limit()) == Some(1);
            let profile = r.iam_instance_profile().and_then(|p| p.name()) == Some("aviary-instance");
            let tagged = |rt: ResourceType| {
                r.tag_specifications().iter().any(|s| {
                    s.resource_type() == Some(&rt)
                        && s.tags().iter().any(|t| t.key() == Some(TAG_DEPLOYMENT_ID) && t.value() == Some("web-1"))
                        && s.tags().iter().any(|t| t.key() == Some(TAG_INSTALLATION) && t.value() == Some("prod-aviary"))
                })
            };
            let no_secrets = r.user_data().is_some_and(|u| !u.contains("AKIA"));
            imds && profile && tagged(ResourceType::Instance) && tagged(ResourceType::Volume) && no_secrets
                && r.client_token() == Some("web-1-canary")
        })
        .then_output(|| RunInstancesOutput::builder().instances(Instance::builder().instance_id("i-9").build()).build());
    let ec2 = ec2(mock_client!(aws_sdk_ec2, RuleMode::Sequential, [&none_yet, &launch]));
    let inst = ec2
        .ensure_instance(&LaunchRequest {
            deployment_id: "web-1".into(),
            role: "canary".into(),
            image_id: "ami-12345678".into(),
            instance_type: "t4g.small".into(),
            subnet_id: "subnet-1".into(),
            security_group_id: "sg-1".into(),
            instance_profile: "aviary-instance".into(),
            user_data: "#!/bin/bash\necho hi\n".into(),
            metadata_hop_limit: 1,
        })
        .await
        .unwrap();
    assert_eq!(inst.instance_id, "i-9");
}
