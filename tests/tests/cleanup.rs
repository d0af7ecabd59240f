//! The cleanup sweep against the emulator, with the real teardown workflow: an expired canary,
//! a deployment stuck while provisioning, a teardown that gave up, and orphans found by tag
//! (on every load balancer) — while untagged production resources stay exactly as they were.
//! Every case checks the dry run first (it changes nothing) and a second sweep (it finds
//! nothing more to do).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use aviary_core::clock::{Clock, ManualClock, SystemClock};
use aviary_core::ids::{target_group_name, TAG_DEPLOYMENT_ID, TAG_INSTALLATION, TAG_MANAGED_BY, TAG_MANAGED_BY_VALUE, TAG_ROLE};

/// The installation `aviary local` runs as (`StackNames::default`).
const LOCAL_INSTALLATION: &str = "aviary-local";
use aviary_core::model::{Deployment, Source};
use aviary_core::spec::{parse_and_validate, DeploymentSpec, HealthCheck};
use aviary_core::status::Status;
use aviary_lifecycle::Ports;
use aviary_ports::{LaunchRequest, RuleSnapshot, TrafficRouter, WorkflowKind};
use aviary_tests::{harness, Harness};
use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, FixedResponseActionConfig, PathPatternConditionConfig, ProtocolEnum, RuleCondition, Tag,
    TargetTypeEnum,
};
use aviary_lifecycle::cleanup::restart::candidate_name;
use aviary_lifecycle::cleanup::{run_cleanup, ActionKind, CleanupOptions, CleanupReport};

/// Aviary's tags, as the ALB adapter writes them (for resources this test makes by hand).
fn tags(deployment_id: &str, role: &str) -> Vec<Tag> {
    vec![
        Tag::builder().key(TAG_MANAGED_BY).value(TAG_MANAGED_BY_VALUE).build(),
        Tag::builder().key(TAG_INSTALLATION).value(LOCAL_INSTALLATION).build(),
        Tag::builder().key(TAG_DEPLOYMENT_ID).value(deployment_id).build(),
        Tag::builder().key(TAG_ROLE).value(role).build(),
    ]
}

/// The load balancer, through the router port and (for what the port does not offer, such as
/// creating resources with arbitrary tags) the SDK client directly.
struct Elb {
    client: aws_sdk_elasticloadbalancingv2::Client,
    router: Arc<dyn TrafficRouter>,
}

impl Elb {
    async fn registered_targets(&self, tg: &str) -> Result<Vec<String>, aviary_core::StepError> {
        let out = self.client.describe_target_health().target_group_arn(tg).send().await.expect("DescribeTargetHealth");
        Ok(out.target_health_descriptions().iter().filter_map(|d| d.target().and_then(|t| t.id()).map(str::to_string)).collect())
    }
    async fn create_target_group(&self, name: &str, vpc: &str, port: u16, hc: &HealthCheck, _hc_port: u16, tags: Vec<Tag>) -> Result<String, aviary_core::StepError> {
        let out = self
            .client
            .create_target_group()
            .name(name)
            .protocol(ProtocolEnum::Http)
            .port(i32::from(port))
            .vpc_id(vpc)
            .target_type(TargetTypeEnum::Instance)
            .health_check_path(&hc.path)
            .set_tags(Some(tags))
            .send()
            .await
            .expect("CreateTargetGroup");
        Ok(out.target_groups()[0].target_group_arn().unwrap().to_string())
    }
    async fn rule_snapshots(&self, listener: &str) -> Result<Vec<RuleSnapshot>, aviary_core::StepError> {
        self.router.rules(listener).await
    }
    async fn describe_rule(&self, arn: &str) -> Result<Option<RuleSnapshot>, aviary_core::StepError> {
        self.router.describe_rule(arn).await
    }
    async fn delete_rule(&self, arn: &str) -> Result<bool, aviary_core::StepError> {
        self.router.delete_rule(arn).await
    }
    async fn register(&self, tg: &str, instance: &str, port: u16) -> Result<(), aviary_core::StepError> {
        self.router.register(tg, instance, port).await
    }
}

trait ElbOf {
    fn elb(&self) -> Elb;
    fn ec2_client(&self) -> aws_sdk_ec2::Client;
}

impl ElbOf for aviary_local::runtime::LocalRuntime {
    fn elb(&self) -> Elb {
        Elb { client: aws_sdk_elasticloadbalancingv2::Client::new(&self.config), router: self.ports.router.clone() }
    }
    fn ec2_client(&self) -> aws_sdk_ec2::Client {
        aws_sdk_ec2::Client::new(&self.config)
    }
}

