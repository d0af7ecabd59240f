//! The load balancer adapter: listener and rule reads, the canary rule's create / modify /
//! delete, and the canary target groups. Ownership is by tag: a router belongs to one
//! installation; everything it creates carries `aviary:managed-by`, `aviary:installation` and
//! the deployment id, and its inventories see only resources carrying all three, so it never
//! reports (and cleanup never deletes) what another installation made.

use std::collections::HashMap;

use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, ForwardActionConfig, HostHeaderConditionConfig, HttpHeaderConditionConfig,
    HttpRequestMethodConditionConfig, Matcher, PathPatternConditionConfig, ProtocolEnum, QueryStringConditionConfig,
    QueryStringKeyValuePair, Rule, RuleCondition, SourceIpConditionConfig, Tag, TargetDescription,
    TargetGroupAttribute, TargetGroupStickinessConfig, TargetGroupTuple, TargetTypeEnum,
};
use aws_sdk_elasticloadbalancingv2::Client;
use async_trait::async_trait;
use aviary_core::ids::{TAG_DEPLOYMENT_ID, TAG_INSTALLATION, TAG_MANAGED_BY, TAG_MANAGED_BY_VALUE, TAG_ROLE};
use aviary_core::spec::{RuleConditions, Stickiness};
use aviary_core::steps::{GroupHealth, TargetState};
use aviary_core::traffic::{RuleWeights, WeightedTarget};
use aviary_core::StepError;
use aviary_ports::environment::Environment;
use aviary_ports::{
    CreateRuleError, ListenerInfo, LoadBalancerInfo, OwnerTags, RouteChange, RuleSnapshot, TargetGroupRequest,
    TargetHealthSource, TrafficRouter,
};

use crate::errors::{aws_err, code, is_not_found};

pub fn tags(installation: &str, owner: &OwnerTags) -> Vec<Tag> {
    vec![
        Tag::builder().key(TAG_MANAGED_BY).value(TAG_MANAGED_BY_VALUE).build(),
        Tag::builder().key(TAG_INSTALLATION).value(installation).build(),
        Tag::builder().key(TAG_DEPLOYMENT_ID).value(&owner.deployment_id).build(),
        Tag::builder().key(TAG_ROLE).value(&owner.role).build(),
    ]
}

/// The ALB conditions for the spec's conditions.
pub fn rule_conditions(c: &RuleConditions) -> Vec<RuleCondition> {
    let mut out = Vec::new();
    if !c.path_patterns.is_empty() {
        out.push(
            RuleCondition::builder()
                .field("path-pattern")
                .path_pattern_config(PathPatternConditionConfig::builder().set_values(Some(c.path_patterns.clone())).build())
                .build(),
        );
    }
    if !c.http_methods.is_empty() {
        out.push(
            RuleCondition::builder()
                .field("http-request-method")
                .http_request_method_config(
                    HttpRequestMethodConditionConfig::builder().set_values(Some(c.http_methods.clone())).build(),
                )
                .build(),
        );
    }
    if !c.host_headers.is_empty() {
        out.push(
            RuleCondition::builder()
                .field("host-header")
                .host_header_config(HostHeaderConditionConfig::builder().set_values(Some(c.host_headers.clone())).build())
                .build(),
        );
    }
    if !c.source_ips.is_empty() {
        out.push(
            RuleCondition::builder()
                .field("source-ip")
                .source_ip_config(SourceIpConditionConfig::builder().set_values(Some(c.source_ips.clone())).build())
                .build(),
        );
    }
    for h in &c.http_headers {
        out.push(
            RuleCondition::builder()
                .field("http-header")
                .http_header_config(
                    HttpHeaderConditionConfig::builder()
                        .http_header_name(&h.name)
                        .set_values(Some(h.values.clone()))
                        .build(),
                )
                .build(),
        );
    }
    if !c.query_strings.is_empty() {
        let pairs = c
            .query_strings
            .iter()
            .map(|q| QueryStringKeyValuePair::builder().set_key(q.key.clone()).value(&q.value).build())
            .collect();
        out.push(
            RuleCondition::builder()
                .field("query-string")
                .query_string_config(QueryStringConditionConfig::builder().set_values(Some(pairs)).build())
                .build(),
        );
    }
    if out.is_empty() {
        // A rule needs at least one condition; this one matches every request.
        out.push(
            RuleCondition::builder()
                .field("path-pattern")
                .path_pattern_config(PathPatternConditionConfig::builder().values("/*").build())
                .build(),
        );
    }
    out
}

