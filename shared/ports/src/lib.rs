//! The ports: what Aviary's use cases (admission, the lifecycle steps, traffic changes,
//! destroy, cleanup, analysis) need from the cloud, said in the domain's words. The SDK
//! adapters (`aviary-aws`) implement them on AWS; [`memory`] implements them in memory for
//! fast unit tests (with failure injection and a call log) and for anything that wants a
//! cloud without one.
//!
//! - [`DeploymentStore`]: deployment records (compare-and-swap on `version`) and event logs.
//! - [`TrafficRouter`]: the user's listener, its rules, Aviary's target groups and their
//!   registrations. Routing vocabulary is neutral (listener, rule, target group, weights);
//!   the ALB's request shapes stay inside its adapter, so another front (an API Gateway–fronted
//!   service) can implement the same trait.
//! - [`TargetHealthSource`]: the health of a target group's targets.
//! - [`Compute`]: instances and their security groups.
//! - [`Workflow`]: starting the deploy / teardown workflows once, and asking about them.
//! - [`ArtifactStore`]: the artifact bucket (specs, tarballs streamed through the checker).
//!
//! Owns: the traits, the value types that cross them, and the fakes. Must never import: an
//! AWS SDK crate (no SDK type crosses a port), an async runtime, or a use-case crate.

pub mod artifacts;
pub mod compute;
pub mod environment;
pub mod memory;
pub mod router;
pub mod rules;
pub mod store;
pub mod workflow;

pub use artifacts::{ArtifactProblem, ArtifactStore, CheckedTarball, ObjectMeta, VersionedObject, CREATED_BY_METADATA};
pub use compute::{Compute, Ingress, InstanceInfo, LaunchRequest, SubnetInfo};
pub use router::{
    describe_conditions, used_priorities, CreateRuleError, OverrideHealth, ListenerInfo, LoadBalancerInfo, RouteChange, RuleSnapshot, TargetGroupRequest,
    TargetHealthSource, TrafficRouter,
};
pub use store::{CreateOutcome, DeploymentStore, Page};
pub use workflow::{execution_arn, Workflow, WorkflowKind};

/// Aviary's ownership tags, the same on every resource it creates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerTags {
    pub deployment_id: String,
    /// `baseline`, `canary`, `monitor`, `app`, `rule`.
    pub role: String,
}

impl OwnerTags {
    pub fn new(deployment_id: &str, role: &str) -> Self {
        OwnerTags { deployment_id: deployment_id.into(), role: role.into() }
    }
}
