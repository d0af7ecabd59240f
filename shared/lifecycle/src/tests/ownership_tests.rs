//! Ownership, tried as a hostile caller with API access would: another principal's
//! deployment cannot be changed or destroyed, and its canary name cannot be deployed, with
//! **zero cloud mutations**; the owner and the installation's operators still can.

use aviary_core::guardrails::Guardrails;
use aviary_core::ownership::{NotOwner, Ownership};
use aviary_core::status::Status;

use crate::actor::Actor;
use crate::admission::{AdmissionOutcome, RejectMode};
use crate::destroy::{request_teardown_as, DestroyError};
use crate::testing::*;
use crate::traffic::{change_traffic_as, TrafficChange, TrafficChangeError};

const ALICE: &str = "arn:aws:iam::123456789012:user/alice";
const MALLORY: &str = "arn:aws:iam::123456789012:user/mallory";
const OPS_ROLE: &str = "arn:aws:iam::123456789012:role/aviary-ops";
const OPS_SESSION: &str = "arn:aws:sts::123456789012:assumed-role/aviary-ops/carol";

fn with_operator(w: &mut World) {
    w.set_guardrails(Guardrails { ownership: Ownership { operators: vec![OPS_ROLE.into()] }, ..World::guardrails() });
}

/// An ACTIVE deployment `id` created by `owner`.
async fn owned_active(w: &World, id: &str, owner: Option<&str>) {
    let mut d = w.active(id).await;
    d.created_by = owner.map(str::to_string);
    w.store.overwrite(d);
}

fn share(p: f64) -> TrafficChange {
    TrafficChange { traffic_percent: Some(p), ..Default::default() }
}

#[tokio::test]
async fn another_principal_can_neither_change_nor_destroy_a_deployment() {
    let mut w = World::new();
    with_operator(&mut w);
    owned_active(&w, "web-1", Some(ALICE)).await;
    let before = w.store.peek("web-1").unwrap();
    w.cloud.log.clear();

    let err = change_traffic_as(&w.ports, "web-1", &share(20.0), Actor::Caller(Some(MALLORY))).await.unwrap_err();
    assert!(matches!(err, TrafficChangeError::NotOwner(NotOwner::OwnedByAnother { .. })), "{err}");
    assert!(err.to_string().contains(ALICE), "{err}");
    let err = request_teardown_as(&w.ports, "web-1", "mine now", Actor::Caller(Some(MALLORY))).await.unwrap_err();
    assert!(matches!(err, DestroyError::NotOwner(_)), "{err}");
    let err = request_teardown_as(&w.ports, "web-1", "who am I", Actor::Caller(None)).await.unwrap_err();
    assert!(matches!(err, DestroyError::NotOwner(NotOwner::Unidentified { .. })), "{err}");
    // Nothing moved: no rule change, no workflow, the record as it was.
    assert!(w.cloud.log.cloud_mutations().is_empty(), "{:?}", w.cloud.log.cloud_mutations());
    assert_eq!(w.store.peek("web-1").unwrap(), before);

    // The owner, and any session of the operators' role, may.
    change_traffic_as(&w.ports, "web-1", &share(20.0), Actor::Caller(Some(ALICE))).await.unwrap();
    change_traffic_as(&w.ports, "web-1", &share(10.0), Actor::Caller(Some(OPS_SESSION))).await.unwrap();
    let d = request_teardown_as(&w.ports, "web-1", "done", Actor::Caller(Some(OPS_SESSION))).await.unwrap();
    assert_eq!(d.status, Status::TearingDown);
}

#[tokio::test]
async fn a_deployment_without_an_owner_is_for_operators_only() {
    let mut w = World::new();
    with_operator(&mut w);
    owned_active(&w, "web-1", None).await;
    let err = change_traffic_as(&w.ports, "web-1", &share(20.0), Actor::Caller(Some(ALICE))).await.unwrap_err();
    assert!(err.to_string().contains("only an operator"), "{err}");
    change_traffic_as(&w.ports, "web-1", &share(20.0), Actor::Caller(Some(OPS_SESSION))).await.unwrap();
    // The installation itself (cleanup, the demo) is never asked.
    crate::destroy::request_teardown(&w.ports, "web-1", "TTL expired").await.unwrap();
}

