//! `s3-trigger`: S3 `ObjectCreated` events on `canaries/<name>/<canary tarball>` start a
//! deployment. Delivery is at-least-once, so the deployment id is derived from the object's
//! key and version (or ETag and sequencer) and claimed with a conditional write: the same
//! upload, however often delivered, starts exactly one workflow.
//!
//! Every upload of a canary tarball ends in exactly one recorded outcome: started, duplicate,
//! or REJECTED with the reason — an oversize or unreadable spec, or a prefix that is no valid
//! canary name, included. Only an infrastructure failure (the table, the bucket, the workflow
//! engine) is an error, for the platform to retry and then dead-letter.

use aviary_core::ids::{canary_prefix, deployment_id_for_upload, parse_artifact_key, readable_name, SPEC_FILE};
use aviary_core::model::Source;
use aviary_core::spec::{is_valid_name, parse_and_validate, DeploymentSpec, FieldError};
use aviary_core::StepError;
use aviary_lifecycle::admission::{admit, AdmissionOutcome, AdmissionRequest, RejectMode};
use aviary_lifecycle::Ports;
use aviary_ports::ArtifactProblem;
use aws_lambda_events::event::s3::{S3Event, S3EventRecord};
use lambda_runtime::LambdaEvent;
use serde::Serialize;

/// Largest spec file read.
const MAX_SPEC_BYTES: usize = 256 * 1024;

/// What happened to one record.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordOutcome {
    pub key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployment_id: Option<String>,
    /// `started`, `duplicate`, `rejected` or `ignored`.
    pub outcome: String,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TriggerReport {
    pub records: Vec<RecordOutcome>,
}

pub async fn handler(ports: &Ports, event: LambdaEvent<S3Event>) -> Result<TriggerReport, StepError> {
    handle_event(ports, &event.payload).await
}

pub async fn handle_event(ports: &Ports, event: &S3Event) -> Result<TriggerReport, StepError> {
    let mut records = Vec::new();
    for r in &event.records {
        records.push(handle_record(ports, r).await?);
    }
    Ok(TriggerReport { records })
}

fn ignored(key: &str, why: &str) -> RecordOutcome {
    RecordOutcome { key: key.into(), deployment_id: None, outcome: "ignored".into(), detail: why.into() }
}

/// Keys in S3 events are URL-encoded, with `+` for spaces.
pub fn decode_key(raw: &str) -> String {
    let plus_decoded = raw.replace('+', " ");
    urlencoding::decode(&plus_decoded).map(|c| c.into_owned()).unwrap_or(plus_decoded)
}

async fn handle_record(ports: &Ports, r: &S3EventRecord) -> Result<RecordOutcome, StepError> {
    let key = decode_key(r.s3.object.key.as_deref().unwrap_or_default());
    if !r.event_name.as_deref().unwrap_or_default().starts_with("ObjectCreated") {
        return Ok(ignored(&key, "not an ObjectCreated event"));
    }
    let bucket = r.s3.bucket.name.clone().unwrap_or_default();
    if !ports.artifacts.bucket().is_empty() && bucket != ports.artifacts.bucket() {
        return Ok(ignored(&key, "not the artifact bucket"));
    }
    let Some((prefix, file)) = parse_artifact_key(&key) else {
        return Ok(ignored(&key, "not under canaries/<name>/"));
    };
    let (name, raw, spec, created_by) = if is_valid_name(prefix) {
        let ReadSpec { raw, spec, created_by } = read_spec(ports, prefix).await?;
        // Only the canary tarball starts a deployment; every other upload is part of preparing one.
        let trigger_file = spec.as_ref().map(|s| s.artifacts.canary_tarball.clone()).unwrap_or_else(|_| "canary.tar".into());
        if file != trigger_file {
            return Ok(ignored(&key, "not the canary tarball"));
        }
        (prefix.to_string(), raw, spec, created_by)
    } else {
        // Nothing under this prefix can ever deploy; say so once, on a record the API can read.
        if !file.ends_with(".tar") {
            return Ok(ignored(&key, "not a tarball"));
        }
        let name = readable_name(prefix);
        let why = format!(
            "the prefix canaries/{prefix}/ is not a valid canary name (1-32 of a-z, 0-9 and '-', starting with a letter): upload under canaries/{name}/"
        );
        (name, None, Err(vec![FieldError::new("name", why)]), None)
    };
    let name = name.as_str();
    let version = match (&r.s3.object.version_id, &r.s3.object.e_tag, &r.s3.object.sequencer) {
        (Some(v), _, _) if !v.is_empty() && v != "null" => v.clone(),
        (_, etag, seq) => format!("{}:{}", etag.as_deref().unwrap_or(""), seq.as_deref().unwrap_or("")),
    };
    let id = deployment_id_for_upload(name, &bucket, &key, &version);
    let outcome = admit(
        ports,
        AdmissionRequest {
            id: id.clone(),
            name: name.into(),
            source: Source::S3 { bucket, key: key.clone(), version },
            spec,
            raw_spec: raw,
            mode: RejectMode::Record,
            created_by,
        },
    )
    .await?;
    let (outcome, detail) = match outcome {
        AdmissionOutcome::Started(d) => ("started", d.execution_arn.unwrap_or_default()),
        AdmissionOutcome::Duplicate(d) => ("duplicate", format!("already {}", d.status)),
        AdmissionOutcome::Rejected(d) => ("rejected", d.status_reason.unwrap_or_default()),
        AdmissionOutcome::Invalid(e) => ("rejected", aviary_core::spec::describe_errors(&e)),
        AdmissionOutcome::NotOwner(e) => ("rejected", e.to_string()),
        // Only API requests are compared with what their key admitted before.
        AdmissionOutcome::KeyReused { existing, .. } => ("duplicate", format!("already {}", existing.status)),
    };
    Ok(RecordOutcome { key, deployment_id: Some(id), outcome: outcome.into(), detail })
}

/// The spec under the prefix, as raw text (for the record) and parsed; what is wrong with it
/// (missing, too large, not UTF-8 or JSON, invalid) becomes the rejection reason.
/// The spec read from the prefix: its text (kept on the record), what it parsed as, and who
/// uploaded it through a presigned URL (the deployment's owner; `None` for a direct upload).
struct ReadSpec {
    raw: Option<String>,
    spec: Result<DeploymentSpec, Vec<FieldError>>,
    created_by: Option<String>,
}

async fn read_spec(ports: &Ports, name: &str) -> Result<ReadSpec, StepError> {
    let spec_key = format!("{}{SPEC_FILE}", canary_prefix(name));
    let refused = |why: String| ReadSpec { raw: None, spec: Err(vec![FieldError::new("spec", why)]), created_by: None };
    Ok(match ports.artifacts.get_versioned(&spec_key, MAX_SPEC_BYTES).await? {
        Ok(object) => ReadSpec {
            raw: Some(String::from_utf8_lossy(&object.bytes).into_owned()),
            spec: parse_and_validate(&object.bytes),
            created_by: object.created_by,
        },
        Err(ArtifactProblem::Missing { .. }) => refused(format!("{spec_key} is missing: upload the spec before the canary tarball")),
        Err(problem) => refused(problem.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_url_decoded_like_s3_encodes_them() {
        assert_eq!(decode_key("canaries/web/canary.tar"), "canaries/web/canary.tar");
        assert_eq!(decode_key("canaries/my+app/a%2Bb.tar"), "canaries/my app/a+b.tar");
    }
}

#[cfg(test)]
mod handler_tests;
