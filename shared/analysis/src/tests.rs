//! The analysis use case against the in-memory fakes: refusals before anything is fetched, a
//! failing metric source failing the whole analysis, and the happy path (stored, logged,
//! listed), with CloudWatch data put for the deployment's own target groups.

use std::sync::Arc;

use aviary_core::model::Deployment;
use aviary_judge::{Label, Verdict};
use aviary_lifecycle::testing::{World, NOW};
use aviary_ports::memory::throttled;
use serde_json::json;

use crate::memory::{MemoryAnalyses, MemoryCloudWatch};
use crate::*;

/// The lifecycle's fakes with the analysis store and CloudWatch beside them (shared by
/// `live_tests`).
pub(crate) struct Fixture {
    pub(crate) world: World,
    pub(crate) analyses: MemoryAnalyses,
    pub(crate) cw: MemoryCloudWatch,
    pub(crate) ports: AnalysisPorts,
}

pub(crate) fn fixture() -> Fixture {
    let world = World::new();
    let analyses = MemoryAnalyses::new(world.cloud.clone());
    let cw = MemoryCloudWatch::new(world.cloud.clone());
    let ports = AnalysisPorts::new(world.ports.clone()).with_analyses(Arc::new(analyses.clone())).with_cloudwatch(Arc::new(cw.clone()));
    Fixture { world, analyses, cw, ports }
}

const ID: &str = "web-1";

/// Latency with a little spread, the same distribution for both roles (scaled by `factor`).
fn latency(i: i64, factor: f64) -> f64 {
    factor * (0.1 + (i % 7) as f64 * 0.003)
}

impl Fixture {
    /// An ACTIVE deployment (activated at NOW) and `minutes` of ALB metrics from NOW on;
    /// the canary's latency is `canary_factor` times the baseline's, and it has `canary_5xx`
    /// more errors a minute. The clock ends `minutes + 1` minutes after NOW.
    async fn active_with_metrics(&self, minutes: i64, canary_factor: f64, canary_5xx: f64) -> Deployment {
        let d = self.world.active(ID).await;
        let (b, c) = (d.resources.baseline_target_group_arn.clone().unwrap(), d.resources.canary_target_group_arn.clone().unwrap());
        let at = |i: i64| NOW + i * 60 + 30;
        self.cw.put(&b, "TargetResponseTime", "Average", (0..minutes).map(|i| (at(i), latency(i, 1.0))));
        self.cw.put(&c, "TargetResponseTime", "Average", (0..minutes).map(|i| (at(i), latency(minutes - i, canary_factor))));
        for tg in [&b, &c] {
            self.cw.put(tg, "RequestCount", "Sum", (0..minutes).map(|i| (at(i), 100.0 + (i % 3) as f64)));
        }
        // 5xx only for minutes that had any, as the ALB reports them: 0–2 on the baseline.
        self.cw.put(&b, "HTTPCode_Target_5XX_Count", "Sum", (0..minutes).filter(|i| i % 3 > 0).map(|i| (at(i), (i % 3) as f64)));
        if canary_5xx > 0.0 {
            self.cw.put(&c, "HTTPCode_Target_5XX_Count", "Sum", (0..minutes).map(|i| (at(i), canary_5xx + (i % 3) as f64)));
        } else {
            self.cw.put(&c, "HTTPCode_Target_5XX_Count", "Sum", (0..minutes).filter(|i| i % 3 < 2).map(|i| (at(i), (2 - i % 3) as f64)));
        }
        self.world.clock.advance_secs((minutes + 1) * 60);
        d
    }

    fn analyze_events(&self) -> Vec<String> {
        self.world.store.event_details(ID).into_iter().filter(|e| e.starts_with("analyze: ")).collect()
    }
}

fn invalid_fields(e: &AnalysisError) -> Vec<String> {
    match e {
        AnalysisError::InvalidRequest { fields } => fields.iter().map(|f| f.field.clone()).collect(),
        e => panic!("expected InvalidRequest, got {} ({e})", e.name()),
    }
}

#[tokio::test]
async fn a_missing_deployment_is_not_found() {
    let f = fixture();
    let e = run_analysis(&f.ports, "web-404", &AnalysisRequest::default()).await.unwrap_err();
    assert_eq!((e.name(), e.http_status()), ("DeploymentNotFound", 404));
    assert!(matches!(e, AnalysisError::NotFound(ref d) if d == "web-404"));
    assert_eq!(f.world.cloud.log.count("GetMetricData"), 0);
    assert!(f.analyses.stored("web-404").is_empty());
}

#[tokio::test]
async fn a_deployment_without_target_groups_is_not_ready() {
    let f = fixture();
    f.world.provisioned(ID).await;
    let e = run_analysis(&f.ports, ID, &AnalysisRequest::default()).await.unwrap_err();
    assert_eq!((e.name(), e.http_status()), ("NotReady", 409));
    assert!(e.to_string().contains("no target groups"), "{e}");
    assert!(f.cw.sources().is_empty() && f.analyses.stored(ID).is_empty());
    // Prometheus asked for, but the deployment has no monitor.
    f.world.registered("web-2").await;
    let e = run_analysis(&f.ports, "web-2", &AnalysisRequest { source: SourceChoice::Prometheus, ..Default::default() }).await.unwrap_err();
    assert_eq!(e.name(), "NotReady");
    assert!(e.to_string().contains("no Prometheus"), "{e}");
}

