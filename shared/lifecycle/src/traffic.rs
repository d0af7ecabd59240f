//! Live traffic control: change a running canary's share, conditions or stickiness. The
//! change is validated first (an invalid value is refused whatever the status), against the
//! installation's production floor too; then refused unless the canary is ACTIVE. Changes are
//! serialised by a short lease taken with a conditional write on the deployment: a second
//! change while one is being applied is refused at once ([`TrafficChangeError::Busy`]) instead
//! of racing it on the ALB rule. Applied to the rule, verified by describing it, recorded in
//! the event log.

use aviary_core::StepError;
use aviary_core::model::{Deployment, Outcome};
use aviary_core::ownership::NotOwner;
use aviary_core::spec::{FieldError, RuleConditions, Stickiness};
use aviary_core::status::Status;
use aviary_core::traffic::{share_weights, TrafficShare};

use aviary_ports::RouteChange;

use crate::actor::Actor;
use crate::rule::{describe_weights, verify};
use crate::{log, Ports};

/// What a user may change on a running canary; absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TrafficChange {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traffic_percent: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<RuleConditions>,
    /// `{"enabled": false, ...}` turns stickiness off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stickiness: Option<Stickiness>,
}

#[derive(Debug, thiserror::Error)]
pub enum TrafficChangeError {
    #[error("invalid traffic change")]
    Invalid(Vec<FieldError>),
    #[error("deployment {id} is {status}; traffic can only change while it is ACTIVE")]
    NotActive { id: String, status: Status },
    #[error("another traffic change of deployment {id} is being applied; retry when it is done")]
    Busy { id: String },
    #[error(transparent)]
    NotOwner(#[from] NotOwner),
    #[error(transparent)]
    Step(#[from] StepError),
}

/// How long a traffic change may hold the deployment: far more than a ModifyRule and its
/// verification take, short enough that a crashed change blocks nobody for long.
pub const TRAFFIC_LEASE_SECS: i64 = 60;

/// Validates the change against the current spec (the merged spec must pass the same rules).
fn merged_spec(d: &Deployment, change: &TrafficChange) -> Result<aviary_core::spec::DeploymentSpec, TrafficChangeError> {
    let mut spec = d.spec()?.clone();
    if change.traffic_percent.is_none() && change.conditions.is_none() && change.stickiness.is_none() {
        return Err(TrafficChangeError::Invalid(vec![FieldError::new(
            "body",
            "name at least one of trafficPercent, conditions, stickiness",
        )]));
    }
    if let Some(p) = change.traffic_percent {
        spec.traffic_percent = p;
    }
    if let Some(c) = &change.conditions {
        spec.conditions = c.clone();
    }
    if let Some(s) = &change.stickiness {
        spec.stickiness = if s.enabled { Some(s.clone()) } else { None };
    }
    let errors: Vec<FieldError> = spec
        .validate()
        .into_iter()
        .filter(|e| e.field.starts_with("trafficPercent") || e.field.starts_with("conditions") || e.field.starts_with("stickiness"))
        .collect();
    if errors.is_empty() {
        Ok(spec)
    } else {
        Err(TrafficChangeError::Invalid(errors))
    }
}

/// A change the installation makes (the local demo): no ownership check.
pub async fn change_traffic(ports: &Ports, id: &str, change: &TrafficChange) -> Result<Deployment, TrafficChangeError> {
    change_traffic_as(ports, id, change, Actor::Installation).await
}

/// A change asked for by `actor`: refused with [`TrafficChangeError::NotOwner`] before
/// anything else is looked at unless the actor may change this deployment.
pub async fn change_traffic_as(ports: &Ports, id: &str, change: &TrafficChange, actor: Actor<'_>) -> Result<Deployment, TrafficChangeError> {
    let guardrails = ports.settings.guardrails()?;
    let store = ports.deployments();
    let d = store.require(id).await?;
    actor.may_change(ports, &d)??;
    // Validation first: an invalid value is a 400 whatever the status. A deployment without
    // a spec (REJECTED before parsing) has nothing to merge with; the status check answers it.
    let spec = match d.spec {
        Some(_) => Some(merged_spec(&d, change)?),
        None => None,
    };
    if let Some(e) = spec.as_ref().and_then(|s| guardrails.check_traffic(s.traffic_percent)) {
        return Err(TrafficChangeError::Invalid(vec![e]));
    }
    if d.status != Status::Active {
        return Err(TrafficChangeError::NotActive { id: id.into(), status: d.status });
    }
    let spec = spec.ok_or_else(|| StepError::InvalidInput(format!("deployment {id} has no valid spec")))?;
    let (Some(b), Some(c), Some(rule_arn)) =
        (&d.resources.baseline_target_group_arn, &d.resources.canary_target_group_arn, &d.resources.rule_arn)
    else {
        return Err(StepError::InvalidInput("the deployment has no rule recorded".into()).into());
    };
    let share = TrafficShare::from_percent(spec.traffic_percent).map_err(|e| StepError::InvalidInput(e.to_string()))?;
    let weights = share_weights(&d.resources.production, b, c, share).map_err(|e| StepError::Environment(e.to_string()))?;

    // Take the lease: a conditional write on the version just read. Whoever loses (or finds
    // an unexpired lease) is told at once.
    let now = ports.clock.now_secs();
    if d.traffic_lease_until.is_some_and(|until| until > now) {
        return Err(TrafficChangeError::Busy { id: id.into() });
    }
    let mut claim = d.clone();
    claim.traffic_lease_until = Some(now + TRAFFIC_LEASE_SECS);
    if store.replace_if_unchanged(claim).await?.is_none() {
        return Err(TrafficChangeError::Busy { id: id.into() });
    }

    let elb = &*ports.router;
    let route = RouteChange { conditions: change.conditions.clone(), weights: weights.clone(), stickiness: spec.stickiness.clone() };
    let applied = match elb.modify_rule(rule_arn, &route).await {
        Ok(()) => verify(elb, rule_arn, &weights, spec.stickiness.as_ref()).await,
        Err(e) => Err(e),
    };
    if let Err(e) = applied {
        // Release the lease; the record keeps the share it had (the rule may show either:
        // the next change or `aviary status` shows which).
        let _ = store.update(id, &[Status::Active], |d| d.traffic_lease_until = None).await;
        return Err(e.into());
    }
    let updated = store
        .update(id, &[Status::Active], |d| {
            d.spec = Some(spec.clone());
            d.weights = Some(weights.clone());
            d.traffic_lease_until = None;
        })
        .await?;
    let mut detail = format!("traffic changed: {}", describe_weights(&weights));
    if change.conditions.is_some() {
        detail.push_str(&format!("; conditions now {}", spec.conditions.describe()));
    }
    if change.stickiness.is_some() {
        match &spec.stickiness {
            Some(s) => detail.push_str(&format!("; sticky sessions for {}s", s.duration_seconds)),
            None => detail.push_str("; sticky sessions off"),
        }
    }
    log(ports, id, "traffic", Outcome::Ok, detail).await;
    Ok(updated)
}
