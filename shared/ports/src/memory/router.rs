//! A listener, its rules and target groups in memory, with ALB's rules: one rule per priority
//! (`PriorityInUse`), a target group used by a rule cannot be deleted (`ResourceInUse`), and
//! every Aviary resource carries its owner's tags. Like the ALB adapter, a `MemoryRouter`
//! belongs to one installation and reports as Aviary's only what carries its installation;
//! [`MemoryRouter::for_installation`] gives a second installation's view of the same
//! load balancers. Also a settable health source.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use aviary_core::spec::{RuleConditions, Stickiness};
use aviary_core::steps::{GroupHealth, TargetState};
use aviary_core::traffic::{RuleWeights, WeightedTarget};
use aviary_core::StepError;

use super::Cloud;
use crate::environment::{Environment, ListenerView, LoadBalancerView, RuleView, TargetGroupView};
use crate::router::{
    describe_conditions, CreateRuleError, ListenerInfo, LoadBalancerInfo, RouteChange, RuleSnapshot, TargetGroupRequest,
    TargetHealthSource, TrafficRouter,
};
use crate::OwnerTags;

/// Aviary's tags on a resource: the installation that created it, and the owner.
#[derive(Debug, Clone)]
struct Owned {
    installation: String,
    tags: OwnerTags,
}

#[derive(Debug, Clone)]
struct Rule {
    snapshot: RuleSnapshot,
    owner: Option<Owned>,
}

#[derive(Debug, Clone)]
struct Group {
    name: String,
    owner: Option<Owned>,
    targets: Vec<String>,
    deregistration_delay: Option<u32>,
}

#[derive(Default)]
struct State {
    listeners: BTreeMap<String, ListenerInfo>,
    load_balancers: BTreeMap<String, LoadBalancerInfo>,
    rules: BTreeMap<String, Vec<Rule>>,
    groups: BTreeMap<String, Group>,
    next: u32,
    /// Priorities another writer takes just before our next CreateRule (a race lost).
    steal: Vec<u32>,
}

#[derive(Clone)]
pub struct MemoryRouter {
    state: Arc<Mutex<State>>,
    installation: String,
    pub cloud: Cloud,
}

/// The sample production environment [`MemoryRouter::with_sample`] builds.
pub const SAMPLE_LISTENER: &str = "arn:aws:elasticloadbalancing:us-east-1:000000000000:listener/app/prod/1/1";
pub const SAMPLE_LOAD_BALANCER: &str = "arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/app/prod/1";
pub const SAMPLE_PRODUCTION_TG: &str = "arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/prod/1";

impl MemoryRouter {
    pub fn new(cloud: Cloud) -> Self {
        MemoryRouter { state: Arc::default(), installation: super::TEST_INSTALLATION.into(), cloud }
    }

    /// Another installation's view of the same load balancers.
    pub fn for_installation(&self, installation: &str) -> Self {
        MemoryRouter { installation: installation.into(), ..self.clone() }
    }

    fn owned(&self, tags: &OwnerTags) -> Owned {
        Owned { installation: self.installation.clone(), tags: tags.clone() }
    }

    /// The deployment id, when this installation created the resource.
    fn ours(&self, owner: &Option<Owned>) -> Option<String> {
        owner.as_ref().filter(|o| o.installation == self.installation).map(|o| o.tags.deployment_id.clone())
    }

    /// A router holding one load balancer whose listener forwards to one production group.
    pub fn with_sample(cloud: Cloud) -> Self {
        let r = MemoryRouter::new(cloud);
        r.add_load_balancer(
            SAMPLE_LOAD_BALANCER,
            LoadBalancerInfo {
                vpc_id: "vpc-1".into(),
                subnet_ids: vec!["subnet-a".into(), "subnet-b".into()],
                security_group_ids: vec!["sg-alb".into()],
                dns_name: "prod.example".into(),
            },
        );
        r.add_target_group(SAMPLE_PRODUCTION_TG, "prod");
        r.add_listener(SAMPLE_LISTENER, SAMPLE_LOAD_BALANCER, vec![WeightedTarget { target_group_arn: SAMPLE_PRODUCTION_TG.into(), weight: 1 }]);
        r
    }

