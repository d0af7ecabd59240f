//! The deployment record and its event log entries, as stored in DynamoDB and returned by
//! the API.

use serde::{Deserialize, Serialize};

use crate::spec::DeploymentSpec;
use crate::status::Status;
use crate::traffic::{RuleWeights, WeightedTarget};

/// Where a deployment came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", rename_all_fields = "camelCase", tag = "kind")]
pub enum Source {
    /// An upload of the canary tarball to the artifact bucket.
    S3 { bucket: String, key: String, version: String },
    /// `POST /deployments`.
    Api { idempotency_key: String },
}

/// Everything Aviary created for a deployment. Teardown does not trust this alone (a crash can
/// happen between creating and recording), it also finds resources by tag.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Resources {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_balancer_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subnet_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub load_balancer_security_group_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub production: Vec<WeightedTarget>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_security_group_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitor_security_group_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline_instance_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary_instance_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitor_instance_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline_target_group_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary_target_group_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_priority: Option<u32>,
}

/// Links to a deployment's monitoring tools (present once the monitor instance has an address).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MonitoringLinks {
    pub grafana: String,
    pub prometheus: String,
    pub referee: String,
    pub kayenta: String,
}

/// The deployment record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deployment {
    pub id: String,
    pub name: String,
    /// The validated spec; absent only for a REJECTED deployment whose spec did not parse
    /// (then `rawSpec` holds what was uploaded, truncated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<DeploymentSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_spec: Option<String>,
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
    /// When it entered each status after its first (which began at `createdAt`), oldest
    /// first: the lifecycle timeline and how long each status lasted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub status_history: Vec<StatusChange>,
    /// Set when the deploy failed: teardown then ends in FAILED rather than DESTROYED.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
    /// Optimistic-locking version; every write increments it.
    pub version: u64,
    pub source: Source,
    /// The artifact bucket and prefix (`canaries/<name>/`).
    pub artifact_bucket: String,
    pub artifact_prefix: String,
    /// Unix seconds (RFC 3339 on the wire, like every time below: [`crate::times`]).
    #[serde(with = "crate::times::secs")]
    pub created_at: i64,
    #[serde(with = "crate::times::secs")]
    pub updated_at: i64,
    /// Unix seconds after which cleanup tears the canary down.
    #[serde(with = "crate::times::secs")]
    pub expires_at: i64,
    /// Unix seconds by which both target groups must be healthy.
    #[serde(default, with = "crate::times::opt_secs", skip_serializing_if = "Option::is_none")]
    pub health_deadline: Option<i64>,
    #[serde(default)]
    pub resources: Resources,
    /// The rule's current weights, once it exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights: Option<RuleWeights>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitoring: Option<MonitoringLinks>,
    /// The Step Functions execution that deploys it / tears it down.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub teardown_execution_arn: Option<String>,
    /// The artifacts exactly as admission checked them: instances fetch these versions and
    /// verify these digests before running anything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned_artifacts: Option<PinnedArtifacts>,
    /// Unix seconds until which a traffic change holds the deployment (changes are applied
    /// one at a time).
    #[serde(default, with = "crate::times::opt_secs", skip_serializing_if = "Option::is_none")]
    pub traffic_lease_until: Option<i64>,
    /// The principal (IAM ARN) that created it through the API or a presigned upload; `None`
    /// for an upload straight to S3, which only operators may then change through the API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
}

/// The deployment entered `status` at `at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusChange {
    pub status: Status,
    /// Unix milliseconds (RFC 3339 with milliseconds on the wire).
    #[serde(rename = "at", with = "crate::times::ms")]
    pub at_ms: i64,
}

/// At most this many status changes are kept (a deployment's life has about ten).
pub const MAX_STATUS_HISTORY: usize = 32;

/// One artifact as admission read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PinnedArtifact {
    /// The full object key.
    pub key: String,
    /// The S3 object version read (absent on an unversioned bucket: then only the digest pins it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    /// Lower-case hex sha256 of every byte read.
    pub sha256: String,
    pub bytes: u64,
}

/// The three artifacts of a deployment, pinned at admission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PinnedArtifacts {
    pub baseline_tarball: PinnedArtifact,
    pub canary_tarball: PinnedArtifact,
    pub compose_file: PinnedArtifact,
}

impl Deployment {
    /// A new PENDING record with nothing created yet (admission, and test fixtures).
    pub fn pending(id: &str, name: &str, source: Source, artifact_bucket: &str, now: i64, expires_at: i64) -> Deployment {
        Deployment {
            id: id.into(),
            name: name.into(),
            spec: None,
            raw_spec: None,
            status: Status::Pending,
            status_reason: None,
            status_history: Vec::new(),
            failure_reason: None,
            version: 0,
            source,
            artifact_bucket: artifact_bucket.into(),
            artifact_prefix: crate::ids::canary_prefix(name),
            created_at: now,
            updated_at: now,
            expires_at,
            health_deadline: None,
            resources: Resources::default(),
            weights: None,
            monitoring: None,
            execution_arn: None,
            teardown_execution_arn: None,
            pinned_artifacts: None,
            traffic_lease_until: None,
            created_by: None,
        }
    }

    /// The artifacts admission pinned; a record without them (admitted by an older Aviary)
    /// is never launched, since nothing says which bytes were checked.
    pub fn pinned(&self) -> Result<&PinnedArtifacts, crate::error::StepError> {
        self.pinned_artifacts.as_ref().ok_or_else(|| {
            crate::error::StepError::InvalidInput(format!("deployment {} has no pinned artifacts; upload it again", self.id))
        })
    }

    /// The spec of a deployment that passed validation.
    pub fn spec(&self) -> Result<&DeploymentSpec, crate::error::StepError> {
        self.spec.as_ref().ok_or_else(|| crate::error::StepError::InvalidInput(format!("deployment {} has no valid spec", self.id)))
    }

    pub fn artifact_key(&self, file: &str) -> String {
        format!("{}{}", self.artifact_prefix, file)
    }
}

/// How a step ended, for the event log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Ok,
    Info,
    Error,
}

/// One line of a deployment's append-only event log. On the wire its time is `time` alone
/// (RFC 3339 with milliseconds); events stored with the former `atMs` still read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", try_from = "EventWire")]
pub struct Event {
    /// Unix milliseconds (the code's copy of `time`).
    #[serde(skip_serializing)]
    pub at_ms: i64,
    /// RFC 3339 with milliseconds.
    pub time: String,
    pub step: String,
    pub outcome: Outcome,
    pub detail: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EventWire {
    #[serde(default)]
    at_ms: Option<i64>,
    time: String,
    step: String,
    outcome: Outcome,
    detail: String,
}

impl TryFrom<EventWire> for Event {
    type Error = String;
    fn try_from(w: EventWire) -> Result<Event, String> {
        let at_ms = match w.at_ms {
            Some(ms) => ms,
            None => crate::times::parse_rfc3339_ms(&w.time).ok_or_else(|| format!("event time {:?} is not RFC 3339", w.time))?,
        };
        Ok(Event { at_ms, time: w.time, step: w.step, outcome: w.outcome, detail: w.detail })
    }
}

impl Event {
    pub fn new(at_ms: i64, step: impl Into<String>, outcome: Outcome, detail: impl Into<String>) -> Self {
        Event { at_ms, time: crate::clock::rfc3339_ms(at_ms), step: step.into(), outcome, detail: detail.into() }
    }
}
