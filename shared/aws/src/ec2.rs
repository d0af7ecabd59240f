//! The EC2 adapter: security groups and instances for a deployment, found by tag so every
//! operation is idempotent (a retried step finds what an earlier attempt created). A compute
//! adapter belongs to one installation: what it creates carries `aviary:installation`, and
//! every lookup and inventory filters on it, so another installation's instances and groups
//! are invisible to it.

use aws_sdk_ec2::types::{
    Filter, HttpTokensState, IamInstanceProfileSpecification, InstanceMetadataEndpointState,
    InstanceMetadataOptionsRequest, InstanceStateName, InstanceType, IpPermission, IpRange, ResourceType, Tag,
    TagSpecification, UserIdGroupPair,
};
use aws_sdk_ec2::Client;
use aws_smithy_types::base64;

use async_trait::async_trait;
use aviary_core::ids::{TAG_DEPLOYMENT_ID, TAG_INSTALLATION, TAG_MANAGED_BY, TAG_MANAGED_BY_VALUE, TAG_ROLE};
use aviary_core::secrets;
use aviary_core::StepError;
use aviary_ports::{Compute, Ingress, InstanceInfo, LaunchRequest, SubnetInfo};

use crate::errors::{aws_err, code, is_not_found};

fn tag(k: &str, v: &str) -> Tag {
    Tag::builder().key(k).value(v).build()
}

pub fn tag_spec(resource: ResourceType, installation: &str, deployment_id: &str, role: &str) -> TagSpecification {
    TagSpecification::builder()
        .resource_type(resource)
        .tags(tag(TAG_MANAGED_BY, TAG_MANAGED_BY_VALUE))
        .tags(tag(TAG_INSTALLATION, installation))
        .tags(tag(TAG_DEPLOYMENT_ID, deployment_id))
        .tags(tag(TAG_ROLE, role))
        .tags(tag("Name", &format!("aviary-{deployment_id}-{role}")))
        .build()
}

fn filter(name: &str, values: &[&str]) -> Filter {
    Filter::builder().name(name).set_values(Some(values.iter().map(|v| v.to_string()).collect())).build()
}

const LIVE_STATES: [&str; 4] = ["pending", "running", "stopping", "stopped"];

/// Compute on EC2 (instances, security groups), with the machine image catalogue in SSM's
/// public parameters.
#[derive(Clone)]
pub struct Ec2Compute {
    client: Client,
    ssm: aws_sdk_ssm::Client,
    installation: String,
}

impl Ec2Compute {
    pub fn new(client: Client, ssm: aws_sdk_ssm::Client, installation: &str) -> Self {
        Ec2Compute { client, ssm, installation: installation.into() }
    }

    pub fn from_conf(config: &aws_config::SdkConfig, installation: &str) -> Self {
        Ec2Compute::new(Client::new(config), aws_sdk_ssm::Client::new(config), installation)
    }

    /// The filters every lookup starts from: Aviary's tag and this installation's.
    fn ours(&self) -> [Filter; 2] {
        [
            filter(&format!("tag:{TAG_MANAGED_BY}"), &[TAG_MANAGED_BY_VALUE]),
            filter(&format!("tag:{TAG_INSTALLATION}"), &[&self.installation]),
        ]
    }

    /// The deployment's security group for `role`, if it exists.
    async fn find_security_group(&self, deployment_id: &str, role: &str) -> Result<Option<String>, StepError> {
        let out = self
            .client
            .describe_security_groups()
            .set_filters(Some(self.ours().to_vec()))
            .filters(filter(&format!("tag:{TAG_DEPLOYMENT_ID}"), &[deployment_id]))
            .filters(filter(&format!("tag:{TAG_ROLE}"), &[role]))
            .send()
            .await
            .map_err(aws_err("DescribeSecurityGroups"))?;
        Ok(out.security_groups().first().and_then(|g| g.group_id()).map(str::to_string))
    }