#[tokio::test]
async fn a_canary_name_belongs_to_its_first_principal() {
    let mut w = World::new();
    with_operator(&mut w);
    w.upload_artifacts("web");
    let outcome = w.admit_by("web-a", spec("web"), RejectMode::Answer, Some(ALICE)).await;
    assert!(matches!(outcome, AdmissionOutcome::Started(_)), "{outcome:?}");
    assert_eq!(w.store.peek("web-a").unwrap().created_by.as_deref(), Some(ALICE));

    // Mallory's API request for the same name: refused, nothing written, nothing started.
    w.cloud.log.clear();
    let outcome = w.admit_by("web-m", spec("web"), RejectMode::Answer, Some(MALLORY)).await;
    match outcome {
        AdmissionOutcome::NotOwner(e) => assert!(e.to_string().contains("canary name 'web' belongs to"), "{e}"),
        other => panic!("{other:?}"),
    }
    assert!(w.store.peek("web-m").is_none());
    assert!(w.cloud.log.cloud_mutations().is_empty(), "{:?}", w.cloud.log.cloud_mutations());

    // Mallory's presigned upload (S3 mode): a REJECTED record saying why, nothing created.
    let outcome = w.admit_by("web-m2", spec("web"), RejectMode::Record, Some(MALLORY)).await;
    match outcome {
        AdmissionOutcome::Rejected(d) => assert!(d.status_reason.unwrap().contains("belongs to"), "rejected"),
        other => panic!("{other:?}"),
    }
    assert!(w.cloud.log.cloud_mutations().is_empty());

    // A name of her own is fine; so is an operator deploying Alice's name.
    w.upload_artifacts("shop");
    let outcome = w.admit_by("shop-m", spec("shop"), RejectMode::Answer, Some(MALLORY)).await;
    assert!(matches!(outcome, AdmissionOutcome::Started(_)), "{outcome:?}");
    let outcome = w.admit_by("web-o", spec("web"), RejectMode::Answer, Some(OPS_SESSION)).await;
    assert!(matches!(outcome, AdmissionOutcome::Started(_)), "{outcome:?}");
    // The operator did not take the name over.
    assert_eq!(aviary_ports::DeploymentStore::name_owner(&w.store, "web").await.unwrap().as_deref(), Some(ALICE));
}

#[tokio::test]
async fn a_refused_request_claims_no_name() {
    let w = World::new();
    w.upload_artifacts("web");
    let mut bad = spec("web");
    bad.traffic_percent = 40.0; // over the production floor
    let outcome = w.admit_by("web-1", bad, RejectMode::Answer, Some(MALLORY)).await;
    assert!(matches!(outcome, AdmissionOutcome::Invalid(_)), "{outcome:?}");
    assert_eq!(aviary_ports::DeploymentStore::name_owner(&w.store, "web").await.unwrap(), None);
    let outcome = w.admit_by("web-2", spec("web"), RejectMode::Answer, Some(ALICE)).await;
    assert!(matches!(outcome, AdmissionOutcome::Started(_)), "{outcome:?}");
}

#[tokio::test]
async fn an_upload_straight_to_s3_claims_nothing_and_has_no_owner() {
    let w = World::new();
    w.upload_artifacts("web");
    let outcome = w.admit_by("web-1", spec("web"), RejectMode::Record, None).await;
    assert!(matches!(outcome, AdmissionOutcome::Started(_)), "{outcome:?}");
    assert_eq!(w.store.peek("web-1").unwrap().created_by, None);
    assert_eq!(aviary_ports::DeploymentStore::name_owner(&w.store, "web").await.unwrap(), None);
}
