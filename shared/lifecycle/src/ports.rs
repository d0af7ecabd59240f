//! The ports a use case runs against, bundled. Each Lambda wires only the adapters its use
//! case calls (so its binary links only those SDK clients); a port left unwired answers every
//! call with a configuration error naming it, never a silent success.

use std::sync::Arc;

use async_trait::async_trait;
use aviary_core::clock::{Clock, SystemClock};
use aviary_core::guardrails::{Guardrails, SettingError};
use aviary_core::model::{Deployment, Event};
use aviary_core::spec::{RuleConditions, Stickiness};
use aviary_core::status::Status;
use aviary_core::steps::GroupHealth;
use aviary_core::traffic::RuleWeights;
use aviary_core::StepError;
use aviary_docker_save::Limits;
use aviary_ports::{
    ArtifactProblem, ArtifactStore, CheckedTarball, Compute, CreateOutcome, CreateRuleError, DeploymentStore, Ingress, InstanceInfo,
    LaunchRequest, ListenerInfo, SubnetInfo, LoadBalancerInfo, ObjectMeta, OwnerTags, Page, RouteChange, RuleSnapshot,
    TargetGroupRequest, TargetHealthSource, TrafficRouter, VersionedObject, Workflow, WorkflowKind,
};

use crate::Deployments;

/// What varies per installation and is not an adapter's business.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Instance profile (name) for baseline and canary instances: reads their artifacts only.
    pub instance_profile: String,
    /// Instance profile (name) for the monitor: discovery, metrics, and writing its own
    /// Grafana password under the deployment's secret path.
    pub monitor_instance_profile: String,
    pub region: String,
    /// The installation's limits, or why they could not be read (then every admission and
    /// traffic change is refused with a configuration error: a typo must not lift a limit).
    pub guardrails: Result<Guardrails, SettingError>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            instance_profile: String::new(),
            monitor_instance_profile: String::new(),
            region: String::new(),
            guardrails: Ok(Guardrails::default()),
        }
    }
}

impl Settings {
    /// `AVIARY_INSTANCE_PROFILE`, `AVIARY_MONITOR_INSTANCE_PROFILE`, `AWS_REGION` (or
    /// `AWS_DEFAULT_REGION`) and the guardrails'
    /// variables ([`aviary_core::guardrails::env`]).
    pub fn from_env() -> Settings {
        Settings {
            instance_profile: std::env::var("AVIARY_INSTANCE_PROFILE").unwrap_or_default(),
            monitor_instance_profile: std::env::var("AVIARY_MONITOR_INSTANCE_PROFILE").unwrap_or_default(),
            region: std::env::var("AWS_REGION").or_else(|_| std::env::var("AWS_DEFAULT_REGION")).unwrap_or_default(),
            guardrails: Guardrails::from_lookup(|k| std::env::var(k).ok()),
        }
    }

    pub fn with_guardrails(mut self, g: Guardrails) -> Settings {
        self.guardrails = Ok(g);
        self
    }

    /// The guardrails, or a configuration error naming the unreadable setting.
    pub fn guardrails(&self) -> Result<&Guardrails, StepError> {
        self.guardrails.as_ref().map_err(|e| StepError::Config(e.to_string()))
    }

    /// The region from the SDK config when the environment names none.
    pub fn or_region(mut self, region: String) -> Settings {
        if self.region.is_empty() {
            self.region = region;
        }
        self
    }

    /// A required value, or a configuration error naming the variable.
    pub fn require<'a>(value: &'a str, name: &str) -> Result<&'a str, StepError> {
        if value.is_empty() {
            Err(StepError::Config(format!("environment variable {name} is not set")))
        } else {
            Ok(value)
        }
    }
}

/// The ports, cheap to clone.
#[derive(Clone)]
pub struct Ports {
    pub store: Arc<dyn DeploymentStore>,
    pub router: Arc<dyn TrafficRouter>,
    pub health: Arc<dyn TargetHealthSource>,
    pub compute: Arc<dyn Compute>,
    pub workflow: Arc<dyn Workflow>,
    pub artifacts: Arc<dyn ArtifactStore>,
    pub clock: Arc<dyn Clock>,
    pub settings: Settings,
}

