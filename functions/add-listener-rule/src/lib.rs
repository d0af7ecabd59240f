//! `add-listener-rule`: Adds the canary rule at weight 0, or (action "activate") moves it to the requested share once both groups are healthy.
//! A thin adapter over [`aviary_shared::lifecycle::rule::listener_rule`].

use aviary_shared::aws::Aws;
use aviary_shared::steps::{ListenerRuleInput, ListenerRuleOutput};
use aviary_shared::StepError;
use lambda_runtime::LambdaEvent;

pub async fn handler(aws: &Aws, event: LambdaEvent<ListenerRuleInput>) -> Result<ListenerRuleOutput, StepError> {
    aviary_shared::lifecycle::rule::listener_rule(aws, &event.payload).await
}
