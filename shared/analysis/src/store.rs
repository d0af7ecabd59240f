//! The analysis store port: analyses kept beside their deployment, one record each, listed
//! newest first by their ids (which start with the creation time in milliseconds). On AWS
//! they live in the deployment table (`aviary_aws::analyses`); [`crate::memory`] keeps them
//! in memory.

use std::sync::atomic::{AtomicU32, Ordering};

use async_trait::async_trait;
use aviary_core::StepError;
use aviary_ports::Page;

use crate::live::LiveState;
use crate::record::{AnalysisRecord, AnalysisSummary};

#[async_trait]
pub trait AnalysisStore: Send + Sync {
    /// Writes a new analysis; `Ok(false)` when its id is taken (never overwrites).
    async fn put_new(&self, record: &AnalysisRecord) -> Result<bool, StepError>;
    /// A strongly consistent read; `None` when the deployment or the analysis does not exist
    /// (or the id is not an analysis id).
    async fn get(&self, deployment_id: &str, analysis_id: &str) -> Result<Option<AnalysisRecord>, StepError>;
    /// A deployment's analyses newest first (`limit` clamped to 1–100). A cursor that does
    /// not decode is `InvalidInput`.
    async fn list(&self, deployment_id: &str, limit: i32, cursor: Option<&str>) -> Result<Page<AnalysisSummary>, StepError>;
    /// The live verdict's state (strongly consistent); None before its first refresh.
    async fn get_live(&self, deployment_id: &str) -> Result<Option<LiveState>, StepError>;
    /// Stores the state only if the stored version is still `expected` (None: nothing stored
    /// yet). `Ok(false)`: another refresh stored first; nothing was written.
    async fn put_live(&self, state: &LiveState, expected: Option<u64>) -> Result<bool, StepError>;
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
}