#[tokio::test]
async fn a_failing_metric_source_fails_the_analysis_and_stores_nothing() {
    let f = fixture();
    f.active_with_metrics(30, 1.0, 0.0).await;
    f.world.cloud.faults.fail_next("GetMetricData", throttled("GetMetricData"));
    let e = run_analysis(&f.ports, ID, &AnalysisRequest::default()).await.unwrap_err();
    assert_eq!((e.name(), e.http_status()), ("MetricSourceError", 502));
    assert!(matches!(&e, AnalysisError::Source(m) if m.is_transient() && m.name() == "CloudWatchError"), "{e}");
    assert!(e.to_string().contains("target_response_time"), "{e}");
    assert!(f.analyses.stored(ID).is_empty());
    assert_eq!(f.world.cloud.log.count("PutItem:analysis"), 0);
    assert!(f.analyze_events().is_empty());
    // Once CloudWatch answers again, the same request succeeds.
    run_analysis(&f.ports, ID, &AnalysisRequest::default()).await.expect("analysis");
    assert_eq!(f.analyses.stored(ID).len(), 1);
}

#[tokio::test]
async fn a_healthy_canary_passes_and_is_stored_logged_and_listed() {
    let f = fixture();
    let d = f.active_with_metrics(30, 1.0, 0.0).await;
    f.world.cloud.log.clear();
    let r = run_analysis(&f.ports, ID, &AnalysisRequest::default()).await.expect("analysis");

    assert_eq!(r.deployment_id, ID);
    assert!(is_analysis_id(&r.analysis_id), "{}", r.analysis_id);
    assert_eq!(r.created_at, NOW + 31 * 60);
    assert_eq!(r.source, "cloudwatch");
    assert_eq!((r.window.start, r.window.end, r.window.step_seconds), (NOW + 60, NOW + 31 * 60, 60));
    assert_eq!(r.notes, vec!["source auto: the deployment has no Prometheus; CloudWatch's starter config was used".to_string()]);
    assert_eq!(r.canary_config, metrics::cloudwatch::starter_config());
    assert_eq!((r.report.classification, r.report.score), (Verdict::Pass, 100.0), "{}", r.report.to_table());
    assert_eq!(r.series["target_response_time"].baseline.len(), 30);

    // CloudWatch was asked about the deployment's own load balancer and target groups.
    let tg = |arn: &Option<String>| aviary_monitoring::context::target_group_dimension(arn.as_deref().unwrap()).unwrap();
    assert_eq!(
        f.cw.sources(),
        vec![AlbDimensions {
            load_balancer: "app/prod/1".into(),
            baseline_target_group: tg(&d.resources.baseline_target_group_arn),
            canary_target_group: tg(&d.resources.canary_target_group_arn),
        }]
    );
    // Read, fetch every metric, store, then log.
    let calls: Vec<String> = f.world.cloud.log.all().into_iter().filter(|c| !c.starts_with("Query:events")).collect();
    assert_eq!(calls, ["GetItem", "GetMetricData", "GetMetricData", "GetMetricData", "GetMetricData", "PutItem:analysis", "PutItem:event"]);

    assert_eq!(f.analyses.stored(ID), vec![r.clone()]);
    assert_eq!(get_analysis(&f.ports, ID, &r.analysis_id).await.unwrap(), Some(r.clone()));
    assert_eq!(get_analysis(&f.ports, ID, "ANALYSIS#x").await.unwrap(), None);
    assert_eq!(get_analysis(&f.ports, "web-2", &r.analysis_id).await.unwrap(), None);
    let events = f.analyze_events();
    assert_eq!(events.len(), 1);
    assert!(events[0].starts_with("analyze: judge: Pass, score 100 (cloudwatch, 30 min from "), "{}", events[0]);
    assert!(events[0].ends_with(&format!("analysis {})", r.analysis_id)), "{}", events[0]);

    // A second one is listed first; pages follow the cursor.
    f.world.clock.advance_secs(1);
    let second = run_analysis(&f.ports, ID, &AnalysisRequest::default()).await.unwrap();
    let all = list_analyses(&f.ports, ID, 10, None).await.unwrap();
    let ids: Vec<&str> = all.items.iter().map(|s| s.analysis_id.as_str()).collect();
    assert_eq!((ids, all.next), (vec![second.analysis_id.as_str(), r.analysis_id.as_str()], None));
    let page = list_analyses(&f.ports, ID, 1, None).await.unwrap();
    let rest = list_analyses(&f.ports, ID, 1, page.next.as_deref()).await.unwrap();
    assert_eq!((page.items[0].analysis_id.as_str(), rest.items[0].analysis_id.as_str()), (second.analysis_id.as_str(), r.analysis_id.as_str()));
    assert_eq!(rest.items[0], r.summary());
}

