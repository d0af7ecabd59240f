//! The API's wire types as the client sees them: pages, deployments with what the API adds,
//! destroy answers, upload plans, and the body of a traffic change.

use std::collections::BTreeMap;

use aviary_core::model::Deployment;
use aviary_core::spec::{RuleConditions, Stickiness};
use aviary_core::status::Status;
use serde::{Deserialize, Serialize};

/// One page of a list.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    #[serde(default)]
    pub next: Option<String>,
}

/// A deployment as the API returns it: the stored record plus what the API adds (the traffic
/// split in percent, links), kept so `--json` prints everything the server said.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiDeployment {
    #[serde(flatten)]
    pub deployment: Deployment,
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl std::ops::Deref for ApiDeployment {
    type Target = Deployment;
    fn deref(&self) -> &Deployment {
        &self.deployment
    }
}

/// `DELETE /deployments/{id}` answers 202 with the deployment's id and new status.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DestroyAccepted {
    pub id: String,
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// `GET /deployments/{id}/credentials`: the monitor's Grafana login.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct GrafanaLogin {
    pub deployment_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    pub username: String,
    pub password: String,
}

/// A file to upload, as asked of `POST /uploads`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct UploadFile {
    pub file: String,
    pub content_length: u64,
}

/// Where to upload one file: a presigned request.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct UploadTarget {
    pub file: String,
    pub url: String,
    #[serde(default = "put")]
    pub method: String,
    /// Headers the presigned request was signed with; they must be sent as they are.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// The object key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The size the URL was signed for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_length: Option<u64>,
}

fn put() -> String {
    "PUT".into()
}

/// The answer of `POST /uploads`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Uploads {
    pub uploads: Vec<UploadTarget>,
    /// Anything else the server says (bucket, prefix, expiry), kept for `--json`.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// The body of `PATCH /deployments/{id}/traffic`: what a user may change on a running canary;
/// absent fields stay as they are. The API reads it as `aviary_lifecycle::traffic::TrafficChange`
/// (the same JSON; a test keeps the two in step).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TrafficChange {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traffic_percent: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<RuleConditions>,
    /// `{"enabled": false, ...}` turns stickiness off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stickiness: Option<Stickiness>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deployments_keep_what_the_api_adds() {
        let json = serde_json::json!({
            "id": "web-0123456789", "name": "web", "status": "ACTIVE", "version": 4,
            "source": {"kind": "api", "idempotencyKey": "k"},
            "artifactBucket": "b", "artifactPrefix": "canaries/web/",
            "createdAt": "2026-12-04T05:00:00Z", "updatedAt": "2026-12-04T05:01:00Z", "expiresAt": "2026-12-04T11:00:00Z",
            "traffic": {"canaryPercent": 5.0, "baselinePercent": 5.0, "productionPercent": 90.0},
            "links": {"self": "/deployments/web-0123456789"}
        });
        let d: ApiDeployment = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(d.status, Status::Active);
        assert_eq!(d.extra["traffic"]["canaryPercent"], 5.0);
        let back = serde_json::to_value(&d).unwrap();
        assert_eq!(back["links"], json["links"]);
        assert_eq!(back["traffic"], json["traffic"]);
    }

    #[test]
    fn upload_targets_default_to_put() {
        let u: Uploads = serde_json::from_str(r#"{"uploads":[{"file":"canary.tar","url":"http://s3/x?sig"}],"bucket":"b"}"#).unwrap();
        assert_eq!(u.uploads[0].method, "PUT");
        assert!(u.uploads[0].headers.is_empty());
        assert_eq!(u.extra["bucket"], "b");
    }

    #[test]
    fn traffic_change_is_the_body_the_api_accepts() {
        use aviary_core::spec::{HeaderCondition, QueryStringCondition};
        let change = TrafficChange {
            traffic_percent: Some(12.5),
            conditions: Some(RuleConditions {
                path_patterns: vec!["/api/*".into()],
                http_methods: vec!["GET".into()],
                host_headers: vec!["shop.example.com".into()],
                source_ips: vec!["10.0.0.0/8".into()],
                http_headers: vec![HeaderCondition { name: "x-a".into(), values: vec!["1".into()] }],
                query_strings: vec![QueryStringCondition { key: None, value: "on".into() }],
            }),
            stickiness: Some(Stickiness { enabled: false, duration_seconds: 1 }),
        };
        for c in [change.clone(), TrafficChange { traffic_percent: Some(5.0), ..Default::default() }, TrafficChange::default()] {
            let json = serde_json::to_value(&c).unwrap();
            let server: aviary_lifecycle::traffic::TrafficChange = serde_json::from_value(json.clone()).unwrap();
            assert_eq!(serde_json::to_value(&server).unwrap(), json);
            let back: TrafficChange = serde_json::from_value(serde_json::to_value(&server).unwrap()).unwrap();
            assert_eq!(back, c);
        }
    }
}
