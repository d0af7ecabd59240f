//! Admission: everything between "a user asked for a canary" (an S3 upload or `POST
//! /deployments`) and "the deploy workflow runs". **Before anything is created** it checks, in
//! order: the spec; the installation's guardrails (allowed listeners, production floor,
//! instance types, TTL, rule placement); capacity (active deployments); the environment (the
//! listener, production target groups the listener already forwards to, subnets in the load
//! balancer's VPC, a free priority after the listener's rules); and the artifacts (tarballs
//! streamed through the docker-save checker, the compose file through the compose policy).
//! It pins each artifact's version and sha256 on the record (instances run exactly those
//! bytes), claims the deployment id with a conditional write (so duplicate events and retried
//! requests map to one deployment) and starts the workflow under a deterministic name.

use std::collections::BTreeSet;

use aviary_compose_policy::{check_compose, ComposePolicy};
use aviary_core::guardrails::Guardrails;
use aviary_core::ids::{canary_prefix, deploy_execution_name};
use aviary_core::model::{Deployment, Outcome, PinnedArtifact, PinnedArtifacts, Source};
use aviary_core::ownership::NotOwner;
use aviary_core::spec::{describe_errors, DeploymentSpec, FieldError};
use aviary_core::status::Status;
use aviary_core::steps::DeploymentRef;
use aviary_core::traffic::{choose_priority, PriorityError};
use aviary_core::StepError;
use aviary_docker_save::Limits;
use aviary_ports::{used_priorities, CreateOutcome, WorkflowKind};
use sha2::{Digest, Sha256};

use crate::{Ports, Settings};

/// A pending record older than this without a workflow is a crashed admission: redo it.
const STALE_PENDING_SECS: i64 = 300;
const STEP: &str = "admission";

/// How a rejection is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectMode {
    /// S3 uploads have nobody to answer: record the deployment as REJECTED.
    Record,
    /// API requests answer 400 and write nothing.
    Answer,
}

