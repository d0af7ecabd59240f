//! Admission: every refusal records a readable reason and creates nothing in the cloud; every
//! acceptance starts the workflow exactly once.

use aviary_core::model::Source;
use aviary_core::status::Status;
use aviary_ports::memory::{throttled, SAMPLE_LISTENER};
use aviary_ports::WorkflowKind;

use crate::admission::{admit, AdmissionOutcome, AdmissionRequest, RejectMode};
use crate::testing::*;

fn rejected_reason(o: &AdmissionOutcome) -> String {
    match o {
        AdmissionOutcome::Rejected(d) => {
            assert_eq!(d.status, Status::Rejected);
            d.status_reason.clone().unwrap_or_default()
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[tokio::test]
async fn a_valid_request_starts_the_deploy_workflow_once_and_creates_nothing_else() {
    let w = World::new();
    w.upload_artifacts("web");
    assert!(matches!(w.admit("web-1", spec("web")).await, AdmissionOutcome::Started(_)));
    assert_eq!(w.cloud.log.cloud_mutations(), ["StartExecution"]);
    // The same request again (a duplicate S3 event, a retried API call) is the same deployment.
    assert!(matches!(w.admit("web-1", spec("web")).await, AdmissionOutcome::Duplicate(_)));
    let runs = w.workflow.executions();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].kind, WorkflowKind::Deploy);
    assert_eq!(runs[0].input, serde_json::json!({"deploymentId": "web-1"}));
    let d = w.store.peek("web-1").unwrap();
    assert_eq!(d.status, Status::Pending);
    assert!(d.execution_arn.is_some());
}

#[tokio::test]
async fn a_missing_listener_is_rejected_with_its_field_and_nothing_is_created() {
    let mut w = World::new();
    w.upload_artifacts("web");
    let mut s = spec("web");
    s.listener_arn = format!("{SAMPLE_LISTENER}-gone");
    // Allowed, but deleted since: the environment check still names it.
    w.set_guardrails(aviary_core::guardrails::Guardrails { allowed_listeners: vec![s.listener_arn.clone()], ..World::guardrails() });
    let reason = rejected_reason(&w.admit("web-1", s).await);
    assert!(reason.contains("listenerArn") && reason.contains("does not exist"), "{reason}");
    assert!(w.cloud.log.cloud_mutations().is_empty());
    assert!(w.workflow.executions().is_empty());
}

#[tokio::test]
async fn bad_or_missing_artifacts_are_rejected_by_name() {
    let w = World::new();
    w.upload_artifacts("web");
    w.artifacts.insert("canaries/web/canary.tar", b"not a tarball at all".to_vec());
    w.artifacts.remove("canaries/web/compose.yml");
    let reason = rejected_reason(&w.admit("web-1", spec("web")).await);
    assert!(reason.contains("artifacts.canaryTarball"), "{reason}");
    assert!(reason.contains("artifacts.composeFile"), "{reason}");
    assert!(!reason.contains("baselineTarball"), "the baseline is fine: {reason}");
    assert!(w.cloud.log.cloud_mutations().is_empty());
}

#[tokio::test]
async fn an_explicit_priority_already_used_is_rejected() {
    let w = World::new();
    w.upload_artifacts("web");
    w.router.add_rule(SAMPLE_LISTENER, 7, &Default::default(), vec![], None);
    let mut s = spec("web");
    s.priority = Some(7);
    let reason = rejected_reason(&w.admit("web-1", s).await);
    assert!(reason.contains("priority 7 is already used"), "{reason}");
}

#[tokio::test]
async fn a_name_that_differs_from_the_prefix_is_rejected() {
    let w = World::new();
    w.upload_artifacts("web");
    let outcome = admit(
        &w.ports,
        AdmissionRequest {
            id: "api-1".into(),
            name: "api".into(),
            source: Source::Api { idempotency_key: "k".into() },
            spec: Ok(spec("web")),
            raw_spec: None,
            mode: RejectMode::Record,
            created_by: None,
        },
    )
    .await
    .unwrap();
    assert!(rejected_reason(&outcome).contains("the spec names 'web' but the canary is 'api'"));
}

#[tokio::test]
async fn api_requests_are_answered_and_never_recorded() {
    let w = World::new();
    let mut s = spec("web");
    s.listener_arn = "arn:nope".into();
    let outcome = admit(
        &w.ports,
        AdmissionRequest {
            id: "web-1".into(),
            name: "web".into(),
            source: Source::Api { idempotency_key: "k".into() },
            spec: Ok(s),
            raw_spec: None,
            mode: RejectMode::Answer,
            created_by: None,
        },
    )
    .await
    .unwrap();
    assert!(matches!(outcome, AdmissionOutcome::Invalid(ref e) if e.iter().any(|f| f.field == "listenerArn")), "{outcome:?}");
    assert!(w.store.is_empty());
}

#[tokio::test]
async fn an_unparsable_spec_is_recorded_with_its_text() {
    let w = World::new();
    let outcome = admit(
        &w.ports,
        AdmissionRequest {
            id: "web-1".into(),
            name: "web".into(),
            source: Source::S3 { bucket: BUCKET.into(), key: "canaries/web/canary.tar".into(), version: "v1".into() },
            spec: Err(vec![aviary_core::spec::FieldError::new("spec", "expected value at line 1")]),
            raw_spec: Some("{ nope".into()),
            mode: RejectMode::Record,
            created_by: None,
        },
    )
    .await
    .unwrap();
    assert!(rejected_reason(&outcome).contains("expected value"));
    assert_eq!(w.store.peek("web-1").unwrap().raw_spec.as_deref(), Some("{ nope"));
}

#[tokio::test]
async fn an_infrastructure_failure_is_an_error_that_records_nothing_so_a_retry_can_admit() {
    let w = World::new();
    w.upload_artifacts("web");
    w.cloud.faults.fail_next("GetObject", throttled("GetObject"));
    let err = admit(
        &w.ports,
        AdmissionRequest {
            id: "web-1".into(),
            name: "web".into(),
            source: Source::Api { idempotency_key: "k".into() },
            spec: Ok(spec("web")),
            raw_spec: None,
            mode: RejectMode::Record,
            created_by: None,
        },
    )
    .await
    .unwrap_err();
    assert_eq!(err.name(), "AwsTransient");
    assert!(w.store.is_empty());
    assert!(matches!(w.admit("web-1", spec("web")).await, AdmissionOutcome::Started(_)));
}

#[tokio::test]
async fn a_workflow_start_that_failed_is_redone_once_the_pending_record_is_stale() {
    let w = World::new();
    w.upload_artifacts("web");
    w.cloud.faults.fail_next("StartExecution", throttled("StartExecution"));
    assert!(w.ports.workflow.execution_status("x").await.is_ok());
    let first = admit(
        &w.ports,
        AdmissionRequest {
            id: "web-1".into(),
            name: "web".into(),
            source: Source::Api { idempotency_key: "k".into() },
            spec: Ok(spec("web")),
            raw_spec: None,
            mode: RejectMode::Record,
            created_by: None,
        },
    )
    .await;
    assert!(first.is_err());
    assert!(w.store.peek("web-1").unwrap().execution_arn.is_none());
    // A retry right away sees a fresh PENDING record: another admission may be running.
    assert!(matches!(w.admit("web-1", spec("web")).await, AdmissionOutcome::Duplicate(_)));
    w.clock.advance_secs(301);
    assert!(matches!(w.admit("web-1", spec("web")).await, AdmissionOutcome::Started(_)));
    assert_eq!(w.workflow.executions().len(), 1);
}