    /// Every security group carrying Aviary's tags for the deployment (or all deployments).
    async fn aviary_security_groups_impl(&self, deployment_id: Option<&str>) -> Result<Vec<(String, String)>, StepError> {
        let mut req = self.client.describe_security_groups().set_filters(Some(self.ours().to_vec()));
        if let Some(id) = deployment_id {
            req = req.filters(filter(&format!("tag:{TAG_DEPLOYMENT_ID}"), &[id]));
        }
        let out = req.send().await.map_err(aws_err("DescribeSecurityGroups"))?;
        Ok(out
            .security_groups()
            .iter()
            .filter_map(|g| {
                let id = g.group_id()?.to_string();
                let dep = g.tags().iter().find(|t| t.key() == Some(TAG_DEPLOYMENT_ID))?.value()?.to_string();
                Some((id, dep))
            })
            .collect())
    }

    /// Creates the group (tagged at creation) or returns the existing one.
    async fn ensure_security_group_impl(&self, deployment_id: &str, role: &str, vpc_id: &str, description: &str) -> Result<String, StepError> {
        crate::require_installation(&self.installation)?;
        if let Some(id) = self.find_security_group(deployment_id, role).await? {
            return Ok(id);
        }
        let out = self
            .client
            .create_security_group()
            .group_name(format!("aviary-{deployment_id}-{role}"))
            .description(description)
            .vpc_id(vpc_id)
            .tag_specifications(tag_spec(ResourceType::SecurityGroup, &self.installation, deployment_id, role))
            .send()
            .await
            .map_err(aws_err("CreateSecurityGroup"))?;
        out.group_id().map(str::to_string).ok_or_else(|| StepError::aws("CreateSecurityGroup", false, "no group id in the response"))
    }

    /// Adds ingress rules; rules that already exist count as done.
    async fn allow_ingress_impl(&self, group_id: &str, rules: &[Ingress]) -> Result<(), StepError> {
        for rule in rules {
            let perm = match rule {
                Ingress::FromGroup { port, group_id: src } => IpPermission::builder()
                    .ip_protocol("tcp")
                    .from_port(i32::from(*port))
                    .to_port(i32::from(*port))
                    .user_id_group_pairs(UserIdGroupPair::builder().group_id(src).build())
                    .build(),
                Ingress::FromCidr { port, cidr } => IpPermission::builder()
                    .ip_protocol("tcp")
                    .from_port(i32::from(*port))
                    .to_port(i32::from(*port))
                    .ip_ranges(IpRange::builder().cidr_ip(cidr).build())
                    .build(),
            };
            match self.client.authorize_security_group_ingress().group_id(group_id).ip_permissions(perm).send().await {
                Ok(_) => {}
                Err(e) if code(&e) == Some("InvalidPermission.Duplicate") => {}
                Err(e) => return Err(aws_err("AuthorizeSecurityGroupIngress")(e)),
            }
        }
        Ok(())
    }

    /// Instances of the deployment that are not terminated (all roles, or one).
    async fn instances_impl(&self, deployment_id: &str, role: Option<&str>) -> Result<Vec<InstanceInfo>, StepError> {
        let mut req = self
            .client
            .describe_instances()
            // Every tag: an instance someone tagged with a deployment id alone is not ours.
            .set_filters(Some(self.ours().to_vec()))
            .filters(filter(&format!("tag:{TAG_DEPLOYMENT_ID}"), &[deployment_id]))
            .filters(filter("instance-state-name", &LIVE_STATES));
        if let Some(r) = role {
            req = req.filters(filter(&format!("tag:{TAG_ROLE}"), &[r]));
        }
        let out = req.send().await.map_err(aws_err("DescribeInstances"))?;
        Ok(out.reservations().iter().flat_map(|r| r.instances()).map(info).collect())
    }

    /// Every live instance tagged by Aviary: (instance id, deployment id).
    async fn aviary_instances_impl(&self) -> Result<Vec<(String, String)>, StepError> {
        let out = self
            .client
            .describe_instances()
            .set_filters(Some(self.ours().to_vec()))
            .filters(filter("instance-state-name", &LIVE_STATES))
            .send()
            .await
            .map_err(aws_err("DescribeInstances"))?;
        Ok(out
            .reservations()
            .iter()
            .flat_map(|r| r.instances())
            .filter_map(|i| {
                let dep = i.tags().iter().find(|t| t.key() == Some(TAG_DEPLOYMENT_ID))?.value()?.to_string();
                Some((i.instance_id()?.to_string(), dep))
            })
            .collect())
    }

