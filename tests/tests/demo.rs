//! The README's first command, as a test: real requests through the canary rule, routed by its
//! weights, and a live verdict reached on them — `canary-worse` for a slow canary and for an
//! erroring one — then teardown with the listener restored. Needs
//! `target/debug/aviary-sample-app` (scripts/test.sh builds it first).

use aviary_analysis::live::Decision;
use aviary_core::status::Status;
use aviary_local::dataplane::front::Fault;
use aviary_local::demo::{run_demo, DemoOptions};
use aviary_local::runtime::LocalOptions;

async fn demo(fault: Fault, tag: &str) -> aviary_local::demo::DemoReport {
    let work_dir = std::env::temp_dir().join(format!("aviary-demo-test-{tag}-{}", std::process::id()));
    let opts = DemoOptions {
        local: LocalOptions { time_scale: 0.002, ..Default::default() },
        spec_dir: None,
        work_dir,
        change_to_percent: Some(10.0),
        quiet: true,
        traffic: Some(fault),
        load_seconds: 3,
    };
    run_demo(opts).await.expect("the demo runs")
}

/// The overall decision and the named metric's.
fn decisions(r: &aviary_local::demo::DemoReport, metric: &str) -> (Decision, Decision) {
    let v = r.verdict.as_ref().expect("a verdict");
    let m = v.metrics.iter().find(|m| m.name == metric).unwrap_or_else(|| panic!("no {metric} in {v:?}"));
    (v.decision, m.decision)
}

fn check_routing(r: &aviary_local::demo::DemoReport) {
    let json = r.to_json();
    let total: u64 = ["production", "baseline", "canary"].iter().map(|k| json["requests"][k].as_u64().unwrap()).sum();
    assert!(total > 500, "enough requests crossed the rule: {}", json["requests"]);
    for g in &r.routed {
        assert!((g.observed_percent - g.weight_percent).abs() < 2.5, "{} got {:.1}% for weight {:.1}%", g.role, g.observed_percent, g.weight_percent);
    }
    // Requests the rule's conditions do not match (POST) never reach baseline or canary.
    let posts = json["unmatched"].as_object().expect("unmatched");
    assert!(!posts.is_empty() && posts.keys().all(|g| g == "prod-web"), "{}", json["unmatched"]);
    assert_eq!(json["listenerRestored"], true);
    assert_eq!(r.final_status, Status::Destroyed);
    assert!(json["verdict"]["metrics"].as_array().is_some_and(|m| !m.is_empty()), "{}", json["verdict"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_canary_is_found_worse_on_real_requests() {
    let r = demo(Fault::Slower(30), "latency").await;
    check_routing(&r);
    assert_eq!(decisions(&r, "target_response_time"), (Decision::CanaryWorse, Decision::CanaryWorse));
    let canary = r.routed.iter().find(|g| g.role == "canary").unwrap();
    let baseline = r.routed.iter().find(|g| g.role == "baseline").unwrap();
    // 30% more work (26 ms instead of 20 on average); the front's own time is in both.
    assert!(canary.mean_latency_ms > baseline.mean_latency_ms * 1.12, "{canary:?} vs {baseline:?}");
    assert!(canary.mean_latency_ms < baseline.mean_latency_ms * 1.5, "{canary:?} vs {baseline:?}");
    assert!(r.events.iter().any(|e| e.step == "verdict" && e.detail.starts_with("live verdict: canary-worse")), "the decision is in the event log");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erroring_canary_is_found_worse_on_its_5xx() {
    let r = demo(Fault::Errors(0.05), "errors").await;
    check_routing(&r);
    assert_eq!(decisions(&r, "target_5xx"), (Decision::CanaryWorse, Decision::CanaryWorse));
    assert!(r.routed.iter().find(|g| g.role == "canary").unwrap().errors_5xx > 0);
    assert!(r.routed.iter().filter(|g| g.role != "canary").all(|g| g.errors_5xx == 0));
}
