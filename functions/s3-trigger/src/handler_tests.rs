//! The handler over the in-memory fakes: every canary-tarball upload ends in exactly one
//! recorded outcome, whatever is wrong with it.

use aviary_core::status::Status;
use aviary_lifecycle::testing::{spec, World, BUCKET};
use aws_lambda_events::event::s3::S3Event;
use lambda_runtime::{Context, LambdaEvent};

use super::*;

fn event(key: &str, version: &str) -> LambdaEvent<S3Event> {
    let e: S3Event = serde_json::from_value(serde_json::json!({"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1", "eventTime": "2026-12-03T12:00:00.000Z",
        "eventName": "ObjectCreated:Put", "userIdentity": {"principalId": ""}, "requestParameters": {"sourceIPAddress": ""},
        "responseElements": {},
        "s3": {"s3SchemaVersion": "1.0", "configurationId": "aviary", "bucket": {"name": BUCKET, "arn": format!("arn:aws:s3:::{BUCKET}")},
               "object": {"key": key, "size": 10, "eTag": "e", "versionId": version, "sequencer": "01"}}
    }]}))
    .unwrap();
    LambdaEvent::new(e, Context::default())
}

async fn one(w: &World, key: &str, version: &str) -> RecordOutcome {
    let mut report = handler(&w.ports, event(key, version)).await.expect("only infrastructure failures are errors");
    assert_eq!(report.records.len(), 1);
    report.records.remove(0)
}

fn upload_spec(w: &World, bytes: impl Into<Vec<u8>>) {
    w.artifacts.insert("canaries/web/aviary.json", bytes);
}

#[tokio::test]
async fn a_valid_upload_starts_one_deployment() {
    let w = World::new();
    w.upload_artifacts("web");
    upload_spec(&w, serde_json::to_vec(&spec("web")).unwrap());
    let o = one(&w, "canaries/web/canary.tar", "v1").await;
    assert_eq!(o.outcome, "started", "{o:?}");
    assert_eq!(one(&w, "canaries/web/canary.tar", "v1").await.outcome, "duplicate");
    // The same bytes uploaded again are a new object version: a new deployment.
    let again = one(&w, "canaries/web/canary.tar", "v2").await;
    assert_ne!(again.deployment_id, o.deployment_id);
    // Other files of the canary are part of preparing it.
    assert_eq!(one(&w, "canaries/web/baseline.tar", "v1").await.outcome, "ignored");
}

#[tokio::test]
async fn an_oversize_spec_is_a_readable_rejection_not_an_error() {
    let w = World::new();
    w.upload_artifacts("web");
    upload_spec(&w, vec![b' '; 5 * 1024 * 1024]);
    let o = one(&w, "canaries/web/canary.tar", "v1").await;
    assert_eq!(o.outcome, "rejected");
    assert!(o.detail.contains("aviary.json is 5242880 bytes; the limit is 262144"), "{}", o.detail);
    let d = w.store.peek(o.deployment_id.as_deref().unwrap()).unwrap();
    assert_eq!(d.status, Status::Rejected);
}

#[tokio::test]
async fn unreadable_and_missing_specs_are_rejections() {
    let w = World::new();
    w.upload_artifacts("web");
    upload_spec(&w, vec![0xff, 0xfe, b'{']);
    let o = one(&w, "canaries/web/canary.tar", "v1").await;
    assert_eq!(o.outcome, "rejected", "{o:?}");
    w.artifacts.remove("canaries/web/aviary.json");
    let o = one(&w, "canaries/web/canary.tar", "v2").await;
    assert!(o.detail.contains("aviary.json is missing"), "{}", o.detail);
}

#[tokio::test]
async fn a_prefix_that_is_no_valid_name_gets_a_record_the_api_can_read() {
    let w = World::new();
    let o = one(&w, "canaries/MyApp/canary.tar", "v1").await;
    assert_eq!(o.outcome, "rejected");
    let id = o.deployment_id.unwrap();
    assert!(id.starts_with("myapp-"), "{id}");
    assert!(aviary_core::spec::is_valid_name(id.rsplit_once('-').unwrap().0));
    let d = w.store.peek(&id).unwrap();
    assert_eq!(d.status, Status::Rejected);
    assert!(d.status_reason.unwrap().contains("canaries/MyApp/ is not a valid canary name"));
    assert!(w.cloud.log.cloud_mutations().is_empty());
    // Its other files are not tarballs: nothing to record.
    assert_eq!(one(&w, "canaries/MyApp/aviary.json", "v1").await.outcome, "ignored");
}

#[tokio::test]
async fn an_infrastructure_failure_is_the_only_error() {
    let w = World::new();
    w.upload_artifacts("web");
    upload_spec(&w, serde_json::to_vec(&spec("web")).unwrap());
    w.cloud.faults.fail_next("GetObject", aviary_ports::memory::throttled("GetObject"));
    assert!(handler(&w.ports, event("canaries/web/canary.tar", "v1")).await.is_err());
}

#[tokio::test]
async fn a_presigned_upload_is_owned_by_whoever_asked_for_its_urls() {
    const ALICE: &str = "arn:aws:iam::123456789012:user/alice";
    const MALLORY: &str = "arn:aws:iam::123456789012:user/mallory";
    let w = World::new();
    w.upload_artifacts("web");
    w.artifacts.insert_by("canaries/web/aviary.json", serde_json::to_vec(&spec("web")).unwrap(), ALICE);
    let o = one(&w, "canaries/web/canary.tar", "v1").await;
    assert_eq!(o.outcome, "started", "{o:?}");
    assert_eq!(w.store.peek(o.deployment_id.as_deref().unwrap()).unwrap().created_by.as_deref(), Some(ALICE));

    // Mallory's presigned spec under Alice's name: a REJECTED record saying whose name it is.
    w.artifacts.insert_by("canaries/web/aviary.json", serde_json::to_vec(&spec("web")).unwrap(), MALLORY);
    let o = one(&w, "canaries/web/canary.tar", "v2").await;
    assert_eq!(o.outcome, "rejected", "{o:?}");
    assert!(o.detail.contains(&format!("belongs to {ALICE}")), "{}", o.detail);

    // A spec written straight to S3 (no metadata): admitted without an owner.
    upload_spec(&w, serde_json::to_vec(&spec("web")).unwrap());
    let o = one(&w, "canaries/web/canary.tar", "v3").await;
    assert_eq!(o.outcome, "started", "{o:?}");
    assert_eq!(w.store.peek(o.deployment_id.as_deref().unwrap()).unwrap().created_by, None);
}
