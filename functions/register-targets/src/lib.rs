//! `register-targets`: Creates a target group each for baseline and canary with the user's health check and registers the instances.
//! A thin adapter over [`aviary_lifecycle::register::register_targets`].

use aviary_core::steps::{DeploymentRef, RegisterTargetsOutput};
use aviary_core::StepError;
use aviary_lifecycle::Ports;
use lambda_runtime::LambdaEvent;

pub async fn handler(ports: &Ports, event: LambdaEvent<DeploymentRef>) -> Result<RegisterTargetsOutput, StepError> {
    aviary_lifecycle::register::register_targets(ports, &event.payload).await
}

#[cfg(test)]
mod tests {
    use aviary_core::steps::DeploymentRef;
    use aviary_lifecycle::testing::World;
    use lambda_runtime::{Context, Diagnostic, LambdaEvent};

    use super::handler;

    fn event(id: &str) -> LambdaEvent<DeploymentRef> {
        LambdaEvent::new(DeploymentRef { deployment_id: id.into() }, Context::default())
    }

    #[tokio::test]
    async fn registers_each_instance_in_its_own_target_group() {
        let w = World::new();
        w.provisioned("web-1").await;
        let out = handler(&w.ports, event("web-1")).await.unwrap();
        let groups = w.router.target_groups();
        let targets = |arn: &str| groups.iter().find(|g| g.0 == arn).map(|g| g.3.clone()).unwrap();
        let d = w.store.peek("web-1").unwrap();
        assert_eq!(targets(&out.baseline_target_group_arn), vec![d.resources.baseline_instance_id.unwrap()]);
        assert_eq!(targets(&out.canary_target_group_arn), vec![d.resources.canary_instance_id.unwrap()]);
    }

    #[tokio::test]
    async fn instances_still_pending_make_the_state_machine_retry() {
        let w = World::new();
        w.compute.launch_in_state("pending");
        w.provisioned("web-1").await;
        let d: Diagnostic = handler(&w.ports, event("web-1")).await.unwrap_err().into();
        assert_eq!(d.error_type, "InstancesNotReady");
    }
}
