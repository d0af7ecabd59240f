//! The live verdict's false-alarm rate measured where callers meet it: `GET
//! /deployments/{id}/verdict` through the router the Lambda serves, over the in-memory ports.
//! 200 A/A canaries (both arms drawn from the same distributions), each asked for its verdict
//! every 15 s of simulated time for 2 hours of 1-minute ALB periods: 480 requests per canary,
//! most of them finding no newly closed period. The overall decision must stay
//! `no-difference-yet` in at least 1 − α of them.

use std::sync::Arc;

use aviary_analysis::live::LIVE_ALPHA;
use aviary_analysis::memory::{MemoryAnalyses, MemoryCloudWatch};
use aviary_analysis::AnalysisPorts;
use aviary_judge::rng::SplitMix64;
use aviary_lifecycle::testing::{World, NOW};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt;

use crate::app::router;
use crate::context::Invocation;
use crate::state::ApiState;

const ID: &str = "web-1";
const MINUTES: i64 = 120;
const ASK_EVERY_SECONDS: u64 = 15;

/// One A/A canary: the number of verdict requests made and the first non-null decision, if any.
async fn stream(seed: u64) -> (u32, Option<String>) {
    let world = World::new();
    world.active(ID).await;
    let analyses = MemoryAnalyses::new(world.cloud.clone());
    let cw = MemoryCloudWatch::new(world.cloud.clone());
    let analysis = AnalysisPorts::new(world.ports.clone()).with_analyses(Arc::new(analyses)).with_cloudwatch(Arc::new(cw.clone()));
    let app = router(ApiState::new(world.ports.clone(), crate::tests::presigner()).with_analysis(analysis));

    let d = world.store.peek(ID).unwrap();
    let (b, c) = (d.resources.baseline_target_group_arn.clone().unwrap(), d.resources.canary_target_group_arn.clone().unwrap());
    let mut rng = SplitMix64::new(seed);
    let at = |i: i64| NOW + i * 60 + 30;
    // Per-minute averages: lognormal around 120 ms; 5xx counts Poisson at 2 a minute. Same for both.
    let (mut lb, mut lc, mut eb, mut ec) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for i in 0..MINUTES {
        lb.push((at(i), 0.12 * (0.3 * rng.normal()).exp()));
        lc.push((at(i), 0.12 * (0.3 * rng.normal()).exp()));
        eb.push((at(i), rng.poisson(2.0) as f64));
        ec.push((at(i), rng.poisson(2.0) as f64));
    }
    cw.put(&b, "TargetResponseTime", "Average", lb);
    cw.put(&c, "TargetResponseTime", "Average", lc);
    cw.put(&b, "HTTPCode_Target_5XX_Count", "Sum", eb);
    cw.put(&c, "HTTPCode_Target_5XX_Count", "Sum", ec);

    let asks = ((MINUTES as u64 + 4) * 60 / ASK_EVERY_SECONDS) as u32;
    for n in 1..=asks {
        world.clock.advance_secs(ASK_EVERY_SECONDS as i64);
        let mut req = Request::builder().method("GET").uri(format!("/deployments/{ID}/verdict")).body(Body::empty()).unwrap();
        req.extensions_mut().insert(Invocation { request_id: Some(format!("req-{n}")), caller: Some("arn:aws:iam::1:user/alice".into()) });
        let r = app.clone().oneshot(req).await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let body: serde_json::Value = serde_json::from_slice(&axum::body::to_bytes(r.into_body(), usize::MAX).await.unwrap()).unwrap();
        let decision = body["decision"].as_str().expect("a decision").to_string();
        if decision != "no-difference-yet" {
            return (n, Some(decision));
        }
    }
    (asks, None)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_a_canaries_asked_every_15_seconds_through_the_api_keep_false_alarms_under_alpha() {
    let runs = 200u64;
    // Each canary in its own world; two at a time, one per core.
    let streams: Vec<_> = (0..runs).map(|seed| tokio::spawn(stream(seed))).collect();
    let (mut alarms, mut requests) = (0, 0);
    for s in streams {
        let (asked, decided) = s.await.expect("a stream");
        requests += asked;
        if decided.is_some() {
            alarms += 1;
        }
    }
    let rate = f64::from(alarms) / runs as f64;
    println!("live verdict A/A through GET /deployments/{{id}}/verdict: {alarms} of {runs} canaries decided (rate {rate:.3}, alpha {LIVE_ALPHA}), {requests} requests");
    assert!(requests > 90_000, "asked every 15 s: {requests}");
    assert!(rate <= LIVE_ALPHA, "false-alarm rate {rate} above alpha {LIVE_ALPHA}");
}