/// The forward action for the weights (and stickiness, set on the action as ALB requires).
pub fn forward_action(weights: &RuleWeights, stickiness: Option<&Stickiness>) -> Action {
    let tuples = weights
        .all()
        .into_iter()
        .map(|t| TargetGroupTuple::builder().target_group_arn(t.target_group_arn).weight(t.weight as i32).build())
        .collect();
    let sticky = match stickiness {
        Some(s) if s.enabled => {
            TargetGroupStickinessConfig::builder().enabled(true).duration_seconds(s.duration_seconds as i32).build()
        }
        _ => TargetGroupStickinessConfig::builder().enabled(false).build(),
    };
    Action::builder()
        .r#type(ActionTypeEnum::Forward)
        .forward_config(ForwardActionConfig::builder().set_target_groups(Some(tuples)).target_group_stickiness_config(sticky).build())
        .build()
}

fn forward_targets(action: &Action) -> Vec<WeightedTarget> {
    if let Some(fc) = action.forward_config() {
        let tgs = fc.target_groups();
        if !tgs.is_empty() {
            return tgs
                .iter()
                .filter_map(|t| {
                    t.target_group_arn().map(|arn| WeightedTarget { target_group_arn: arn.into(), weight: t.weight().unwrap_or(1).max(0) as u32 })
                })
                .collect();
        }
    }
    action.target_group_arn().map(|arn| vec![WeightedTarget { target_group_arn: arn.into(), weight: 1 }]).unwrap_or_default()
}

fn describe_condition(c: &RuleCondition) -> String {
    let field = c.field().unwrap_or("?");
    let values: Vec<String> = if let Some(h) = c.http_header_config() {
        vec![format!("{}={}", h.http_header_name().unwrap_or(""), h.values().join("|"))]
    } else if let Some(q) = c.query_string_config() {
        q.values().iter().map(|p| format!("{}={}", p.key().unwrap_or("*"), p.value().unwrap_or(""))).collect()
    } else if let Some(p) = c.path_pattern_config() {
        p.values().to_vec()
    } else if let Some(m) = c.http_request_method_config() {
        m.values().to_vec()
    } else if let Some(h) = c.host_header_config() {
        h.values().to_vec()
    } else if let Some(s) = c.source_ip_config() {
        s.values().to_vec()
    } else {
        c.values().to_vec()
    };
    format!("{field}:{}", values.join(","))
}