    pub fn add_load_balancer(&self, arn: &str, info: LoadBalancerInfo) {
        self.state.lock().unwrap().load_balancers.insert(arn.into(), info);
    }

    pub fn add_listener(&self, arn: &str, load_balancer_arn: &str, default_forward: Vec<WeightedTarget>) {
        let mut s = self.state.lock().unwrap();
        s.listeners.insert(arn.into(), ListenerInfo { listener_arn: arn.into(), load_balancer_arn: load_balancer_arn.into(), default_forward: default_forward.clone() });
        s.rules.insert(
            arn.into(),
            vec![Rule {
                snapshot: RuleSnapshot {
                    rule_arn: format!("{arn}/default"),
                    priority: "default".into(),
                    conditions: vec![],
                    forward: default_forward,
                    stickiness_seconds: None,
                    other_actions: vec![],
                },
                owner: None,
            }],
        );
    }

    /// A target group nobody tagged (production, or a user's own).
    pub fn add_target_group(&self, arn: &str, name: &str) {
        self.state.lock().unwrap().groups.insert(arn.into(), Group { name: name.into(), owner: None, targets: vec![], deregistration_delay: None });
    }

    /// A rule of the user's (or, with `owner`, one carrying Aviary's tags).
    pub fn add_rule(&self, listener_arn: &str, priority: u32, conditions: &RuleConditions, forward: Vec<WeightedTarget>, owner: Option<OwnerTags>) -> String {
        let mut s = self.state.lock().unwrap();
        s.next += 1;
        let arn = format!("{listener_arn}/rule/{}", s.next);
        let snapshot = RuleSnapshot {
            rule_arn: arn.clone(),
            priority: priority.to_string(),
            conditions: describe_conditions(conditions),
            forward,
            stickiness_seconds: None,
            other_actions: vec![],
        };
        let owner = owner.map(|o| self.owned(&o));
        s.rules.entry(listener_arn.into()).or_default().push(Rule { snapshot, owner });
        arn
    }

    /// The next CreateRule at `priority` loses the race: another writer takes it first.
    pub fn steal_priority(&self, priority: u32) {
        self.state.lock().unwrap().steal.push(priority);
    }

    /// The listener's rules, sorted as the router evaluates them (default last).
    pub fn snapshot(&self, listener_arn: &str) -> Vec<RuleSnapshot> {
        let s = self.state.lock().unwrap();
        let mut v: Vec<RuleSnapshot> = s.rules.get(listener_arn).map(|r| r.iter().map(|r| r.snapshot.clone()).collect()).unwrap_or_default();
        v.sort_by_key(|r| r.priority_number().unwrap_or(u32::MAX));
        v
    }

    /// Target groups: (arn, name, deployment id tag, registered targets).
    pub fn target_groups(&self) -> Vec<(String, String, Option<String>, Vec<String>)> {
        let s = self.state.lock().unwrap();
        s.groups.iter().map(|(arn, g)| (arn.clone(), g.name.clone(), g.owner.as_ref().map(|o| o.tags.deployment_id.clone()), g.targets.clone())).collect()
    }

    pub fn deregistration_delay(&self, arn: &str) -> Option<u32> {
        self.state.lock().unwrap().groups.get(arn).and_then(|g| g.deregistration_delay)
    }

    fn find_rule<'a>(s: &'a mut State, rule_arn: &str) -> Option<&'a mut Rule> {
        s.rules.values_mut().flat_map(|v| v.iter_mut()).find(|r| r.snapshot.rule_arn == rule_arn)
    }
}

fn not_found(op: &str, what: &str) -> StepError {
    StepError::aws(op, false, format!("{what} not found"))
}

#[async_trait]
impl TrafficRouter for MemoryRouter {
    async fn listener(&self, listener_arn: &str) -> Result<Option<ListenerInfo>, StepError> {
        self.cloud.faults.check(&self.cloud.log, "DescribeListeners")?;
        Ok(self.state.lock().unwrap().listeners.get(listener_arn).cloned())
    }

