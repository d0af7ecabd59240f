//! The monitor's secret: launched with its own instance profile, told where to store its
//! Grafana password; the password handed only to the owner or an operator; deleted by teardown
//! and, for orphans, by cleanup — never another installation's.

use aviary_core::guardrails::Guardrails;
use aviary_core::ownership::{NotOwner, Ownership};
use aviary_core::secrets::{self, GRAFANA_PASSWORD};
use aviary_core::status::Status;
use aviary_core::steps::DeploymentRef;

use crate::actor::Actor;
use crate::admission::AdmissionOutcome;
use crate::cleanup::{run_cleanup, CleanupOptions};
use crate::credentials::{grafana_login, CredentialsError};
use crate::testing::*;
use aviary_ports::memory::TEST_INSTALLATION;

const ALICE: &str = "arn:aws:iam::123456789012:user/alice";
const MALLORY: &str = "arn:aws:iam::123456789012:user/mallory";
const OPS: &str = "arn:aws:iam::123456789012:role/aviary-ops";

fn monitored(name: &str) -> aviary_core::DeploymentSpec {
    let mut s = spec(name);
    s.monitoring.enabled = true;
    s
}

/// A monitored deployment of `web` by ALICE, provisioned.
async fn provisioned_with_monitor(w: &World, id: &str) {
    w.upload_artifacts("web");
    let outcome = w.admit_by(id, monitored("web"), crate::admission::RejectMode::Answer, Some(ALICE)).await;
    assert!(matches!(outcome, AdmissionOutcome::Started(_)), "{outcome:?}");
    crate::provision::provision(&w.ports, &DeploymentRef { deployment_id: id.into() }).await.expect("provision");
}

#[tokio::test]
async fn the_monitor_has_its_own_profile_and_stores_its_password_under_the_deployment() {
    let w = World::new();
    provisioned_with_monitor(&w, "web-1").await;
    let launches = w.compute.launches();
    let parameter = secrets::parameter_name(TEST_INSTALLATION, "web-1", GRAFANA_PASSWORD);
    for l in &launches {
        match l.role.as_str() {
            "monitor" => {
                assert_eq!(l.instance_profile, "aviary-monitor-instance");
                assert!(l.user_data.contains(&format!("--name '{parameter}' --type SecureString")), "monitor user data");
                assert!(l.user_data.contains("--value \"file://$ROOT/secrets/grafana-admin-password\""), "never on a command line");
            }
            _ => {
                assert_eq!(l.instance_profile, "aviary-instance", "{}", l.role);
                assert!(!l.user_data.contains("ssm"), "app instances never touch SSM");
            }
        }
    }
    assert_eq!(launches.iter().filter(|l| l.role == "monitor").count(), 1);
}

#[tokio::test]
async fn a_monitor_without_its_profile_configured_launches_nothing() {
    let mut w = World::new();
    w.ports.settings.monitor_instance_profile.clear();
    w.upload_artifacts("web");
    w.admit_by("web-1", monitored("web"), crate::admission::RejectMode::Answer, Some(ALICE)).await;
    w.cloud.log.clear();
    let e = crate::provision::provision(&w.ports, &DeploymentRef { deployment_id: "web-1".into() }).await.unwrap_err();
    assert!(e.to_string().contains("AVIARY_MONITOR_INSTANCE_PROFILE"), "{e}");
    assert!(w.compute.launches().is_empty());
}

#[tokio::test]
async fn only_the_owner_or_an_operator_reads_the_grafana_login() {
    let mut w = World::new();
    w.set_guardrails(Guardrails { ownership: Ownership { operators: vec![OPS.into()] }, ..World::guardrails() });
    provisioned_with_monitor(&w, "web-1").await;

    // Not stored yet: a readable answer, not an empty password.
    let e = grafana_login(&w.ports, "web-1", Actor::Caller(Some(ALICE))).await.unwrap_err();
    assert!(matches!(&e, CredentialsError::NotStored(why) if why.contains("not stored its Grafana password yet")), "{e}");

    w.compute.put_secret("web-1", GRAFANA_PASSWORD, "s3cret-from-the-monitor");
    let e = grafana_login(&w.ports, "web-1", Actor::Caller(Some(MALLORY))).await.unwrap_err();
    assert!(matches!(e, CredentialsError::NotOwner(NotOwner::OwnedByAnother { .. })), "{e}");
    let e = grafana_login(&w.ports, "web-1", Actor::Caller(None)).await.unwrap_err();
    assert!(matches!(e, CredentialsError::NotOwner(NotOwner::Unidentified { .. })), "{e}");

    let login = grafana_login(&w.ports, "web-1", Actor::Caller(Some(ALICE))).await.unwrap();
    assert_eq!((login.username.as_str(), login.password.as_str()), ("admin", "s3cret-from-the-monitor"));
    assert!(login.url.is_some_and(|u| u.ends_with(":3000/")));
    let login = grafana_login(&w.ports, "web-1", Actor::Caller(Some("arn:aws:sts::123456789012:assumed-role/aviary-ops/carol"))).await.unwrap();
    assert_eq!(login.password, "s3cret-from-the-monitor");
    // Every read is in the event log, with who read it.
    let reads: Vec<String> = w.store.event_details("web-1").into_iter().filter(|e| e.starts_with("credentials: ")).collect();
    assert_eq!(reads.len(), 2, "{reads:?}");
    assert!(reads[0].contains(ALICE), "{reads:?}");

    assert!(matches!(grafana_login(&w.ports, "nope-1", Actor::Caller(Some(ALICE))).await, Err(CredentialsError::Step(_))));
}

#[tokio::test]
async fn a_deployment_without_monitoring_has_no_login() {
    let w = World::new();
    let mut d = w.active("web-1").await;
    d.created_by = Some(ALICE.into());
    w.store.overwrite(d);
    let e = grafana_login(&w.ports, "web-1", Actor::Caller(Some(ALICE))).await.unwrap_err();
    assert!(matches!(&e, CredentialsError::NotStored(why) if why.contains("no monitoring")), "{e}");
}

#[tokio::test]
async fn teardown_deletes_the_secret_and_cleanup_deletes_orphaned_ones_of_its_own_installation_only() {
    let w = World::new();
    provisioned_with_monitor(&w, "web-1").await;
    w.compute.put_secret("web-1", GRAFANA_PASSWORD, "pw");
    w.workflow.set_status(&w.store.peek("web-1").unwrap().execution_arn.unwrap(), "ABORTED");
    let out = w.teardown("web-1").await.unwrap();
    assert_eq!(out.status, Status::Destroyed);
    let name = secrets::parameter_name(TEST_INSTALLATION, "web-1", GRAFANA_PASSWORD);
    assert!(out.removed.contains(&format!("secret {name}")), "{:?}", out.removed);
    assert!(w.compute.secret_names().is_empty());
    // Again: nothing left, nothing to do.
    assert_eq!(w.teardown("web-1").await.unwrap().removed, Vec::<String>::new());

    // A monitor that wrote its password after teardown (a slow boot), one with no record at
    // all, and another installation's: cleanup removes the first two only.
    w.compute.put_secret("web-1", GRAFANA_PASSWORD, "late");
    w.compute.put_secret("ghost-1", GRAFANA_PASSWORD, "orphan");
    let other = w.second_installation("aviary-b");
    other.compute.put_secret("web-9", GRAFANA_PASSWORD, "not ours");
    let report = run_cleanup(&w.ports, &CleanupOptions::default()).await.unwrap();
    assert_eq!(w.compute.secret_names(), vec![secrets::parameter_name("aviary-b", "web-9", GRAFANA_PASSWORD)], "{report:?}");
}