pub fn snapshot(rule: &Rule) -> RuleSnapshot {
    let mut forward = Vec::new();
    let mut stickiness_seconds = None;
    let mut other_actions = Vec::new();
    for a in rule.actions() {
        if a.r#type() == Some(&ActionTypeEnum::Forward) {
            forward.extend(forward_targets(a));
            if let Some(s) = a.forward_config().and_then(|f| f.target_group_stickiness_config()) {
                if s.enabled() == Some(true) {
                    stickiness_seconds = s.duration_seconds();
                }
            }
        } else {
            other_actions.push(format!("{:?}", a.r#type()));
        }
    }
    let mut conditions: Vec<String> = rule.conditions().iter().map(describe_condition).collect();
    conditions.sort();
    RuleSnapshot {
        rule_arn: rule.rule_arn().unwrap_or_default().into(),
        priority: rule.priority().unwrap_or("default").into(),
        conditions,
        forward,
        stickiness_seconds,
        other_actions,
    }
}

/// The deployment id in a resource's tags when `installation` made it: Aviary's tag, the
/// installation's tag and a deployment id, all three.
pub(crate) fn owner_in(installation: &str, t: &HashMap<String, String>) -> Option<String> {
    let managed = t.get(TAG_MANAGED_BY).map(String::as_str) == Some(TAG_MANAGED_BY_VALUE);
    let ours = !installation.is_empty() && t.get(TAG_INSTALLATION).map(String::as_str) == Some(installation);
    (managed && ours).then(|| t.get(TAG_DEPLOYMENT_ID).cloned()).flatten()
}

/// The traffic router on an Application Load Balancer, for one installation.
#[derive(Clone)]
pub struct AlbRouter {
    pub(crate) client: Client,
    installation: String,
}

impl AlbRouter {
    pub fn new(client: Client, installation: &str) -> Self {
        AlbRouter { client, installation: installation.into() }
    }

    pub fn from_conf(config: &aws_config::SdkConfig, installation: &str) -> Self {
        AlbRouter::new(Client::new(config), installation)
    }

    /// The installation's tags for a new resource; refused when no installation is configured
    /// (an untagged resource would be invisible to cleanup, and to the IAM conditions).
    fn owner_tags(&self, owner: &OwnerTags) -> Result<Vec<Tag>, StepError> {
        crate::require_installation(&self.installation)?;
        Ok(tags(&self.installation, owner))
    }

    /// The deployment id of a resource with these tags, when this installation made it.
    pub(crate) fn ours(&self, t: &HashMap<String, String>) -> Option<String> {
        owner_in(&self.installation, t)
    }

    /// The listener, or `None` when it does not exist.
    async fn listener_impl(&self, listener_arn: &str) -> Result<Option<ListenerInfo>, StepError> {
        let out = match self.client.describe_listeners().listener_arns(listener_arn).send().await {
            Ok(o) => o,
            Err(e) if is_not_found(&e) || code(&e) == Some("ValidationError") => return Ok(None),
            Err(e) => return Err(aws_err("DescribeListeners")(e)),
        };
        let Some(l) = out.listeners().first() else { return Ok(None) };
        let default_forward = l
            .default_actions()
            .iter()
            .filter(|a| a.r#type() == Some(&ActionTypeEnum::Forward))
            .flat_map(forward_targets)
            .collect();
        Ok(Some(ListenerInfo {
            listener_arn: listener_arn.into(),
            load_balancer_arn: l.load_balancer_arn().unwrap_or_default().into(),
            default_forward,
        }))
    }

    async fn load_balancer_impl(&self, arn: &str) -> Result<LoadBalancerInfo, StepError> {
        let out = self.client.describe_load_balancers().load_balancer_arns(arn).send().await.map_err(aws_err("DescribeLoadBalancers"))?;
        let lb = out.load_balancers().first().ok_or_else(|| StepError::Environment(format!("load balancer {arn} not found")))?;
        Ok(LoadBalancerInfo {
            vpc_id: lb.vpc_id().unwrap_or_default().into(),
            subnet_ids: lb.availability_zones().iter().filter_map(|z| z.subnet_id().map(str::to_string)).collect(),
            security_group_ids: lb.security_groups().to_vec(),
            dns_name: lb.dns_name().unwrap_or_default().into(),
        })
    }

    /// Every rule on the listener (following pagination), as the SDK returns them.
    pub(crate) async fn raw_rules(&self, listener_arn: &str) -> Result<Vec<Rule>, StepError> {
        let mut all = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let out = self
                .client
                .describe_rules()
                .listener_arn(listener_arn)
                .set_marker(marker.clone())
                .page_size(400)
                .send()
                .await
                .map_err(aws_err("DescribeRules"))?;
            all.extend(out.rules().iter().cloned());
            match out.next_marker() {
                Some(m) if !m.is_empty() && Some(m) != marker.as_deref() => marker = Some(m.into()),
                _ => break,
            }
        }
        Ok(all)
    }

    /// Tags of the given resources (DescribeTags takes 20 ARNs per call).
    pub async fn tags_of(&self, arns: &[String]) -> Result<HashMap<String, HashMap<String, String>>, StepError> {
        let mut out = HashMap::new();
        for chunk in arns.chunks(20) {
            let res = self.client.describe_tags().set_resource_arns(Some(chunk.to_vec())).send().await;
            let res = match res {
                Ok(r) => r,
                // A resource deleted between listing and tagging: skip it.
                Err(e) if is_not_found(&e) => continue,
                Err(e) => return Err(aws_err("DescribeTags")(e)),
            };
            for d in res.tag_descriptions() {
                let tags = d.tags().iter().filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or("").to_string()))).collect();
                out.insert(d.resource_arn().unwrap_or_default().to_string(), tags);
            }
        }
        Ok(out)
    }

    /// Rules on the listener that carry Aviary's tag, with their deployment ids.
    async fn aviary_rules_impl(&self, listener_arn: &str) -> Result<Vec<(RuleSnapshot, String)>, StepError> {
        let rules: Vec<Rule> = self.raw_rules(listener_arn).await?.into_iter().filter(|r| r.is_default() != Some(true)).collect();
        let arns: Vec<String> = rules.iter().filter_map(|r| r.rule_arn().map(str::to_string)).collect();
        let tags = self.tags_of(&arns).await?;
        Ok(rules
            .into_iter()
            .filter_map(|r| {
                let t = tags.get(r.rule_arn()?)?;
                self.ours(t).map(|id| (snapshot(&r), id))
            })
            .collect())
    }

    async fn create_rule_impl(
        &self,
        listener_arn: &str,
        priority: u32,
        conditions: Vec<RuleCondition>,
        action: Action,
        tags: Vec<Tag>,
    ) -> Result<String, CreateRuleError> {
        let res = self
            .client
            .create_rule()
            .listener_arn(listener_arn)
            .priority(priority as i32)
            .set_conditions(Some(conditions))
            .actions(action)
            .set_tags(Some(tags))
            .send()
            .await;
        match res {
            Ok(out) => out
                .rules()
                .first()
                .and_then(|r| r.rule_arn())
                .map(str::to_string)
                .ok_or_else(|| CreateRuleError::Other(StepError::aws("CreateRule", false, "no rule in the response"))),
            Err(e) if code(&e) == Some("PriorityInUse") => Err(CreateRuleError::PriorityInUse),
            Err(e) => Err(CreateRuleError::Other(aws_err("CreateRule")(e))),
        }
    }

    async fn modify_rule_impl(&self, rule_arn: &str, conditions: Option<Vec<RuleCondition>>, action: Action) -> Result<(), StepError> {
        self.client
            .modify_rule()
            .rule_arn(rule_arn)
            .set_conditions(conditions)
            .actions(action)
            .send()
            .await
            .map_err(aws_err("ModifyRule"))?;
        Ok(())
    }

    async fn describe_rule_impl(&self, rule_arn: &str) -> Result<Option<RuleSnapshot>, StepError> {
        match self.client.describe_rules().rule_arns(rule_arn).send().await {
            Ok(out) => Ok(out.rules().first().map(snapshot)),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(aws_err("DescribeRules")(e)),
        }
    }

    /// Deletes a rule; already gone counts as done. Returns whether it existed.
    async fn delete_rule_impl(&self, rule_arn: &str) -> Result<bool, StepError> {
        match self.client.delete_rule().rule_arn(rule_arn).send().await {
            Ok(_) => Ok(true),
            Err(e) if is_not_found(&e) => Ok(false),
            Err(e) => Err(aws_err("DeleteRule")(e)),
        }
    }

    async fn target_group_exists_impl(&self, arn: &str) -> Result<bool, StepError> {
        match self.client.describe_target_groups().target_group_arns(arn).send().await {
            Ok(out) => Ok(!out.target_groups().is_empty()),
            Err(e) if is_not_found(&e) || code(&e) == Some("ValidationError") => Ok(false),
            Err(e) => Err(aws_err("DescribeTargetGroups")(e)),
        }
    }

    async fn target_group_by_name_impl(&self, name: &str) -> Result<Option<(String, Option<String>)>, StepError> {
        let arn = match self.client.describe_target_groups().names(name).send().await {
            Ok(out) => out.target_groups().first().and_then(|t| t.target_group_arn()).map(str::to_string),
            Err(e) if is_not_found(&e) => None,
            Err(e) => return Err(aws_err("DescribeTargetGroups")(e)),
        };
        let Some(arn) = arn else { return Ok(None) };
        let tags = self.tags_of(std::slice::from_ref(&arn)).await?;
        let owner = tags.get(&arn).and_then(|t| self.ours(t));
        Ok(Some((arn, owner)))
    }

    async fn create_target_group_impl(&self, req: &TargetGroupRequest) -> Result<String, StepError> {
        let health = &req.health_check;
        let out = self
            .client
            .create_target_group()
            .name(&req.name)
            .protocol(ProtocolEnum::Http)
            .port(i32::from(req.port))
            .vpc_id(&req.vpc_id)
            .target_type(TargetTypeEnum::Instance)
            .health_check_enabled(true)
            .health_check_protocol(ProtocolEnum::Http)
            .health_check_path(&health.path)
            .health_check_port(req.health_check_port.to_string())
            .health_check_interval_seconds(health.interval_seconds as i32)
            .health_check_timeout_seconds(health.timeout_seconds as i32)
            .healthy_threshold_count(health.healthy_threshold as i32)
            .unhealthy_threshold_count(health.unhealthy_threshold as i32)
            .matcher(Matcher::builder().http_code(&health.matcher).build())
            .set_tags(Some(self.owner_tags(&req.owner)?))
            .send()
            .await
            .map_err(aws_err("CreateTargetGroup"))?;
        out.target_groups()
            .first()
            .and_then(|t| t.target_group_arn())
            .map(str::to_string)
            .ok_or_else(|| StepError::aws("CreateTargetGroup", false, "no target group in the response"))
    }

    /// Canary target groups drain quickly: a long deregistration delay only slows teardown.
    async fn set_deregistration_delay_impl(&self, tg_arn: &str, seconds: u32) -> Result<(), StepError> {
        self.client
            .modify_target_group_attributes()
            .target_group_arn(tg_arn)
            .attributes(TargetGroupAttribute::builder().key("deregistration_delay.timeout_seconds").value(seconds.to_string()).build())
            .send()
            .await
            .map_err(aws_err("ModifyTargetGroupAttributes"))?;
        Ok(())
    }

    async fn register_impl(&self, tg_arn: &str, instance_id: &str, port: u16) -> Result<(), StepError> {
        self.client
            .register_targets()
            .target_group_arn(tg_arn)
            .targets(TargetDescription::builder().id(instance_id).port(i32::from(port)).build())
            .send()
            .await
            .map_err(aws_err("RegisterTargets"))?;
        Ok(())
    }

    /// Registered target ids of a target group.
    async fn registered_targets(&self, tg_arn: &str) -> Result<Vec<String>, StepError> {
        match self.client.describe_target_health().target_group_arn(tg_arn).send().await {
            Ok(out) => Ok(out
                .target_health_descriptions()
                .iter()
                .filter_map(|d| d.target().and_then(|t| t.id()).map(str::to_string))
                .collect()),
            Err(e) if is_not_found(&e) => Ok(vec![]),
            Err(e) => Err(aws_err("DescribeTargetHealth")(e)),
        }
    }

    async fn deregister_all_impl(&self, tg_arn: &str) -> Result<Vec<String>, StepError> {
        let ids = self.registered_targets(tg_arn).await?;
        if ids.is_empty() {
            return Ok(ids);
        }
        let targets = ids.iter().map(|id| TargetDescription::builder().id(id).build()).collect();
        match self.client.deregister_targets().target_group_arn(tg_arn).set_targets(Some(targets)).send().await {
            Ok(_) => Ok(ids),
            Err(e) if is_not_found(&e) || code(&e) == Some("InvalidTarget") => Ok(ids),
            Err(e) => Err(aws_err("DeregisterTargets")(e)),
        }
    }

    /// Deletes a target group; already gone counts as done. `ResourceInUse` (a rule still
    /// points at it) is reported as incomplete so teardown is retried.
    async fn delete_target_group_impl(&self, tg_arn: &str) -> Result<bool, StepError> {
        match self.client.delete_target_group().target_group_arn(tg_arn).send().await {
            Ok(_) => Ok(true),
            Err(e) if is_not_found(&e) => Ok(false),
            Err(e) if code(&e) == Some("ResourceInUse") => {
                Err(StepError::TeardownIncomplete(format!("target group {tg_arn} is still in use by a rule")))
            }
            Err(e) => Err(aws_err("DeleteTargetGroup")(e)),
        }
    }

    /// All target groups with Aviary's tag: (arn, deployment id, load balancer arns).
    async fn aviary_target_groups_impl(&self) -> Result<Vec<(String, String)>, StepError> {
        let mut arns = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let out = self
                .client
                .describe_target_groups()
                .set_marker(marker.clone())
                .page_size(400)
                .send()
                .await
                .map_err(aws_err("DescribeTargetGroups"))?;
            arns.extend(out.target_groups().iter().filter_map(|t| t.target_group_arn().map(str::to_string)));
            match out.next_marker() {
                Some(m) if !m.is_empty() && Some(m) != marker.as_deref() => marker = Some(m.into()),
                _ => break,
            }
        }
        let tags = self.tags_of(&arns).await?;
        Ok(arns
            .into_iter()
            .filter_map(|arn| {
                let t = tags.get(&arn)?;
                self.ours(t).map(|id| (arn, id))
            })
            .collect())
    }
}