    async fn load_balancer(&self, load_balancer_arn: &str) -> Result<LoadBalancerInfo, StepError> {
        self.cloud.faults.check(&self.cloud.log, "DescribeLoadBalancers")?;
        self.state
            .lock()
            .unwrap()
            .load_balancers
            .get(load_balancer_arn)
            .cloned()
            .ok_or_else(|| StepError::Environment(format!("load balancer {load_balancer_arn} not found")))
    }

    async fn all_listeners(&self) -> Result<Vec<String>, StepError> {
        self.cloud.faults.check(&self.cloud.log, "DescribeListeners")?;
        Ok(self.state.lock().unwrap().listeners.keys().cloned().collect())
    }

    async fn rules(&self, listener_arn: &str) -> Result<Vec<RuleSnapshot>, StepError> {
        self.cloud.faults.check(&self.cloud.log, "DescribeRules")?;
        if !self.state.lock().unwrap().listeners.contains_key(listener_arn) {
            return Err(not_found("DescribeRules", "ListenerNotFound: listener"));
        }
        Ok(self.snapshot(listener_arn))
    }

    async fn aviary_rules(&self, listener_arn: &str) -> Result<Vec<(RuleSnapshot, String)>, StepError> {
        self.cloud.faults.check(&self.cloud.log, "DescribeRules")?;
        let s = self.state.lock().unwrap();
        Ok(s.rules
            .get(listener_arn)
            .map(|v| v.iter().filter_map(|r| Some((r.snapshot.clone(), self.ours(&r.owner)?))).collect())
            .unwrap_or_default())
    }

    async fn describe_rule(&self, rule_arn: &str) -> Result<Option<RuleSnapshot>, StepError> {
        self.cloud.faults.check(&self.cloud.log, "DescribeRules")?;
        let mut s = self.state.lock().unwrap();
        Ok(MemoryRouter::find_rule(&mut s, rule_arn).map(|r| r.snapshot.clone()))
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
        self.cloud.faults.check(&self.cloud.log, "CreateRule")?;
        let stolen = {
            let mut s = self.state.lock().unwrap();
            let stolen = s.steal.iter().position(|p| *p == priority);
            stolen.map(|i| s.steal.remove(i))
        };
        if let Some(p) = stolen {
            self.add_rule(listener_arn, p, &RuleConditions::default(), vec![], None);
            return Err(CreateRuleError::PriorityInUse);
        }
        let mut s = self.state.lock().unwrap();
        let Some(rules) = s.rules.get(listener_arn) else {
            return Err(not_found("CreateRule", "ListenerNotFound: listener").into());
        };
        if rules.iter().any(|r| r.snapshot.priority_number() == Some(priority)) {
            return Err(CreateRuleError::PriorityInUse);
        }
        let forward = weights.all();
        for t in &forward {
            if !s.groups.contains_key(&t.target_group_arn) {
                return Err(StepError::aws("CreateRule", false, format!("TargetGroupNotFound: {}", t.target_group_arn)).into());
            }
        }
        s.next += 1;
        let arn = format!("{listener_arn}/rule/{}", s.next);
        let snapshot = RuleSnapshot {
            rule_arn: arn.clone(),
            priority: priority.to_string(),
            conditions: describe_conditions(conditions),
            forward,
            stickiness_seconds: stickiness.filter(|s| s.enabled).map(|s| s.duration_seconds as i32),
            other_actions: vec![],
        };
        s.rules.get_mut(listener_arn).expect("checked above").push(Rule { snapshot, owner: Some(self.owned(owner)) });
        Ok(arn)
    }

    async fn modify_rule(&self, rule_arn: &str, change: &RouteChange) -> Result<(), StepError> {
        self.cloud.faults.check(&self.cloud.log, "ModifyRule")?;
        let mut s = self.state.lock().unwrap();
        let rule = MemoryRouter::find_rule(&mut s, rule_arn).ok_or_else(|| not_found("ModifyRule", "RuleNotFound: rule"))?;
        rule.snapshot.forward = change.weights.all();
        rule.snapshot.stickiness_seconds = change.stickiness.as_ref().filter(|s| s.enabled).map(|s| s.duration_seconds as i32);
        if let Some(c) = &change.conditions {
            rule.snapshot.conditions = describe_conditions(c);
        }
        Ok(())
    }

