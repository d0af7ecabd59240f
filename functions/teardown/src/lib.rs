//! `teardown`: Removes the rule first, then everything the deployment created; idempotent.
//! A thin adapter over [`aviary_lifecycle::teardown::teardown`].

use aviary_core::steps::{TeardownInput, TeardownOutput};
use aviary_core::StepError;
use aviary_lifecycle::Ports;
use lambda_runtime::LambdaEvent;

pub async fn handler(ports: &Ports, event: LambdaEvent<TeardownInput>) -> Result<TeardownOutput, StepError> {
    aviary_lifecycle::teardown::teardown(ports, &event.payload).await
}

#[cfg(test)]
mod tests {
    use aviary_core::status::Status;
    use aviary_core::steps::TeardownInput;
    use aviary_lifecycle::testing::World;
    use aviary_ports::memory::SAMPLE_LISTENER;
    use lambda_runtime::{Context, Diagnostic, LambdaEvent};

    use super::handler;

    fn event(id: &str) -> LambdaEvent<TeardownInput> {
        LambdaEvent::new(TeardownInput { deployment_id: id.into(), failure: None, reason: Some("done".into()) }, Context::default())
    }

    #[tokio::test]
    async fn removes_everything_and_restores_the_listener() {
        let w = World::new();
        let before = w.router.snapshot(SAMPLE_LISTENER);
        w.active("web-1").await;
        w.workflow.set_status(&w.store.peek("web-1").unwrap().execution_arn.unwrap(), "SUCCEEDED");
        let out = handler(&w.ports, event("web-1")).await.unwrap();
        assert_eq!(out.status, Status::Destroyed);
        w.assert_nothing_left("web-1", &before);
        // Idempotent: a second delivery finds the final status and changes nothing.
        w.cloud.log.clear();
        assert_eq!(handler(&w.ports, event("web-1")).await.unwrap().status, Status::Destroyed);
        assert!(w.cloud.log.cloud_mutations().is_empty());
    }

    #[tokio::test]
    async fn waits_for_a_running_deploy_workflow_by_the_retried_error_name() {
        let w = World::new();
        w.active("web-1").await;
        let d: Diagnostic = handler(&w.ports, event("web-1")).await.unwrap_err().into();
        assert_eq!(d.error_type, "TeardownIncomplete");
    }
}