#[async_trait]
impl TrafficRouter for AlbRouter {
    async fn listener(&self, listener_arn: &str) -> Result<Option<ListenerInfo>, StepError> {
        self.listener_impl(listener_arn).await
    }
    async fn load_balancer(&self, load_balancer_arn: &str) -> Result<LoadBalancerInfo, StepError> {
        self.load_balancer_impl(load_balancer_arn).await
    }
    async fn all_listeners(&self) -> Result<Vec<String>, StepError> {
        let mut lbs = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let out = self
                .client
                .describe_load_balancers()
                .set_marker(marker.clone())
                .page_size(400)
                .send()
                .await
                .map_err(aws_err("DescribeLoadBalancers"))?;
            // Only application load balancers have listener rules.
            lbs.extend(
                out.load_balancers()
                    .iter()
                    .filter(|l| l.r#type() == Some(&aws_sdk_elasticloadbalancingv2::types::LoadBalancerTypeEnum::Application))
                    .filter_map(|l| l.load_balancer_arn().map(str::to_string)),
            );
            match out.next_marker() {
                Some(m) if !m.is_empty() && Some(m) != marker.as_deref() => marker = Some(m.into()),
                _ => break,
            }
        }
        let mut listeners = Vec::new();
        for lb in lbs {
            let out = self.client.describe_listeners().load_balancer_arn(&lb).send().await;
            match out {
                Ok(o) => listeners.extend(o.listeners().iter().filter_map(|l| l.listener_arn().map(str::to_string))),
                // Deleted between the two calls.
                Err(e) if is_not_found(&e) => {}
                Err(e) => return Err(aws_err("DescribeListeners")(e)),
            }
        }
        Ok(listeners)
    }
    async fn rules(&self, listener_arn: &str) -> Result<Vec<RuleSnapshot>, StepError> {
        let mut v: Vec<RuleSnapshot> = self.raw_rules(listener_arn).await?.iter().map(snapshot).collect();
        v.sort_by_key(|r| r.priority_number().unwrap_or(u32::MAX));
        Ok(v)
    }
    async fn aviary_rules(&self, listener_arn: &str) -> Result<Vec<(RuleSnapshot, String)>, StepError> {
        self.aviary_rules_impl(listener_arn).await
    }
    async fn describe_rule(&self, rule_arn: &str) -> Result<Option<RuleSnapshot>, StepError> {
        self.describe_rule_impl(rule_arn).await
    }
    async fn create_rule(
        &self,
        listener_arn: &str,
        priority: u32,
        conditions: &RuleConditions,
        weights: &RuleWeights,
        stickiness: Option<&Stickiness>,
        owner: &OwnerTags,
    ) -> Result<String, CreateRuleError> {
        self.create_rule_impl(listener_arn, priority, rule_conditions(conditions), forward_action(weights, stickiness), self.owner_tags(owner)?).await
    }
    async fn modify_rule(&self, rule_arn: &str, change: &RouteChange) -> Result<(), StepError> {
        let conditions = change.conditions.as_ref().map(rule_conditions);
        self.modify_rule_impl(rule_arn, conditions, forward_action(&change.weights, change.stickiness.as_ref())).await
    }
    async fn delete_rule(&self, rule_arn: &str) -> Result<bool, StepError> {
        self.delete_rule_impl(rule_arn).await
    }
    async fn target_group_exists(&self, target_group_arn: &str) -> Result<bool, StepError> {
        self.target_group_exists_impl(target_group_arn).await
    }
    async fn target_group_by_name(&self, name: &str) -> Result<Option<(String, Option<String>)>, StepError> {
        self.target_group_by_name_impl(name).await
    }
    async fn create_target_group(&self, req: &TargetGroupRequest) -> Result<String, StepError> {
        self.create_target_group_impl(req).await
    }
    async fn set_deregistration_delay(&self, target_group_arn: &str, seconds: u32) -> Result<(), StepError> {
        self.set_deregistration_delay_impl(target_group_arn, seconds).await
    }
    async fn register(&self, target_group_arn: &str, instance_id: &str, port: u16) -> Result<(), StepError> {
        self.register_impl(target_group_arn, instance_id, port).await
    }
    async fn deregister_all(&self, target_group_arn: &str) -> Result<Vec<String>, StepError> {
        self.deregister_all_impl(target_group_arn).await
    }
    async fn delete_target_group(&self, target_group_arn: &str) -> Result<bool, StepError> {
        self.delete_target_group_impl(target_group_arn).await
    }
    async fn aviary_target_groups(&self) -> Result<Vec<(String, String)>, StepError> {
        self.aviary_target_groups_impl().await
    }
    async fn environment(&self) -> Result<Environment, StepError> {
        self.describe_environment().await
    }
}

