//! `provision`: Creates the security groups and the baseline, canary and monitor instances of a deployment.
//! A thin adapter over [`aviary_lifecycle::provision::provision`].

use aviary_core::steps::{DeploymentRef, ProvisionOutput};
use aviary_core::StepError;
use aviary_lifecycle::Ports;
use lambda_runtime::LambdaEvent;

pub async fn handler(ports: &Ports, event: LambdaEvent<DeploymentRef>) -> Result<ProvisionOutput, StepError> {
    aviary_lifecycle::provision::provision(ports, &event.payload).await
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
    async fn launches_baseline_and_canary_behind_a_security_group() {
        let w = World::new();
        w.admitted("web-1").await;
        let out = handler(&w.ports, event("web-1")).await.unwrap();
        let launched: Vec<String> = w.compute.launches().iter().map(|l| l.role.clone()).collect();
        assert_eq!(launched, ["baseline", "canary"]);
        assert_ne!(out.baseline_instance_id, out.canary_instance_id);
        assert_eq!(w.store.peek("web-1").unwrap().resources.canary_instance_id.as_deref(), Some(out.canary_instance_id.as_str()));
    }

    #[tokio::test]
    async fn a_failed_launch_reaches_the_state_machine_by_its_stable_name() {
        let w = World::new();
        w.admitted("web-1").await;
        w.cloud.faults.fail_next("RunInstances", aviary_ports::memory::throttled("RunInstances"));
        let d: Diagnostic = handler(&w.ports, event("web-1")).await.unwrap_err().into();
        assert_eq!(d.error_type, "AwsTransient");
    }
}
