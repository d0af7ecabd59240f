//! Two installations on one emulator (as docs/install.md allows on one account): each has its
//! own table, bucket, queue and installation tag. Both deploy a canary on the same listener,
//! each runs its cleanup, each destroys its own; neither loses a resource to the other, and
//! the listener ends exactly as it began.

use std::time::Duration;

use aviary_core::status::Status;
use aviary_lifecycle::cleanup::{run_cleanup, CleanupOptions};
use aviary_lifecycle::destroy::request_teardown;
use aviary_local::runtime::{LocalOptions, LocalRuntime};
use aviary_local::stack::StackNames;
use aviary_tests::harness;

async fn upload_and_wait_active(rt: &LocalRuntime, dir: &std::path::Path) -> String {
    rt.upload_canary("web", dir).await.expect("upload");
    let mut id = None;
    for _ in 0..60 {
        if let Some(found) = rt.pump(Duration::from_millis(500)).await.expect("pump").into_iter().find_map(|o| o.deployment_id) {
            id = Some(found);
            break;
        }
    }
    let id = id.expect("no S3 event reached s3-trigger");
    let d = rt.wait_for(&id, "ACTIVE", Duration::from_secs(60), |s| s == Status::Active || s.is_final()).await.unwrap();
    assert_eq!(d.status, Status::Active, "{:?}", d.status_reason);
    id
}

/// The installation's own view of one deployment's resources: (instances, security groups,
/// target groups, rules).
async fn resources_of(rt: &LocalRuntime, listener: &str, id: &str) -> (usize, usize, usize, usize) {
    let instances = rt.ports.compute.instances(id, None).await.unwrap().len();
    let groups = rt.ports.compute.aviary_security_groups(Some(id)).await.unwrap().len();
    let tgs = rt.ports.router.aviary_target_groups().await.unwrap().into_iter().filter(|(_, d)| d == id).count();
    let rules = rt.ports.router.aviary_rules(listener).await.unwrap().into_iter().filter(|(_, d)| d == id).count();
    (instances, groups, tgs, rules)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_installations_on_one_emulator_never_touch_each_others_resources() {
    let a = harness(None).await;
    let names = StackNames {
        table: "aviary-b-deployments".into(),
        bucket: "aviary-b-artifacts".into(),
        queue: "aviary-b-artifact-events".into(),
        instance_profile: "aviary-b-instance".into(),
        monitor_instance_profile: "aviary-b-monitor-instance".into(),
        installation: "aviary-b".into(),
    };
    let mut b = LocalRuntime::start(LocalOptions { endpoint: Some(a.rt.moto.url.clone()), names, time_scale: 0.002, ..Default::default() })
        .await
        .expect("second installation");
    b.allow_listener(&a.env.listener_arn);
    let listener = a.env.listener_arn.clone();

    let id_a = upload_and_wait_active(&a.rt, &a.dir).await;
    let id_b = upload_and_wait_active(&b, &a.dir).await;
    let mine_a = resources_of(&a.rt, &listener, &id_a).await;
    let mine_b = resources_of(&b, &listener, &id_b).await;
    assert_eq!(mine_a, (3, 2, 2, 1), "a's instances, groups, target groups, rule");
    assert_eq!(mine_b, (3, 2, 2, 1), "b's instances, groups, target groups, rule");
    // Each sees nothing of the other's: not as its own, not as an orphan.
    assert_eq!(resources_of(&a.rt, &listener, &id_b).await, (0, 0, 0, 0));
    assert_eq!(resources_of(&b, &listener, &id_a).await, (0, 0, 0, 0));

    for (rt, other) in [(&a.rt, &id_b), (&b, &id_a)] {
        let report = run_cleanup(&rt.ports, &CleanupOptions::default()).await.expect("cleanup");
        assert!(report.actions.is_empty(), "a cleanup with nothing of its own to do did {:#?}", report.actions);
        assert!(report.for_deployment(other).next().is_none());
    }
    assert_eq!(resources_of(&a.rt, &listener, &id_a).await, mine_a, "a lost a resource to b's cleanup");
    assert_eq!(resources_of(&b, &listener, &id_b).await, mine_b, "b lost a resource to a's cleanup");

    // Each destroys its own; the other's canary keeps running until it does.
    request_teardown(&b.ports, &id_b, "test done").await.unwrap();
    let d = b.wait_for(&id_b, "DESTROYED", Duration::from_secs(120), |s| s.is_final()).await.unwrap();
    assert_eq!(d.status, Status::Destroyed);
    assert_eq!(resources_of(&a.rt, &listener, &id_a).await, mine_a);
    request_teardown(&a.rt.ports, &id_a, "test done").await.unwrap();
    assert_eq!(a.wait_final(&id_a).await.status, Status::Destroyed);
    a.assert_nothing_left(&id_a).await;
    assert_eq!(resources_of(&b, &listener, &id_b).await, (0, 0, 0, 0));
}