    async fn delete_rule(&self, rule_arn: &str) -> Result<bool, StepError> {
        self.cloud.faults.check(&self.cloud.log, "DeleteRule")?;
        let mut s = self.state.lock().unwrap();
        for rules in s.rules.values_mut() {
            if let Some(i) = rules.iter().position(|r| r.snapshot.rule_arn == rule_arn) {
                rules.remove(i);
                return Ok(true);
            }
        }
        Ok(false)
    }

    async fn target_group_exists(&self, target_group_arn: &str) -> Result<bool, StepError> {
        self.cloud.faults.check(&self.cloud.log, "DescribeTargetGroups")?;
        Ok(self.state.lock().unwrap().groups.contains_key(target_group_arn))
    }

    async fn target_group_by_name(&self, name: &str) -> Result<Option<(String, Option<String>)>, StepError> {
        self.cloud.faults.check(&self.cloud.log, "DescribeTargetGroups")?;
        let s = self.state.lock().unwrap();
        Ok(s.groups.iter().find(|(_, g)| g.name == name).map(|(arn, g)| (arn.clone(), self.ours(&g.owner))))
    }

    async fn create_target_group(&self, req: &TargetGroupRequest) -> Result<String, StepError> {
        self.cloud.faults.check(&self.cloud.log, "CreateTargetGroup")?;
        let mut s = self.state.lock().unwrap();
        if s.groups.values().any(|g| g.name == req.name) {
            return Err(StepError::aws("CreateTargetGroup", false, format!("DuplicateTargetGroupName: {}", req.name)));
        }
        s.next += 1;
        let arn = format!("arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/{}/{}", req.name, s.next);
        s.groups.insert(arn.clone(), Group { name: req.name.clone(), owner: Some(self.owned(&req.owner)), targets: vec![], deregistration_delay: None });
        Ok(arn)
    }

    async fn set_deregistration_delay(&self, target_group_arn: &str, seconds: u32) -> Result<(), StepError> {
        self.cloud.faults.check(&self.cloud.log, "ModifyTargetGroupAttributes")?;
        let mut s = self.state.lock().unwrap();
        let g = s.groups.get_mut(target_group_arn).ok_or_else(|| not_found("ModifyTargetGroupAttributes", "TargetGroupNotFound"))?;
        g.deregistration_delay = Some(seconds);
        Ok(())
    }

    async fn register(&self, target_group_arn: &str, instance_id: &str, _port: u16) -> Result<(), StepError> {
        self.cloud.faults.check(&self.cloud.log, "RegisterTargets")?;
        let mut s = self.state.lock().unwrap();
        let g = s.groups.get_mut(target_group_arn).ok_or_else(|| not_found("RegisterTargets", "TargetGroupNotFound"))?;
        if !g.targets.iter().any(|t| t == instance_id) {
            g.targets.push(instance_id.into());
        }
        Ok(())
    }

    async fn deregister_all(&self, target_group_arn: &str) -> Result<Vec<String>, StepError> {
        self.cloud.faults.check(&self.cloud.log, "DeregisterTargets")?;
        let mut s = self.state.lock().unwrap();
        Ok(s.groups.get_mut(target_group_arn).map(|g| std::mem::take(&mut g.targets)).unwrap_or_default())
    }

    async fn delete_target_group(&self, target_group_arn: &str) -> Result<bool, StepError> {
        self.cloud.faults.check(&self.cloud.log, "DeleteTargetGroup")?;
        let mut s = self.state.lock().unwrap();
        if !s.groups.contains_key(target_group_arn) {
            return Ok(false);
        }
        let in_use = s.rules.values().flatten().any(|r| r.snapshot.forward.iter().any(|t| t.target_group_arn == target_group_arn));
        if in_use {
            return Err(StepError::TeardownIncomplete(format!("target group {target_group_arn} is still in use by a rule")));
        }
        s.groups.remove(target_group_arn);
        Ok(true)
    }

