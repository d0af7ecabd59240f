//! `add-listener-rule`: creates the canary rule on the user's listener with baseline and
//! canary at weight 0 (so the ALB starts health-checking them while production keeps every
//! request), and later — only once both are healthy — moves it to the requested share.

use std::time::Duration;

use aviary_ports::{used_priorities, CreateRuleError, OwnerTags, RouteChange, TrafficRouter};
use aviary_core::StepError;
use aviary_core::model::{Deployment, Outcome};
use aviary_core::spec::Stickiness;
use aviary_core::status::Status;
use aviary_core::steps::{ListenerRuleInput, ListenerRuleOutput, RuleAction};
use aviary_core::traffic::{choose_priority, share_weights, warmup_weights, PriorityError, RuleWeights, TrafficShare};

use crate::{log, logged, Ports};

const STEP: &str = "add-listener-rule";
/// Attempts to claim a priority when concurrent canaries race for the same number.
const MAX_PRIORITY_ATTEMPTS: u32 = 12;
/// Describe attempts while waiting for a rule change to show (ALB propagation lag).
const VERIFY_ATTEMPTS: u32 = 6;

pub async fn listener_rule(ports: &Ports, input: &ListenerRuleInput) -> Result<ListenerRuleOutput, StepError> {
    let id = &input.deployment_id;
    let result = match input.action {
        RuleAction::Create => create(ports, id).await,
        RuleAction::Activate => activate(ports, id).await,
    };
    logged(ports, id, STEP, result).await
}

fn tg_arns(d: &Deployment) -> Result<(String, String), StepError> {
    match (&d.resources.baseline_target_group_arn, &d.resources.canary_target_group_arn) {
        (Some(b), Some(c)) => Ok((b.clone(), c.clone())),
        _ => Err(StepError::InvalidInput("register-targets has not recorded both target groups".into())),
    }
}

fn weights_error(e: aviary_core::traffic::TrafficError) -> StepError {
    StepError::Environment(e.to_string())
}

async fn create(ports: &Ports, id: &str) -> Result<ListenerRuleOutput, StepError> {
    let store = ports.deployments();
    let d = store.transition(id, Status::Routing, |_| {}).await?;
    let spec = d.spec()?.clone();
    let (baseline_tg, canary_tg) = tg_arns(&d)?;
    let weights = warmup_weights(&d.resources.production, &baseline_tg, &canary_tg).map_err(weights_error)?;
    let elb = &*ports.router;

    // A retry after a crash finds the rule an earlier attempt created (by tag).
    let existing = elb.aviary_rules(&spec.listener_arn).await?.into_iter().find(|(_, dep)| dep == id);
    let (rule_arn, priority) = match existing {
        Some((rule, _)) => (rule.rule_arn.clone(), rule.priority_number().unwrap_or(0)),
        None => {
            // Placement is checked again here, against the rules as they are now: a rule the
            // user added since admission is still one the canary must not go ahead of.
            let ahead_allowed = ports.settings.guardrails()?.rules_ahead_allowed(&spec);
            let placement = Placement { explicit: spec.priority, ahead_allowed };
            claim_priority(elb, id, &spec.listener_arn, placement, &weights, spec.stickiness.as_ref(), &spec.conditions).await?
        }
    };
    // Record the rule at once: from here on teardown must remove it.
    let deadline = ports.clock.now_secs() + i64::from(spec.health_deadline_minutes) * 60;
    store
        .update(id, &[Status::Routing], |d| {
            d.resources.rule_arn = Some(rule_arn.clone());
            d.resources.rule_priority = Some(priority);
            d.weights = Some(weights.clone());
            d.health_deadline = Some(deadline);
        })
        .await?;
    verify(elb, &rule_arn, &weights, spec.stickiness.as_ref()).await?;
    store.transition(id, Status::WaitingHealthy, |_| {}).await?;
    log(ports,
        id,
        STEP,
        Outcome::Ok,
        format!("rule {} at priority {priority}: baseline and canary at weight 0 until healthy", aviary_core::ids::short_arn(&rule_arn)),
    )
    .await;
    Ok(ListenerRuleOutput { rule_arn, priority, weights })
}

/// Where the rule may go: the spec's explicit priority, and whether it may be ahead of the
/// listener's existing rules.
struct Placement {
    explicit: Option<u32>,
    ahead_allowed: bool,
}

