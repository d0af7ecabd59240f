//! A world of fakes for tests of the use cases and of the Lambda handlers over them: the
//! sample listener, a deployment table, compute, a workflow engine and an artifact bucket
//! holding valid tarballs, all sharing one call log and one fault table. Compiled for this
//! crate's tests and, behind the `testing` feature, for other crates' tests.

use std::sync::Arc;

use aviary_core::clock::ManualClock;
use aviary_core::model::{Deployment, Source};
use aviary_core::spec::DeploymentSpec;
use aviary_core::status::Status;
use aviary_core::steps::{DeploymentRef, ListenerRuleInput, RuleAction, TeardownInput};
use aviary_core::guardrails::Guardrails;
use aviary_docker_save::{build_image, BuildOptions, Layout};
use aviary_ports::memory::{
    Cloud, MemoryArtifacts, MemoryCompute, MemoryHealth, MemoryRouter, MemoryStore, MemoryWorkflow, SAMPLE_LISTENER,
};

use crate::admission::{admit, AdmissionOutcome, AdmissionRequest, RejectMode};
use crate::{Ports, Settings};

pub const BUCKET: &str = "aviary-artifacts";
pub const NOW: i64 = 1_800_000_000;

pub struct World {
    pub cloud: Cloud,
    pub store: MemoryStore,
    pub router: MemoryRouter,
    pub health: MemoryHealth,
    pub compute: MemoryCompute,
    pub workflow: MemoryWorkflow,
    pub artifacts: MemoryArtifacts,
    pub clock: ManualClock,
    pub ports: Ports,
}

impl Default for World {
    fn default() -> Self {
        World::new()
    }
}

impl World {
    pub fn new() -> World {
        let cloud = Cloud::default();
        let router = MemoryRouter::with_sample(cloud.clone());
        let compute = MemoryCompute::new(cloud.clone());
        World::assemble(cloud, router, compute, BUCKET)
    }

    /// A second installation in the same account: the same load balancers, instances and
    /// call log, seen through its own installation tag, with its own table, workflow engine
    /// and bucket.
    pub fn second_installation(&self, installation: &str) -> World {
        let router = self.router.for_installation(installation);
        let compute = self.compute.for_installation(installation);
        World::assemble(self.cloud.clone(), router, compute, &format!("{installation}-artifacts"))
    }

    fn assemble(cloud: Cloud, router: MemoryRouter, compute: MemoryCompute, bucket: &str) -> World {
        let store = MemoryStore::new(cloud.clone());
        let health = MemoryHealth::new(router.clone());
        let workflow = MemoryWorkflow::new(cloud.clone());
        let artifacts = MemoryArtifacts::new(bucket, cloud.clone());
        let clock = ManualClock::at_secs(NOW);
        let settings = Settings { instance_profile: "aviary-instance".into(), monitor_instance_profile: "aviary-monitor-instance".into(), region: "us-east-1".into(), ..Settings::default() }
            .with_guardrails(World::guardrails());
        let ports = Ports::new(settings)
            .with_store(Arc::new(store.clone()))
            .with_router(Arc::new(router.clone()))
            .with_health(Arc::new(health.clone()))
            .with_compute(Arc::new(compute.clone()))
            .with_workflow(Arc::new(workflow.clone()))
            .with_artifacts(Arc::new(artifacts.clone()))
            .with_clock(Arc::new(clock.clone()));
        World { cloud, store, router, health, compute, workflow, artifacts, clock, ports }
    }

    /// Replaces the installation's guardrails (what the handlers read from the environment).
    pub fn set_guardrails(&mut self, g: Guardrails) {
        self.ports.settings = self.ports.settings.clone().with_guardrails(g);
    }

    /// The guardrails the world starts with: the sample listener allowed, defaults otherwise.
    pub fn guardrails() -> Guardrails {
        Guardrails { allowed_listeners: vec![SAMPLE_LISTENER.into()], ..Guardrails::default() }
    }

    /// Uploads valid tarballs and compose file for `name`.
    pub fn upload_artifacts(&self, name: &str) {
        let image = build_image(&BuildOptions::new(Layout::Oci, "web:canary"));
        self.artifacts.insert(&format!("canaries/{name}/baseline.tar"), image.clone());
        self.artifacts.insert(&format!("canaries/{name}/canary.tar"), image);
        self.artifacts.insert(&format!("canaries/{name}/compose.yml"), "services:\n  app:\n    image: ${AVIARY_IMAGE}\n");
    }

