//! The deployment table in DynamoDB: deployment records (one item each, optimistic locking on
//! `version`), the append-only event log, and the indexes used for listing and cleanup.
//!
//! Layout (single table):
//! - deployment: `pk = DEP#<id>`, `sk = META`, `doc` (the record as JSON), `status`, `version`,
//!   `kind = DEPLOYMENT` + `createdSort` (GSI `byCreated`: newest first listing),
//!   `status` + `createdSort` (GSI `byStatus`: cleanup and filtered listing), `ttl` once final.
//! - event: `pk = DEP#<id>`, `sk = EVT#<ms>#<seq>`, `doc`.
//! - canary name claim: `pk = NAME#<name>`, `sk = OWNER`, `owner` (no `kind` or `status`, so
//!   it is in neither index).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use aws_sdk_dynamodb::Client;

use async_trait::async_trait;
use aviary_core::model::{Deployment, Event};
use aviary_core::status::Status;
use aviary_core::StepError;
use aviary_ports::{CreateOutcome, DeploymentStore, Page};

use crate::errors::{aws_err, code};

pub const GSI_BY_CREATED: &str = "byCreated";
pub const GSI_BY_STATUS: &str = "byStatus";
const META: &str = "META";
/// Final deployments stay readable this long before DynamoDB TTL may remove them.
const RETAIN_FINAL_SECS: i64 = 90 * 24 * 3600;
/// The deployment store in DynamoDB.
#[derive(Clone)]
pub struct DynamoStore {
    pub(crate) client: Client,
    pub(crate) table: String,
}

const NAME_SK: &str = "OWNER";

fn name_pk(name: &str) -> String {
    format!("NAME#{name}")
}

