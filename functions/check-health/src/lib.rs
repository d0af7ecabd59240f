//! `check-health`: Polls both target groups once; the state machine loops until healthy or past the deadline.
//! A thin adapter over [`aviary_lifecycle::health::check_health`].

use aviary_core::steps::{DeploymentRef, CheckHealthOutput};
use aviary_core::StepError;
use aviary_lifecycle::Ports;
use lambda_runtime::LambdaEvent;

pub async fn handler(ports: &Ports, event: LambdaEvent<DeploymentRef>) -> Result<CheckHealthOutput, StepError> {
    aviary_lifecycle::health::check_health(ports, &event.payload).await
}

#[cfg(test)]
mod tests {
    //! The handler against the in-memory fakes: the unhealthy path (which the emulator cannot
    //! produce), the deadline, and the stable error name the state machine catches.

    use aviary_core::status::Status;
    use aviary_core::steps::DeploymentRef;
    use aviary_lifecycle::testing::{World, NOW};
    use lambda_runtime::{Context, Diagnostic, LambdaEvent};

    use super::handler;

    fn event() -> LambdaEvent<DeploymentRef> {
        LambdaEvent::new(DeploymentRef { deployment_id: "web-1".into() }, Context::default())
    }

    /// A routed deployment whose health deadline is `deadline` and whose targets are `state`.
    async fn world(deadline: i64, state: &str) -> World {
        let w = World::new();
        let mut d = w.routed("web-1").await;
        d.health_deadline = Some(deadline);
        w.store.overwrite(d);
        w.health.set_all(state);
        w
    }

    #[tokio::test]
    async fn unhealthy_before_the_deadline_keeps_waiting() {
        let w = world(NOW + 300, "unhealthy").await;
        let out = handler(&w.ports, event()).await.unwrap();
        assert!(!out.all_healthy && !out.deadline_exceeded);
        assert_eq!(out.seconds_left, 300);
    }

    #[tokio::test]
    async fn unhealthy_past_the_deadline_ends_the_wait() {
        let w = world(NOW - 1, "unhealthy").await;
        let out = handler(&w.ports, event()).await.unwrap();
        assert!(!out.all_healthy && out.deadline_exceeded);
    }

    #[tokio::test]
    async fn healthy_targets_are_reported_healthy_even_late() {
        let w = world(NOW - 1, "healthy").await;
        let out = handler(&w.ports, event()).await.unwrap();
        assert!(out.all_healthy && !out.deadline_exceeded);
    }

    #[tokio::test]
    async fn a_destroy_request_stops_the_loop_with_the_caught_error_name() {
        let w = world(NOW + 300, "healthy").await;
        let mut d = w.store.peek("web-1").unwrap();
        d.status = Status::TearingDown;
        w.store.overwrite(d);
        let d: Diagnostic = handler(&w.ports, event()).await.unwrap_err().into();
        assert_eq!(d.error_type, "StatusConflict");
    }
}
