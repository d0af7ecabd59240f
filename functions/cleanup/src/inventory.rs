//! Everything in the account that carries Aviary's tags, found by tag (never by name): rules on
//! every listener of every application load balancer, target groups, live instances and
//! security groups, each with its deployment id. Also which target groups each rule and
//! listener default action forwards to, so an orphaned group some other rule still uses is
//! left alone.

use std::collections::HashMap;

use aviary_shared::aws::ec2::Ec2;
use aviary_shared::aws::elb::{snapshot, Elb};
use aviary_shared::aws::errors::{aws_err, is_not_found};
use aviary_shared::aws::Aws;
use aviary_shared::StepError;
use aws_sdk_elasticloadbalancingv2::types::LoadBalancerTypeEnum;

use crate::report::CleanupReport;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    Rule,
    TargetGroup,
    Instance,
    SecurityGroup,
}

/// One resource carrying Aviary's tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tagged {
    pub kind: Kind,
    /// ARN (rules, target groups) or id (instances, security groups).
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

pub(crate) async fn scan(aws: &Aws, report: &mut CleanupReport) -> Inventory {
    let elb = Elb::new(aws.elb.clone());
    let ec2 = Ec2::new(aws.ec2.clone());
    let mut inv = Inventory { rules_complete: true, ..Default::default() };

    match listeners(&aws.elb).await {
        Ok(all) => {
            for listener in all {
                if let Err(e) = scan_listener(&elb, &listener, &mut inv).await {
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
    inv
}

async fn scan_listener(elb: &Elb, listener: &str, inv: &mut Inventory) -> Result<(), StepError> {
    let rules = match elb.rules(listener).await {
        Ok(r) => r,
        // Deleted since it was listed: nothing of ours can be on it any more.
        Err(_) if elb.listener(listener).await?.is_none() => return Ok(()),
        Err(e) => return Err(e),
    };
    for rule in &rules {
        let s = snapshot(rule);
        for t in s.forward {
            inv.forwarded_by.entry(t.target_group_arn).or_default().push(s.rule_arn.clone());
        }
    }
    for (rule, deployment_id) in elb.aviary_rules(listener).await? {
        if let Some(arn) = rule.rule_arn() {
            inv.tagged.push(Tagged { kind: Kind::Rule, id: arn.to_string(), deployment_id });
        }
    }
    Ok(())
}

/// Every listener of every application load balancer (the only kind with listener rules).
async fn listeners(client: &aws_sdk_elasticloadbalancingv2::Client) -> Result<Vec<String>, StepError> {
    let mut lbs = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let out = client
            .describe_load_balancers()
            .set_marker(marker.clone())
            .page_size(400)
            .send()
            .await
            .map_err(aws_err("DescribeLoadBalancers"))?;
        lbs.extend(
            out.load_balancers()
                .iter()
                .filter(|lb| lb.r#type() == Some(&LoadBalancerTypeEnum::Application))
                .filter_map(|lb| lb.load_balancer_arn().map(str::to_string)),
        );
        match out.next_marker() {
            Some(m) if !m.is_empty() && Some(m) != marker.as_deref() => marker = Some(m.into()),
            _ => break,
        }
    }
    let mut all = Vec::new();
    for lb in lbs {
        let mut marker: Option<String> = None;
        loop {
            let out = match client.describe_listeners().load_balancer_arn(&lb).set_marker(marker.clone()).page_size(400).send().await {
                Ok(o) => o,
                // Deleted since it was listed.
                Err(e) if is_not_found(&e) => break,
                Err(e) => return Err(aws_err("DescribeListeners")(e)),
            };
            all.extend(out.listeners().iter().filter_map(|l| l.listener_arn().map(str::to_string)));
            match out.next_marker() {
                Some(m) if !m.is_empty() && Some(m) != marker.as_deref() => marker = Some(m.into()),
                _ => break,
            }
        }
    }
    Ok(all)
}
