//! Real requests through the emulated listener: the data plane's front routes by the rules
//! stored in the emulator to `aviary-sample-app` processes standing in for the instances, and
//! its health checks are what the workflow's check-health reads. Needs
//! `target/debug/aviary-sample-app` (scripts/test.sh and scripts/demo.sh build it).

use std::sync::Arc;
use std::time::Duration;

use aviary_core::clock::SystemClock;
use aviary_core::status::Status;
use aviary_lifecycle::destroy::request_teardown;
use aviary_local::dataplane::front::{DataPlane, Fault, SampleApp};
use aviary_tests::harness;

async fn send(client: &reqwest::Client, url: &str, method: reqwest::Method, cookie: Option<&str>) -> (String, Option<String>) {
    let mut r = client.request(method, format!("{url}/"));
    if let Some(c) = cookie {
        r = r.header("cookie", c);
    }
    let a = r.send().await.expect("the front answers");
    let group = a.headers().get("x-aviary-target-group").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    let set = a.headers().get("set-cookie").map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string());
    (group, set)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_cross_the_canary_rule_by_its_weights_conditions_and_stickiness() {
    let mut h = harness(None).await;
    // No simulated work: this test is about where requests go, 2,000 of them one after another.
    let app = SampleApp::built().with_work_ms(0);
    assert!(app.path.is_file(), "{} is missing: run `cargo build -p aviary-sample-app` first", app.path.display());
    let dp = Arc::new(DataPlane::start(&h.rt.config, &h.env.listener_arn, app, Fault::None, None).await.expect("data plane"));
    h.rt.set_health_and_clock(dp.clone(), Arc::new(SystemClock));
    let client = reqwest::Client::new();

    // Before the canary: everything goes to production.
    for _ in 0..20 {
        assert_eq!(send(&client, &dp.url, reqwest::Method::GET, None).await.0, "prod-web");
    }

    let id = h.upload("web").await;
    let d = h.rt.wait_for(&id, "ACTIVE", Duration::from_secs(60), |s| s == Status::Active || s.is_final()).await.unwrap();
    assert_eq!(d.status, Status::Active, "{:?}", d.status_reason);
    dp.refresh_now().await.unwrap();
    let roles: Vec<String> = dp.processes().into_iter().map(|(_, role, _, healthy)| {
        assert_eq!(healthy, Some(true));
        role
    }).collect();
    assert!(roles.contains(&"baseline".to_string()) && roles.contains(&"canary".to_string()), "{roles:?}");
    let names = |arn: &Option<String>| arn.as_deref().unwrap().split(":targetgroup/").nth(1).unwrap().split('/').next().unwrap().to_string();
    let (baseline, canary) = (names(&d.resources.baseline_target_group_arn), names(&d.resources.canary_target_group_arn));

    // The sample rule matches GET and HEAD with 5% / 5% / 90% and sticky sessions: new clients
    // (no cookie) spread by weight.
    let mut counts = std::collections::HashMap::<String, u32>::new();
    let n = 2000;
    for _ in 0..n {
        let (g, set) = send(&client, &dp.url, reqwest::Method::GET, None).await;
        assert!(set.is_some(), "a sticky rule sets its cookie on a new client");
        *counts.entry(g).or_default() += 1;
    }
    let share = |g: &str| f64::from(counts.get(g).copied().unwrap_or(0)) * 100.0 / f64::from(n);
    assert!((share(&canary) - 5.0).abs() < 2.0 && (share(&baseline) - 5.0).abs() < 2.0 && (share("prod-web") - 90.0).abs() < 3.0, "{counts:?}");
    // A request the rule's conditions do not match never reaches baseline or canary.
    for _ in 0..200 {
        assert_eq!(send(&client, &dp.url, reqwest::Method::POST, None).await.0, "prod-web");
    }
    // A sticky client stays on its group.
    let cookie = format!("AWSALBTG={canary}");
    for _ in 0..50 {
        assert_eq!(send(&client, &dp.url, reqwest::Method::GET, Some(&cookie)).await.0, canary);
    }
    let stats = dp.stats();
    assert!(stats[&canary].requests >= 50 && stats[&canary].errors_5xx == 0, "{stats:?}");

    // Teardown: the rule goes first; from then on everything is production's again.
    request_teardown(&h.rt.ports, &id, "test done").await.unwrap();
    let d = h.wait_final(&id).await;
    assert_eq!(d.status, Status::Destroyed);
    dp.refresh_now().await.unwrap();
    for _ in 0..50 {
        assert_eq!(send(&client, &dp.url, reqwest::Method::GET, Some(&cookie)).await.0, "prod-web", "the canary's cookie no longer sticks");
    }
    assert!(dp.processes().iter().all(|(_, role, _, _)| role == "production"), "baseline and canary processes stopped: {:?}", dp.processes());
    h.assert_nothing_left(&id).await;
}

/// A canary whose process fails its health check (`/health` answers 503): check-health reads
/// the data plane's checks, so the canary never takes traffic, and at the deadline the
/// deployment is FAILED and torn down with the listener restored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_canary_failing_its_health_check_ends_failed_and_is_torn_down() {
    let mut h = harness(None).await;
    let dp = Arc::new(DataPlane::start(&h.rt.config, &h.env.listener_arn, SampleApp::built(), Fault::Unhealthy, None).await.expect("data plane"));
    let clock = aviary_core::clock::ManualClock::at_secs(aviary_core::clock::Clock::now_secs(&SystemClock));
    h.rt.set_health_and_clock(dp.clone(), Arc::new(clock.clone()));
    let id = h.upload("web").await;
    let d = h.rt.wait_for(&id, "WAITING_HEALTHY", Duration::from_secs(60), |s| s == Status::WaitingHealthy || s.is_final()).await.unwrap();
    assert_eq!(d.status, Status::WaitingHealthy, "{:?}", d.status_reason);
    // The baseline passes its checks, the canary never does; requests never reach either.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let roles: Vec<(String, Option<bool>)> = dp.processes().into_iter().map(|(_, r, _, ok)| (r, ok)).collect();
    assert!(roles.contains(&("canary".to_string(), Some(false))) && roles.contains(&("baseline".to_string(), Some(true))), "{roles:?}");
    let client = reqwest::Client::new();
    for _ in 0..50 {
        assert_eq!(send(&client, &dp.url, reqwest::Method::GET, None).await.0, "prod-web");
    }
    clock.advance_secs(16 * 60);
    let d = h.wait_final(&id).await;
    assert_eq!(d.status, Status::Failed);
    assert!(d.status_reason.clone().unwrap_or_default().contains("HealthCheckTimeout"), "{:?}", d.status_reason);
    h.rt.sfn.wait_idle().await;
    let events = h.rt.events(&id).await.unwrap();
    assert!(events.iter().any(|e| e.step == "check-health" && e.detail.contains("unhealthy (Target.FailedHealthChecks)")), "{events:#?}");
    h.assert_nothing_left(&id).await;
}