pub struct AdmissionRequest {
    pub id: String,
    pub name: String,
    pub source: Source,
    /// The parsed spec, or what was wrong with it.
    pub spec: Result<DeploymentSpec, Vec<FieldError>>,
    /// The uploaded text (kept, truncated, when it did not parse).
    pub raw_spec: Option<String>,
    pub mode: RejectMode,
    /// Who asks (an IAM ARN): the API caller, or the signer of a presigned upload. `None` for
    /// an upload straight to S3: no name is claimed and only operators may change the record.
    pub created_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum AdmissionOutcome {
    Started(Box<Deployment>),
    /// The same upload or request was admitted before.
    Duplicate(Box<Deployment>),
    /// Not recorded (API mode): the request's idempotency key was used before with another
    /// spec; `differs` names the spec fields that differ. A changed request is never answered
    /// with the old deployment.
    KeyReused { existing: Box<Deployment>, differs: Vec<String> },
    /// Recorded as REJECTED (S3 mode).
    Rejected(Box<Deployment>),
    /// Not recorded (API mode): the field errors to answer with.
    Invalid(Vec<FieldError>),
    /// Not recorded (API mode): the canary name belongs to another principal.
    NotOwner(NotOwner),
}

pub async fn admit(ports: &Ports, req: AdmissionRequest) -> Result<AdmissionOutcome, StepError> {
    let store = ports.deployments();
    let now = ports.clock.now_secs();
    if let Some(existing) = store.get(&req.id).await? {
        let stale = existing.status == Status::Pending && existing.execution_arn.is_none() && now - existing.updated_at > STALE_PENDING_SECS;
        if !stale {
            if req.mode == RejectMode::Answer {
                let differs = spec_differences(existing.spec.as_ref(), req.spec.as_ref().ok());
                if !differs.is_empty() {
                    return Ok(AdmissionOutcome::KeyReused { existing: Box::new(existing), differs });
                }
            }
            return Ok(AdmissionOutcome::Duplicate(Box::new(existing)));
        }
        return start(ports, existing).await;
    }

    let guardrails = ports.settings.guardrails()?;
    let bucket = Settings::require(ports.artifacts.bucket(), "AVIARY_BUCKET")?.to_string();
    let mut errors = match &req.spec {
        Ok(spec) => spec.validate(),
        Err(e) => e.clone(),
    };
    let mut pinned = None;
    if let Ok(spec) = &req.spec {
        if spec.name != req.name {
            errors.push(FieldError::new("name", format!("the spec names '{}' but the canary is '{}'", spec.name, req.name)));
        }
        // Cheapest first; each stage only runs when everything before it passed, so a
        // refused request costs no more reads than it must (and never a write).
        if errors.is_empty() {
            if let Err(e) = check_name_owner(ports, &req, guardrails).await? {
                match req.mode {
                    RejectMode::Answer => return Ok(AdmissionOutcome::NotOwner(e)),
                    RejectMode::Record => errors.push(FieldError::new("name", e.to_string())),
                }
            }
        }
        if errors.is_empty() {
            errors.extend(guardrails.check_spec(spec));
        }
        if errors.is_empty() {
            errors.extend(check_capacity(ports, guardrails).await?);
        }
        if errors.is_empty() {
            errors.extend(check_environment(ports, spec, guardrails).await?);
        }
        if errors.is_empty() {
            match check_artifacts(ports, &canary_prefix(&spec.name), spec, guardrails).await? {
                Ok(p) => pinned = Some(p),
                Err(e) => errors.extend(e),
            }
        }
    }

    let ttl_minutes = req.spec.as_ref().map(|s| s.ttl_minutes).unwrap_or(0);
    let mut record = Deployment::pending(&req.id, &req.name, req.source.clone(), &bucket, now, now + i64::from(ttl_minutes) * 60);
    record.spec = req.spec.clone().ok();
    record.pinned_artifacts = pinned;
    record.created_by = req.created_by.clone();
    record.raw_spec = if req.spec.is_err() { req.raw_spec.clone().map(|mut s| { s.truncate(4096); s }) } else { None };

    if !errors.is_empty() {
        if req.mode == RejectMode::Answer {
            return Ok(AdmissionOutcome::Invalid(errors));
        }
        return reject_recorded(ports, &record, &describe_errors(&errors)).await;
    }

    // The name is claimed only by a request that passed every check: a refused one writes
    // nothing. The claim is conditional, so of two first requests racing, one is refused.
    if let Some(caller) = &req.created_by {
        let owner = ports.store.claim_name(&req.name, caller).await?;
        if let Err(e) = guardrails.ownership.authorize(&name_label(&req.name), Some(&owner), Some(caller)) {
            return match req.mode {
                RejectMode::Answer => Ok(AdmissionOutcome::NotOwner(e)),
                RejectMode::Record => {
                    reject_recorded(ports, &record, &describe_errors(&[FieldError::new("name", e.to_string())])).await
                }
            };
        }
    }
    match store.create(&record).await? {
        CreateOutcome::AlreadyExists(existing) => return Ok(AdmissionOutcome::Duplicate(existing)),
        CreateOutcome::Created => {}
    }
    let by = record.created_by.as_deref().map(|c| format!(" by {c}")).unwrap_or_default();
    crate::log(ports, &record.id, STEP, Outcome::Ok, format!("{}{by}", describe_source(&record.source))).await;
    start(ports, record).await
}

/// Records `record` as REJECTED with `reason` (S3 mode: nobody to answer).
async fn reject_recorded(ports: &Ports, record: &Deployment, reason: &str) -> Result<AdmissionOutcome, StepError> {
    let store = ports.deployments();
    match store.create(record).await? {
        CreateOutcome::AlreadyExists(existing) => return Ok(AdmissionOutcome::Duplicate(existing)),
        CreateOutcome::Created => {}
    }
    let rejected = store.transition(&record.id, Status::Rejected, |d| d.status_reason = Some(reason.to_string())).await?;
    crate::log(ports, &record.id, STEP, Outcome::Error, format!("rejected, nothing was created: {reason}")).await;
    Ok(AdmissionOutcome::Rejected(Box::new(rejected)))
}

fn name_label(name: &str) -> String {
    format!("canary name '{name}'")
}

/// A caller may deploy a name nobody owns, or one it owns; operators any name. An upload
/// straight to S3 (no caller) is not checked: writing to the bucket is an operator's right.
async fn check_name_owner(ports: &Ports, req: &AdmissionRequest, guardrails: &Guardrails) -> Result<Result<(), NotOwner>, StepError> {
    let Some(caller) = &req.created_by else { return Ok(Ok(())) };
    match ports.store.name_owner(&req.name).await? {
        None => Ok(Ok(())),
        Some(owner) => Ok(guardrails.ownership.authorize(&name_label(&req.name), Some(&owner), Some(caller))),
    }
}

fn describe_source(s: &Source) -> String {
    match s {
        Source::S3 { bucket, key, version } => format!("accepted upload s3://{bucket}/{key} ({version}); spec and artifacts valid"),
        Source::Api { idempotency_key } => format!("accepted API request (idempotency key {idempotency_key}); spec and artifacts valid"),
    }
}

async fn start(ports: &Ports, d: Deployment) -> Result<AdmissionOutcome, StepError> {
    let input = serde_json::to_value(DeploymentRef { deployment_id: d.id.clone() }).map_err(|e| StepError::InvalidInput(e.to_string()))?;
    let arn = ports.workflow.start_once(WorkflowKind::Deploy, &deploy_execution_name(&d.id), &input).await?;
    let d = ports.deployments().update(&d.id, &[Status::Pending, Status::Provisioning], |d| d.execution_arn = Some(arn.clone())).await.or_else(|e| match e {
        // The workflow may already have moved on: the record is still right.
        StepError::StatusConflict { .. } => Ok(d.clone()),
        other => Err(other),
    })?;
    crate::log(ports, &d.id, STEP, Outcome::Info, format!("deploy workflow started: {}", aviary_core::ids::short_arn(&arn))).await;
    Ok(AdmissionOutcome::Started(Box::new(d)))
}

/// The top-level spec fields in which two specs differ (as they serialise).
fn spec_differences(before: Option<&DeploymentSpec>, now: Option<&DeploymentSpec>) -> Vec<String> {
    let as_map = |s: Option<&DeploymentSpec>| match s.and_then(|s| serde_json::to_value(s).ok()) {
        Some(serde_json::Value::Object(m)) => m,
        _ => serde_json::Map::new(),
    };
    let (a, b) = (as_map(before), as_map(now));
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter().filter(|k| a.get(*k) != b.get(*k)).cloned().collect()
}

/// Deployments not yet in a final state, against the installation's limit. (Two admissions
/// racing may both pass at the limit; the limit bounds cost, it is not a lock.) Counted by id:
/// a deployment that moves on between two status pages is listed under both.
async fn check_capacity(ports: &Ports, guardrails: &Guardrails) -> Result<Vec<FieldError>, StepError> {
    let limit = guardrails.max_active_deployments;
    let mut seen = std::collections::HashSet::new();
    for status in Status::ALL.into_iter().filter(|s| !s.is_final()) {
        let mut cursor: Option<String> = None;
        loop {
            let page = ports.store.list(Some(status), 100, cursor.as_deref()).await?;
            seen.extend(page.items.into_iter().map(|d| d.id));
            let active = seen.len() as u32;
            if active >= limit {
                return Ok(vec![FieldError::new(
                    "name",
                    format!(
                        "this installation already runs {active} deployment(s), its limit (MaxActiveDeployments = {limit}); \
                         destroy one first"
                    ),
                )]);
            }
            match page.next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
    }
    Ok(Vec::new())
}

/// The listener, production target groups, subnets and rule placement, read-only.
pub async fn check_environment(ports: &Ports, spec: &DeploymentSpec, guardrails: &Guardrails) -> Result<Vec<FieldError>, StepError> {
    let elb = &*ports.router;
    let mut errors = Vec::new();
    let Some(listener) = elb.listener(&spec.listener_arn).await? else {
        errors.push(FieldError::new("listenerArn", format!("listener {} does not exist", spec.listener_arn)));
        return Ok(errors);
    };
    let rules = elb.rules(&spec.listener_arn).await?;
    let production = if spec.production_target_group_arns.is_empty() {
        if listener.default_forward.is_empty() {
            errors.push(FieldError::new(
                "productionTargetGroupArns",
                "the listener's default action does not forward to a target group; name the production target group(s)",
            ));
        }
        listener.default_forward.len()
    } else {
        // Production must be traffic the listener already serves: a target group it forwards
        // to now (default action or a rule). Anything else would send real users to a group
        // the team never put behind this listener.
        let served: BTreeSet<&str> = listener
            .default_forward
            .iter()
            .chain(rules.iter().flat_map(|r| &r.forward))
            .map(|t| t.target_group_arn.as_str())
            .collect();
        for (i, arn) in spec.production_target_group_arns.iter().enumerate() {
            let field = format!("productionTargetGroupArns[{i}]");
            if !elb.target_group_exists(arn).await? {
                errors.push(FieldError::new(field, format!("target group {arn} does not exist")));
            } else if !served.contains(arn.as_str()) {
                errors.push(FieldError::new(
                    field,
                    format!("target group {arn} is not one the listener forwards to (its default action or a rule); production must already serve this listener"),
                ));
            }
        }
        spec.production_target_group_arns.len()
    };
    if production + 2 > aviary_core::spec::MAX_TARGET_GROUPS_PER_ACTION {
        errors.push(FieldError::new(
            "productionTargetGroupArns",
            format!("production forwards to {production} target groups; with baseline and canary that exceeds the ALB's 5 per action"),
        ));
    }
    if !spec.subnet_ids.is_empty() {
        let lb = elb.load_balancer(&listener.load_balancer_arn).await?;
        let found = ports.compute.subnets(&spec.subnet_ids).await?;
        for (i, id) in spec.subnet_ids.iter().enumerate() {
            let field = format!("subnetIds[{i}]");
            match found.iter().find(|s| &s.subnet_id == id) {
                None => errors.push(FieldError::new(field, format!("subnet {id} does not exist"))),
                Some(s) if s.vpc_id != lb.vpc_id => errors.push(FieldError::new(
                    field,
                    format!("subnet {id} is in {}, but the load balancer is in {}", s.vpc_id, lb.vpc_id),
                )),
                Some(_) => {}
            }
        }
    }
    let used = used_priorities(&rules);
    if let Err(e) = choose_priority(&used, spec.priority, 0, guardrails.rules_ahead_allowed(spec)) {
        let field = match e {
            PriorityError::NoneAfterExistingRules { .. } if spec.priority.is_none() => "rulePlacement",
            _ => "priority",
        };
        errors.push(FieldError::new(field, e.to_string()));
    }
    Ok(errors)
}

/// Both tarballs stream-checked and the compose file checked against the compose policy;
/// each pinned to the version and sha256 that were read.
pub async fn check_artifacts(
    ports: &Ports,
    prefix: &str,
    spec: &DeploymentSpec,
    guardrails: &Guardrails,
) -> Result<Result<PinnedArtifacts, Vec<FieldError>>, StepError> {
    let artifacts = &*ports.artifacts;
    let mut errors = Vec::new();
    let mut tarballs = Vec::new();
    for (field, file) in [("artifacts.baselineTarball", &spec.artifacts.baseline_tarball), ("artifacts.canaryTarball", &spec.artifacts.canary_tarball)] {
        let key = format!("{prefix}{file}");
        match artifacts.check_tarball(&key, Limits::default()).await? {
            Ok(checked) => tarballs.push(PinnedArtifact {
                key,
                version_id: checked.version,
                sha256: checked.sha256.clone(),
                bytes: checked.summary.total_bytes,
            }),
            Err(problem) => errors.push(FieldError::new(field, problem.to_string())),
        }
    }
    let key = format!("{prefix}{}", spec.artifacts.compose_file);
    let policy = ComposePolicy { allowed_extra_images: guardrails.allowed_compose_images.clone(), ..ComposePolicy::default() };
    let compose = match artifacts.get_versioned(&key, policy.max_bytes).await? {
        Ok(object) => match check_compose(&object.bytes, &policy) {
            Ok(_) => Some(PinnedArtifact {
                key,
                version_id: object.version,
                sha256: hex::encode(Sha256::digest(&object.bytes)),
                bytes: object.bytes.len() as u64,
            }),
            Err(problems) => {
                errors.extend(problems.iter().map(|p| FieldError::new("artifacts.composeFile", p.to_string())));
                None
            }
        },
        Err(problem) => {
            errors.push(FieldError::new("artifacts.composeFile", problem.to_string()));
            None
        }
    };
    match (errors.is_empty(), compose, tarballs.len()) {
        (true, Some(compose_file), 2) => {
            let canary_tarball = tarballs.pop().expect("two");
            let baseline_tarball = tarballs.pop().expect("two");
            Ok(Ok(PinnedArtifacts { baseline_tarball, canary_tarball, compose_file }))
        }
        _ => Ok(Err(errors)),
    }
}