    pub async fn admit(&self, id: &str, spec: DeploymentSpec) -> AdmissionOutcome {
        self.admit_by(id, spec, RejectMode::Record, None).await
    }

    /// Admission of a request by `caller` (an API request in `Answer` mode, a presigned upload
    /// in `Record` mode).
    pub async fn admit_by(&self, id: &str, spec: DeploymentSpec, mode: RejectMode, caller: Option<&str>) -> AdmissionOutcome {
        let name = spec.name.clone();
        admit(
            &self.ports,
            AdmissionRequest {
                id: id.into(),
                name,
                source: Source::Api { idempotency_key: id.into() },
                spec: Ok(spec),
                raw_spec: None,
                mode,
                created_by: caller.map(str::to_string),
            },
        )
        .await
        .expect("admission reaches a decision")
    }

    /// A deployment of `web` admitted (PENDING, deploy workflow started).
    pub async fn admitted(&self, id: &str) -> Deployment {
        self.upload_artifacts("web");
        let outcome = self.admit(id, spec("web")).await;
        assert!(matches!(outcome, AdmissionOutcome::Started(_)), "{outcome:?}");
        self.store.peek(id).unwrap()
    }

    /// … and provisioned (instances and security groups exist).
    pub async fn provisioned(&self, id: &str) -> Deployment {
        self.admitted(id).await;
        crate::provision::provision(&self.ports, &DeploymentRef { deployment_id: id.into() }).await.expect("provision");
        self.store.peek(id).unwrap()
    }

    /// … and registered (target groups exist).
    pub async fn registered(&self, id: &str) -> Deployment {
        self.provisioned(id).await;
        crate::register::register_targets(&self.ports, &DeploymentRef { deployment_id: id.into() }).await.expect("register");
        self.store.peek(id).unwrap()
    }

    /// … and routed (the rule exists at weight 0, WAITING_HEALTHY).
    pub async fn routed(&self, id: &str) -> Deployment {
        self.registered(id).await;
        crate::rule::listener_rule(&self.ports, &ListenerRuleInput { deployment_id: id.into(), action: RuleAction::Create }).await.expect("create rule");
        self.store.peek(id).unwrap()
    }

    /// A deployment driven to ACTIVE through every step.
    pub async fn active(&self, id: &str) -> Deployment {
        self.routed(id).await;
        let r = DeploymentRef { deployment_id: id.into() };
        let h = crate::health::check_health(&self.ports, &r).await.expect("health");
        assert!(h.all_healthy);
        crate::rule::listener_rule(&self.ports, &ListenerRuleInput { deployment_id: id.into(), action: RuleAction::Activate }).await.expect("activate");
        let d = self.store.peek(id).unwrap();
        assert_eq!(d.status, Status::Active);
        d
    }

    pub async fn teardown(&self, id: &str) -> Result<aviary_core::steps::TeardownOutput, aviary_core::StepError> {
        crate::teardown::teardown(&self.ports, &TeardownInput { deployment_id: id.into(), failure: None, reason: Some("test".into()) }).await
    }

    /// Nothing of `id` left anywhere, and the listener exactly as the sample built it.
    pub fn assert_nothing_left(&self, id: &str, rules_before: &[aviary_ports::RuleSnapshot]) {
        assert_eq!(self.router.snapshot(SAMPLE_LISTENER), rules_before, "the listener is back to its rules");
        assert!(self.router.target_groups().iter().all(|(_, _, owner, _)| owner.as_deref() != Some(id)), "target groups left");
        assert!(self.compute.live_instances().iter().all(|(_, dep, _)| dep != id), "instances left");
        assert!(self.compute.security_groups().iter().all(|(_, dep, _)| dep != id), "security groups left");
        let prefix = aviary_core::secrets::parameter_name(aviary_ports::Compute::installation(&self.compute), id, "");
        assert!(self.compute.secret_names().iter().all(|n| !n.starts_with(&prefix)), "secrets left");
    }
}

pub fn spec(name: &str) -> DeploymentSpec {
    let json = serde_json::json!({
        "name": name,
        "listenerArn": SAMPLE_LISTENER,
        "trafficPercent": 5,
        "appPort": 8080,
        "healthCheck": { "path": "/health" },
        "monitoring": { "enabled": false }
    });
    aviary_core::spec::parse_and_validate(json.to_string().as_bytes()).expect("a valid spec")
}