fn pk(id: &str) -> String {
    format!("DEP#{id}")
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn created_sort(d: &Deployment) -> String {
    format!("{:012}#{}", d.created_at, d.id)
}

impl DynamoStore {
    pub fn new(client: Client, table: String) -> Self {
        DynamoStore { client, table }
    }

    /// `table` is `AVIARY_TABLE`; an empty name fails every call with a configuration error.
    pub fn from_conf(config: &aws_config::SdkConfig, table: &str) -> Self {
        DynamoStore::new(Client::new(config), table.to_string())
    }

    pub(crate) fn table(&self) -> Result<&str, StepError> {
        if self.table.is_empty() {
            Err(StepError::Config("environment variable AVIARY_TABLE is not set".into()))
        } else {
            Ok(&self.table)
        }
    }

    fn item(&self, d: &Deployment) -> Result<HashMap<String, AttributeValue>, StepError> {
        let doc = serde_json::to_string(d).map_err(|e| StepError::InvalidInput(e.to_string()))?;
        let mut item = HashMap::from([
            ("pk".to_string(), s(pk(&d.id))),
            ("sk".to_string(), s(META)),
            ("doc".to_string(), s(doc)),
            ("status".to_string(), s(d.status.as_str())),
            ("version".to_string(), n(d.version)),
            ("kind".to_string(), s("DEPLOYMENT")),
            ("createdSort".to_string(), s(created_sort(d))),
            ("expiresAt".to_string(), n(d.expires_at)),
        ]);
        if d.status.is_final() {
            item.insert("ttl".into(), n(d.updated_at + RETAIN_FINAL_SECS));
        }
        Ok(item)
    }
}

#[async_trait]
impl DeploymentStore for DynamoStore {
    async fn create(&self, d: &Deployment) -> Result<CreateOutcome, StepError> {
        let res = self
            .client
            .put_item()
            .table_name(self.table()?)
            .set_item(Some(self.item(d)?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match res {
            Ok(_) => Ok(CreateOutcome::Created),
            Err(e) if code(&e) == Some("ConditionalCheckFailedException") => {
                let existing = self.get(&d.id).await?.ok_or_else(|| StepError::DeploymentNotFound(d.id.clone()))?;
                Ok(CreateOutcome::AlreadyExists(Box::new(existing)))
            }
            Err(e) => Err(aws_err("PutItem")(e)),
        }
    }

    async fn get(&self, id: &str) -> Result<Option<Deployment>, StepError> {
        let out = self
            .client
            .get_item()
            .table_name(self.table()?)
            .key("pk", s(pk(id)))
            .key("sk", s(META))
            .consistent_read(true)
            .send()
            .await
            .map_err(aws_err("GetItem"))?;
        out.item.map(|item| parse_doc(&item)).transpose()
    }

    async fn put_if_version(&self, d: &Deployment, expected_version: u64) -> Result<bool, StepError> {
        let res = self
            .client
            .put_item()
            .table_name(self.table()?)
            .set_item(Some(self.item(d)?))
            .condition_expression("version = :v")
            .expression_attribute_values(":v", n(expected_version))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match res {
            Ok(_) => Ok(true),
            Err(e) if code(&e) == Some("ConditionalCheckFailedException") => Ok(false),
            Err(e) => Err(aws_err("PutItem")(e)),
        }
    }

    /// Never overwrites: the sort key is unique per write (time + random suffix, conditional).
    async fn append_event(&self, id: &str, event: &Event) -> Result<(), StepError> {
        let at = event.at_ms;
        let doc = serde_json::to_string(event).map_err(|e| StepError::InvalidInput(e.to_string()))?;
        for attempt in 0..5u32 {
            let seq: u32 = rand_suffix(attempt);
            let res = self
                .client
                .put_item()
                .table_name(self.table()?)
                .item("pk", s(pk(id)))
                .item("sk", s(format!("EVT#{at:015}#{seq:08x}")))
                .item("doc", s(doc.clone()))
                .condition_expression("attribute_not_exists(sk)")
                .send()
                .await;
            match res {
                Ok(_) => return Ok(()),
                Err(e) if code(&e) == Some("ConditionalCheckFailedException") => continue,
                Err(e) => return Err(aws_err("PutItem")(e)),
            }
        }
        Err(StepError::aws("PutItem", true, "could not find a free event slot"))
    }

    /// The event log, oldest first.
    async fn events(&self, id: &str, limit: i32, cursor: Option<&str>) -> Result<Page<Event>, StepError> {
        let mut q = self
            .client
            .query()
            .table_name(self.table()?)
            .key_condition_expression("pk = :pk AND begins_with(sk, :evt)")
            .expression_attribute_values(":pk", s(pk(id)))
            .expression_attribute_values(":evt", s("EVT#"))
            .consistent_read(true)
            .limit(limit);
        if let Some(c) = cursor {
            q = q.set_exclusive_start_key(Some(events_cursor(c, id)?));
        }
        let out = q.send().await.map_err(aws_err("Query"))?;
        let items = out.items().iter().map(parse_doc).collect::<Result<Vec<Event>, _>>()?;
        Ok(Page { items, next: out.last_evaluated_key().map(encode_cursor) })
    }

    /// Deployments newest first, optionally only those in `status`.
    async fn list(&self, status: Option<Status>, limit: i32, cursor: Option<&str>) -> Result<Page<Deployment>, StepError> {
        let mut q = self.client.query().table_name(self.table()?).scan_index_forward(false).limit(limit);
        q = match status {
            Some(st) => q
                .index_name(GSI_BY_STATUS)
                .key_condition_expression("#s = :s")
                .expression_attribute_names("#s", "status")
                .expression_attribute_values(":s", s(st.as_str())),
            None => q
                .index_name(GSI_BY_CREATED)
                .key_condition_expression("kind = :k")
                .expression_attribute_values(":k", s("DEPLOYMENT")),
        };
        if let Some(c) = cursor {
            q = q.set_exclusive_start_key(Some(list_cursor(c, status)?));
        }
        let out = q.send().await.map_err(aws_err("Query"))?;
        let items = out.items().iter().map(parse_doc).collect::<Result<Vec<Deployment>, _>>()?;
        Ok(Page { items, next: out.last_evaluated_key().map(encode_cursor) })
    }

    async fn name_owner(&self, name: &str) -> Result<Option<String>, StepError> {
        let out = self
            .client
            .get_item()
            .table_name(self.table()?)
            .key("pk", s(name_pk(name)))
            .key("sk", s(NAME_SK))
            .consistent_read(true)
            .send()
            .await
            .map_err(aws_err("GetItem"))?;
        Ok(out.item.and_then(|item| item.get("owner").and_then(|o| o.as_s().ok()).cloned()))
    }

    async fn claim_name(&self, name: &str, principal: &str) -> Result<String, StepError> {
        let res = self
            .client
            .put_item()
            .table_name(self.table()?)
            .item("pk", s(name_pk(name)))
            .item("sk", s(NAME_SK))
            .item("owner", s(principal))
            .condition_expression("attribute_not_exists(pk) OR #o = :o")
            .expression_attribute_names("#o", "owner")
            .expression_attribute_values(":o", s(principal))
            .send()
            .await;
        match res {
            Ok(_) => Ok(principal.to_string()),
            Err(e) if code(&e) == Some("ConditionalCheckFailedException") => self
                .name_owner(name)
                .await?
                .ok_or_else(|| StepError::Aws { operation: "PutItem".into(), message: format!("the claim on {name} vanished") }),
            Err(e) => Err(aws_err("PutItem")(e)),
        }
    }
}

fn rand_suffix(attempt: u32) -> u32 {
    // Uniqueness within one millisecond; collisions are retried by the conditional put.
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    nanos.wrapping_mul(2_654_435_761).wrapping_add(attempt.wrapping_mul(40_503))
}

fn parse_doc<T: serde::de::DeserializeOwned>(item: &HashMap<String, AttributeValue>) -> Result<T, StepError> {
    let doc = item
        .get("doc")
        .and_then(|v| v.as_s().ok())
        .ok_or_else(|| StepError::InvalidInput("stored item has no doc attribute".into()))?;
    serde_json::from_str(doc).map_err(|e| StepError::InvalidInput(format!("stored item does not parse: {e}")))
}

/// Cursors are the LastEvaluatedKey's string attributes, hex-encoded JSON: opaque to clients.
pub(crate) fn encode_cursor(key: &HashMap<String, AttributeValue>) -> String {
    let map: std::collections::BTreeMap<&str, &str> =
        key.iter().filter_map(|(k, v)| v.as_s().ok().map(|s| (k.as_str(), s.as_str()))).collect();
    hex::encode(serde_json::to_vec(&map).unwrap_or_default())
}

/// A cursor for exactly the key attributes `expected` (each non-empty, as this table writes
/// them), so a forged or mismatched cursor is `InvalidInput` before DynamoDB is asked (which
/// would answer a ValidationException, or silently continue another listing).
fn keyed_cursor(c: &str, expected: &[&str], fits: impl Fn(&HashMap<String, String>) -> bool) -> Result<HashMap<String, AttributeValue>, StepError> {
    let invalid = || StepError::InvalidInput("cursor is not valid for this listing".into());
    let key = decode_cursor(c)?;
    let map: HashMap<String, String> = key.iter().filter_map(|(k, v)| v.as_s().ok().map(|s| (k.clone(), s.clone()))).collect();
    let mut names: Vec<&str> = map.keys().map(String::as_str).collect();
    names.sort_unstable();
    let mut want = expected.to_vec();
    want.sort_unstable();
    if names != want || map.values().any(|v| v.is_empty() || v.len() > 1024) || !fits(&map) {
        return Err(invalid());
    }
    Ok(key)
}

/// A `list` cursor, for the index that listing (with or without `status`) queries.
fn list_cursor(c: &str, status: Option<Status>) -> Result<HashMap<String, AttributeValue>, StepError> {
    let is_meta = |m: &HashMap<String, String>| m.get("pk").is_some_and(|p| p.starts_with("DEP#")) && m.get("sk").map(String::as_str) == Some(META);
    match status {
        Some(st) => keyed_cursor(c, &["pk", "sk", "status", "createdSort"], |m| is_meta(m) && m.get("status").map(String::as_str) == Some(st.as_str())),
        None => keyed_cursor(c, &["pk", "sk", "kind", "createdSort"], |m| is_meta(m) && m.get("kind").map(String::as_str) == Some("DEPLOYMENT")),
    }
}

/// An `events` cursor: it must belong to this deployment's log.
fn events_cursor(c: &str, id: &str) -> Result<HashMap<String, AttributeValue>, StepError> {
    keyed_cursor(c, &["pk", "sk"], |m| m.get("pk") == Some(&pk(id)) && m.get("sk").is_some_and(|s| s.starts_with("EVT#")))
}

/// A cursor that does not decode is the caller's mistake, reported as invalid input.
pub fn decode_cursor(c: &str) -> Result<HashMap<String, AttributeValue>, StepError> {
    let bytes = hex::decode(c).map_err(|_| StepError::InvalidInput("cursor is not valid".into()))?;
    let map: HashMap<String, String> =
        serde_json::from_slice(&bytes).map_err(|_| StepError::InvalidInput("cursor is not valid".into()))?;
    Ok(map.into_iter().map(|(k, v)| (k, AttributeValue::S(v))).collect())
}

#[cfg(test)]
mod cursor_tests {
    use super::*;

    fn cursor(map: &[(&str, &str)]) -> String {
        let m: std::collections::BTreeMap<&str, &str> = map.iter().copied().collect();
        hex::encode(serde_json::to_vec(&m).unwrap())
    }

    #[test]
    fn cursors_must_fit_the_listing_they_continue() {
        let by_created = cursor(&[("pk", "DEP#a-1"), ("sk", "META"), ("kind", "DEPLOYMENT"), ("createdSort", "000000000001#a-1")]);
        let by_status = cursor(&[("pk", "DEP#a-1"), ("sk", "META"), ("status", "ACTIVE"), ("createdSort", "000000000001#a-1")]);
        assert!(list_cursor(&by_created, None).is_ok());
        assert!(list_cursor(&by_status, Some(Status::Active)).is_ok());
        // Swapped listings, another status, garbage, empty values, an empty map.
        for (c, status) in [
            (by_created.as_str(), Some(Status::Active)),
            (by_status.as_str(), None),
            (by_status.as_str(), Some(Status::Pending)),
            ("zz", None),
            ("", None),
            ("7b7d", None),
        ] {
            assert!(matches!(list_cursor(c, status), Err(StepError::InvalidInput(_))), "{c} {status:?}");
        }
        assert!(list_cursor(&cursor(&[("pk", ""), ("sk", "META"), ("kind", "DEPLOYMENT"), ("createdSort", "1")]), None).is_err());
        let ev = cursor(&[("pk", "DEP#a-1"), ("sk", "EVT#000000000000001#00000001")]);
        assert!(events_cursor(&ev, "a-1").is_ok());
        assert!(events_cursor(&ev, "b-1").is_err());
        assert!(events_cursor(&by_created, "a-1").is_err());
    }
}
