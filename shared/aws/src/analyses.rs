//! Analyses in the deployment table (the `AnalysisStore` port of `aviary-analysis`), beside
//! their deployment: `pk = DEP#<id>`, `sk = ANALYSIS#<aid>`, `doc` (the record as JSON),
//! `summary` (the list line as JSON, so listing does not read reports and series), `ttl`. No
//! `kind`/`status` attribute, so the items stay out of the deployment indexes. Analysis ids
//! start with the creation time in milliseconds, so the sort key orders them. Cursors are
//! the deployment store's ([`decode_cursor`] reads both).

use std::collections::HashMap;

use async_trait::async_trait;
use aviary_analysis::live::LiveState;
use aviary_analysis::{is_analysis_id, AnalysisRecord, AnalysisStore, AnalysisSummary};
use aviary_core::StepError;
use aviary_ports::Page;
use aws_sdk_dynamodb::types::AttributeValue;

use crate::errors::{aws_err, code};
use crate::store::{decode_cursor, encode_cursor, DynamoStore};

const SK_PREFIX: &str = "ANALYSIS#";
/// Analyses are kept as long as a final deployment record is.
const RETAIN_SECS: i64 = 90 * 24 * 3600;

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

/// The live verdict's state: one item per deployment, `sk = LIVE`, `doc` and a numeric
/// `version` the conditional write compares.
const LIVE_SK: &str = "LIVE";

#[async_trait]
impl AnalysisStore for DynamoStore {
    async fn get_live(&self, deployment_id: &str) -> Result<Option<LiveState>, StepError> {
        let out = self
            .client
            .get_item()
            .table_name(self.table()?)
            .key("pk", s(format!("DEP#{deployment_id}")))
            .key("sk", s(LIVE_SK))
            .consistent_read(true)
            .send()
            .await
            .map_err(aws_err("GetItem"))?;
        out.item.map(|item| parse_attr(&item, "doc")).transpose()
    }

    async fn put_live(&self, state: &LiveState, expected: Option<u64>) -> Result<bool, StepError> {
        let doc = serde_json::to_string(state).map_err(|e| StepError::InvalidInput(e.to_string()))?;
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
        let put = self
            .client
            .put_item()
            .table_name(self.table()?)
            .item("pk", s(format!("DEP#{}", state.deployment_id)))
            .item("sk", s(LIVE_SK))
            .item("doc", s(doc))
            .item("version", AttributeValue::N(state.version.to_string()))
            .item("ttl", AttributeValue::N((now + RETAIN_SECS).to_string()));
        let put = match expected {
            None => put.condition_expression("attribute_not_exists(sk)"),
            Some(v) => put.condition_expression("#v = :v").expression_attribute_names("#v", "version").expression_attribute_values(":v", AttributeValue::N(v.to_string())),
        };
        match put.send().await {
            Ok(_) => Ok(true),
            Err(e) if code(&e) == Some("ConditionalCheckFailedException") => Ok(false),
            Err(e) => Err(aws_err("PutItem")(e)),
        }
    }

    async fn put_new(&self, record: &AnalysisRecord) -> Result<bool, StepError> {
        let doc = serde_json::to_string(record).map_err(|e| StepError::InvalidInput(e.to_string()))?;
        let summary = serde_json::to_string(&record.summary()).map_err(|e| StepError::InvalidInput(e.to_string()))?;
        let res = self
            .client
            .put_item()
            .table_name(self.table()?)
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

    async fn get(&self, deployment_id: &str, analysis_id: &str) -> Result<Option<AnalysisRecord>, StepError> {
        if !is_analysis_id(analysis_id) {
            return Ok(None);
        }
        let out = self
            .client
            .get_item()
            .table_name(self.table()?)
            .key("pk", s(format!("DEP#{deployment_id}")))
            .key("sk", s(format!("{SK_PREFIX}{analysis_id}")))
            .consistent_read(true)
            .send()
            .await
            .map_err(aws_err("GetItem"))?;
        out.item.map(|item| parse_attr(&item, "doc")).transpose()
    }

    async fn list(&self, deployment_id: &str, limit: i32, cursor: Option<&str>) -> Result<Page<AnalysisSummary>, StepError> {
        let mut q = self
            .client
            .query()
            .table_name(self.table()?)
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
}

fn parse_attr<T: serde::de::DeserializeOwned>(item: &HashMap<String, AttributeValue>, attr: &str) -> Result<T, StepError> {
    let text = item
        .get(attr)
        .and_then(|v| v.as_s().ok())
        .ok_or_else(|| StepError::InvalidInput(format!("stored analysis has no {attr} attribute")))?;
    serde_json::from_str(text).map_err(|e| StepError::InvalidInput(format!("stored analysis does not parse: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips() {
        let key = HashMap::from([("pk".to_string(), s("DEP#d")), ("sk".to_string(), s("ANALYSIS#an-1"))]);
        assert_eq!(decode_cursor(&encode_cursor(&key)).unwrap(), key);
    }
}