/// Target health from the load balancer's own health checks (DescribeTargetHealth).
#[derive(Clone)]
pub struct AlbTargetHealth {
    client: Client,
}

impl AlbTargetHealth {
    pub fn new(client: Client) -> Self {
        AlbTargetHealth { client }
    }

    pub fn from_conf(config: &aws_config::SdkConfig) -> Self {
        AlbTargetHealth::new(Client::new(config))
    }
}

#[async_trait]
impl TargetHealthSource for AlbTargetHealth {
    async fn target_health(&self, target_group_arn: &str) -> Result<GroupHealth, StepError> {
        let out = self
            .client
            .describe_target_health()
            .target_group_arn(target_group_arn)
            .send()
            .await
            .map_err(aws_err("DescribeTargetHealth"))?;
        let targets = out
            .target_health_descriptions()
            .iter()
            .map(|d| TargetState {
                target_id: d.target().and_then(|t| t.id()).unwrap_or_default().into(),
                state: d.target_health().and_then(|h| h.state()).map(|s| s.as_str().to_string()).unwrap_or_else(|| "unknown".into()),
                reason: d.target_health().and_then(|h| h.reason()).map(|r| r.as_str().to_string()),
            })
            .collect();
        Ok(GroupHealth { target_group_arn: target_group_arn.into(), targets })
    }
}