const AMI_PARAMETER: &str = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64";

fn now() -> i64 {
    SystemClock.now_secs()
}

fn dry() -> CleanupOptions {
    CleanupOptions { dry_run: true, ..Default::default() }
}

async fn sweep(ports: &Ports, opts: &CleanupOptions) -> CleanupReport {
    let report = run_cleanup(ports, opts).await.expect("cleanup sweep");
    assert!(report.errors.is_empty(), "listing errors: {:?}", report.errors);
    report
}

/// (kind, deployment, resource, done) of every action, for whole-report comparisons.
fn summary(r: &CleanupReport) -> BTreeSet<(String, String, String, bool)> {
    r.actions
        .iter()
        .map(|a| (format!("{:?}", a.kind), a.deployment_id.clone(), a.resource.clone().unwrap_or_default(), a.done))
        .collect()
}

/// The handlers' ports, but with the clock at `secs`.
fn at(ports: &Ports, secs: i64) -> Ports {
    ports.clone().with_clock(Arc::new(ManualClock::at_secs(secs)))
}

fn spec(h: &Harness) -> DeploymentSpec {
    parse_and_validate(&std::fs::read(h.dir.join("aviary.json")).unwrap()).expect("sample spec")
}

/// A record as the lifecycle would have left it, written directly.
async fn put_record(h: &Harness, id: &str, status: Status, updated_at: i64, expires_at: i64, f: impl FnOnce(&mut Deployment)) {
    let mut d = Deployment::pending(id, "web", Source::Api { idempotency_key: id.into() }, &h.rt.names.bucket, updated_at, expires_at);
    d.spec = Some(spec(h));
    d.status = status;
    d.version = 1;
    f(&mut d);
    h.rt.ports.deployments().create(&d).await.expect("record");
}

/// Aviary-tagged resources for `id`, made the way the lifecycle makes them.
struct Made {
    target_group: String,
    instance: String,
    /// App group, then monitor group.
    security_groups: Vec<String>,
}

impl Made {
    /// What provision and register-targets would have recorded.
    fn record_in(&self, d: &mut Deployment) {
        d.resources.instance_security_group_id = Some(self.security_groups[0].clone());
        d.resources.monitor_security_group_id = Some(self.security_groups[1].clone());
        d.resources.canary_instance_id = Some(self.instance.clone());
        d.resources.canary_target_group_arn = Some(self.target_group.clone());
    }
}

async fn tagged_resources(h: &Harness, id: &str) -> Made {
    let ec2 = h.rt.ports.compute.clone();
    let elb = h.rt.elb();
    let monitor = ec2.ensure_security_group(id, "monitor", &h.env.vpc_id, "orphan test monitor").await.unwrap();
    let app = ec2.ensure_security_group(id, "app", &h.env.vpc_id, "orphan test app").await.unwrap();
    // The app group admits the monitor group, as provision does: the monitor group cannot go first.
    ec2.allow_ingress(&app, &[aviary_ports::Ingress::FromGroup { port: 8080, group_id: monitor.clone() }]).await.unwrap();
    let ami = h.rt.ports.compute.resolve_image(AMI_PARAMETER).await.unwrap();
    let instance = ec2
        .ensure_instance(&LaunchRequest {
            deployment_id: id.into(),
            role: "canary".into(),
            image_id: ami,
            instance_type: "t4g.small".into(),
            subnet_id: h.env.subnet_ids[0].clone(),
            security_group_id: app.clone(),
            instance_profile: h.rt.names.instance_profile.clone(),
            user_data: "#!/bin/sh\n".into(),
            metadata_hop_limit: 1,
        })
        .await
        .unwrap()
        .instance_id;
    let s = spec(h);
    let target_group = tagged_target_group(h, id, &tags(id, "canary")).await;
    elb.register(&target_group, &instance, s.app_port).await.unwrap();
    Made { target_group, instance, security_groups: vec![app, monitor] }
}

async fn tagged_target_group(h: &Harness, id: &str, tags: &[Tag]) -> String {
    let s = spec(h);
    h.rt.elb().create_target_group(&target_group_name(id, "canary"), &h.env.vpc_id, s.app_port, &s.health_check, s.app_port, tags.to_vec()).await.unwrap()
}