async fn claim_priority(
    elb: &dyn TrafficRouter,
    id: &str,
    listener_arn: &str,
    placement: Placement,
    weights: &RuleWeights,
    stickiness: Option<&Stickiness>,
    conditions: &aviary_core::spec::RuleConditions,
) -> Result<(String, u32), StepError> {
    // Spread concurrent losers apart: each retries at its own offset.
    let spread = id.bytes().fold(0u32, |a, b| a.wrapping_mul(31).wrapping_add(u32::from(b)));
    for attempt in 0..MAX_PRIORITY_ATTEMPTS {
        let used = used_priorities(&elb.rules(listener_arn).await?);
        let skip = if attempt == 0 { 0 } else { spread % (attempt * 2 + 1) };
        let Placement { explicit, ahead_allowed } = placement;
        let priority = choose_priority(&used, explicit, skip, ahead_allowed).map_err(|e| match e {
            PriorityError::Taken(p) => StepError::PriorityExhausted(format!("the spec's priority {p} is taken")),
            other => StepError::PriorityExhausted(other.to_string()),
        })?;
        match elb.create_rule(listener_arn, priority, conditions, weights, stickiness, &OwnerTags::new(id, "rule")).await {
            Ok(arn) => return Ok((arn, priority)),
            Err(CreateRuleError::PriorityInUse) if explicit.is_none() => continue,
            Err(CreateRuleError::PriorityInUse) => {
                return Err(StepError::PriorityExhausted(format!("the spec's priority {priority} was taken concurrently")))
            }
            Err(CreateRuleError::Other(e)) => return Err(e),
        }
    }
    Err(StepError::PriorityExhausted(format!("lost the race for a priority {MAX_PRIORITY_ATTEMPTS} times")))
}

/// Describes the rule until it shows the expected forward action (propagation lag, or a
/// concurrent edit that we must not paper over).
pub(crate) async fn verify(elb: &dyn TrafficRouter, rule_arn: &str, weights: &RuleWeights, stickiness: Option<&Stickiness>) -> Result<(), StepError> {
    let want_sticky = stickiness.filter(|s| s.enabled).map(|s| s.duration_seconds as i32);
    let mut last = String::from("rule not found");
    for attempt in 0..VERIFY_ATTEMPTS {
        if let Some(snap) = elb.describe_rule(rule_arn).await? {
            if snap.forward == weights.all() && snap.stickiness_seconds == want_sticky {
                return Ok(());
            }
            last = format!("forward {:?}, stickiness {:?}", snap.forward, snap.stickiness_seconds);
        }
        tokio::time::sleep(Duration::from_millis(250 << attempt)).await;
    }
    Err(StepError::RuleVerificationFailed(format!("{rule_arn} does not show the expected weights: {last}")))
}

async fn activate(ports: &Ports, id: &str) -> Result<ListenerRuleOutput, StepError> {
    let store = ports.deployments();
    let d = store.require(id).await?;
    if d.status != Status::WaitingHealthy {
        return Err(StepError::StatusConflict { id: id.into(), actual: d.status.to_string(), expected: "WAITING_HEALTHY".into() });
    }
    let spec = d.spec()?.clone();
    let (baseline_tg, canary_tg) = tg_arns(&d)?;
    let rule_arn = d.resources.rule_arn.clone().ok_or_else(|| StepError::InvalidInput("no rule recorded".into()))?;
    // Never move traffic onto a group that is not healthy right now (the ALB fails open).
    let b = ports.health.target_health(&baseline_tg).await?;
    let c = ports.health.target_health(&canary_tg).await?;
    if !b.is_healthy() || !c.is_healthy() {
        return Err(StepError::TargetsNotHealthy(format!("baseline: {}; canary: {}", b.summary(), c.summary())));
    }
    let share = TrafficShare::from_percent(spec.traffic_percent).map_err(|e| StepError::InvalidInput(e.to_string()))?;
    let weights = share_weights(&d.resources.production, &baseline_tg, &canary_tg, share).map_err(weights_error)?;
    let elb = &*ports.router;
    elb.modify_rule(&rule_arn, &RouteChange { conditions: None, weights: weights.clone(), stickiness: spec.stickiness.clone() }).await?;
    verify(elb, &rule_arn, &weights, spec.stickiness.as_ref()).await?;
    store.transition(id, Status::Active, |d| d.weights = Some(weights.clone())).await?;
    log(ports, id, STEP, Outcome::Ok, format!("both healthy; traffic shifted: {}", describe_weights(&weights))).await;
    Ok(ListenerRuleOutput { rule_arn, priority: d.resources.rule_priority.unwrap_or(0), weights })
}

pub fn describe_weights(w: &RuleWeights) -> String {
    let total: u32 = w.all().iter().map(|t| t.weight).sum::<u32>().max(1);
    let pct = |x: u32| f64::from(x) * 100.0 / f64::from(total);
    let prod: u32 = w.production.iter().map(|t| t.weight).sum();
    format!("canary {:.1}% / baseline {:.1}% / production {:.1}%", pct(w.canary.weight), pct(w.baseline.weight), pct(prod))
}
