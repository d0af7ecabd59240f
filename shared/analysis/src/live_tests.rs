//! The live verdict against the in-memory fakes: periods counted once across refreshes, a
//! latency regression found, A/A data left alone, the conditional write under a race, and the
//! states before traffic.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use aviary_core::StepError;
use aviary_lifecycle::testing::NOW;
use aviary_ports::Page;

use crate::live::{refresh_verdict, Decision, LiveState, LIVE_ALPHA};
use crate::memory::MemoryAnalyses;
use crate::tests::{fixture, Fixture};
use crate::{AnalysisRecord, AnalysisStore, AnalysisSummary};

const ID: &str = "web-1";


/// A deterministic spread in [0, 1).
fn noise(i: i64, salt: i64) -> f64 {
    (((i * 7919 + salt * 104_729) % 1000) as f64) / 1000.0
}

impl Fixture {
    /// `minutes` of ALB metrics from NOW on (the deployment was activated at NOW); the canary's
    /// latency is `factor` times the baseline's level.
    async fn metrics(&self, minutes: i64, factor: f64) {
        let d = self.world.store.peek(ID).unwrap();
        let (b, c) = (d.resources.baseline_target_group_arn.clone().unwrap(), d.resources.canary_target_group_arn.clone().unwrap());
        let at = |i: i64| NOW + i * 60 + 30;
        self.cw.put(&b, "TargetResponseTime", "Average", (0..minutes).map(|i| (at(i), 0.1 + 0.05 * noise(i, 1))));
        self.cw.put(&c, "TargetResponseTime", "Average", (0..minutes).map(|i| (at(i), factor * (0.1 + 0.05 * noise(i, 2)))));
        self.cw.put(&b, "HTTPCode_Target_5XX_Count", "Sum", (0..minutes).map(|i| (at(i), (noise(i, 3) * 4.0).floor())));
        self.cw.put(&c, "HTTPCode_Target_5XX_Count", "Sum", (0..minutes).map(|i| (at(i), (noise(i, 4) * 4.0).floor())));
    }
}

#[tokio::test]
async fn before_target_groups_it_is_not_ready_and_stores_nothing() {
    let f = fixture();
    f.world.provisioned(ID).await;
    let e = refresh_verdict(&f.ports, ID).await.unwrap_err();
    assert_eq!((e.name(), e.http_status()), ("NotReady", 409));
    assert!(f.analyses.get_live(ID).await.unwrap().is_none());
    let e = refresh_verdict(&f.ports, "web-404").await.unwrap_err();
    assert_eq!(e.http_status(), 404);
}

#[tokio::test]
async fn a_latency_regression_is_canary_worse_and_periods_count_once() {
    let f = fixture();
    f.world.active(ID).await;
    f.metrics(120, 1.3).await;

    // 20 minutes in: the periods that closed at least 180 s ago, from the first whole one.
    f.world.clock.advance_secs(20 * 60);
    let v = refresh_verdict(&f.ports, ID).await.unwrap();
    assert_eq!(v.source, "cloudwatch");
    assert_eq!(v.through, Some(NOW + 17 * 60));
    let latency = v.metrics.iter().find(|m| m.name == "target_response_time").unwrap();
    assert_eq!(latency.test, "sign");
    assert_eq!((latency.samples.baseline, latency.samples.canary), (16, 16));
    // The chart series: one value per counted period, both arms.
    assert_eq!((latency.recent.start, latency.recent.step_seconds, latency.recent.baseline.len()), (Some(NOW + 60), 60, 16));
    assert!(latency.recent.canary.iter().all(|v| v.is_some_and(|x| x > 0.12)), "{:?}", latency.recent.canary);
    let errors = v.metrics.iter().find(|m| m.name == "target_5xx").unwrap();
    assert_eq!(errors.test, "count-mixture");
    assert!(v.metrics.iter().all(|m| m.name != "requests"), "muted metrics are not tested");
    assert_eq!(v.alpha, LIVE_ALPHA);
    assert!((latency.threshold - 3.0 / LIVE_ALPHA).abs() < 1e-9, "α split over the 3 metrics: {}", latency.threshold);

    // Refreshing again at once counts nothing new.
    let again = refresh_verdict(&f.ports, ID).await.unwrap();
    assert_eq!(again.metrics, v.metrics);
    assert!(again.notes.iter().any(|n| n.contains("no new closed period")), "{:?}", again.notes);
    assert_eq!(f.analyses.get_live(ID).await.unwrap().unwrap().version, 1);

    // An hour later: only the new periods were added, and the regression is found.
    f.world.clock.advance_secs(60 * 60);
    let v = refresh_verdict(&f.ports, ID).await.unwrap();
    let latency = v.metrics.iter().find(|m| m.name == "target_response_time").unwrap();
    assert_eq!(latency.samples.baseline, 76, "16 + 60 periods, none twice");
    assert_eq!(latency.decision, Decision::CanaryWorse, "{latency:?}");
    assert!(latency.e_value >= latency.threshold);
    assert!(latency.effect.unwrap() > 0.9, "the canary was higher in nearly every period");
    assert_eq!(v.decision, Decision::CanaryWorse);
    assert_eq!(f.analyses.get_live(ID).await.unwrap().unwrap().version, 2);
    // The decision reached the event log once.
    let logged: Vec<String> = f.world.store.event_details(ID).into_iter().filter(|e| e.starts_with("verdict: live verdict")).collect();
    assert_eq!(logged.len(), 1, "{logged:?}");
    assert!(logged[0].contains("canary-worse (target_response_time: e-value"), "{logged:?}");
    f.world.clock.advance_secs(10 * 60);
    refresh_verdict(&f.ports, ID).await.unwrap();
    assert_eq!(f.world.store.event_details(ID).into_iter().filter(|e| e.starts_with("verdict: live verdict")).count(), 1, "logged once");
}

