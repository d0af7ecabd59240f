//! Admission: everything between "a user asked for a canary" (an S3 upload or `POST
//! /deployments`) and "the deploy workflow runs". Validates the spec, the environment (the
//! listener and production target groups exist, the priority is free) and the artifacts
//! (tarballs streamed through the docker-save checker) **before anything is created**, claims
//! the deployment id with a conditional write (so duplicate events and retried requests map
//! to one deployment) and starts the workflow under a deterministic execution name.

use aviary_core::StepError;
use aviary_core::ids::{canary_prefix, deploy_execution_name};
use aviary_core::model::{Deployment, Outcome, Source};
use aviary_core::spec::{describe_errors, DeploymentSpec, FieldError};
use aviary_core::status::Status;
use aviary_core::steps::DeploymentRef;
use aviary_docker_save::Limits;
use aviary_ports::{used_priorities, CreateOutcome, WorkflowKind};

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
}

#[derive(Debug, Clone, PartialEq)]
pub enum AdmissionOutcome {
    Started(Box<Deployment>),
    /// The same upload or request was admitted before.
    Duplicate(Box<Deployment>),
    /// Recorded as REJECTED (S3 mode).
    Rejected(Box<Deployment>),
    /// Not recorded (API mode): the field errors to answer with.
    Invalid(Vec<FieldError>),
}

pub async fn admit(ports: &Ports, req: AdmissionRequest) -> Result<AdmissionOutcome, StepError> {
    let store = ports.deployments();
    let now = ports.clock.now_secs();
    if let Some(existing) = store.get(&req.id).await? {
        let stale = existing.status == Status::Pending && existing.execution_arn.is_none() && now - existing.updated_at > STALE_PENDING_SECS;
        if !stale {
            return Ok(AdmissionOutcome::Duplicate(Box::new(existing)));
        }
        return start(ports, existing).await;
    }

    let bucket = Settings::require(ports.artifacts.bucket(), "AVIARY_BUCKET")?.to_string();
    let mut errors = match &req.spec {
        Ok(spec) => spec.validate(),
        Err(e) => e.clone(),
    };
    if let Ok(spec) = &req.spec {
        if spec.name != req.name {
            errors.push(FieldError::new("name", format!("the spec names '{}' but the canary is '{}'", spec.name, req.name)));
        }
        if errors.is_empty() {
            errors.extend(check_environment(ports, spec).await?);
        }
        if errors.is_empty() {
            errors.extend(check_artifacts(ports, &canary_prefix(&spec.name), spec).await?);
        }
    }

    let ttl_minutes = req.spec.as_ref().map(|s| s.ttl_minutes).unwrap_or(0);
    let mut record = Deployment::pending(&req.id, &req.name, req.source.clone(), &bucket, now, now + i64::from(ttl_minutes) * 60);
    record.spec = req.spec.clone().ok();
    record.raw_spec = if req.spec.is_err() { req.raw_spec.clone().map(|mut s| { s.truncate(4096); s }) } else { None };

    if !errors.is_empty() {
        if req.mode == RejectMode::Answer {
            return Ok(AdmissionOutcome::Invalid(errors));
        }
        let reason = describe_errors(&errors);
        match store.create(&record).await? {
            CreateOutcome::AlreadyExists(existing) => return Ok(AdmissionOutcome::Duplicate(existing)),
            CreateOutcome::Created => {}
        }
        let rejected = store.transition(&record.id, Status::Rejected, |d| d.status_reason = Some(reason.clone())).await?;
        crate::log(ports, &record.id, STEP, Outcome::Error, format!("rejected, nothing was created: {reason}")).await;
        return Ok(AdmissionOutcome::Rejected(Box::new(rejected)));
    }

    match store.create(&record).await? {
        CreateOutcome::AlreadyExists(existing) => return Ok(AdmissionOutcome::Duplicate(existing)),
        CreateOutcome::Created => {}
    }
    crate::log(ports, &record.id, STEP, Outcome::Ok, describe_source(&record.source)).await;
    start(ports, record).await
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
    crate::log(ports, &d.id, STEP, Outcome::Info, format!("deploy workflow started: {arn}")).await;
    Ok(AdmissionOutcome::Started(Box::new(d)))
}

/// The listener, production target groups and priority, read-only.
pub async fn check_environment(ports: &Ports, spec: &DeploymentSpec) -> Result<Vec<FieldError>, StepError> {
    let elb = &*ports.router;
    let mut errors = Vec::new();
    let Some(listener) = elb.listener(&spec.listener_arn).await? else {
        errors.push(FieldError::new("listenerArn", format!("listener {} does not exist", spec.listener_arn)));
        return Ok(errors);
    };
    let production = if spec.production_target_group_arns.is_empty() {
        if listener.default_forward.is_empty() {
            errors.push(FieldError::new(
                "productionTargetGroupArns",
                "the listener's default action does not forward to a target group; name the production target group(s)",
            ));
        }
        listener.default_forward.len()
    } else {
        for (i, arn) in spec.production_target_group_arns.iter().enumerate() {
            if !elb.target_group_exists(arn).await? {
                errors.push(FieldError::new(format!("productionTargetGroupArns[{i}]"), format!("target group {arn} does not exist")));
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
    if let Some(p) = spec.priority {
        let used = used_priorities(&elb.rules(&spec.listener_arn).await?);
        if used.contains(&p) {
            errors.push(FieldError::new("priority", format!("priority {p} is already used on the listener")));
        }
    }
    Ok(errors)
}

/// Both tarballs stream-checked, the compose file present.
pub async fn check_artifacts(ports: &Ports, prefix: &str, spec: &DeploymentSpec) -> Result<Vec<FieldError>, StepError> {
    let artifacts = &*ports.artifacts;
    let mut errors = Vec::new();
    for (field, file) in [("artifacts.baselineTarball", &spec.artifacts.baseline_tarball), ("artifacts.canaryTarball", &spec.artifacts.canary_tarball)] {
        let key = format!("{prefix}{file}");
        if let Err(problem) = artifacts.check_tarball(&key, Limits::default()).await? {
            errors.push(FieldError::new(field, problem.to_string()));
        }
    }
    let compose = format!("{prefix}{}", spec.artifacts.compose_file);
    if artifacts.head(&compose).await?.is_none() {
        errors.push(FieldError::new("artifacts.composeFile", format!("{compose} is missing from s3://{}", artifacts.bucket())));
    }
    Ok(errors)
}