impl Ports {
    /// Every port unwired, the system clock, the settings from the environment.
    pub fn new(settings: Settings) -> Ports {
        let none = Arc::new(NotWired);
        Ports {
            store: none.clone(),
            router: none.clone(),
            health: none.clone(),
            compute: none.clone(),
            workflow: none.clone(),
            artifacts: none,
            clock: Arc::new(SystemClock),
            settings,
        }
    }
    pub fn with_store(mut self, p: Arc<dyn DeploymentStore>) -> Self {
        self.store = p;
        self
    }
    pub fn with_router(mut self, p: Arc<dyn TrafficRouter>) -> Self {
        self.router = p;
        self
    }
    pub fn with_health(mut self, p: Arc<dyn TargetHealthSource>) -> Self {
        self.health = p;
        self
    }
    pub fn with_compute(mut self, p: Arc<dyn Compute>) -> Self {
        self.compute = p;
        self
    }
    pub fn with_workflow(mut self, p: Arc<dyn Workflow>) -> Self {
        self.workflow = p;
        self
    }
    pub fn with_artifacts(mut self, p: Arc<dyn ArtifactStore>) -> Self {
        self.artifacts = p;
        self
    }
    pub fn with_clock(mut self, c: Arc<dyn Clock>) -> Self {
        self.clock = c;
        self
    }

    /// The deployment records, with status rules and compare-and-swap.
    pub fn deployments(&self) -> Deployments {
        Deployments::new(self.store.clone(), self.clock.clone())
    }
}

/// A port this function did not wire.
pub struct NotWired;

fn not_wired<T>(port: &str) -> Result<T, StepError> {
    Err(StepError::Config(format!("this function has no {port} wired")))
}

#[async_trait]
impl DeploymentStore for NotWired {
    async fn create(&self, _: &Deployment) -> Result<CreateOutcome, StepError> {
        not_wired("deployment store")
    }
    async fn get(&self, _: &str) -> Result<Option<Deployment>, StepError> {
        not_wired("deployment store")
    }
    async fn put_if_version(&self, _: &Deployment, _: u64) -> Result<bool, StepError> {
        not_wired("deployment store")
    }
    async fn append_event(&self, _: &str, _: &Event) -> Result<(), StepError> {
        not_wired("deployment store")
    }
    async fn events(&self, _: &str, _: i32, _: Option<&str>) -> Result<Page<Event>, StepError> {
        not_wired("deployment store")
    }
    async fn list(&self, _: Option<Status>, _: i32, _: Option<&str>) -> Result<Page<Deployment>, StepError> {
        not_wired("deployment store")
    }
    async fn name_owner(&self, _: &str) -> Result<Option<String>, StepError> {
        not_wired("deployment store")
    }
    async fn claim_name(&self, _: &str, _: &str) -> Result<String, StepError> {
        not_wired("deployment store")
    }
}

#[async_trait]
impl TrafficRouter for NotWired {
    async fn listener(&self, _: &str) -> Result<Option<ListenerInfo>, StepError> {
        not_wired("traffic router")
    }
    async fn load_balancer(&self, _: &str) -> Result<LoadBalancerInfo, StepError> {
        not_wired("traffic router")
    }
    async fn all_listeners(&self) -> Result<Vec<String>, StepError> {
        not_wired("traffic router")
    }
    async fn rules(&self, _: &str) -> Result<Vec<RuleSnapshot>, StepError> {
        not_wired("traffic router")
    }
    async fn aviary_rules(&self, _: &str) -> Result<Vec<(RuleSnapshot, String)>, StepError> {
        not_wired("traffic router")
    }
    async fn describe_rule(&self, _: &str) -> Result<Option<RuleSnapshot>, StepError> {
        not_wired("traffic router")
    }
    async fn create_rule(
        &self,
        _: &str,
        _: u32,
        _: &RuleConditions,
        _: &RuleWeights,
        _: Option<&Stickiness>,
        _: &OwnerTags,
    ) -> Result<String, CreateRuleError> {
        Ok(not_wired("traffic router")?)
    }
    async fn modify_rule(&self, _: &str, _: &RouteChange) -> Result<(), StepError> {
        not_wired("traffic router")
    }
    async fn delete_rule(&self, _: &str) -> Result<bool, StepError> {
        not_wired("traffic router")
    }
    async fn target_group_exists(&self, _: &str) -> Result<bool, StepError> {
        not_wired("traffic router")
    }
    async fn target_group_by_name(&self, _: &str) -> Result<Option<(String, Option<String>)>, StepError> {
        not_wired("traffic router")
    }
    async fn create_target_group(&self, _: &TargetGroupRequest) -> Result<String, StepError> {
        not_wired("traffic router")
    }
    async fn set_deregistration_delay(&self, _: &str, _: u32) -> Result<(), StepError> {
        not_wired("traffic router")
    }
    async fn register(&self, _: &str, _: &str, _: u16) -> Result<(), StepError> {
        not_wired("traffic router")
    }
    async fn deregister_all(&self, _: &str) -> Result<Vec<String>, StepError> {
        not_wired("traffic router")
    }
    async fn delete_target_group(&self, _: &str) -> Result<bool, StepError> {
        not_wired("traffic router")
    }
    async fn aviary_target_groups(&self) -> Result<Vec<(String, String)>, StepError> {
        not_wired("traffic router")
    }
    async fn environment(&self) -> Result<aviary_ports::environment::Environment, StepError> {
        not_wired("traffic router")
    }
}

