//! `add-listener-rule`: Adds the canary rule at weight 0, or (action "activate") moves it to the requested share once both groups are healthy.
//! A thin adapter over [`aviary_lifecycle::rule::listener_rule`].

use aviary_core::steps::{ListenerRuleInput, ListenerRuleOutput};
use aviary_core::StepError;
use aviary_lifecycle::Ports;
use lambda_runtime::LambdaEvent;

pub async fn handler(ports: &Ports, event: LambdaEvent<ListenerRuleInput>) -> Result<ListenerRuleOutput, StepError> {
    aviary_lifecycle::rule::listener_rule(ports, &event.payload).await
}

#[cfg(test)]
mod tests {
    use aviary_core::steps::{ListenerRuleInput, RuleAction};
    use aviary_lifecycle::testing::World;
    use aviary_ports::memory::SAMPLE_LISTENER;
    use lambda_runtime::{Context, Diagnostic, LambdaEvent};

    use super::handler;

    fn event(id: &str, action: RuleAction) -> LambdaEvent<ListenerRuleInput> {
        LambdaEvent::new(ListenerRuleInput { deployment_id: id.into(), action }, Context::default())
    }

    #[tokio::test]
    async fn creates_the_rule_at_weight_zero_then_activates_the_share() {
        let w = World::new();
        w.registered("web-1").await;
        let created = handler(&w.ports, event("web-1", RuleAction::Create)).await.unwrap();
        assert_eq!((created.weights.baseline.weight, created.weights.canary.weight), (0, 0));
        let active = handler(&w.ports, event("web-1", RuleAction::Activate)).await.unwrap();
        assert_eq!((active.weights.baseline.weight, active.weights.canary.weight), (50, 50));
        let rule = w.router.snapshot(SAMPLE_LISTENER).into_iter().find(|r| r.rule_arn == active.rule_arn).unwrap();
        assert_eq!(rule.forward, active.weights.all());
    }

    #[tokio::test]
    async fn activation_refuses_unhealthy_targets_by_the_caught_error_name() {
        let w = World::new();
        w.routed("web-1").await;
        w.health.set_all("unhealthy");
        let d: Diagnostic = handler(&w.ports, event("web-1", RuleAction::Activate)).await.unwrap_err().into();
        assert_eq!(d.error_type, "TargetsNotHealthy");
    }
}
