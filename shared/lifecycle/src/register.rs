//! `register-targets`: a target group each for baseline and canary in the load balancer's
//! VPC, with the user's health check, and the instances registered.

use aviary_core::StepError;
use aviary_core::ids::target_group_name;
use aviary_ports::{OwnerTags, TargetGroupRequest};
use aviary_core::model::Outcome;
use aviary_core::status::Status;
use aviary_core::steps::{DeploymentRef, RegisterTargetsOutput};

use crate::{log, logged, Ports};

const STEP: &str = "register-targets";
/// Canary target groups drain fast: nobody wants a 5-minute teardown.
const DEREGISTRATION_DELAY_SECS: u32 = 30;

pub async fn register_targets(ports: &Ports, input: &DeploymentRef) -> Result<RegisterTargetsOutput, StepError> {
    let id = &input.deployment_id;
    let result = run(ports, id).await;
    logged(ports, id, STEP, result).await
}

async fn run(ports: &Ports, id: &str) -> Result<RegisterTargetsOutput, StepError> {
    let store = ports.deployments();
    let d = store.transition(id, Status::Registering, |_| {}).await?;
    let spec = d.spec()?.clone();
    let elb = &*ports.router;
    let ec2 = &*ports.compute;
    let vpc = d.resources.vpc_id.clone().ok_or_else(|| StepError::InvalidInput("provision has not recorded the VPC".into()))?;

    let instances = ec2.instances(id, None).await?;
    let mut arns = Vec::new();
    for role in ["baseline", "canary"] {
        let inst = instances
            .iter()
            .find(|i| i.role == role)
            .ok_or_else(|| StepError::Environment(format!("the {role} instance of {id} is gone")))?;
        // Targets can only be registered once the instance runs; the state machine retries.
        if inst.state != "running" {
            return Err(StepError::InstancesNotReady(format!("{role} instance {} is {}", inst.instance_id, inst.state)));
        }
        let name = target_group_name(id, role);
        let arn = match elb.target_group_by_name(&name).await? {
            // Only reuse a group with that name if it is ours.
            Some((arn, owner)) if owner.as_deref() == Some(id) => arn,
            Some(_) => {
                return Err(StepError::Environment(format!("a target group named {name} exists and is not this deployment's")));
            }
            None => {
                elb.create_target_group(&TargetGroupRequest {
                    name: name.clone(),
                    vpc_id: vpc.clone(),
                    port: spec.app_port,
                    health_check: spec.health_check.clone(),
                    health_check_port: spec.health_check_port(),
                    owner: OwnerTags::new(id, role),
                })
                .await?
            }
        };
        store
            .update(id, &[Status::Registering], |d| {
                if role == "baseline" {
                    d.resources.baseline_target_group_arn = Some(arn.clone());
                } else {
                    d.resources.canary_target_group_arn = Some(arn.clone());
                }
            })
            .await?;
        elb.set_deregistration_delay(&arn, DEREGISTRATION_DELAY_SECS).await?;
        elb.register(&arn, &inst.instance_id, spec.app_port).await?;
        arns.push(arn);
    }
    let out = RegisterTargetsOutput { baseline_target_group_arn: arns[0].clone(), canary_target_group_arn: arns[1].clone() };
    log(ports,
        id,
        STEP,
        Outcome::Ok,
        format!(
            "target groups {} (baseline) and {} (canary), health check {} on port {}",
            aviary_core::ids::short_arn(&out.baseline_target_group_arn),
            aviary_core::ids::short_arn(&out.canary_target_group_arn),
            spec.health_check.path,
            spec.health_check_port()
        ),
    )
    .await;
    Ok(out)
}