    async fn aviary_target_groups(&self) -> Result<Vec<(String, String)>, StepError> {
        self.cloud.faults.check(&self.cloud.log, "DescribeTargetGroups")?;
        let s = self.state.lock().unwrap();
        Ok(s.groups.iter().filter_map(|(arn, g)| Some((arn.clone(), self.ours(&g.owner)?))).collect())
    }

    async fn environment(&self) -> Result<Environment, StepError> {
        self.cloud.faults.check(&self.cloud.log, "DescribeLoadBalancers")?;
        let s = self.state.lock().unwrap();
        let load_balancers = s
            .load_balancers
            .iter()
            .map(|(lb_arn, lb)| LoadBalancerView {
                load_balancer_arn: lb_arn.clone(),
                name: lb_arn.rsplit('/').nth(1).unwrap_or_default().into(),
                dns_name: lb.dns_name.clone(),
                scheme: "internet-facing".into(),
                vpc_id: lb.vpc_id.clone(),
                state: "active".into(),
                listeners: s
                    .listeners
                    .values()
                    .filter(|l| &l.load_balancer_arn == lb_arn)
                    .map(|l| ListenerView {
                        listener_arn: l.listener_arn.clone(),
                        port: 80,
                        protocol: "HTTP".into(),
                        default_forward: l.default_forward.clone(),
                        rules: s.rules.get(&l.listener_arn).into_iter().flatten().map(|r| RuleView {
                            rule: r.snapshot.clone(),
                            is_default: r.snapshot.priority == "default",
                            aviary_deployment_id: self.ours(&r.owner),
                        }).collect(),
                    })
                    .collect(),
            })
            .collect();
        let target_groups = s
            .groups
            .iter()
            .map(|(arn, g)| TargetGroupView {
                target_group_arn: arn.clone(),
                name: g.name.clone(),
                protocol: "HTTP".into(),
                port: 80,
                vpc_id: "vpc-1".into(),
                target_type: "instance".into(),
                health_check_path: None,
                load_balancer_arns: vec![],
                aviary_deployment_id: self.ours(&g.owner),
            })
            .collect();
        Ok(Environment { load_balancers, target_groups })
    }
}

/// Target health as the test sets it: every group reports its registered targets (from the
/// router) in the state set for the group, `healthy` unless told otherwise.
#[derive(Clone)]
pub struct MemoryHealth {
    router: MemoryRouter,
    states: Arc<Mutex<BTreeMap<String, String>>>,
    pub cloud: Cloud,
}

impl MemoryHealth {
    pub fn new(router: MemoryRouter) -> Self {
        let cloud = router.cloud.clone();
        MemoryHealth { router, states: Arc::default(), cloud }
    }
    pub fn set(&self, target_group_arn: &str, state: &str) {
        self.states.lock().unwrap().insert(target_group_arn.into(), state.into());
    }
    /// Every group not set explicitly reports `state`.
    pub fn set_all(&self, state: &str) {
        self.states.lock().unwrap().insert(String::new(), state.into());
    }
}

#[async_trait]
impl TargetHealthSource for MemoryHealth {
    async fn target_health(&self, target_group_arn: &str) -> Result<GroupHealth, StepError> {
        self.cloud.faults.check(&self.cloud.log, "DescribeTargetHealth")?;
        let states = self.states.lock().unwrap().clone();
        let state = states.get(target_group_arn).or_else(|| states.get("")).cloned().unwrap_or_else(|| "healthy".into());
        let targets = self
            .router
            .target_groups()
            .into_iter()
            .find(|(arn, ..)| arn == target_group_arn)
            .map(|(_, _, _, t)| t)
            .unwrap_or_default()
            .into_iter()
            .map(|id| TargetState { target_id: id, state: state.clone(), reason: None })
            .collect();
        Ok(GroupHealth { target_group_arn: target_group_arn.into(), targets })
    }
}
