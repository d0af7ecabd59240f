//! Delivers the artifact bucket's S3 event notifications to `s3-trigger`. On AWS, S3 invokes
//! the Lambda; on the emulator, S3 really publishes the same event JSON to an SQS queue, and
//! this pump reads it and calls the real handler with it, deleting a message only once the
//! handler succeeded (so a failure is redelivered, as Lambda's retries would).

use std::time::Duration;

use aviary_lifecycle::Ports;
use aws_lambda_events::event::s3::S3Event;

use s3_trigger::{handle_event, RecordOutcome};

/// Reads one batch (waiting up to `wait`) and handles it; returns what happened per record.
/// Also returns the time spent in the handler (for the handler-time measurement).
pub async fn pump_once(ports: &Ports, sqs: &aws_sdk_sqs::Client, queue_url: &str, wait: Duration) -> Result<(Vec<RecordOutcome>, Duration), String> {
    let out = sqs
        .receive_message()
        .queue_url(queue_url)
        .max_number_of_messages(10)
        .wait_time_seconds(wait.as_secs().min(20) as i32)
        .send()
        .await
        .map_err(|e| format!("ReceiveMessage: {e:?}"))?;
    let mut outcomes = Vec::new();
    let mut handler_time = Duration::ZERO;
    for m in out.messages() {
        let body = m.body().unwrap_or_default();
        let mut value: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
        complete_records(&mut value);
        // S3 first sends an `s3:TestEvent` when a notification is configured: nothing to do.
        if value.get("Records").is_some() {
            let event: S3Event = serde_json::from_value(value).map_err(|e| format!("not an S3 event: {e}"))?;
            let started = std::time::Instant::now();
            let report = handle_event(ports, &event).await.map_err(|e| format!("s3-trigger failed: {e}"))?;
            handler_time += started.elapsed();
            outcomes.extend(report.records);
        }
        if let Some(h) = m.receipt_handle() {
            sqs.delete_message().queue_url(queue_url).receipt_handle(h).send().await.map_err(|e| format!("DeleteMessage: {e:?}"))?;
        }
    }
    Ok((outcomes, handler_time))
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
