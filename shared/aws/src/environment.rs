//! The user's load balancing environment, read-only: every Application Load Balancer with its
//! listeners, each listener's rules (priority, conditions, forward targets, and whether Aviary
//! owns the rule — by its tag) and the account's target groups. `GET /environment` returns
//! this so a client can offer listeners and production target groups to choose from.

use aws_sdk_elasticloadbalancingv2::types::{Listener, LoadBalancer, LoadBalancerTypeEnum, TargetGroup};
use aws_sdk_elasticloadbalancingv2::Client;

use aviary_ports::environment::{Environment, ListenerView, LoadBalancerView, RuleView, TargetGroupView};

use crate::elb::{snapshot, AlbRouter};
use crate::errors::aws_err;
use aviary_core::StepError;
use aviary_core::traffic::WeightedTarget;

/// Largest page the describe calls accept.
const PAGE_SIZE: i32 = 400;

impl AlbRouter {
    /// Reads the whole environment (DescribeLoadBalancers, DescribeListeners per load balancer,
    /// DescribeRules per listener, DescribeTargetGroups, DescribeTags for rules and groups).
    pub(crate) async fn describe_environment(&self) -> Result<Environment, StepError> {
        describe(self).await
    }
}

async fn describe(elb: &AlbRouter) -> Result<Environment, StepError> {
    let client = &elb.client;
    let mut load_balancers = Vec::new();
    for lb in application_load_balancers(client).await? {
        let lb_arn = lb.load_balancer_arn().unwrap_or_default().to_string();
        let mut listeners = Vec::new();
        for l in listeners_of(client, &lb_arn).await? {
            listeners.push(listener_view(elb, &l).await?);
        }
        listeners.sort_by_key(|l| l.port);
        load_balancers.push(LoadBalancerView {
            load_balancer_arn: lb_arn,
            name: lb.load_balancer_name().unwrap_or_default().into(),
            dns_name: lb.dns_name().unwrap_or_default().into(),
            scheme: lb.scheme().map(|s| s.as_str().to_string()).unwrap_or_default(),
            vpc_id: lb.vpc_id().unwrap_or_default().into(),
            state: lb.state().and_then(|s| s.code()).map(|c| c.as_str().to_string()).unwrap_or_default(),
            listeners,
        });
    }
    load_balancers.sort_by(|a, b| a.name.cmp(&b.name));
    let target_groups = target_groups(client, elb).await?;
    Ok(Environment { load_balancers, target_groups })
}

async fn application_load_balancers(client: &Client) -> Result<Vec<LoadBalancer>, StepError> {
    let mut all = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let out = client
            .describe_load_balancers()
            .set_marker(marker.clone())
            .page_size(PAGE_SIZE)
            .send()
            .await
            .map_err(aws_err("DescribeLoadBalancers"))?;
        // Network and gateway load balancers have no rules to share traffic with.
        all.extend(out.load_balancers().iter().filter(|lb| lb.r#type() == Some(&LoadBalancerTypeEnum::Application)).cloned());
        match out.next_marker() {
            Some(m) if !m.is_empty() && Some(m) != marker.as_deref() => marker = Some(m.into()),
            _ => return Ok(all),
        }
    }
}

async fn listeners_of(client: &Client, lb_arn: &str) -> Result<Vec<Listener>, StepError> {
    let mut all = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let out = client
            .describe_listeners()
            .load_balancer_arn(lb_arn)
            .set_marker(marker.clone())
            .page_size(PAGE_SIZE)
            .send()
            .await
            .map_err(aws_err("DescribeListeners"))?;
        all.extend(out.listeners().iter().cloned());
        match out.next_marker() {
            Some(m) if !m.is_empty() && Some(m) != marker.as_deref() => marker = Some(m.into()),
            _ => return Ok(all),
        }
    }
}

async fn listener_view(elb: &AlbRouter, l: &Listener) -> Result<ListenerView, StepError> {
    let listener_arn = l.listener_arn().unwrap_or_default().to_string();
    let rules = elb.raw_rules(&listener_arn).await?;
    let user_rule_arns: Vec<String> =
        rules.iter().filter(|r| r.is_default() != Some(true)).filter_map(|r| r.rule_arn().map(str::to_string)).collect();
    let tags = elb.tags_of(&user_rule_arns).await?;
    let mut views: Vec<RuleView> = rules
        .iter()
        .map(|r| RuleView {
            rule: snapshot(r),
            is_default: r.is_default() == Some(true),
            aviary_deployment_id: r.rule_arn().and_then(|a| tags.get(a)).and_then(|t| elb.ours(t)),
        })
        .collect();
    // Numeric priority order; the default rule (no number) last.
    views.sort_by_key(|v| (v.is_default, v.rule.priority_number().unwrap_or(u32::MAX)));
    let default_forward =
        l.default_actions().iter().map(snapshot_action_targets).find(|t| !t.is_empty()).unwrap_or_default();
    Ok(ListenerView {
        listener_arn,
        port: l.port().unwrap_or_default(),
        protocol: l.protocol().map(|p| p.as_str().to_string()).unwrap_or_default(),
        default_forward,
        rules: views,
    })
}

