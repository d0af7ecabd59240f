//! Live traffic changes: applied to the rule and verified, refused unless ACTIVE, invalid
//! input changes nothing, a failed change leaves the record as it was.

use aviary_core::spec::{HeaderCondition, RuleConditions};
use aviary_core::status::Status;
use aviary_ports::memory::SAMPLE_LISTENER;

use crate::testing::*;
use crate::traffic::{change_traffic, TrafficChange, TrafficChangeError};

fn share(p: f64) -> TrafficChange {
    TrafficChange { traffic_percent: Some(p), ..Default::default() }
}

#[tokio::test]
async fn a_new_share_reaches_the_rule_and_the_record() {
    let w = World::new();
    w.active("web-1").await;
    let d = change_traffic(&w.ports, "web-1", &share(20.0)).await.unwrap();
    let weights = d.weights.unwrap();
    assert_eq!((weights.baseline.weight, weights.canary.weight), (200, 200));
    let rule = w.router.snapshot(SAMPLE_LISTENER).into_iter().find(|r| Some(&r.rule_arn) == d.resources.rule_arn.as_ref()).unwrap();
    assert_eq!(rule.forward, weights.all());
    assert!(w.store.event_details("web-1").last().unwrap().contains("canary 20.0%"));
}

#[tokio::test]
async fn conditions_change_on_the_rule() {
    let w = World::new();
    w.active("web-1").await;
    let gate = RuleConditions {
        http_headers: vec![HeaderCondition { name: "X-Canary".into(), values: vec!["yes".into()] }],
        ..Default::default()
    };
    let d = change_traffic(&w.ports, "web-1", &TrafficChange { conditions: Some(gate), ..Default::default() }).await.unwrap();
    let rule = w.router.snapshot(SAMPLE_LISTENER).into_iter().find(|r| Some(&r.rule_arn) == d.resources.rule_arn.as_ref()).unwrap();
    assert_eq!(rule.conditions, ["http-header:X-Canary=yes"]);
    // The event log says it in words: no JSON, no ARNs.
    let last = w.store.event_details("web-1").last().unwrap().clone();
    assert!(last.ends_with("; conditions now header X-Canary: yes"), "{last}");
    let all = w.store.event_details("web-1").join("\n");
    assert!(!all.contains('{') && !all.contains("arn:aws:"), "{all}");
}

#[tokio::test]
async fn invalid_or_empty_changes_touch_nothing() {
    let w = World::new();
    w.active("web-1").await;
    w.cloud.log.clear();
    for change in [share(75.0), share(0.0), TrafficChange::default()] {
        assert!(matches!(change_traffic(&w.ports, "web-1", &change).await, Err(TrafficChangeError::Invalid(_))), "{change:?}");
    }
    assert!(w.cloud.log.cloud_mutations().is_empty());
}

#[tokio::test]
async fn only_an_active_canary_takes_traffic_changes() {
    let w = World::new();
    w.routed("web-1").await;
    w.cloud.log.clear();
    let err = change_traffic(&w.ports, "web-1", &share(10.0)).await.unwrap_err();
    assert!(matches!(err, TrafficChangeError::NotActive { status: Status::WaitingHealthy, .. }), "{err}");
    assert!(w.cloud.log.cloud_mutations().is_empty());
}

#[tokio::test]
async fn a_failed_rule_change_leaves_the_record_unchanged() {
    let w = World::new();
    let before = w.active("web-1").await;
    w.cloud.faults.fail_next("ModifyRule", aviary_ports::memory::throttled("ModifyRule"));
    assert!(change_traffic(&w.ports, "web-1", &share(20.0)).await.is_err());
    let after = w.store.peek("web-1").unwrap();
    assert_eq!(after.weights, before.weights);
    assert_eq!(after.spec, before.spec);
    // The lease was taken and given back: the next change is not blocked.
    assert_eq!(after.traffic_lease_until, None);
    assert!(change_traffic(&w.ports, "web-1", &share(20.0)).await.is_ok());
}

#[tokio::test]
async fn a_second_change_while_one_is_applied_is_refused_at_once() {
    let w = World::new();
    w.active("web-1").await;
    // Another change holds the lease (taken a moment ago, not expired).
    let mut d = w.store.peek("web-1").unwrap();
    d.traffic_lease_until = Some(NOW + crate::traffic::TRAFFIC_LEASE_SECS);
    d.version += 1;
    w.store.overwrite(d);
    w.cloud.log.clear();
    let started = std::time::Instant::now();
    let err = change_traffic(&w.ports, "web-1", &share(10.0)).await.unwrap_err();
    assert!(matches!(err, TrafficChangeError::Busy { .. }), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
    assert!(w.cloud.log.cloud_mutations().is_empty(), "the rule is not touched");
    // A lease left by a crashed change expires.
    w.clock.advance_secs(crate::traffic::TRAFFIC_LEASE_SECS + 1);
    assert!(change_traffic(&w.ports, "web-1", &share(10.0)).await.is_ok());
}
