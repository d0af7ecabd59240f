//! What a sweep did (or, in a dry run, would do): one [`CleanupAction`] per deployment torn
//! down and per orphaned resource, plus the listings that failed. Returned by the Lambda and
//! by [`crate::cleanup::run_cleanup`]; every failure is also written to the tracing log.

use serde::{Deserialize, Serialize};

/// Why cleanup acted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActionKind {
    /// The deployment's TTL (`expiresAt`) has passed.
    Expired,
    /// The deployment stopped making progress (deploying too long, or a teardown that ended
    /// without finishing).
    Stuck,
    /// A resource tagged by Aviary whose deployment is unknown or final.
    Orphan,
}

/// What cleanup does about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActionVerb {
    /// Start (or restart) the teardown workflow.
    Teardown,
    /// Delete the resource directly.
    Delete,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CleanupAction {
    pub kind: ActionKind,
    pub deployment_id: String,
    /// For orphans: `rule <arn>`, `target group <arn>`, `instance <id>` or `security group <id>`
    /// (the same wording as teardown's list of removed resources).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    pub action: ActionVerb,
    /// The action was carried out (false in a dry run, and when it failed: see `detail`).
    pub done: bool,
    pub detail: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CleanupReport {
    pub dry_run: bool,
    pub actions: Vec<CleanupAction>,
    /// Listings that failed (the sweep went on without them); per-item failures are actions
    /// with `done: false`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

impl CleanupReport {
    pub(crate) fn push(&mut self, action: CleanupAction) {
        let resource = action.resource.as_deref().unwrap_or("-");
        if action.done || self.dry_run {
            tracing::info!(kind = ?action.kind, deployment = %action.deployment_id, resource, done = action.done, "{}", action.detail);
        } else {
            tracing::error!(kind = ?action.kind, deployment = %action.deployment_id, resource, "cleanup action failed: {}", action.detail);
        }
        self.actions.push(action);
    }

    pub(crate) fn error(&mut self, message: String) {
        tracing::error!("cleanup: {message}");
        self.errors.push(message);
    }

    /// Actions that were meant to happen but did not (dry-run actions are not failures).
    pub fn failures(&self) -> impl Iterator<Item = &CleanupAction> {
        self.actions.iter().filter(move |a| !a.done && !self.dry_run)
    }

    /// The actions about one deployment.
    pub fn for_deployment<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a CleanupAction> {
        self.actions.iter().filter(move |a| a.deployment_id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_with_the_documented_names() {
        let report = CleanupReport {
            dry_run: true,
            actions: vec![CleanupAction {
                kind: ActionKind::Orphan,
                deployment_id: "web-0123456789".into(),
                resource: Some("rule arn:x".into()),
                action: ActionVerb::Delete,
                done: false,
                detail: "dry run".into(),
            }],
            errors: vec![],
        };
        let v = serde_json::to_value(&report).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"dryRun": true, "actions": [{"kind": "orphan", "deploymentId": "web-0123456789",
                "resource": "rule arn:x", "action": "delete", "done": false, "detail": "dry run"}]})
        );
    }
}
