//! What the API returns for a deployment: the stored record as it is (camelCase), plus the
//! traffic split in percent and links to the deployment's sub-resources.

use aviary_core::model::{Deployment, Event};
use aviary_core::status::Status;
use aviary_core::traffic::RuleWeights;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentView {
    #[serde(flatten)]
    pub deployment: Deployment,
    /// Present once the canary rule exists (weights recorded).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traffic: Option<TrafficSplit>,
    pub links: Links,
}

/// Shares of the rule's traffic, in percent (one decimal, as the weights allow).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrafficSplit {
    pub canary_percent: f64,
    pub baseline_percent: f64,
    pub production_percent: f64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Links {
    #[serde(rename = "self")]
    pub self_: String,
    pub events: String,
    pub traffic: String,
}

impl DeploymentView {
    pub fn new(d: Deployment) -> DeploymentView {
        let traffic = d.weights.as_ref().map(split);
        let base = format!("/deployments/{}", d.id);
        DeploymentView {
            links: Links { events: format!("{base}/events"), traffic: format!("{base}/traffic"), self_: base },
            traffic,
            deployment: d,
        }
    }
}

pub fn split(w: &RuleWeights) -> TrafficSplit {
    let total: u32 = w.all().iter().map(|t| t.weight).sum();
    let pct = |x: u32| if total == 0 { 0.0 } else { (f64::from(x) * 1000.0 / f64::from(total)).round() / 10.0 };
    let canary = pct(w.canary.weight);
    let baseline = pct(w.baseline.weight);
    // Production is the rest, so the three always add up to 100 exactly.
    let production = ((1000.0 - canary * 10.0 - baseline * 10.0).round() / 10.0).max(0.0);
    TrafficSplit { canary_percent: canary, baseline_percent: baseline, production_percent: production }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PageView<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

pub type EventPage = PageView<Event>;

/// `DELETE /deployments/{id}`'s answer.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TeardownAccepted {
    pub id: String,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
    pub links: Links,
}

#[cfg(test)]
mod tests {
    use super::*;
    use aviary_core::traffic::WeightedTarget;

    fn w(p: u32, b: u32, c: u32) -> RuleWeights {
        let t = |a: &str, weight| WeightedTarget { target_group_arn: a.into(), weight };
        RuleWeights { production: vec![t("p", p)], baseline: t("b", b), canary: t("c", c) }
    }

    #[test]
    fn percentages_follow_the_weights_and_sum_to_100() {
        assert_eq!(split(&w(900, 50, 50)), TrafficSplit { canary_percent: 5.0, baseline_percent: 5.0, production_percent: 90.0 });
        assert_eq!(split(&w(999, 0, 0)), TrafficSplit { canary_percent: 0.0, baseline_percent: 0.0, production_percent: 100.0 });
        let s = split(&w(998, 1, 1));
        assert_eq!((s.canary_percent, s.production_percent), (0.1, 99.8));
        assert_eq!(split(&w(0, 0, 0)).production_percent, 100.0);
    }
}