#[tokio::test]
async fn the_schedule_refreshes_every_active_canary_and_goes_on_after_a_failure() {
    let f = fixture();
    f.world.active(ID).await;
    f.metrics(60, 1.3).await;
    f.world.active("web-2").await; // no metrics at all: CloudWatch answers no series
    f.world.provisioned("web-3").await; // not ACTIVE: not refreshed
    f.world.clock.advance_secs(60 * 60);
    let sorted = |mut v: Vec<crate::live::RefreshOutcome>| {
        v.sort_by(|a, b| a.deployment_id.cmp(&b.deployment_id));
        v
    };
    let out = sorted(crate::live::refresh_active(&f.ports).await.unwrap());
    let ids: Vec<&str> = out.iter().map(|o| o.deployment_id.as_str()).collect();
    assert_eq!(ids, vec![ID, "web-2"]);
    assert_eq!(out[0].decision, Some(Decision::CanaryWorse), "{out:?}");
    assert_eq!(out[1].decision, Some(Decision::NoDifferenceYet), "{out:?}");
    f.world.cloud.faults.fail_next("GetMetricData", aviary_ports::memory::throttled("GetMetricData"));
    f.world.clock.advance_secs(10 * 60);
    let out = crate::live::refresh_active(&f.ports).await.unwrap();
    assert_eq!(out.iter().filter(|o| o.error.is_some()).count(), 1, "one failed, the other went on: {out:?}");
    assert_eq!(out.len(), 2);
}

#[tokio::test]
async fn identical_arms_stay_no_difference_yet() {
    let f = fixture();
    f.world.active(ID).await;
    let d = f.world.store.peek(ID).unwrap();
    let (b, c) = (d.resources.baseline_target_group_arn.clone().unwrap(), d.resources.canary_target_group_arn.clone().unwrap());
    // Both arms from one stream, alternating which arm gets which draw.
    let at = |i: i64| NOW + i * 60 + 30;
    let draw = |i: i64, arm: i64| 0.1 + 0.05 * noise(i, if (i + arm) % 2 == 0 { 5 } else { 6 });
    f.cw.put(&b, "TargetResponseTime", "Average", (0..200).map(|i| (at(i), draw(i, 0))));
    f.cw.put(&c, "TargetResponseTime", "Average", (0..200).map(|i| (at(i), draw(i, 1))));
    for step in 1..=10 {
        f.world.clock.advance_secs(20 * 60);
        let v = refresh_verdict(&f.ports, ID).await.unwrap();
        assert_eq!(v.decision, Decision::NoDifferenceYet, "refresh {step}: {v:?}");
    }
}

#[tokio::test]
async fn before_traffic_it_says_so_without_storing() {
    let f = fixture();
    f.world.routed(ID).await;
    let v = refresh_verdict(&f.ports, ID).await.unwrap();
    assert_eq!(v.decision, Decision::NoDifferenceYet);
    assert_eq!(v.through, None);
    assert!(v.notes[0].contains("has not taken traffic yet"), "{:?}", v.notes);
    assert!(f.analyses.get_live(ID).await.unwrap().is_none());
}

#[tokio::test]
async fn a_failing_metric_source_stores_nothing() {
    let f = fixture();
    f.world.active(ID).await;
    f.metrics(60, 1.0).await;
    f.world.clock.advance_secs(30 * 60);
    f.world.cloud.faults.fail_next("GetMetricData", aviary_ports::memory::throttled("GetMetricData"));
    assert!(refresh_verdict(&f.ports, ID).await.is_err());
    assert!(f.analyses.get_live(ID).await.unwrap().is_none(), "a half-counted refresh is never stored");
    let v = refresh_verdict(&f.ports, ID).await.unwrap();
    assert_eq!(v.metrics[0].samples.baseline, 26);
}

/// A store whose first conditional write loses to a competing refresh.
struct Racing {
    inner: MemoryAnalyses,
    raced: AtomicBool,
}

