//! Everything in the account that carries Aviary's tags, found by tag (never by name): rules on
//! every listener of every application load balancer, target groups, live instances and
//! security groups, each with its deployment id; and the secrets under the installation's SSM
//! path. Also which target groups each rule and
//! listener default action forwards to, so an orphaned group some other rule still uses is
//! left alone.

use std::collections::HashMap;

use aviary_ports::TrafficRouter;
use crate::Ports;
use aviary_core::StepError;

use crate::cleanup::report::CleanupReport;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    Rule,
    TargetGroup,
    Instance,
    SecurityGroup,
    /// An SSM parameter under the installation's secret path (found by path, not tag).
    Secret,
}

/// One resource carrying Aviary's tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tagged {
    pub kind: Kind,
    /// ARN (rules, target groups), id (instances, security groups) or parameter name (secrets).
    pub id: String,
    pub deployment_id: String,
}

impl Tagged {
    /// The wording teardown uses in its list of removed resources, so the two compare.
    pub fn label(&self) -> String {
        let kind = match self.kind {
            Kind::Rule => "rule",
            Kind::TargetGroup => "target group",
            Kind::Instance => "instance",
            Kind::SecurityGroup => "security group",
            Kind::Secret => "secret",
        };
        format!("{kind} {}", self.id)
    }
}

#[derive(Debug, Default)]
pub(crate) struct Inventory {
    pub tagged: Vec<Tagged>,
    /// Target group ARN → the rules (ARNs) forwarding to it. A listener's default action
    /// appears as its default rule.
    pub forwarded_by: HashMap<String, Vec<String>>,
    /// False when some listener's rules could not be listed: an Aviary rule may then still
    /// point at a group, so nothing but rules may be removed in this sweep.
    pub rules_complete: bool,
}

pub(crate) async fn scan(ports: &Ports, report: &mut CleanupReport) -> Inventory {
    let elb = &*ports.router;
    let ec2 = &*ports.compute;
    let mut inv = Inventory { rules_complete: true, ..Default::default() };

    match elb.all_listeners().await {
        Ok(all) => {
            for listener in all {
                if let Err(e) = scan_listener(elb, &listener, &mut inv).await {
                    inv.rules_complete = false;
                    report.error(format!("listing the rules of listener {listener}: {e}"));
                }
            }
        }
        Err(e) => {
            inv.rules_complete = false;
            report.error(format!("listing load balancers and listeners: {e}"));
        }
    }
    let mut add = |kind: Kind, found: Result<Vec<(String, String)>, StepError>, what: &str| match found {
        Ok(v) => inv.tagged.extend(v.into_iter().map(|(id, deployment_id)| Tagged { kind: kind.clone(), id, deployment_id })),
        Err(e) => report.error(format!("listing Aviary's {what}: {e}")),
    };
    add(Kind::TargetGroup, elb.aviary_target_groups().await, "target groups");
    add(Kind::Instance, ec2.aviary_instances().await, "instances");
    add(Kind::SecurityGroup, ec2.aviary_security_groups(None).await, "security groups");
    add(Kind::Secret, ec2.aviary_secrets().await, "secrets");
    inv
}

async fn scan_listener(elb: &dyn TrafficRouter, listener: &str, inv: &mut Inventory) -> Result<(), StepError> {
    let rules = match elb.rules(listener).await {
        Ok(r) => r,
        // Deleted since it was listed: nothing of ours can be on it any more.
        Err(_) if elb.listener(listener).await?.is_none() => return Ok(()),
        Err(e) => return Err(e),
    };
    for s in &rules {
        for t in s.forward.clone() {
            inv.forwarded_by.entry(t.target_group_arn).or_default().push(s.rule_arn.clone());
        }
    }
    for (rule, deployment_id) in elb.aviary_rules(listener).await? {
        inv.tagged.push(Tagged { kind: Kind::Rule, id: rule.rule_arn, deployment_id });
    }
    Ok(())
}

