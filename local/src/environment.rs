//! A sample "production environment" on the emulator, standing in for a team's real one: a
//! VPC with two subnets, an internet-facing ALB with its security group, a production target
//! group with two instances, an HTTP listener forwarding to it, and one user rule (so tests
//! can show Aviary leaves the user's rules exactly as they were).

use aws_config::SdkConfig;
use aws_sdk_ec2::types::{InstanceType, IpPermission, IpRange};
use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, PathPatternConditionConfig, ProtocolEnum, RuleCondition, TargetDescription, TargetTypeEnum,
};

use crate::stack::StackError;

fn err<E: std::fmt::Debug>(what: &'static str) -> impl FnOnce(E) -> StackError {
    move |e| StackError { what, message: format!("{e:?}") }
}

#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductionEnv {
    pub vpc_id: String,
    pub subnet_ids: Vec<String>,
    pub load_balancer_arn: String,
    pub listener_arn: String,
    pub production_target_group_arn: String,
    pub production_instance_ids: Vec<String>,
}

/// Creates the sample environment (a new one on each call).
pub async fn create(config: &SdkConfig, name: &str) -> Result<ProductionEnv, StackError> {
    let ec2 = aws_sdk_ec2::Client::new(config);
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(config);
    let ssm = aws_sdk_ssm::Client::new(config);

    let vpc = ec2.create_vpc().cidr_block("10.0.0.0/16").send().await.map_err(err("the VPC"))?;
    let vpc_id = vpc.vpc().and_then(|v| v.vpc_id()).unwrap_or_default().to_string();
    let mut subnet_ids = Vec::new();
    for (i, az) in ["us-east-1a", "us-east-1b"].iter().enumerate() {
        let s = ec2
            .create_subnet()
            .vpc_id(&vpc_id)
            .cidr_block(format!("10.0.{i}.0/24"))
            .availability_zone(*az)
            .send()
            .await
            .map_err(err("a subnet"))?;
        subnet_ids.push(s.subnet().and_then(|s| s.subnet_id()).unwrap_or_default().to_string());
    }
    let sg = ec2
        .create_security_group()
        .group_name(format!("{name}-alb"))
        .description("production load balancer")
        .vpc_id(&vpc_id)
        .send()
        .await
        .map_err(err("the ALB security group"))?
        .group_id
        .unwrap_or_default();
    ec2.authorize_security_group_ingress()
        .group_id(&sg)
        .ip_permissions(
            IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(80)
                .to_port(80)
                .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
                .build(),
        )
        .send()
        .await
        .map_err(err("the ALB ingress rule"))?;
    let lb = elb
        .create_load_balancer()
        .name(format!("{name}-alb"))
        .set_subnets(Some(subnet_ids.clone()))
        .security_groups(&sg)
        .send()
        .await
        .map_err(err("the load balancer"))?;
    let load_balancer_arn = lb.load_balancers().first().and_then(|l| l.load_balancer_arn()).unwrap_or_default().to_string();
    let tg = elb
        .create_target_group()
        .name(format!("{name}-web"))
        .protocol(ProtocolEnum::Http)
        .port(8080)
        .vpc_id(&vpc_id)
        .target_type(TargetTypeEnum::Instance)
        .health_check_path("/health")
        .send()
        .await
        .map_err(err("the production target group"))?;
    let production_target_group_arn = tg.target_groups().first().and_then(|t| t.target_group_arn()).unwrap_or_default().to_string();

    let ami = ssm
        .get_parameter()
        .name("/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64")
        .send()
        .await
        .map_err(err("the AMI parameter"))?
        .parameter
        .and_then(|p| p.value)
        .unwrap_or_default();
    let run = ec2
        .run_instances()
        .image_id(ami)
        .instance_type(InstanceType::T4gSmall)
        .min_count(2)
        .max_count(2)
        .subnet_id(&subnet_ids[0])
        .send()
        .await
        .map_err(err("the production instances"))?;
    let production_instance_ids: Vec<String> = run.instances().iter().filter_map(|i| i.instance_id().map(str::to_string)).collect();
    let targets = production_instance_ids.iter().map(|id| TargetDescription::builder().id(id).port(8080).build()).collect();
    elb.register_targets()
        .target_group_arn(&production_target_group_arn)
        .set_targets(Some(targets))
        .send()
        .await
        .map_err(err("registering production targets"))?;

    let forward = Action::builder().r#type(ActionTypeEnum::Forward).target_group_arn(&production_target_group_arn).build();
    let listener = elb
        .create_listener()
        .load_balancer_arn(&load_balancer_arn)
        .protocol(ProtocolEnum::Http)
        .port(80)
        .default_actions(forward.clone())
        .send()
        .await
        .map_err(err("the listener"))?;
    let listener_arn = listener.listeners().first().and_then(|l| l.listener_arn()).unwrap_or_default().to_string();
    // A rule of the user's own, which must survive every canary untouched.
    elb.create_rule()
        .listener_arn(&listener_arn)
        .priority(10)
        .conditions(
            RuleCondition::builder()
                .field("path-pattern")
                .path_pattern_config(PathPatternConditionConfig::builder().values("/static/*").build())
                .build(),
        )
        .actions(forward)
        .send()
        .await
        .map_err(err("the user's rule"))?;
    Ok(ProductionEnv {
        vpc_id,
        subnet_ids,
        load_balancer_arn,
        listener_arn,
        production_target_group_arn,
        production_instance_ids,
    })
}
