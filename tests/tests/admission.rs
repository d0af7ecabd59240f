//! What happens before anything is created: every kind of bad input is REJECTED with a clear
//! reason and nothing in AWS is created or modified; duplicate S3 events start one workflow;
//! concurrent canaries on one listener get distinct priorities.

use std::time::Duration;

use aviary_lifecycle::destroy::request_teardown;
use aviary_core::status::Status;
use aviary_docker_save::write::TarWriter;
use aviary_tests::harness;
use aws_lambda_events::event::s3::S3Event;

async fn expect_rejected(h: &aviary_tests::Harness, name: &str, wanted: &str) {
    let id = h.upload(name).await;
    let d = h.wait_final(&id).await;
    assert_eq!(d.status, Status::Rejected, "{name}");
    let reason = d.status_reason.unwrap_or_default();
    assert!(reason.contains(wanted), "{name}: reason {reason:?} should mention {wanted:?}");
    assert!(d.execution_arn.is_none(), "{name}: no workflow may start");
    h.assert_no_aviary_resources().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_input_is_rejected_and_nothing_is_touched() {
    let mut h = harness(None).await;
    let original_spec = std::fs::read(h.dir.join("aviary.json")).unwrap();
    let original_canary = std::fs::read(h.dir.join("canary.tar")).unwrap();
    let original_compose = std::fs::read(h.dir.join("compose.yml")).unwrap();
    let reset = |h: &aviary_tests::Harness, name: &str| {
        std::fs::write(h.dir.join("aviary.json"), &original_spec).unwrap();
        std::fs::write(h.dir.join("canary.tar"), &original_canary).unwrap();
        std::fs::write(h.dir.join("compose.yml"), &original_compose).unwrap();
        h.edit_spec(|v| v["name"] = serde_json::json!(name));
    };
    let missing_listener = format!("{}/0123456789abcdef", h.env.listener_arn.rsplit_once('/').unwrap().0);
    // Allowed but absent (deleted since it was allowed): the environment check names it.
    h.rt.allow_listener(&missing_listener);
    let foreign_listener = format!("{}/fedcba9876543210", h.env.listener_arn.rsplit_once('/').unwrap().0);

    let cases: Vec<(&str, Box<dyn Fn(&mut serde_json::Value)>, &str)> = vec![
        ("bad-share", Box::new(|v| v["trafficPercent"] = 60.into()), "trafficPercent"),
        ("bad-priority", Box::new(|v| v["priority"] = 50_001.into()), "priority"),
        ("bad-sticky", Box::new(|v| v["stickiness"]["durationSeconds"] = 604_801.into()), "stickiness.durationSeconds"),
        (
            "too-many-values",
            Box::new(|v| v["conditions"] = serde_json::json!({"pathPatterns": ["/a", "/b", "/c"], "httpMethods": ["GET", "PUT", "POST"]})),
            "an ALB rule allows at most 5",
        ),
        ("bad-method", Box::new(|v| v["conditions"] = serde_json::json!({"httpMethods": ["FETCH"]})), "conditions.httpMethods[0]"),
        ("unknown-field", Box::new(|v| v["weights"] = 3.into()), "unknown field `weights`"),
        ("no-listener", Box::new(move |v| v["listenerArn"] = missing_listener.clone().into()), "does not exist"),
        // The guardrails, each tried by a hostile spec.
        ("not-allowed", Box::new(move |v| v["listenerArn"] = foreign_listener.clone().into()), "is not in this installation's allowed listeners"),
        ("floor", Box::new(|v| v["trafficPercent"] = 40.into()), "ProductionFloorPercent"),
        ("ahead", Box::new(|v| v["priority"] = 1.into()), "ahead of the listener's existing rules"),
        ("ahead-opt-in", Box::new(|v| { v["priority"] = 1.into(); v["rulePlacement"] = "aheadOfExistingRules".into(); }), "AllowRulesAheadOfExisting"),
        ("big-instance", Box::new(|v| v["instanceType"] = "p5.48xlarge".into()), "AllowedInstanceTypes"),
        ("long-ttl", Box::new(|v| v["ttlMinutes"] = 10_080.into()), "MaxTtlMinutes"),
        ("no-subnet", Box::new(|v| v["subnetIds"] = serde_json::json!(["subnet-0123456789abcdef0"])), "subnet subnet-0123456789abcdef0 does not exist"),
        ("taken-priority", Box::new(|v| v["priority"] = 10.into()), "priority 10 is already used"),
        ("wrong-name", Box::new(|v| v["name"] = "other".into()), "the spec names 'other'"),
        ("no-compose", Box::new(|v| v["artifacts"] = serde_json::json!({"composeFile": "missing.yml"})), "missing.yml is missing"),
    ];
    for (name, edit, wanted) in cases {
        reset(&h, name);
        h.edit_spec(|v| edit(v));
        if name == "wrong-name" {
            // Upload under a prefix that disagrees with the spec's name.
            expect_rejected(&h, "wrong-name", wanted).await;
            continue;
        }
        expect_rejected(&h, name, wanted).await;
    }

    reset(&h, "malformed");
    std::fs::write(h.dir.join("aviary.json"), b"{ not json").unwrap();
    expect_rejected(&h, "malformed", "not a valid deployment spec").await;

    reset(&h, "not-a-tarball");
    std::fs::write(h.dir.join("canary.tar"), vec![7u8; 4096]).unwrap();
    expect_rejected(&h, "not-a-tarball", "canary.tar is not a docker-save image").await;

    reset(&h, "hostile-compose");
    std::fs::write(h.dir.join("compose.yml"), "services:\n  app:\n    image: ${AVIARY_IMAGE}\n    privileged: true\n    network_mode: host\n").unwrap();
    expect_rejected(&h, "hostile-compose", "service 'app': privileged: true").await;

    reset(&h, "yaml-compose");
    std::fs::write(h.dir.join("compose.yml"), "services: [unclosed\n").unwrap();
    expect_rejected(&h, "yaml-compose", "not valid YAML").await;

    reset(&h, "traversal");
    let mut w = TarWriter::new();
    w.file("../../etc/passwd", 0o644, b"root");
    std::fs::write(h.dir.join("canary.tar"), w.finish()).unwrap();
    expect_rejected(&h, "traversal", "canary.tar").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_s3_events_start_exactly_one_workflow() {
    let h = harness(None).await;
    h.rt.upload_canary("web", &h.dir).await.unwrap();
    // Catch the real notification for canary.tar from the queue, then deliver it three times
    // concurrently (at-least-once delivery).
    let mut body = None;
    for _ in 0..40 {
        let out = h.rt.sqs.receive_message().queue_url(&h.rt.queue_url).max_number_of_messages(10).wait_time_seconds(1).send().await.unwrap();
        for m in out.messages() {
            let b = m.body().unwrap_or_default().to_string();
            if b.contains("canary.tar") {
                body = Some(b);
            }
        }
        if body.is_some() {
            break;
        }
    }
    let mut v: serde_json::Value = serde_json::from_str(&body.expect("canary.tar notification")).unwrap();
    for r in v["Records"].as_array_mut().unwrap() {
        r["userIdentity"] = serde_json::json!({"principalId": ""});
        r["requestParameters"] = serde_json::json!({"sourceIPAddress": ""});
        r["responseElements"] = serde_json::json!({});
    }
    let event: S3Event = serde_json::from_value(v).unwrap();
    let (a, b, c) = tokio::join!(
        s3_trigger::handle_event(&h.rt.ports, &event),
        s3_trigger::handle_event(&h.rt.ports, &event),
        s3_trigger::handle_event(&h.rt.ports, &event),
    );
    let outcomes: Vec<String> = [a, b, c].into_iter().map(|r| r.unwrap().records[0].outcome.clone()).collect();
    assert_eq!(outcomes.iter().filter(|o| *o == "started").count(), 1, "{outcomes:?}");
    assert_eq!(outcomes.iter().filter(|o| *o == "duplicate").count(), 2, "{outcomes:?}");
    let all = h.rt.ports.deployments().list(None, 50, None).await.unwrap().items;
    assert_eq!(all.len(), 1, "one deployment record");
    let id = all[0].id.clone();
    h.rt.wait_for(&id, "ACTIVE", Duration::from_secs(60), |s| s == Status::Active).await.unwrap();
    let deploys = h.rt.sfn.executions().into_iter().filter(|e| e.name.starts_with("deploy-")).count();
    assert_eq!(deploys, 1, "exactly one deploy workflow");
    request_teardown(&h.rt.ports, &id, "done").await.unwrap();
    h.wait_final(&id).await;
    h.assert_nothing_left(&id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_concurrent_canaries_get_distinct_priorities_and_all_tear_down() {
    let h = harness(None).await;
    // Upload ten canaries under different names, then let the notifications arrive together.
    for i in 0..10 {
        let name = format!("svc{i}");
        h.edit_spec(|v| v["name"] = serde_json::json!(name));
        h.rt.upload_canary(&name, &h.dir).await.unwrap();
    }
    let mut ids = Vec::new();
    for _ in 0..60 {
        for o in h.rt.pump(Duration::from_millis(500)).await.unwrap() {
            if let Some(id) = o.deployment_id {
                ids.push(id);
            }
        }
        if ids.len() == 10 {
            break;
        }
    }
    assert_eq!(ids.len(), 10);
    let mut priorities = Vec::new();
    for id in &ids {
        let d = h.rt.wait_for(id, "ACTIVE", Duration::from_secs(120), |s| s == Status::Active || s.is_final()).await.unwrap();
        assert_eq!(d.status, Status::Active, "{id}: {:?}", d.status_reason);
        priorities.push(d.resources.rule_priority.unwrap());
    }
    let mut unique = priorities.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 10, "distinct priorities: {priorities:?}");
    assert!(!priorities.contains(&10), "the user's rule keeps its priority");
    let rules = h.rules_now().await;
    assert_eq!(rules.len(), h.rules_before.len() + 10);
    for id in &ids {
        request_teardown(&h.rt.ports, id, "done").await.unwrap();
    }
    for id in &ids {
        assert_eq!(h.wait_final(id).await.status, Status::Destroyed);
    }
    h.rt.sfn.wait_idle().await;
    for id in &ids {
        h.assert_nothing_left(id).await;
    }
}