    /// Launches one instance with IMDSv2 required and the stack's instance profile, or returns
    /// the one an earlier attempt launched (found by tag; the client token also makes the
    /// call itself idempotent on AWS).
    async fn ensure_instance_impl(&self, req: &LaunchRequest) -> Result<InstanceInfo, StepError> {
        crate::require_installation(&self.installation)?;
        if let Some(existing) = self.instances_impl(&req.deployment_id, Some(&req.role)).await?.into_iter().next() {
            return Ok(existing);
        }
        let out = self
            .client
            .run_instances()
            .image_id(&req.image_id)
            .instance_type(InstanceType::from(req.instance_type.as_str()))
            .min_count(1)
            .max_count(1)
            .subnet_id(&req.subnet_id)
            .security_group_ids(&req.security_group_id)
            .iam_instance_profile(IamInstanceProfileSpecification::builder().name(&req.instance_profile).build())
            .metadata_options(
                InstanceMetadataOptionsRequest::builder()
                    .http_tokens(HttpTokensState::Required)
                    .http_endpoint(InstanceMetadataEndpointState::Enabled)
                    // 1: containers (one hop further away) cannot reach the instance role's
                    // credentials; only the monitor, whose Grafana reads CloudWatch, asks for 2.
                    .http_put_response_hop_limit(i32::from(req.metadata_hop_limit.clamp(1, 2)))
                    .build(),
            )
            .user_data(base64::encode(req.user_data.as_bytes()))
            .client_token(format!("{}-{}", req.deployment_id, req.role))
            .tag_specifications(tag_spec(ResourceType::Instance, &self.installation, &req.deployment_id, &req.role))
            .tag_specifications(tag_spec(ResourceType::Volume, &self.installation, &req.deployment_id, &req.role))
            .send()
            .await
            .map_err(aws_err("RunInstances"))?;
        let inst = out.instances().first().ok_or_else(|| StepError::aws("RunInstances", false, "no instance in the response"))?;
        Ok(info(inst))
    }

    /// Terminates instances; already gone counts as done.
    async fn terminate_impl(&self, ids: &[String]) -> Result<(), StepError> {
        if ids.is_empty() {
            return Ok(());
        }
        match self.client.terminate_instances().set_instance_ids(Some(ids.to_vec())).send().await {
            Ok(_) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(e) => Err(aws_err("TerminateInstances")(e)),
        }
    }

    /// Deletes a security group; already gone counts as done, still in use (instances shutting
    /// down) is reported as incomplete so teardown retries.
    async fn delete_security_group_impl(&self, group_id: &str) -> Result<bool, StepError> {
        match self.client.delete_security_group().group_id(group_id).send().await {
            Ok(_) => Ok(true),
            Err(e) if is_not_found(&e) => Ok(false),
            Err(e) if code(&e) == Some("DependencyViolation") => {
                Err(StepError::TeardownIncomplete(format!("security group {group_id} is still in use")))
            }
            Err(e) => Err(aws_err("DeleteSecurityGroup")(e)),
        }
    }
}

fn info(i: &aws_sdk_ec2::types::Instance) -> InstanceInfo {
    InstanceInfo {
        instance_id: i.instance_id().unwrap_or_default().into(),
        role: i.tags().iter().find(|t| t.key() == Some(TAG_ROLE)).and_then(|t| t.value()).unwrap_or_default().into(),
        state: i.state().and_then(|s| s.name()).map(InstanceStateName::as_str).unwrap_or("unknown").into(),
        private_ip: i.private_ip_address().map(str::to_string),
        public_ip: i.public_ip_address().map(str::to_string),
    }
}

