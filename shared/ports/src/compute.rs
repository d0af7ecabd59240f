//! Compute: the instances Aviary launches, their security groups and their secrets (the
//! monitor's Grafana password, in SSM under the deployment's path: see
//! [`aviary_core::secrets`]), found by Aviary's tags or path so every operation is idempotent
//! (a retried step finds what an earlier attempt created).

use async_trait::async_trait;
use aviary_core::StepError;

/// An instance Aviary launched.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceInfo {
    pub instance_id: String,
    pub role: String,
    /// `pending`, `running`, `stopping`, `stopped`, `shutting-down`, `terminated`.
    pub state: String,
    pub private_ip: Option<String>,
    pub public_ip: Option<String>,
}

/// One ingress rule: a TCP port from a security group or from a CIDR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ingress {
    FromGroup { port: u16, group_id: String },
    FromCidr { port: u16, cidr: String },
}

/// What to launch. The adapter adds Aviary's tags, requires IMDSv2 and encodes the user data.
#[derive(Debug, Clone, PartialEq)]
pub struct LaunchRequest {
    pub deployment_id: String,
    pub role: String,
    pub image_id: String,
    pub instance_type: String,
    pub subnet_id: String,
    pub security_group_id: String,
    pub instance_profile: String,
    /// Plain text.
    pub user_data: String,
    /// IMDS hop limit: 1 keeps the instance role's credentials away from containers (app
    /// instances); 2 only where a container needs them (the monitor's Grafana).
    pub metadata_hop_limit: u8,
}

/// A subnet and the network it is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubnetInfo {
    pub subnet_id: String,
    pub vpc_id: String,
}

#[async_trait]
pub trait Compute: Send + Sync {
    /// The deployment's security group for `role`, created (tagged at creation) if missing.
    async fn ensure_security_group(&self, deployment_id: &str, role: &str, vpc_id: &str, description: &str) -> Result<String, StepError>;
    /// Adds ingress rules; rules that already exist count as done.
    async fn allow_ingress(&self, group_id: &str, rules: &[Ingress]) -> Result<(), StepError>;
    /// Live (not terminated) instances of the deployment: all roles, or one.
    async fn instances(&self, deployment_id: &str, role: Option<&str>) -> Result<Vec<InstanceInfo>, StepError>;
    /// Launches one instance, or returns the one an earlier attempt launched.
    async fn ensure_instance(&self, req: &LaunchRequest) -> Result<InstanceInfo, StepError>;
    /// Terminates instances; already gone counts as done.
    async fn terminate(&self, instance_ids: &[String]) -> Result<(), StepError>;
    /// Deletes a security group; `Ok(false)` when already gone; still in use is
    /// `TeardownIncomplete` so teardown retries.
    async fn delete_security_group(&self, group_id: &str) -> Result<bool, StepError>;
    /// Security groups carrying Aviary's tags, for one deployment or all: (group id, deployment id).
    async fn aviary_security_groups(&self, deployment_id: Option<&str>) -> Result<Vec<(String, String)>, StepError>;
    /// Every live instance carrying Aviary's tags: (instance id, deployment id).
    async fn aviary_instances(&self) -> Result<Vec<(String, String)>, StepError>;
    /// The machine image a public catalogue parameter names (the latest Amazon Linux 2023).
    async fn resolve_image(&self, parameter: &str) -> Result<String, StepError>;
    /// The subnets among `ids` that exist (missing ones are left out, not an error).
    async fn subnets(&self, ids: &[String]) -> Result<Vec<SubnetInfo>, StepError>;
    /// The installation this adapter acts for (its tags and its secrets' path).
    fn installation(&self) -> &str;
    /// One secret of a deployment, decrypted; `None` when it was never written (or is gone).
    async fn read_secret(&self, deployment_id: &str, secret: &str) -> Result<Option<String>, StepError>;
    /// Deletes every secret of the deployment ([`aviary_core::secrets::ALL`]); returns the
    /// parameter names that existed. Already gone counts as done.
    async fn delete_secrets(&self, deployment_id: &str) -> Result<Vec<String>, StepError>;
    /// Every secret under this installation's path: (parameter name, deployment id).
    async fn aviary_secrets(&self) -> Result<Vec<(String, String)>, StepError>;
}
