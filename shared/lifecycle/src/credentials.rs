//! The monitor's Grafana login, for the deployment's owner or an operator only. The monitor
//! writes its random admin password to the deployment's secret path at boot
//! ([`aviary_core::secrets`]); this reads it back through the compute port and records who
//! asked in the event log.

use aviary_core::model::Outcome;
use aviary_core::ownership::NotOwner;
use aviary_core::secrets;
use aviary_core::StepError;
use serde::Serialize;

use crate::actor::Actor;
use crate::{log, Ports};

/// Grafana's built-in administrator (its password is the only secret).
pub const GRAFANA_USER: &str = "admin";

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GrafanaLogin {
    pub deployment_id: String,
    /// The monitor's Grafana, once it has an address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    pub username: String,
    pub password: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    #[error(transparent)]
    NotOwner(NotOwner),
    /// Nothing stored (yet, or any more): says why.
    #[error("{0}")]
    NotStored(String),
    #[error(transparent)]
    Step(#[from] StepError),
}

pub async fn grafana_login(ports: &Ports, id: &str, actor: Actor<'_>) -> Result<GrafanaLogin, CredentialsError> {
    let d = ports.deployments().require(id).await?;
    actor.may_change(ports, &d)?.map_err(CredentialsError::NotOwner)?;
    let Some(password) = ports.compute.read_secret(id, secrets::GRAFANA_PASSWORD).await? else {
        let why = if !d.spec.as_ref().is_some_and(|s| s.monitoring.enabled) {
            format!("deployment {id} has no monitoring stack, so no Grafana login")
        } else if d.status.is_final() {
            format!("deployment {id} is {}: its monitor and secrets are gone", d.status)
        } else {
            format!("the monitor of {id} has not stored its Grafana password yet (it does a few minutes after launch, once Docker is up)")
        };
        return Err(CredentialsError::NotStored(why));
    };
    log(ports, id, "credentials", Outcome::Info, format!("Grafana login read by {}", actor.label())).await;
    Ok(GrafanaLogin {
        deployment_id: id.to_string(),
        url: d.monitoring.as_ref().map(|m| m.grafana.clone()),
        username: GRAFANA_USER.to_string(),
        password,
    })
}