#[tokio::test]
async fn a_regressed_canary_fails_and_the_event_names_the_metrics() {
    let f = fixture();
    f.active_with_metrics(30, 1.4, 5.0).await;
    let r = run_analysis(&f.ports, ID, &AnalysisRequest { source: SourceChoice::Cloudwatch, ..Default::default() }).await.unwrap();
    assert_eq!((r.report.classification, r.report.score), (Verdict::Fail, 0.0), "{}", r.report.to_table());
    let label = |m: &str| r.report.metrics.iter().find(|x| x.name == m).map(|x| x.label).unwrap();
    assert_eq!((label("target_response_time"), label("target_5xx")), (Label::High, Label::High));
    let events = f.analyze_events();
    assert!(events[0].starts_with("analyze: judge: Fail, score 0"), "{}", events[0]);
    assert!(events[0].contains("target_5xx High (critical)"), "{}", events[0]);
}

#[tokio::test]
async fn requests_are_checked_before_anything_is_fetched() {
    let f = fixture();
    f.active_with_metrics(30, 1.0, 0.0).await;
    f.world.cloud.log.clear();
    let with = |cfg: serde_json::Value, source| AnalysisRequest { canary_config: Some(cfg), source, ..Default::default() };
    let cases = [
        (AnalysisRequest { analysis_id: Some("ANALYSIS#1".into()), ..Default::default() }, vec!["analysisId"]),
        (with(json!({"metrics": [{"name": "a"}, {"name": "a"}]}), SourceChoice::Auto), vec!["canaryConfig"]),
        (
            with(json!({"metrics": [{"name": "a", "query": {"type": "prometheus", "metricName": "up"}}]}), SourceChoice::Cloudwatch),
            vec!["canaryConfig.metrics[0].query"],
        ),
        (
            with(
                json!({"metrics": [{"name": "a", "query": {"type": "prometheus", "metricName": "up"}},
                                   {"name": "b", "query": {"type": "cloudwatch", "metricName": "RequestCount"}}]}),
                SourceChoice::Auto,
            ),
            vec!["canaryConfig"],
        ),
        (AnalysisRequest { start: Some(TimeSpec::Text("yesterday".into())), ..Default::default() }, vec!["start"]),
    ];
    for (req, fields) in cases {
        let e = run_analysis(&f.ports, ID, &req).await.unwrap_err();
        assert_eq!(invalid_fields(&e), fields, "{req:?}");
    }
    assert_eq!(f.world.cloud.log.count("GetMetricData"), 0);
    assert!(f.analyses.stored(ID).is_empty());
}

#[tokio::test]
async fn the_default_window_waits_for_the_active_period() {
    let f = fixture();
    f.world.active(ID).await;
    f.world.clock.advance_secs(20);
    let e = run_analysis(&f.ports, ID, &AnalysisRequest::default()).await.unwrap_err();
    assert_eq!(invalid_fields(&e), ["start"]);
    assert!(e.to_string().contains("ACTIVE"), "{e}");
    // Eleven minutes in: the ten whole minutes since activation.
    f.world.clock.advance_secs(11 * 60 - 20);
    let r = run_analysis(&f.ports, ID, &AnalysisRequest::default()).await.unwrap();
    assert_eq!((r.window.start, r.window.points()), (NOW, 11));
}

#[tokio::test]
async fn a_pre_assigned_id_is_used_once_and_taken_ids_are_refused() {
    let f = fixture();
    f.active_with_metrics(30, 1.0, 0.0).await;
    let req = AnalysisRequest { analysis_id: Some("an-1800000000000-abcdef".into()), ..Default::default() };
    let r = run_analysis(&f.ports, ID, &req).await.unwrap();
    assert_eq!(r.analysis_id, "an-1800000000000-abcdef");
    assert_eq!(invalid_fields(&run_analysis(&f.ports, ID, &req).await.unwrap_err()), ["analysisId"]);
    assert_eq!(f.analyses.stored(ID).len(), 1);
    assert_eq!(f.analyze_events().len(), 1);
}

#[tokio::test]
async fn store_failures_and_unwired_ports_are_step_errors() {
    let f = fixture();
    f.active_with_metrics(30, 1.0, 0.0).await;
    f.world.cloud.faults.fail_next("PutItem:analysis", throttled("PutItem"));
    let e = run_analysis(&f.ports, ID, &AnalysisRequest::default()).await.unwrap_err();
    assert_eq!((e.name(), e.http_status()), ("AwsTransient", 503));
    assert!(f.analyze_events().is_empty());

    // A function that wired no CloudWatch says so rather than judging without data.
    let bare = AnalysisPorts::new(f.world.ports.clone()).with_analyses(Arc::new(f.analyses.clone()));
    let e = run_analysis(&bare, ID, &AnalysisRequest::default()).await.unwrap_err();
    assert_eq!(e.name(), "MetricSourceError");
    assert!(e.to_string().contains("no CloudWatch metrics source wired"), "{e}");
    let none = AnalysisPorts::new(f.world.ports.clone());
    assert_eq!(list_analyses(&none, ID, 10, None).await.unwrap_err().name(), "ConfigError");
}