fn path_rule(path: &str) -> RuleCondition {
    RuleCondition::builder().field("path-pattern").path_pattern_config(PathPatternConditionConfig::builder().values(path).build()).build()
}

fn forward_to(tg: &str) -> Action {
    Action::builder().r#type(ActionTypeEnum::Forward).target_group_arn(tg).build()
}

fn fixed_response() -> Action {
    Action::builder()
        .r#type(ActionTypeEnum::FixedResponse)
        .fixed_response_config(FixedResponseActionConfig::builder().status_code("404").build())
        .build()
}

async fn create_rule(h: &Harness, listener: &str, priority: i32, path: &str, action: Action, tags: Option<Vec<Tag>>) -> String {
    let out = h.rt.elb().client.create_rule()
        .listener_arn(listener)
        .priority(priority)
        .conditions(path_rule(path))
        .actions(action)
        .set_tags(tags)
        .send()
        .await
        .unwrap();
    out.rules()[0].rule_arn().unwrap().to_string()
}

/// What must never change: the production target group's targets and the production
/// instances' states.
async fn production(h: &Harness) -> (Vec<String>, Vec<(String, String)>) {
    let mut targets = h.rt.elb().registered_targets(&h.env.production_target_group_arn).await.unwrap();
    targets.sort();
    (targets, instance_states(h, &h.env.production_instance_ids).await)
}

async fn instance_states(h: &Harness, ids: &[String]) -> Vec<(String, String)> {
    let out = h.rt.ec2_client().describe_instances().set_instance_ids(Some(ids.to_vec())).send().await.unwrap();
    let mut v: Vec<(String, String)> = out
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
        .map(|i| (i.instance_id().unwrap().to_string(), i.state().and_then(|s| s.name()).unwrap().as_str().to_string()))
        .collect();
    v.sort();
    v
}

async fn target_group_exists(h: &Harness, arn: &str) -> bool {
    h.rt.elb().client.describe_target_groups().target_group_arns(arn).send().await.is_ok_and(|o| !o.target_groups().is_empty())
}

async fn security_group_exists(h: &Harness, id: &str) -> bool {
    h.rt.ec2_client().describe_security_groups().group_ids(id).send().await.is_ok_and(|o| !o.security_groups().is_empty())
}