#[async_trait]
impl TargetHealthSource for NotWired {
    async fn target_health(&self, _: &str) -> Result<GroupHealth, StepError> {
        not_wired("target health source")
    }
}

#[async_trait]
impl Compute for NotWired {
    async fn ensure_security_group(&self, _: &str, _: &str, _: &str, _: &str) -> Result<String, StepError> {
        not_wired("compute")
    }
    async fn allow_ingress(&self, _: &str, _: &[Ingress]) -> Result<(), StepError> {
        not_wired("compute")
    }
    async fn instances(&self, _: &str, _: Option<&str>) -> Result<Vec<InstanceInfo>, StepError> {
        not_wired("compute")
    }
    async fn ensure_instance(&self, _: &LaunchRequest) -> Result<InstanceInfo, StepError> {
        not_wired("compute")
    }
    async fn terminate(&self, _: &[String]) -> Result<(), StepError> {
        not_wired("compute")
    }
    async fn delete_security_group(&self, _: &str) -> Result<bool, StepError> {
        not_wired("compute")
    }
    async fn aviary_security_groups(&self, _: Option<&str>) -> Result<Vec<(String, String)>, StepError> {
        not_wired("compute")
    }
    async fn aviary_instances(&self) -> Result<Vec<(String, String)>, StepError> {
        not_wired("compute")
    }
    async fn subnets(&self, _: &[String]) -> Result<Vec<SubnetInfo>, StepError> {
        not_wired("compute")
    }
    async fn resolve_image(&self, _: &str) -> Result<String, StepError> {
        not_wired("compute")
    }
    fn installation(&self) -> &str {
        ""
    }
    async fn read_secret(&self, _: &str, _: &str) -> Result<Option<String>, StepError> {
        not_wired("compute")
    }
    async fn delete_secrets(&self, _: &str) -> Result<Vec<String>, StepError> {
        not_wired("compute")
    }
    async fn aviary_secrets(&self) -> Result<Vec<(String, String)>, StepError> {
        not_wired("compute")
    }
}

#[async_trait]
impl Workflow for NotWired {
    fn execution_id(&self, _: WorkflowKind, _: &str) -> Result<String, StepError> {
        not_wired("workflow engine")
    }
    async fn start_once(&self, _: WorkflowKind, _: &str, _: &serde_json::Value) -> Result<String, StepError> {
        not_wired("workflow engine")
    }
    async fn execution_status(&self, _: &str) -> Result<Option<String>, StepError> {
        not_wired("workflow engine")
    }
}

#[async_trait]
impl ArtifactStore for NotWired {
    fn bucket(&self) -> &str {
        ""
    }
    async fn head(&self, _: &str) -> Result<Option<ObjectMeta>, StepError> {
        not_wired("artifact store")
    }
    async fn get_small(&self, _: &str, _: usize) -> Result<Option<Vec<u8>>, StepError> {
        not_wired("artifact store")
    }
    async fn put(&self, _: &str, _: Vec<u8>) -> Result<(), StepError> {
        not_wired("artifact store")
    }
    async fn get_versioned(&self, _: &str, _: usize) -> Result<Result<VersionedObject, ArtifactProblem>, StepError> {
        not_wired("artifact store")
    }
    async fn check_tarball(&self, _: &str, _: Limits) -> Result<Result<CheckedTarball, ArtifactProblem>, StepError> {
        not_wired("artifact store")
    }
}
