//! Who asked for a change, in the deployment's event log (`api: PATCH ... by <caller>`).

use aviary_core::model::Outcome;
use aviary_lifecycle::Ports;

use crate::context::Invocation;

/// Records the caller after the change succeeded. A failed append never fails the request:
/// the change itself is already logged by the core.
pub async fn log_caller(ports: &Ports, id: &str, who: &Invocation, what: &str) {
    let request = who.request_id.as_deref().map(|r| format!(" (request {r})")).unwrap_or_default();
    let detail = format!("{what} by {}{request}", who.caller_label());
    aviary_lifecycle::log(ports, id, "api", Outcome::Info, detail).await;
}