async fn assert_still_there(h: &Harness, m: &Made) {
    assert!(target_group_exists(h, &m.target_group).await, "target group {} removed", m.target_group);
    assert_eq!(instance_states(h, std::slice::from_ref(&m.instance)).await[0].1, "running");
    for g in &m.security_groups {
        assert!(security_group_exists(h, g).await, "security group {g} removed");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_canary_is_torn_down_and_the_listener_restored() {
    let h = harness(None).await;
    let id = h.upload("web").await;
    let d = h.rt.wait_for(&id, "ACTIVE", Duration::from_secs(60), |s| s == Status::Active || s.is_final()).await.unwrap();
    assert_eq!(d.status, Status::Active, "{:?}", d.status_reason);
    let prod_before = production(&h).await;

    // Before its TTL: nothing to do.
    let r = sweep(&h.rt.ports, &CleanupOptions::default()).await;
    assert!(r.actions.is_empty(), "{:#?}", r.actions);

    let later = at(&h.rt.ports, d.expires_at);
    let events_before = h.rt.events(&id).await.unwrap().len();
    let r = sweep(&later, &dry()).await;
    assert_eq!(summary(&r), BTreeSet::from([("Expired".into(), id.clone(), String::new(), false)]));
    assert!(r.actions[0].detail.starts_with("dry run"), "{}", r.actions[0].detail);
    assert_eq!(h.rt.ports.deployments().require(&id).await.unwrap().status, Status::Active, "a dry run changes nothing");
    assert_eq!(h.rules_now().await.len(), h.rules_before.len() + 1);
    assert_eq!(h.rt.events(&id).await.unwrap().len(), events_before, "a dry run writes no events");

    let r = sweep(&later, &CleanupOptions::default()).await;
    assert_eq!(summary(&r), BTreeSet::from([("Expired".into(), id.clone(), String::new(), true)]), "{:#?}", r.actions);
    let d = h.wait_final(&id).await;
    assert_eq!(d.status, Status::Destroyed);
    assert_eq!(d.status_reason.as_deref(), Some("TTL expired"));
    h.rt.sfn.wait_idle().await;
    h.assert_nothing_left(&id).await;
    assert_eq!(production(&h).await, prod_before, "production targets and instances untouched");
    let events = h.rt.events(&id).await.unwrap();
    assert!(events.iter().any(|e| e.step == "cleanup" && e.detail.contains("TTL expired")), "cleanup's event is logged");
    assert!(events.iter().any(|e| e.step == "destroy"), "teardown went through the destroy request");

    // Idempotent: a second sweep finds nothing.
    let r = sweep(&later, &CleanupOptions::default()).await;
    assert!(r.actions.is_empty(), "{:#?}", r.actions);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployment_stuck_provisioning_is_failed_and_torn_down() {
    let h = harness(None).await;
    let opts = CleanupOptions::default();
    let stuck = "web-57c4000001";
    let fresh = "web-f7e5000002";
    let made = tagged_resources(&h, stuck).await;
    put_record(&h, stuck, Status::Provisioning, now() - opts.stuck_after_secs - 60, now() + 3600, |d| made.record_in(d)).await;
    put_record(&h, fresh, Status::Provisioning, now() - 60, now() + 3600, |_| {}).await;
    let prod_before = production(&h).await;

    let r = sweep(&h.rt.ports, &dry()).await;
    assert_eq!(summary(&r), BTreeSet::from([("Stuck".into(), stuck.to_string(), String::new(), false)]), "{:#?}", r.actions);
    assert_eq!(h.rt.ports.deployments().require(stuck).await.unwrap().status, Status::Provisioning);
    assert_still_there(&h, &made).await;

    let r = sweep(&h.rt.ports, &opts).await;
    assert_eq!(summary(&r), BTreeSet::from([("Stuck".into(), stuck.to_string(), String::new(), true)]), "{:#?}", r.actions);
    let d = h.wait_final(stuck).await;
    assert_eq!(d.status, Status::Failed, "a deploy that never finished is a failure");
    assert!(d.failure_reason.clone().unwrap_or_default().contains("stuck in PROVISIONING"), "{:?}", d.failure_reason);
    h.rt.sfn.wait_idle().await;
    h.assert_nothing_left(stuck).await;
    assert_eq!(production(&h).await, prod_before);
    assert_eq!(h.rt.ports.deployments().require(fresh).await.unwrap().status, Status::Provisioning, "a recent deploy is left alone");

    let r = sweep(&h.rt.ports, &opts).await;
    assert!(r.actions.is_empty(), "{:#?}", r.actions);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_teardown_nobody_is_running_is_started_again() {
    let h = harness(None).await;
        let gave_up = "web-9a7e000003";
    let never = "web-4e7e000004";

    // A teardown execution that ended without finishing: it ran before the record existed and
    // failed (DeploymentNotFound is not retried).
    let first = h.rt.ports.workflow.start_once(WorkflowKind::Teardown, &candidate_name(gave_up, 0), &serde_json::json!({"deploymentId": gave_up})).await.unwrap();
    for _ in 0..200 {
        if h.rt.ports.workflow.execution_status(&first).await.unwrap().as_deref() != Some("RUNNING") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(h.rt.ports.workflow.execution_status(&first).await.unwrap().as_deref(), Some("FAILED"));
    let made = [tagged_resources(&h, gave_up).await, tagged_resources(&h, never).await];
    put_record(&h, gave_up, Status::TearingDown, now() - 60, now() + 3600, |d| {
        made[0].record_in(d);
        d.teardown_execution_arn = Some(first.clone());
    })
    .await;
    // And one whose teardown was requested but never started (a crash in between).
    put_record(&h, never, Status::TearingDown, now() - 60, now() + 3600, |d| made[1].record_in(d)).await;

    let r = sweep(&h.rt.ports, &dry()).await;
    let expected = |done| {
        BTreeSet::from([("Stuck".into(), gave_up.to_string(), String::new(), done), ("Stuck".into(), never.to_string(), String::new(), done)])
    };
    assert_eq!(summary(&r), expected(false), "{:#?}", r.actions);
    for m in &made {
        assert_still_there(&h, m).await;
    }

    let r = sweep(&h.rt.ports, &CleanupOptions::default()).await;
    assert_eq!(summary(&r), expected(true), "{:#?}", r.actions);
    for (id, n) in [(gave_up, 1), (never, 0)] {
        let d = h.wait_final(id).await;
        assert_eq!(d.status, Status::Destroyed, "{id}");
        assert_eq!(d.teardown_execution_arn, Some(h.rt.ports.workflow.execution_id(WorkflowKind::Teardown, &candidate_name(id, n)).unwrap()), "{id}: execution name");
        h.rt.sfn.wait_idle().await;
        h.assert_nothing_left(id).await;
    }
    assert!(h.rt.events(gave_up).await.unwrap().iter().any(|e| e.step == "cleanup" && e.detail.contains("started again")));

    let r = sweep(&h.rt.ports, &CleanupOptions::default()).await;
    assert!(r.actions.is_empty(), "{:#?}", r.actions);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orphans_are_found_by_tag_on_every_load_balancer_and_nothing_else_is_touched() {
    let h = harness(None).await;
    let elb = h.rt.elb();
    let ec2 = h.rt.ports.compute.clone();
    let store = h.rt.ports.deployments();

    // A deployment id with no record: rule, target group, instance, two security groups.
    let ghost = "web-0a0a0a0a01";
    let ghost_made = tagged_resources(&h, ghost).await;
    let ghost_rule = create_rule(&h, &h.env.listener_arn, 50, "/ghost/*", forward_to(&ghost_made.target_group), Some(tags(ghost, "rule"))).await;

    // Another load balancer, not named in any spec: a user's rule and an orphaned Aviary rule.
    let other_lb = h.rt.elb().client.create_load_balancer()
        .name("other-alb")
        .set_subnets(Some(h.env.subnet_ids.clone()))
        .send()
        .await
        .unwrap()
        .load_balancers()[0]
        .load_balancer_arn()
        .unwrap()
        .to_string();
    let other_listener = h.rt.elb().client.create_listener()
        .load_balancer_arn(&other_lb)
        .protocol(ProtocolEnum::Http)
        .port(8080)
        .default_actions(fixed_response())
        .send()
        .await
        .unwrap()
        .listeners()[0]
        .listener_arn()
        .unwrap()
        .to_string();
    create_rule(&h, &other_listener, 5, "/user/*", fixed_response(), None).await;
    let other_before = elb.rule_snapshots(&other_listener).await.unwrap();
    let lost = "web-0b0b0b0b02";
    let lost_rule = create_rule(&h, &other_listener, 7, "/lost/*", fixed_response(), Some(tags(lost, "rule"))).await;

    // A destroyed deployment with a leftover target group; a live one whose group must stay.
    let gone = "web-0c0c0c0c03";
    put_record(&h, gone, Status::Destroyed, now() - 600, now() - 300, |_| {}).await;
    let gone_tg = tagged_target_group(&h, gone, &tags(gone, "canary")).await;
    let live = "web-0d0d0d0d04";
    put_record(&h, live, Status::Active, now() - 60, now() + 3600, |_| {}).await;
    let live_tg = tagged_target_group(&h, live, &tags(live, "canary")).await;

    // Look-alikes without Aviary's ownership tag: Aviary's own naming, or only a deployment tag.
    let named_like_ours = h
        .rt
        .elb()
        .create_target_group(&target_group_name(ghost, "baseline"), &h.env.vpc_id, 8080, &spec(&h).health_check, 8080, vec![])
        .await
        .unwrap();
    let half_tagged = h.rt.elb().client.create_target_group()
        .name("half-tagged")
        .protocol(ProtocolEnum::Http)
        .port(8080)
        .vpc_id(&h.env.vpc_id)
        .target_type(TargetTypeEnum::Instance)
        .tags(Tag::builder().key(TAG_DEPLOYMENT_ID).value(ghost).build())
        .send()
        .await
        .unwrap()
        .target_groups()[0]
        .target_group_arn()
        .unwrap()
        .to_string();
    let user_sg = h
        .rt
        .ec2_client()
        .create_security_group()
        .group_name(format!("aviary-{ghost}-lookalike"))
        .description("not Aviary's")
        .vpc_id(&h.env.vpc_id)
        .send()
        .await
        .unwrap()
        .group_id()
        .unwrap()
        .to_string();

    let prod_before = production(&h).await;
    let rule = |arn: &str| format!("rule {arn}");
    let tg = |arn: &str| format!("target group {arn}");
    let expected = |done: bool| {
        let mut s = BTreeSet::from([
            ("Orphan".to_string(), ghost.to_string(), rule(&ghost_rule), done),
            ("Orphan".into(), ghost.into(), tg(&ghost_made.target_group), done),
            ("Orphan".into(), ghost.into(), format!("instance {}", ghost_made.instance), done),
            ("Orphan".into(), lost.into(), rule(&lost_rule), done),
            ("Orphan".into(), gone.into(), tg(&gone_tg), done),
        ]);
        for g in &ghost_made.security_groups {
            s.insert(("Orphan".into(), ghost.into(), format!("security group {g}"), done));
        }
        s
    };

    let r = sweep(&h.rt.ports, &dry()).await;
    assert_eq!(summary(&r), expected(false), "{:#?}", r.actions);
    assert_still_there(&h, &ghost_made).await;
    assert!(elb.describe_rule(&ghost_rule).await.unwrap().is_some() && elb.describe_rule(&lost_rule).await.unwrap().is_some());
    assert!(target_group_exists(&h, &gone_tg).await);
    assert!(h.rt.events(ghost).await.unwrap().is_empty(), "a dry run writes no events");

    let r = sweep(&h.rt.ports, &CleanupOptions::default()).await;
    assert_eq!(summary(&r), expected(true), "{:#?}", r.actions);
    // Orphans gone, by tag, everywhere.
    assert_eq!(h.rules_now().await, h.rules_before, "the production listener is back to the user's rules");
    assert_eq!(elb.rule_snapshots(&other_listener).await.unwrap(), other_before, "the other listener keeps the user's rule");
    assert!(!target_group_exists(&h, &ghost_made.target_group).await && !target_group_exists(&h, &gone_tg).await);
    assert_eq!(ec2.instances(ghost, None).await.unwrap(), vec![], "the orphan instance is terminated");
    for g in &ghost_made.security_groups {
        assert!(!security_group_exists(&h, g).await, "security group {g} left");
    }
    // Everything else exactly as it was.
    assert_eq!(production(&h).await, prod_before, "production targets and instances untouched");
    for arn in [&live_tg, &named_like_ours, &half_tagged, &h.env.production_target_group_arn] {
        assert!(target_group_exists(&h, arn).await, "{arn} must stay");
    }
    assert!(security_group_exists(&h, &user_sg).await);
    assert_eq!(store.require(live).await.unwrap().status, Status::Active);
    assert!(store.get(ghost).await.unwrap().is_none(), "no record is invented for an unknown id");
    let events = h.rt.events(ghost).await.unwrap();
    assert!(events.iter().any(|e| e.step == "cleanup" && e.detail.contains(&ghost_rule)), "{events:#?}");
    assert!(events.iter().any(|e| e.step == "cleanup" && e.detail.starts_with("orphaned resources removed")), "{events:#?}");

    let r = sweep(&h.rt.ports, &CleanupOptions::default()).await;
    assert!(r.actions.is_empty(), "a second sweep finds nothing: {:#?}", r.actions);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_orphan_group_a_user_rule_still_forwards_to_is_left_alone() {
    let h = harness(None).await;
    let ghost = "web-0e0e0e0e05";
    let made = tagged_resources(&h, ghost).await;
    // The user pointed a rule of their own at the orphaned group: it carries their traffic.
    let user_rule = h.rt.elb().client.create_rule()
        .listener_arn(&h.env.listener_arn)
        .priority(20)
        .conditions(path_rule("/beta/*"))
        .actions(forward_to(&made.target_group))
        .send()
        .await
        .unwrap()
        .rules()[0]
        .rule_arn()
        .unwrap()
        .to_string();
    let rules_with_user_rule = h.rules_now().await;

    let r = sweep(&h.rt.ports, &CleanupOptions::default()).await;
    assert!(!r.actions.is_empty() && r.actions.iter().all(|a| a.kind == ActionKind::Orphan && !a.done), "{:#?}", r.actions);
    assert!(r.actions.iter().all(|a| a.detail.contains(&user_rule)), "the report names the rule in the way: {:#?}", r.actions);
    assert_still_there(&h, &made).await;
    assert_eq!(h.rt.elb().registered_targets(&made.target_group).await.unwrap(), vec![made.instance.clone()], "not even deregistered");
    assert_eq!(h.rules_now().await, rules_with_user_rule);

    // Once the user's rule is gone, the next sweep removes everything.
    h.rt.elb().delete_rule(&user_rule).await.unwrap();
    let r = sweep(&h.rt.ports, &CleanupOptions::default()).await;
    assert!(r.actions.len() == 4 && r.actions.iter().all(|a| a.done), "{:#?}", r.actions);
    h.assert_nothing_left(ghost).await;
}
