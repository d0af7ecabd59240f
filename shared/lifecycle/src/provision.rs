//! `provision`: security groups and the baseline, canary (and monitor) instances.

use aviary_core::secrets;
use aviary_core::StepError;
use aviary_core::model::{Deployment, Outcome, PinnedArtifact};
use aviary_monitoring as monitoring;
use aviary_core::status::Status;
use aviary_core::steps::{DeploymentRef, ProvisionOutput};
use aviary_core::traffic::WeightedTarget;

use aviary_ports::{Ingress, LaunchRequest};

use crate::{log, logged, Ports, Settings};

const STEP: &str = "provision";

pub async fn provision(ports: &Ports, input: &DeploymentRef) -> Result<ProvisionOutput, StepError> {
    let id = &input.deployment_id;
    let result = run(ports, id).await;
    logged(ports, id, STEP, result).await
}

async fn run(ports: &Ports, id: &String) -> Result<ProvisionOutput, StepError> {
    let store = ports.deployments();
    let d = store.transition(id, Status::Provisioning, |_| {}).await?;
    let spec = d.spec()?.clone();
    let elb = &*ports.router;
    let ec2 = &*ports.compute;

    // The environment may have changed since admission: look again before creating anything.
    let listener = elb
        .listener(&spec.listener_arn)
        .await?
        .ok_or_else(|| StepError::Environment(format!("listener {} no longer exists", spec.listener_arn)))?;
    let lb = elb.load_balancer(&listener.load_balancer_arn).await?;
    let production: Vec<WeightedTarget> = if spec.production_target_group_arns.is_empty() {
        listener.default_forward.clone()
    } else {
        spec.production_target_group_arns.iter().map(|a| WeightedTarget { target_group_arn: a.clone(), weight: 1 }).collect()
    };
    if production.is_empty() {
        return Err(StepError::Environment(
            "the listener's default action does not forward to a target group; name productionTargetGroupArns in the spec".into(),
        ));
    }
    let subnets = if spec.subnet_ids.is_empty() { lb.subnet_ids.clone() } else { spec.subnet_ids.clone() };
    let subnet = subnets.first().cloned().ok_or_else(|| StepError::Environment("the load balancer has no subnets".into()))?;
    let ami = match &spec.ami_id {
        Some(a) => a.clone(),
        None => ec2.resolve_image(spec.architecture().al2023_ssm_parameter()).await?,
    };
    let profile = Settings::require(&ports.settings.instance_profile, "AVIARY_INSTANCE_PROFILE")?.to_string();
    // The monitor has its own role (it may write its Grafana password; the apps may not).
    let monitor_profile = match spec.monitoring.enabled {
        true => Some(Settings::require(&ports.settings.monitor_instance_profile, "AVIARY_MONITOR_INSTANCE_PROFILE")?.to_string()),
        false => None,
    };
    let bucket = Settings::require(&d.artifact_bucket, "artifact bucket")?.to_string();

    // Security groups: the app instances admit only the load balancer (and the monitor).
    let app_sg = ec2.ensure_security_group(id, "app", &lb.vpc_id, &format!("Aviary canary instances of {id}")).await?;
    store
        .update(id, &[Status::Provisioning], |d| {
            d.resources.load_balancer_arn = Some(listener.load_balancer_arn.clone());
            d.resources.vpc_id = Some(lb.vpc_id.clone());
            d.resources.subnet_ids = subnets.clone();
            d.resources.load_balancer_security_group_ids = lb.security_group_ids.clone();
            d.resources.production = production.clone();
            d.resources.instance_security_group_id = Some(app_sg.clone());
        })
        .await?;
    let mut app_ports = vec![spec.app_port];
    if spec.health_check_port() != spec.app_port {
        app_ports.push(spec.health_check_port());
    }
    let mut ingress: Vec<Ingress> = lb
        .security_group_ids
        .iter()
        .flat_map(|g| app_ports.iter().map(move |p| Ingress::FromGroup { port: *p, group_id: g.clone() }))
        .collect();
    let monitor_sg = if spec.monitoring.enabled {
        let sg = ec2.ensure_security_group(id, "monitor", &lb.vpc_id, &format!("Aviary monitoring instance of {id}")).await?;
        store.update(id, &[Status::Provisioning], |d| d.resources.monitor_security_group_id = Some(sg.clone())).await?;
        ingress.push(Ingress::FromGroup { port: monitoring::NODE_EXPORTER_PORT, group_id: sg.clone() });
        ingress.push(Ingress::FromGroup { port: spec.app_port, group_id: sg.clone() });
        if let Some(cidr) = &spec.monitoring.allowed_cidr {
            let ui: Vec<Ingress> = monitoring::PUBLIC_UI_PORTS.iter().map(|p| Ingress::FromCidr { port: *p, cidr: cidr.clone() }).collect();
            ec2.allow_ingress(&sg, &ui).await?;
        }
        Some(sg)
    } else {
        None
    };
    ec2.allow_ingress(&app_sg, &ingress).await?;

    // Only what admission checked runs: each instance fetches the pinned version and verifies
    // its digest. A record without pins is refused before anything is launched.
    let pinned = d.pinned()?.clone();
    let mut launched = Vec::new();
    for (role, tarball) in [("baseline", &pinned.baseline_tarball), ("canary", &pinned.canary_tarball)] {
        let user_data = app_user_data(ports, &d, &bucket, role, tarball, &pinned.compose_file)?;
        let inst = ec2
            .ensure_instance(&LaunchRequest {
                deployment_id: id.clone(),
                role: role.into(),
                image_id: ami.clone(),
                instance_type: spec.instance_type.clone(),
                subnet_id: subnet.clone(),
                security_group_id: app_sg.clone(),
                instance_profile: profile.clone(),
                user_data,
                metadata_hop_limit: 1,
            })
            .await?;
        let iid = inst.instance_id.clone();
        store
            .update(id, &[Status::Provisioning], |d| {
                if role == "baseline" {
                    d.resources.baseline_instance_id = Some(iid.clone());
                } else {
                    d.resources.canary_instance_id = Some(iid.clone());
                }
            })
            .await?;
        launched.push(inst);
    }
    let monitor = match &monitor_sg {
        Some(sg) => {
            let password_parameter = secrets::parameter_name(ec2.installation(), id, secrets::GRAFANA_PASSWORD);
            let user_data = monitoring::monitor_user_data(&spec, id, &ports.settings.region, &password_parameter);
            let inst = ec2
                .ensure_instance(&LaunchRequest {
                    deployment_id: id.clone(),
                    role: "monitor".into(),
                    // The monitor's user data is written for Amazon Linux 2023, whatever the app uses.
                    image_id: ec2.resolve_image(aviary_core::spec::architecture_of(&spec.monitoring.instance_type).al2023_ssm_parameter()).await?,
                    instance_type: spec.monitoring.instance_type.clone(),
                    subnet_id: subnet.clone(),
                    security_group_id: sg.clone(),
                    instance_profile: monitor_profile.clone().unwrap_or_default(),
                    user_data,
                    // Grafana's CloudWatch data source runs in a container and reads the
                    // instance role's credentials; the monitor runs only images Aviary chose.
                    metadata_hop_limit: 2,
                })
                .await?;
            let host = inst.public_ip.clone().or(inst.private_ip.clone());
            let iid = inst.instance_id.clone();
            store
                .update(id, &[Status::Provisioning], |d| {
                    d.resources.monitor_instance_id = Some(iid.clone());
                    d.monitoring = host.as_deref().map(monitoring::monitoring_links);
                })
                .await?;
            Some(inst)
        }
        None => None,
    };
    let out = ProvisionOutput {
        baseline_instance_id: launched[0].instance_id.clone(),
        canary_instance_id: launched[1].instance_id.clone(),
        monitor_instance_id: monitor.as_ref().map(|m| m.instance_id.clone()),
        instance_security_group_id: app_sg,
    };
    let mut detail = format!("baseline {}, canary {} (AMI {ami}, {})", out.baseline_instance_id, out.canary_instance_id, spec.instance_type);
    if let Some(m) = &out.monitor_instance_id {
        detail.push_str(&format!(", monitor {m}"));
    }
    log(ports, id, STEP, Outcome::Ok, detail).await;
    Ok(out)
}

fn app_user_data(
    ports: &Ports,
    d: &Deployment,
    bucket: &str,
    role: &str,
    tarball: &PinnedArtifact,
    compose: &PinnedArtifact,
) -> Result<String, StepError> {
    let spec = d.spec()?;
    Ok(monitoring::app_user_data(&monitoring::AppInstanceContext {
        deployment_id: d.id.clone(),
        role: role.into(),
        region: ports.settings.region.clone(),
        bucket: bucket.into(),
        tarball: tarball.clone(),
        compose: compose.clone(),
        app_port: spec.app_port,
    }))
}
