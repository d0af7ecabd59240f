//! Analyses in the deployment table, beside their deployment: `pk = DEP#<id>`,
//! `sk = ANALYSIS#<aid>`, `doc` (the record as JSON), `summary` (the list line as JSON, so
//! listing does not read reports and series), `ttl`. No `kind`/`status` attribute, so the
//! items stay out of the deployment indexes. Analysis ids start with the creation time in
//! milliseconds, so the sort key orders them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};

use aws_sdk_dynamodb::types::AttributeValue;

use super::record::{AnalysisRecord, AnalysisSummary};
use crate::aws::errors::{aws_err, code};
use crate::aws::store::{decode_cursor, Page};
use crate::aws::Aws;
use crate::error::StepError;

const SK_PREFIX: &str = "ANALYSIS#";
/// Analyses are kept as long as a final deployment record is.
const RETAIN_SECS: i64 = 90 * 24 * 3600;

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn table(aws: &Aws) -> Result<&str, StepError> {
    aws.settings.require(&aws.settings.table_name, "AVIARY_TABLE")
}

/// `an-<13-digit ms>-<6 hex>`: sortable by time, unique in practice (the put is conditional).
pub fn new_analysis_id(now_ms: i64) -> String {
    static SEQ: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    let mix = nanos.wrapping_mul(2_654_435_761) ^ SEQ.fetch_add(1, Ordering::Relaxed).wrapping_mul(40_503);
    format!("an-{:013}-{:06x}", now_ms.max(0), mix & 0xff_ffff)
}

/// Ids a caller may name in a URL: what [`new_analysis_id`] makes (and nothing that could
/// reach another key).
pub fn is_analysis_id(aid: &str) -> bool {
    (4..=64).contains(&aid.len()) && aid.starts_with("an-") && aid.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
}

/// Writes a new analysis; false when the id is taken.
pub(crate) async fn put_new(aws: &Aws, record: &AnalysisRecord) -> Result<bool, StepError> {
    let doc = serde_json::to_string(record).map_err(|e| StepError::InvalidInput(e.to_string()))?;
    let summary = serde_json::to_string(&record.summary()).map_err(|e| StepError::InvalidInput(e.to_string()))?;
    let res = aws
        .ddb
        .put_item()
        .table_name(table(aws)?)
        .item("pk", s(format!("DEP#{}", record.deployment_id)))
        .item("sk", s(format!("{SK_PREFIX}{}", record.analysis_id)))
        .item("doc", s(doc))
        .item("summary", s(summary))
        .item("ttl", AttributeValue::N((record.created_at + RETAIN_SECS).to_string()))
        .condition_expression("attribute_not_exists(sk)")
        .send()
        .await;
    match res {
        Ok(_) => Ok(true),
        Err(e) if code(&e) == Some("ConditionalCheckFailedException") => Ok(false),
        Err(e) => Err(aws_err("PutItem")(e)),
    }
}

pub(crate) async fn get(aws: &Aws, deployment_id: &str, analysis_id: &str) -> Result<Option<AnalysisRecord>, StepError> {
    if !is_analysis_id(analysis_id) {
        return Ok(None);
    }
    let out = aws
        .ddb
        .get_item()
        .table_name(table(aws)?)
        .key("pk", s(format!("DEP#{deployment_id}")))
        .key("sk", s(format!("{SK_PREFIX}{analysis_id}")))
        .consistent_read(true)
        .send()
        .await
        .map_err(aws_err("GetItem"))?;
    out.item.map(|item| parse_attr(&item, "doc")).transpose()
}

pub(crate) async fn list(aws: &Aws, deployment_id: &str, limit: i32, cursor: Option<&str>) -> Result<Page<AnalysisSummary>, StepError> {
    let mut q = aws
        .ddb
        .query()
        .table_name(table(aws)?)
        .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
        .expression_attribute_values(":pk", s(format!("DEP#{deployment_id}")))
        .expression_attribute_values(":prefix", s(SK_PREFIX))
        .projection_expression("pk, sk, #summary")
        .expression_attribute_names("#summary", "summary")
        .scan_index_forward(false)
        .limit(limit.clamp(1, 100));
    if let Some(c) = cursor {
        q = q.set_exclusive_start_key(Some(decode_cursor(c)?));
    }
    let out = q.send().await.map_err(aws_err("Query"))?;
    let items = out.items().iter().map(|i| parse_attr(i, "summary")).collect::<Result<Vec<_>, _>>()?;
    Ok(Page { items, next: out.last_evaluated_key().map(encode_cursor) })
}

fn parse_attr<T: serde::de::DeserializeOwned>(item: &HashMap<String, AttributeValue>, attr: &str) -> Result<T, StepError> {
    let text = item
        .get(attr)
        .and_then(|v| v.as_s().ok())
        .ok_or_else(|| StepError::InvalidInput(format!("stored analysis has no {attr} attribute")))?;
    serde_json::from_str(text).map_err(|e| StepError::InvalidInput(format!("stored analysis does not parse: {e}")))
}

/// The same opaque cursor format as the deployment store's (hex of the key's JSON), so
/// [`decode_cursor`] reads both.
fn encode_cursor(key: &HashMap<String, AttributeValue>) -> String {
    let map: std::collections::BTreeMap<&str, &str> =
        key.iter().filter_map(|(k, v)| v.as_s().ok().map(|s| (k.as_str(), s.as_str()))).collect();
    hex::encode(serde_json::to_vec(&map).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_by_time_and_validate() {
        let a = new_analysis_id(1_795_714_098_123);
        let b = new_analysis_id(1_795_714_098_124);
        assert!(a.starts_with("an-1795714098123-") && a.len() == 23, "{a}");
        assert!(a < b);
        assert_ne!(new_analysis_id(1), new_analysis_id(1));
        assert!(is_analysis_id(&a));
        assert!(!is_analysis_id("an-x#META") && !is_analysis_id("META") && !is_analysis_id("an-"));
    }

    #[test]
    fn cursor_round_trips() {
        let key = HashMap::from([("pk".to_string(), s("DEP#d")), ("sk".to_string(), s("ANALYSIS#an-1"))]);
        assert_eq!(decode_cursor(&encode_cursor(&key)).unwrap(), key);
    }
}
