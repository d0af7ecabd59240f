//! Delivers the artifact bucket's S3 event notifications to `s3-trigger`. On AWS, S3 invokes
//! the Lambda (retrying a failed invocation twice, then sending the event to the stack's
//! dead-letter queue); on the emulator, S3 really publishes the same event JSON to an SQS
//! queue, and this pump reads it and calls the real handler with it, message by message, the
//! way SQS with a redrive policy would:
//!
//! - a message is deleted only once the handler succeeded;
//! - a handler failure (an infrastructure error: invalid input is a REJECTED record, never an
//!   error) leaves the message to come back after the queue's visibility timeout, while the
//!   other messages go on;
//! - after [`MAX_RECEIVES`] receives, or at once for a message that is not an S3 event at all,
//!   it moves to the dead-letter queue: one poison message never blocks the uploads behind it.
//!
//! moto's events carry no `versionId`; the pump fills it from the (versioned) bucket, as S3
//! does, so re-uploading identical bytes is a new object version and a new deployment.

use std::time::Duration;

use aviary_lifecycle::Ports;
use aws_lambda_events::event::s3::S3Event;
use aws_sdk_sqs::types::MessageSystemAttributeName;

use s3_trigger::{decode_key, handle_event, RecordOutcome};

/// Receives of one message before it is dead-lettered (SQS's `maxReceiveCount`).
pub const MAX_RECEIVES: u32 = 3;

/// The queues the pump reads and dead-letters to.
#[derive(Debug, Clone, Copy)]
pub struct Queues<'a> {
    pub events: &'a str,
    pub dead_letters: &'a str,
}

#[derive(Debug, thiserror::Error)]
pub enum PumpError {
    #[error("cannot read the event queue: {0}")]
    Receive(String),
    #[error("cannot delete a handled event: {0}")]
    Delete(String),
    #[error("cannot move a failing event to the dead-letter queue: {0}")]
    DeadLetter(String),
}

fn sdk_message<E: std::error::Error>(e: E) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// Reads one batch (waiting up to `wait`) and handles each message on its own; returns what
/// happened per record (`retry` and `dead-letter` for events that failed) and the time spent
/// in the handler (for the handler-time measurement).
pub async fn pump_once(ports: &Ports, sqs: &aws_sdk_sqs::Client, queues: Queues<'_>, wait: Duration) -> Result<(Vec<RecordOutcome>, Duration), PumpError> {
    let out = sqs
        .receive_message()
        .queue_url(queues.events)
        .max_number_of_messages(10)
        .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
        .wait_time_seconds(wait.as_secs().min(20) as i32)
        .send()
        .await
        .map_err(|e| PumpError::Receive(sdk_message(e)))?;
    let mut outcomes = Vec::new();
    let mut handler_time = Duration::ZERO;
    for m in out.messages() {
        let receives: u32 = m
            .attributes()
            .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
            .and_then(|n| n.parse().ok())
            .unwrap_or(1);
        let body = m.body().unwrap_or_default();
        let handled = match parse_event(ports, body).await {
            // S3 first sends an `s3:TestEvent` when a notification is configured: nothing to do.
            Ok(None) => Ok(Vec::new()),
            Ok(Some(event)) => {
                let started = std::time::Instant::now();
                let result = handle_event(ports, &event).await;
                handler_time += started.elapsed();
                result.map(|r| r.records).map_err(|e| (keys_of(&event), e.to_string(), receives >= MAX_RECEIVES))
            }
            // Never deliverable: dead-letter it now rather than three times later.
            Err(why) => Err((vec!["(not an S3 event)".to_string()], why, true)),
        };
        match handled {
            Ok(records) => {
                outcomes.extend(records);
                delete(sqs, queues.events, m.receipt_handle()).await?;
            }
            Err((keys, why, give_up)) if give_up => {
                sqs.send_message()
                    .queue_url(queues.dead_letters)
                    .message_body(body)
                    .send()
                    .await
                    .map_err(|e| PumpError::DeadLetter(sdk_message(e)))?;
                delete(sqs, queues.events, m.receipt_handle()).await?;
                outcomes.extend(keys.into_iter().map(|key| failed(key, "dead-letter", format!("after {receives} attempt(s): {why}"))));
            }
            Err((keys, why, _)) => {
                // Left on the queue: it comes back after the visibility timeout.
                outcomes.extend(keys.into_iter().map(|key| failed(key, "retry", format!("attempt {receives} of {MAX_RECEIVES} failed: {why}"))));
            }
        }
    }
    Ok((outcomes, handler_time))
}

fn failed(key: String, outcome: &str, detail: String) -> RecordOutcome {
    RecordOutcome { key, deployment_id: None, outcome: outcome.into(), detail }
}

fn keys_of(event: &S3Event) -> Vec<String> {
    event.records.iter().map(|r| decode_key(r.s3.object.key.as_deref().unwrap_or_default())).collect()
}

async fn delete(sqs: &aws_sdk_sqs::Client, queue: &str, receipt: Option<&str>) -> Result<(), PumpError> {
    if let Some(h) = receipt {
        sqs.delete_message().queue_url(queue).receipt_handle(h).send().await.map_err(|e| PumpError::Delete(sdk_message(e)))?;
    }
    Ok(())
}

/// The message as the event S3 would have sent (`None` for S3's test event).
async fn parse_event(ports: &Ports, body: &str) -> Result<Option<S3Event>, String> {
    let mut value: serde_json::Value = serde_json::from_str(body).map_err(|e| format!("not JSON: {e}"))?;
    if value.get("Records").is_none() {
        return if value.get("Event").and_then(|e| e.as_str()) == Some("s3:TestEvent") { Ok(None) } else { Err("not an S3 event".into()) };
    }
    complete_records(&mut value);
    add_versions(ports, &mut value).await;
    serde_json::from_value(value).map(Some).map_err(|e| format!("not an S3 event: {e}"))
}

/// S3 puts the object's `versionId` (and a `sequencer`) in every record of a versioned bucket;
/// moto leaves them out. The version is read from the bucket; without it, identical bytes
/// uploaded again would look like the old upload.
async fn add_versions(ports: &Ports, value: &mut serde_json::Value) {
    let Some(records) = value.get_mut("Records").and_then(|r| r.as_array_mut()) else { return };
    for r in records {
        let object = &mut r["s3"]["object"];
        if object.get("versionId").and_then(|v| v.as_str()).is_some_and(|v| !v.is_empty()) {
            continue;
        }
        let key = decode_key(object.get("key").and_then(|k| k.as_str()).unwrap_or_default());
        if let Ok(Some(meta)) = ports.artifacts.head(&key).await {
            if let Some(v) = meta.version {
                object["versionId"] = serde_json::Value::String(v);
            }
        }
    }
}

/// moto's notification records omit fields AWS always sends (`userIdentity`,
/// `requestParameters`, `responseElements`); fill them with empty values so the records parse
/// as the Lambda event type does on AWS.
fn complete_records(value: &mut serde_json::Value) {
    if let Some(records) = value.get_mut("Records").and_then(|r| r.as_array_mut()) {
        for r in records {
            if let Some(obj) = r.as_object_mut() {
                obj.entry("userIdentity").or_insert_with(|| serde_json::json!({"principalId": ""}));
                obj.entry("requestParameters").or_insert_with(|| serde_json::json!({"sourceIPAddress": ""}));
                obj.entry("responseElements").or_insert_with(|| serde_json::json!({}));
            }
        }
    }
}
