//! The S3 → s3-trigger pipeline on the emulator: no single upload can stall the others. Poison
//! inputs end in a recorded, readable outcome within seconds; a message that keeps failing is
//! retried, then dead-lettered, while a valid upload behind it is admitted; and re-uploading
//! identical bytes after a destroy is a new deployment (the pump supplies S3's `versionId`).

use std::time::{Duration, Instant};

use aviary_core::guardrails::env;
use aviary_core::status::Status;
use aviary_lifecycle::destroy::request_teardown;
use aviary_ports::ArtifactStore;
use aviary_tests::{harness, Harness};

/// Pumps until a record for `key` arrives; returns (outcome, deployment id).
async fn outcome_for(h: &Harness, key: &str, within: Duration) -> (String, Option<String>) {
    let start = Instant::now();
    while start.elapsed() < within {
        for o in h.rt.pump(Duration::from_millis(300)).await.expect("pump") {
            if o.key == key && o.outcome != "retry" {
                return (o.outcome, o.deployment_id);
            }
        }
    }
    panic!("no outcome for {key} within {within:?}");
}

async fn valid_upload_is_admitted(h: &Harness, name: &str) {
    h.edit_spec(|v| v["name"] = serde_json::json!(name));
    let started = Instant::now();
    let id = h.upload(name).await;
    let d = h.rt.ports.deployments().require(&id).await.unwrap();
    assert!(!d.status.is_final(), "{name}: {:?} {:?}", d.status, d.status_reason);
    assert!(started.elapsed() < Duration::from_secs(10), "{name} took {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_uploads_are_recorded_and_never_block_the_next_one() {
    let mut h = harness(None).await;
    let a = &h.rt.artifacts;

    // A 5 MB spec: REJECTED, readable, within seconds.
    a.put("canaries/big/aviary.json", vec![b' '; 5 * 1024 * 1024]).await.unwrap();
    a.put("canaries/big/canary.tar", std::fs::read(h.dir.join("canary.tar")).unwrap()).await.unwrap();
    let (outcome, id) = outcome_for(&h, "canaries/big/canary.tar", Duration::from_secs(10)).await;
    assert_eq!(outcome, "rejected");
    let d = h.rt.ports.deployments().require(&id.unwrap()).await.unwrap();
    assert!(d.status_reason.unwrap().contains("the limit is"), "oversize reason");
    valid_upload_is_admitted(&h, "after-big").await;

    // A prefix that is no valid name: a record whose id the API accepts.
    a.put("canaries/MyApp/canary.tar", std::fs::read(h.dir.join("canary.tar")).unwrap()).await.unwrap();
    let (outcome, id) = outcome_for(&h, "canaries/MyApp/canary.tar", Duration::from_secs(10)).await;
    assert_eq!(outcome, "rejected");
    let id = id.unwrap();
    assert!(id.starts_with("myapp-"), "{id}");
    assert_eq!(h.rt.ports.deployments().require(&id).await.unwrap().status, Status::Rejected);
    valid_upload_is_admitted(&h, "after-prefix").await;

    // Something on the queue that is not an S3 event at all: dead-lettered at once.
    h.rt.sqs.send_message().queue_url(&h.rt.queue_url).message_body("garbage").send().await.unwrap();
    let (outcome, _) = outcome_for(&h, "(not an S3 event)", Duration::from_secs(10)).await;
    assert_eq!(outcome, "dead-letter");
    valid_upload_is_admitted(&h, "after-garbage").await;

    // An infrastructure failure (here: an unreadable installation setting): retried, then
    // dead-lettered after MAX_RECEIVES, without stalling what comes after.
    let good = h.rt.ports.settings.clone();
    let mut broken = good.clone();
    broken.guardrails = aviary_core::guardrails::Guardrails::from_lookup(|k| (k == env::MAX_ACTIVE_DEPLOYMENTS).then(|| "many".into()));
    h.rt.set_settings(broken);
    h.edit_spec(|v| v["name"] = serde_json::json!("stuck"));
    h.rt.upload_canary("stuck", &h.dir).await.unwrap();
    let (outcome, _) = outcome_for(&h, "canaries/stuck/canary.tar", Duration::from_secs(30)).await;
    assert_eq!(outcome, "dead-letter");
    let mut dead_lettered = Vec::new();
    for _ in 0..5 {
        let out = h.rt.sqs.receive_message().queue_url(&h.rt.dead_letter_url).max_number_of_messages(10).send().await.unwrap();
        dead_lettered.extend(out.messages().iter().map(|m| m.body().unwrap_or_default().to_string()));
    }
    assert!(dead_lettered.iter().any(|b| b.contains("canaries%2Fstuck%2Fcanary.tar")), "{dead_lettered:?}");
    h.rt.set_settings(good);
    valid_upload_is_admitted(&h, "after-stuck").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_bytes_uploaded_again_after_a_destroy_are_a_new_deployment() {
    let h = harness(None).await;
    let first = h.upload("web").await;
    let d = h.rt.wait_for(&first, "ACTIVE", Duration::from_secs(60), |s| s == Status::Active || s.is_final()).await.unwrap();
    assert_eq!(d.status, Status::Active, "{:?}", d.status_reason);
    request_teardown(&h.rt.ports, &first, "test").await.unwrap();
    assert_eq!(h.wait_final(&first).await.status, Status::Destroyed);
    let second = h.upload("web").await;
    assert_ne!(second, first, "the same bytes, a new upload: a new deployment");
    let d = h.rt.wait_for(&second, "ACTIVE", Duration::from_secs(60), |s| s == Status::Active || s.is_final()).await.unwrap();
    assert_eq!(d.status, Status::Active, "{:?}", d.status_reason);
}