#[async_trait]
impl Compute for Ec2Compute {
    async fn ensure_security_group(&self, deployment_id: &str, role: &str, vpc_id: &str, description: &str) -> Result<String, StepError> {
        self.ensure_security_group_impl(deployment_id, role, vpc_id, description).await
    }
    async fn allow_ingress(&self, group_id: &str, rules: &[Ingress]) -> Result<(), StepError> {
        self.allow_ingress_impl(group_id, rules).await
    }
    async fn instances(&self, deployment_id: &str, role: Option<&str>) -> Result<Vec<InstanceInfo>, StepError> {
        self.instances_impl(deployment_id, role).await
    }
    async fn ensure_instance(&self, req: &LaunchRequest) -> Result<InstanceInfo, StepError> {
        self.ensure_instance_impl(req).await
    }
    async fn terminate(&self, instance_ids: &[String]) -> Result<(), StepError> {
        self.terminate_impl(instance_ids).await
    }
    async fn delete_security_group(&self, group_id: &str) -> Result<bool, StepError> {
        self.delete_security_group_impl(group_id).await
    }
    async fn aviary_security_groups(&self, deployment_id: Option<&str>) -> Result<Vec<(String, String)>, StepError> {
        self.aviary_security_groups_impl(deployment_id).await
    }
    async fn aviary_instances(&self) -> Result<Vec<(String, String)>, StepError> {
        self.aviary_instances_impl().await
    }
    /// The latest Amazon Linux 2023 AMI for an architecture, from the SSM public parameter.
    async fn subnets(&self, ids: &[String]) -> Result<Vec<SubnetInfo>, StepError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        // A filter, not SubnetIds: an unknown id is left out instead of failing the whole call.
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        let out = self.client.describe_subnets().filters(filter("subnet-id", &ids)).send().await.map_err(aws_err("DescribeSubnets"))?;
        Ok(out
            .subnets()
            .iter()
            .filter_map(|s| Some(SubnetInfo { subnet_id: s.subnet_id()?.to_string(), vpc_id: s.vpc_id()?.to_string() }))
            .collect())
    }

    async fn resolve_image(&self, parameter: &str) -> Result<String, StepError> {
        let out = self.ssm.get_parameter().name(parameter).send().await.map_err(aws_err("GetParameter"))?;
        out.parameter()
            .and_then(|p| p.value())
            .map(str::to_string)
            .ok_or_else(|| StepError::Environment(format!("SSM parameter {parameter} has no value")))
    }

    fn installation(&self) -> &str {
        &self.installation
    }

    async fn read_secret(&self, deployment_id: &str, secret: &str) -> Result<Option<String>, StepError> {
        crate::require_installation(&self.installation)?;
        let name = secrets::parameter_name(&self.installation, deployment_id, secret);
        match self.ssm.get_parameter().name(&name).with_decryption(true).send().await {
            Ok(out) => Ok(out.parameter().and_then(|p| p.value()).map(str::to_string)),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(aws_err("GetParameter")(e)),
        }
    }

    async fn delete_secrets(&self, deployment_id: &str) -> Result<Vec<String>, StepError> {
        crate::require_installation(&self.installation)?;
        let mut deleted = Vec::new();
        for secret in secrets::ALL {
            // By name, not by listing: teardown needs no read access to the secrets.
            let name = secrets::parameter_name(&self.installation, deployment_id, secret);
            match self.ssm.delete_parameter().name(&name).send().await {
                Ok(_) => deleted.push(name),
                Err(e) if is_not_found(&e) => {}
                Err(e) => return Err(aws_err("DeleteParameter")(e)),
            }
        }
        Ok(deleted)
    }

    async fn aviary_secrets(&self) -> Result<Vec<(String, String)>, StepError> {
        crate::require_installation(&self.installation)?;
        let path = secrets::installation_path(&self.installation);
        let mut found = Vec::new();
        let mut token: Option<String> = None;
        loop {
            // Names only: the values stay encrypted (no decryption asked for).
            let out = self
                .ssm
                .get_parameters_by_path()
                .path(path.trim_end_matches('/'))
                .recursive(true)
                .with_decryption(false)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(aws_err("GetParametersByPath"))?;
            for p in out.parameters() {
                if let Some(name) = p.name() {
                    if let Some(dep) = secrets::deployment_of(&self.installation, name) {
                        found.push((name.to_string(), dep.to_string()));
                    }
                }
            }
            match out.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => return Ok(found),
            }
        }
    }
}