fn snapshot_action_targets(a: &aws_sdk_elasticloadbalancingv2::types::Action) -> Vec<WeightedTarget> {
    // Reuse the rule snapshot's reading of forward actions (weights, single-target form).
    let rule = aws_sdk_elasticloadbalancingv2::types::Rule::builder().actions(a.clone()).build();
    snapshot(&rule).forward
}

/// In order, without repeats (the emulator lists a load balancer once per rule using the group).
fn unique(arns: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(arns.len());
    for a in arns {
        if !out.contains(a) {
            out.push(a.clone());
        }
    }
    out
}


async fn target_groups(client: &Client, elb: &AlbRouter) -> Result<Vec<TargetGroupView>, StepError> {
    let mut all: Vec<TargetGroup> = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let out = client
            .describe_target_groups()
            .set_marker(marker.clone())
            .page_size(PAGE_SIZE)
            .send()
            .await
            .map_err(aws_err("DescribeTargetGroups"))?;
        all.extend(out.target_groups().iter().cloned());
        match out.next_marker() {
            Some(m) if !m.is_empty() && Some(m) != marker.as_deref() => marker = Some(m.into()),
            _ => break,
        }
    }
    let arns: Vec<String> = all.iter().filter_map(|t| t.target_group_arn().map(str::to_string)).collect();
    let tags = elb.tags_of(&arns).await?;
    let mut views: Vec<TargetGroupView> = all
        .iter()
        .map(|t| {
            let arn = t.target_group_arn().unwrap_or_default().to_string();
            TargetGroupView {
                aviary_deployment_id: tags.get(&arn).and_then(|t| elb.ours(t)),
                target_group_arn: arn,
                name: t.target_group_name().unwrap_or_default().into(),
                protocol: t.protocol().map(|p| p.as_str().to_string()).unwrap_or_default(),
                port: t.port().unwrap_or_default(),
                vpc_id: t.vpc_id().unwrap_or_default().into(),
                target_type: t.target_type().map(|p| p.as_str().to_string()).unwrap_or_default(),
                health_check_path: t.health_check_path().map(str::to_string),
                load_balancer_arns: unique(t.load_balancer_arns()),
            }
        })
        .collect();
    views.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(views)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_elasticloadbalancingv2::types::{Action, ActionTypeEnum, ForwardActionConfig, TargetGroupTuple};
    use aviary_core::ids::{TAG_DEPLOYMENT_ID, TAG_INSTALLATION, TAG_MANAGED_BY, TAG_MANAGED_BY_VALUE};
    use crate::elb::owner_in;
    use std::collections::HashMap;

    #[test]
    fn default_actions_read_both_forward_forms() {
        let single = Action::builder().r#type(ActionTypeEnum::Forward).target_group_arn("tg-a").build();
        assert_eq!(snapshot_action_targets(&single), vec![WeightedTarget { target_group_arn: "tg-a".into(), weight: 1 }]);
        let weighted = Action::builder()
            .r#type(ActionTypeEnum::Forward)
            .forward_config(
                ForwardActionConfig::builder()
                    .target_groups(TargetGroupTuple::builder().target_group_arn("tg-a").weight(3).build())
                    .target_groups(TargetGroupTuple::builder().target_group_arn("tg-b").weight(1).build())
                    .build(),
            )
            .build();
        assert_eq!(snapshot_action_targets(&weighted).iter().map(|t| t.weight).collect::<Vec<_>>(), vec![3, 1]);
        let fixed = Action::builder().r#type(ActionTypeEnum::FixedResponse).build();
        assert!(snapshot_action_targets(&fixed).is_empty());
    }

    #[test]
    fn load_balancer_lists_have_no_repeats() {
        let v = vec!["a".to_string(), "b".to_string(), "a".to_string()];
        assert_eq!(unique(&v), vec!["a".to_string(), "b".to_string()]);
    }

    #[test]
    fn ownership_needs_all_three_tags_and_this_installation() {
        let tags = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<HashMap<_, _>>();
        let full = tags(&[(TAG_MANAGED_BY, TAG_MANAGED_BY_VALUE), (TAG_INSTALLATION, "prod"), (TAG_DEPLOYMENT_ID, "web-1")]);
        assert_eq!(owner_in("prod", &full).as_deref(), Some("web-1"));
        assert_eq!(owner_in("staging", &full), None, "another installation's resource");
        assert_eq!(owner_in("", &full), None, "no installation configured: nothing is ours");
        assert_eq!(owner_in("prod", &tags(&[(TAG_MANAGED_BY, TAG_MANAGED_BY_VALUE), (TAG_DEPLOYMENT_ID, "web-1")])), None, "made before the installation tag");
        assert_eq!(owner_in("prod", &tags(&[(TAG_INSTALLATION, "prod"), (TAG_DEPLOYMENT_ID, "web-1")])), None);
    }
}
