//! The installation's guardrails, each tried as a hostile caller would: the forbidden thing is
//! refused with a message naming the limit and **zero cloud mutations**, and the allowed
//! thing still works. Also: two installations on one account never touch each other's
//! resources, and instances run only the artifact versions admission checked.

use aviary_core::guardrails::Guardrails;
use aviary_core::spec::{RuleConditions, RulePlacement};
use aviary_core::status::Status;
use aviary_core::steps::{DeploymentRef, ListenerRuleInput, RuleAction};
use aviary_core::traffic::WeightedTarget;
use aviary_core::StepError;
use aviary_ports::memory::{SAMPLE_LISTENER, SAMPLE_PRODUCTION_TG};

use crate::admission::AdmissionOutcome;
use crate::cleanup::{run_cleanup, CleanupOptions};
use crate::testing::*;
use crate::traffic::{change_traffic, TrafficChange, TrafficChangeError};

/// The REJECTED reason, after checking nothing was created in the cloud. Each attempt is a
/// new request (a new deployment id).
async fn refused(w: &World, spec: aviary_core::DeploymentSpec) -> String {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let id = format!("refused-{}", N.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    w.cloud.log.clear();
    let outcome = w.admit(&id, spec).await;
    // Not even a workflow start: nothing at all changed outside the deployment table.
    assert!(w.cloud.log.cloud_mutations().is_empty(), "{:?}", w.cloud.log.cloud_mutations());
    match outcome {
        AdmissionOutcome::Rejected(d) => {
            assert_eq!(d.status, Status::Rejected);
            d.status_reason.unwrap_or_default()
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
}

fn started(o: &AdmissionOutcome) -> bool {
    matches!(o, AdmissionOutcome::Started(_))
}

#[tokio::test]
async fn an_installation_that_allows_no_listener_refuses_every_deployment_and_says_how_to_allow_one() {
    let mut w = World::new();
    w.upload_artifacts("web");
    w.set_guardrails(Guardrails::default());
    let reason = refused(&w, spec("web")).await;
    assert!(reason.contains("allows no listener") && reason.contains("AllowedListenerArns"), "{reason}");
}

#[tokio::test]
async fn a_listener_outside_the_allow_list_is_refused_before_anything_is_read_or_created() {
    let w = World::new();
    w.upload_artifacts("web");
    // Another listener on the same load balancer: exists, but not allowed.
    let other = format!("{SAMPLE_LISTENER}-admin");
    w.router.add_listener(&other, aviary_ports::memory::SAMPLE_LOAD_BALANCER, vec![WeightedTarget { target_group_arn: SAMPLE_PRODUCTION_TG.into(), weight: 1 }]);
    let mut s = spec("web");
    s.listener_arn = other.clone();
    let reason = refused(&w, s).await;
    assert!(reason.contains(&format!("listener {other} is not in this installation's allowed listeners")), "{reason}");
    assert!(!w.cloud.log.all().iter().any(|op| op == "DescribeRules"), "refused before looking at the listener");
}

#[tokio::test]
async fn the_canary_rule_goes_after_every_existing_rule_and_never_ahead_without_both_opt_ins() {
    let mut w = World::new();
    w.upload_artifacts("web");
    w.router.add_rule(SAMPLE_LISTENER, 10, &RuleConditions { path_patterns: vec!["/admin/*".into()], ..Default::default() }, vec![], None);

    // An explicit priority ahead of the user's rule: refused.
    let mut ahead = spec("web");
    ahead.priority = Some(5);
    let reason = refused(&w, ahead.clone()).await;
    assert!(reason.contains("ahead of the listener's existing rules"), "{reason}");
    // The spec opts in, the installation does not: refused, naming the setting.
    ahead.rule_placement = RulePlacement::AheadOfExistingRules;
    let reason = refused(&w, ahead.clone()).await;
    assert!(reason.contains("AllowRulesAheadOfExisting"), "{reason}");
    // Both opt in: admitted, and the rule lands where asked.
    w.set_guardrails(Guardrails { allow_rules_ahead: true, ..World::guardrails() });
    assert!(started(&w.admit("web-2", ahead).await));
    w.store.peek("web-2").unwrap();
}

#[tokio::test]
async fn by_default_the_rule_lands_after_the_users_rules() {
    let w = World::new();
    w.router.add_rule(SAMPLE_LISTENER, 10, &Default::default(), vec![], None);
    w.router.add_rule(SAMPLE_LISTENER, 400, &Default::default(), vec![], None);
    let d = w.routed("web-1").await;
    assert_eq!(d.resources.rule_priority, Some(401));
}

#[tokio::test]
async fn no_free_priority_after_the_users_last_rule_is_a_rejection_not_a_jump_ahead() {
    let w = World::new();
    w.upload_artifacts("web");
    // e.g. a catch-all deny rule at the ALB's highest priority.
    w.router.add_rule(SAMPLE_LISTENER, 50_000, &Default::default(), vec![], None);
    let reason = refused(&w, spec("web")).await;
    assert!(reason.contains("no free rule priority after the listener's existing rules"), "{reason}");
}

#[tokio::test]
async fn a_rule_the_user_adds_after_admission_is_still_respected_when_the_rule_is_created() {
    let w = World::new();
    w.registered("web-1").await;
    w.router.add_rule(SAMPLE_LISTENER, 50_000, &Default::default(), vec![], None);
    w.cloud.log.clear();
    let err = crate::rule::listener_rule(&w.ports, &ListenerRuleInput { deployment_id: "web-1".into(), action: RuleAction::Create })
        .await
        .unwrap_err();
    assert!(matches!(err, StepError::PriorityExhausted(ref m) if m.contains("after the listener's existing rules")), "{err}");
    assert!(!w.cloud.log.all().iter().any(|op| op == "CreateRule"));
}

#[tokio::test]
async fn production_keeps_its_floor_at_admission_and_on_every_traffic_change() {
    let mut w = World::new();
    w.upload_artifacts("web");
    let mut greedy = spec("web");
    greedy.traffic_percent = 30.0;
    let reason = refused(&w, greedy).await;
    assert!(reason.contains("ProductionFloorPercent") && reason.contains("at most 25%"), "{reason}");

    let before = w.active("web-2").await;
    w.cloud.log.clear();
    let err = change_traffic(&w.ports, "web-2", &TrafficChange { traffic_percent: Some(25.5), ..Default::default() }).await.unwrap_err();
    assert!(matches!(err, TrafficChangeError::Invalid(ref f) if f[0].field == "trafficPercent"), "{err}");
    assert!(w.cloud.log.cloud_mutations().is_empty());
    assert_eq!(w.store.peek("web-2").unwrap().weights, before.weights);
    // At the floor exactly: allowed.
    assert!(change_traffic(&w.ports, "web-2", &TrafficChange { traffic_percent: Some(25.0), ..Default::default() }).await.is_ok());
    // A stricter installation.
    w.set_guardrails(Guardrails { production_floor_percent: 90, ..World::guardrails() });
    assert!(change_traffic(&w.ports, "web-2", &TrafficChange { traffic_percent: Some(6.0), ..Default::default() }).await.is_err());
}

#[tokio::test]
async fn production_must_be_a_target_group_the_listener_already_forwards_to() {
    let w = World::new();
    w.upload_artifacts("web");
    let elsewhere = "arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/someone-elses/3";
    w.router.add_target_group(elsewhere, "someone-elses");
    let mut s = spec("web");
    s.production_target_group_arns = vec![elsewhere.into()];
    let reason = refused(&w, s.clone()).await;
    assert!(reason.contains("is not one the listener forwards to"), "{reason}");
    // One the listener forwards to (its default action) is fine.
    s.production_target_group_arns = vec![SAMPLE_PRODUCTION_TG.into()];
    assert!(started(&w.admit("web-2", s).await));
}

#[tokio::test]
async fn cost_limits_refuse_with_the_limit_named() {
    let mut w = World::new();
    w.upload_artifacts("web");
    let mut big = spec("web");
    big.instance_type = "x2iedn.32xlarge".into();
    assert!(refused(&w, big).await.contains("AllowedInstanceTypes"));
    let mut long = spec("web");
    long.ttl_minutes = 7 * 24 * 60;
    assert!(refused(&w, long).await.contains("MaxTtlMinutes"));

    w.set_guardrails(Guardrails { max_active_deployments: 1, ..World::guardrails() });
    assert!(started(&w.admit("web-2", spec("web")).await));
    let reason = refused(&w, spec("web")).await;
    assert!(reason.contains("MaxActiveDeployments = 1"), "{reason}");
    // Once the first is gone, there is room again.
    let mut d = w.store.peek("web-2").unwrap();
    d.status = Status::Destroyed;
    d.version += 1;
    w.store.overwrite(d);
    assert!(started(&w.admit("web-3", spec("web")).await));
}

#[tokio::test]
async fn subnets_must_exist_and_be_in_the_load_balancers_network() {
    let w = World::new();
    w.upload_artifacts("web");
    w.compute.add_subnet("subnet-0e15e0e15e0e15e01", "vpc-9");
    w.compute.add_subnet("subnet-0a0a0a0a0a0a0a0a1", "vpc-1");
    let mut s = spec("web");
    s.subnet_ids = vec!["subnet-0123456789abcdef0".into(), "subnet-0e15e0e15e0e15e01".into(), "subnet-0a0a0a0a0a0a0a0a1".into()];
    let reason = refused(&w, s.clone()).await;
    assert!(reason.contains("subnetIds[0]: subnet subnet-0123456789abcdef0 does not exist"), "{reason}");
    assert!(reason.contains("subnetIds[1]: subnet subnet-0e15e0e15e0e15e01 is in vpc-9, but the load balancer is in vpc-1"), "{reason}");
    assert!(!reason.contains("subnetIds[2]"), "{reason}");
    s.subnet_ids = vec!["subnet-0a0a0a0a0a0a0a0a1".into()];
    assert!(started(&w.admit("web-2", s).await));
}

#[tokio::test]
async fn an_unreadable_guardrail_setting_refuses_instead_of_lifting_the_limit() {
    let mut w = World::new();
    w.upload_artifacts("web");
    let bad = Guardrails::from_lookup(|k| (k == aviary_core::guardrails::env::PRODUCTION_FLOOR_PERCENT).then(|| "fifty".into()));
    w.ports.settings.guardrails = bad;
    let err = crate::admission::admit(
        &w.ports,
        crate::admission::AdmissionRequest {
            id: "web-1".into(),
            name: "web".into(),
            source: aviary_core::model::Source::Api { idempotency_key: "k".into() },
            spec: Ok(spec("web")),
            raw_spec: None,
            mode: crate::admission::RejectMode::Record,
            created_by: None,
        },
    )
    .await
    .unwrap_err();
    assert!(matches!(err, StepError::Config(ref m) if m.contains("AVIARY_PRODUCTION_FLOOR_PERCENT")), "{err}");
    assert!(w.store.is_empty());
}

#[tokio::test]
async fn instances_fetch_exactly_the_versions_admission_checked() {
    let w = World::new();
    let d = w.admitted("web-1").await;
    let pinned = d.pinned_artifacts.clone().expect("admission pins the artifacts");
    // Someone replaces the canary tarball and compose file after admission.
    w.artifacts.insert("canaries/web/canary.tar", b"replaced after admission".to_vec());
    w.artifacts.insert("canaries/web/compose.yml", "services:\n  app:\n    image: evil\n    privileged: true\n");
    crate::provision::provision(&w.ports, &DeploymentRef { deployment_id: "web-1".into() }).await.expect("provision");
    let launches = w.compute.launches();
    let canary = launches.iter().find(|l| l.role == "canary").unwrap();
    let version = pinned.canary_tarball.version_id.clone().unwrap();
    assert!(canary.user_data.contains(&format!("TARBALL_VERSION='{version}'")), "{}", canary.user_data);
    assert!(canary.user_data.contains(&format!("TARBALL_SHA256='{}'", pinned.canary_tarball.sha256)));
    assert!(canary.user_data.contains(&format!("COMPOSE_VERSION='{}'", pinned.compose_file.version_id.clone().unwrap())));
    assert!(canary.user_data.contains(&format!("COMPOSE_SHA256='{}'", pinned.compose_file.sha256)));
    // The pinned digest is the checked bytes', not the replacement's.
    assert_ne!(pinned.canary_tarball.sha256, hex_sha256(b"replaced after admission"));
    assert!(canary.user_data.contains("sha256sum --check"));
}

#[tokio::test]
async fn a_record_without_pins_is_never_launched() {
    let w = World::new();
    let mut d = w.admitted("web-1").await;
    d.pinned_artifacts = None;
    d.version += 1;
    w.store.overwrite(d);
    w.cloud.log.clear();
    let err = crate::provision::provision(&w.ports, &DeploymentRef { deployment_id: "web-1".into() }).await.unwrap_err();
    assert!(err.to_string().contains("no pinned artifacts"), "{err}");
    assert!(!w.cloud.log.all().iter().any(|op| op == "RunInstances"));
}

#[tokio::test]
async fn app_instances_keep_the_instance_role_away_from_containers() {
    let w = World::new();
    w.provisioned("web-1").await;
    for l in w.compute.launches() {
        let want = if l.role == "monitor" { 2 } else { 1 };
        assert_eq!(l.metadata_hop_limit, want, "{}", l.role);
    }
}

#[tokio::test]
async fn two_installations_on_one_account_never_touch_each_others_resources() {
    let a = World::new();
    let mut b = a.second_installation("aviary-b");
    b.set_guardrails(World::guardrails());
    a.active("a-1").await;
    let rules_with_a = a.router.snapshot(SAMPLE_LISTENER);
    // B sees A's rule as just another rule on the listener: its own goes after it.
    let d = b.active("b-1").await;
    let a_priority = a.store.peek("a-1").unwrap().resources.rule_priority.unwrap();
    assert!(d.resources.rule_priority.unwrap() > a_priority);

    // Each cleanup sees only its own installation's resources: B's table knows nothing of
    // a-1, A's nothing of b-1, and neither is an orphan to the other.
    for (w, other) in [(&a, "b-1"), (&b, "a-1")] {
        w.cloud.log.clear();
        let report = run_cleanup(&w.ports, &CleanupOptions::default()).await.unwrap();
        assert!(report.for_deployment(other).next().is_none(), "{report:?}");
        assert!(w.cloud.log.cloud_mutations().is_empty(), "{:?}", w.cloud.log.cloud_mutations());
    }
    assert_eq!(a.compute.live_instances().len(), 4, "both installations' instances survive");

    // Each destroys its own; the listener ends as it began.
    for (w, id) in [(&a, "a-1"), (&b, "b-1")] {
        w.workflow.set_status(&w.store.peek(id).unwrap().execution_arn.unwrap(), "SUCCEEDED");
    }
    b.teardown("b-1").await.unwrap();
    assert_eq!(a.router.snapshot(SAMPLE_LISTENER), rules_with_a);
    a.teardown("a-1").await.unwrap();
    assert_eq!(a.router.snapshot(SAMPLE_LISTENER).len(), 1, "only the default rule is left");
}

fn hex_sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

#[tokio::test]
async fn a_compose_file_that_escapes_the_container_is_refused_naming_service_and_key() {
    let w = World::new();
    w.upload_artifacts("web");
    w.artifacts.insert(
        "canaries/web/compose.yml",
        "services:\n  app:\n    image: ${AVIARY_IMAGE}\n    privileged: true\n    volumes: ['/:/host']\n  miner:\n    image: evil/miner\n",
    );
    let reason = refused(&w, spec("web")).await;
    for wanted in ["service 'app': privileged: true", "service 'app': volumes: /", "service 'miner': image: evil/miner"] {
        assert!(reason.contains(wanted), "{wanted}: {reason}");
    }
}

#[tokio::test]
async fn a_compose_file_that_is_not_yaml_is_refused_at_admission_not_at_the_health_deadline() {
    let w = World::new();
    w.upload_artifacts("web");
    w.artifacts.insert("canaries/web/compose.yml", "services:\n  app: [unclosed\n");
    let reason = refused(&w, spec("web")).await;
    assert!(reason.contains("artifacts.composeFile: the compose file is not valid YAML: line"), "{reason}");
}

#[tokio::test]
async fn extra_images_pass_only_when_the_installation_allows_them() {
    let mut w = World::new();
    w.upload_artifacts("web");
    w.artifacts.insert("canaries/web/compose.yml", "services:\n  app:\n    image: ${AVIARY_IMAGE}\n  logs:\n    image: fluent/fluent-bit:3.1\n");
    assert!(refused(&w, spec("web")).await.contains("AllowedComposeImages"));
    w.set_guardrails(Guardrails { allowed_compose_images: vec!["fluent/fluent-bit:*".into()], ..World::guardrails() });
    assert!(started(&w.admit("web-2", spec("web")).await));
}

#[tokio::test]
async fn only_grafana_is_opened_to_the_allowed_cidr() {
    let w = World::new();
    w.upload_artifacts("web");
    let mut s = spec("web");
    s.monitoring.enabled = true;
    s.monitoring.allowed_cidr = Some("203.0.113.0/24".into());
    assert!(started(&w.admit("web-1", s).await));
    crate::provision::provision(&w.ports, &DeploymentRef { deployment_id: "web-1".into() }).await.expect("provision");
    let monitor_sg = w.store.peek("web-1").unwrap().resources.monitor_security_group_id.unwrap();
    let from_cidr: Vec<_> =
        w.compute.ingress_of(&monitor_sg).into_iter().filter(|i| matches!(i, aviary_ports::Ingress::FromCidr { .. })).collect();
    assert_eq!(from_cidr, [aviary_ports::Ingress::FromCidr { port: 3000, cidr: "203.0.113.0/24".into() }]);
}