#[async_trait]
impl AnalysisStore for Racing {
    async fn put_new(&self, r: &AnalysisRecord) -> Result<bool, StepError> {
        self.inner.put_new(r).await
    }
    async fn get(&self, d: &str, a: &str) -> Result<Option<AnalysisRecord>, StepError> {
        self.inner.get(d, a).await
    }
    async fn list(&self, d: &str, l: i32, c: Option<&str>) -> Result<Page<AnalysisSummary>, StepError> {
        self.inner.list(d, l, c).await
    }
    async fn get_live(&self, d: &str) -> Result<Option<LiveState>, StepError> {
        self.inner.get_live(d).await
    }
    async fn put_live(&self, s: &LiveState, expected: Option<u64>) -> Result<bool, StepError> {
        if !self.raced.swap(true, Ordering::SeqCst) {
            let mut winner = s.clone();
            winner.source = "the other refresh".into();
            assert!(self.inner.put_live(&winner, expected).await?);
        }
        self.inner.put_live(s, expected).await
    }
}

#[tokio::test]
async fn a_refresh_that_loses_the_race_answers_the_winners_state() {
    let f = fixture();
    f.world.active(ID).await;
    f.metrics(60, 1.0).await;
    f.world.clock.advance_secs(30 * 60);
    let racing = Racing { inner: f.analyses.clone(), raced: AtomicBool::new(false) };
    let ports = f.ports.clone().with_analyses(Arc::new(racing));
    let v = refresh_verdict(&ports, ID).await.unwrap();
    assert_eq!(v.source, "the other refresh");
    assert!(v.notes.iter().any(|n| n.contains("another refresh")), "{:?}", v.notes);
    let stored = f.analyses.get_live(ID).await.unwrap().unwrap();
    assert_eq!(stored.version, 1, "one write, not two");
    assert_eq!(stored.metrics["target_response_time"].baseline_periods, 26);
}

/// One simulated canary: `minutes` of ALB metrics for both arms (lognormal latency around
/// 120 ms, Poisson 5xx at 2 a minute), the canary's latency scaled by `factor`, refreshed every
/// `every` minutes through `refresh_verdict` (the code the API and the analyze function run).
/// Returns the minute of the first decision, if any.
async fn stream(seed: u64, minutes: i64, every: i64, factor: f64) -> Option<(i64, Decision)> {
    let f = fixture();
    f.world.active(ID).await;
    let d = f.world.store.peek(ID).unwrap();
    let (b, c) = (d.resources.baseline_target_group_arn.clone().unwrap(), d.resources.canary_target_group_arn.clone().unwrap());
    let mut rng = aviary_judge::rng::SplitMix64::new(seed);
    let at = |i: i64| NOW + i * 60 + 30;
    let lat = |factor: f64, rng: &mut aviary_judge::rng::SplitMix64| factor * 0.12 * (0.3 * rng.normal()).exp();
    let (mut lb, mut lc, mut eb, mut ec) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for i in 0..minutes {
        lb.push((at(i), lat(1.0, &mut rng)));
        lc.push((at(i), lat(factor, &mut rng)));
        eb.push((at(i), rng.poisson(2.0) as f64));
        ec.push((at(i), rng.poisson(2.0) as f64));
    }
    f.cw.put(&b, "TargetResponseTime", "Average", lb);
    f.cw.put(&c, "TargetResponseTime", "Average", lc);
    f.cw.put(&b, "HTTPCode_Target_5XX_Count", "Sum", eb);
    f.cw.put(&c, "HTTPCode_Target_5XX_Count", "Sum", ec);
    let mut minute = 0;
    while minute < minutes + 4 {
        f.world.clock.advance_secs(every * 60);
        minute += every;
        let v = refresh_verdict(&f.ports, ID).await.unwrap();
        if v.decision != Decision::NoDifferenceYet {
            return Some((minute, v.decision));
        }
    }
    None
}

/// The live verdict's false-alarm rate through the real refresh path: 200 A/A canaries, each
/// refreshed 60 times over 2 hours of 1-minute periods. Peeking that often must stay within α
/// (a fixed-horizon test re-read this often alarms ~30% of the time, docs/judge.md). Also its
/// power: a +30% latency canary decided within the same 2 hours.
#[tokio::test]
async fn a_a_streams_refreshed_often_keep_false_alarms_under_alpha() {
    let runs = 200;
    let mut alarms = 0;
    for seed in 0..runs {
        if stream(seed, 120, 2, 1.0).await.is_some() {
            alarms += 1;
        }
    }
    let rate = alarms as f64 / runs as f64;
    println!("live verdict A/A: {alarms} of {runs} streams decided (rate {rate:.3}, alpha {LIVE_ALPHA}), 60 refreshes each");
    assert!(rate <= LIVE_ALPHA, "false-alarm rate {rate} above alpha {LIVE_ALPHA}");

    let mut decided = Vec::new();
    for seed in 1000..1020 {
        match stream(seed, 120, 2, 1.3).await {
            Some((minute, d)) => {
                assert_eq!(d, Decision::CanaryWorse, "seed {seed}");
                decided.push(minute);
            }
            None => {}
        }
    }
    decided.sort_unstable();
    println!(
        "live verdict +30% latency (period noise σ=0.3): {} of 20 decided canary-worse within 2 h, median {} min",
        decided.len(),
        decided[decided.len() / 2]
    );
    assert!(decided.len() >= 16, "+30% latency found in only {} of 20 streams", decided.len());
}
