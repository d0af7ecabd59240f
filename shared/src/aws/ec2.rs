//! The EC2 adapter: security groups and instances for a deployment, found by tag so every
//! operation is idempotent (a retried step finds what an earlier attempt created).

use aws_sdk_ec2::types::{
    Filter, HttpTokensState, IamInstanceProfileSpecification, InstanceMetadataEndpointState,
    InstanceMetadataOptionsRequest, InstanceStateName, InstanceType, IpPermission, IpRange, ResourceType, Tag,
    TagSpecification, UserIdGroupPair,
};
use aws_sdk_ec2::Client;

use super::errors::{aws_err, code, is_not_found};
use crate::error::StepError;
use crate::ids::{TAG_DEPLOYMENT_ID, TAG_MANAGED_BY, TAG_MANAGED_BY_VALUE, TAG_ROLE};

/// An instance Aviary launched.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceInfo {
    pub instance_id: String,
    pub role: String,
    pub state: String,
    pub private_ip: Option<String>,
    pub public_ip: Option<String>,
}

/// One ingress rule: a port from a security group or from a CIDR.
#[derive(Debug, Clone, PartialEq)]
pub enum Ingress {
    FromGroup { port: u16, group_id: String },
    FromCidr { port: u16, cidr: String },
}

/// What to launch.
#[derive(Debug, Clone)]
pub struct LaunchRequest<'a> {
    pub deployment_id: &'a str,
    pub role: &'a str,
    pub ami_id: &'a str,
    pub instance_type: &'a str,
    pub subnet_id: &'a str,
    pub security_group_id: &'a str,
    pub instance_profile: &'a str,
    /// Plain text; encoded here.
    pub user_data: &'a str,
}

fn tag(k: &str, v: &str) -> Tag {
    Tag::builder().key(k).value(v).build()
}

pub fn tag_spec(resource: ResourceType, deployment_id: &str, role: &str) -> TagSpecification {
    TagSpecification::builder()
        .resource_type(resource)
        .tags(tag(TAG_MANAGED_BY, TAG_MANAGED_BY_VALUE))
        .tags(tag(TAG_DEPLOYMENT_ID, deployment_id))
        .tags(tag(TAG_ROLE, role))
        .tags(tag("Name", &format!("aviary-{deployment_id}-{role}")))
        .build()
}

fn filter(name: &str, values: &[&str]) -> Filter {
    Filter::builder().name(name).set_values(Some(values.iter().map(|v| v.to_string()).collect())).build()
}

const LIVE_STATES: [&str; 4] = ["pending", "running", "stopping", "stopped"];

#[derive(Clone)]
pub struct Ec2 {
    client: Client,
}

impl Ec2 {
    pub fn new(client: Client) -> Self {
        Ec2 { client }
    }

    /// The deployment's security group for `role`, if it exists.
    pub async fn find_security_group(&self, deployment_id: &str, role: &str) -> Result<Option<String>, StepError> {
        let out = self
            .client
            .describe_security_groups()
            .filters(filter(&format!("tag:{TAG_MANAGED_BY}"), &[TAG_MANAGED_BY_VALUE]))
            .filters(filter(&format!("tag:{TAG_DEPLOYMENT_ID}"), &[deployment_id]))
            .filters(filter(&format!("tag:{TAG_ROLE}"), &[role]))
            .send()
            .await
            .map_err(aws_err("DescribeSecurityGroups"))?;
        Ok(out.security_groups().first().and_then(|g| g.group_id()).map(str::to_string))
    }

    /// Every security group carrying Aviary's tags for the deployment (or all deployments).
    pub async fn aviary_security_groups(&self, deployment_id: Option<&str>) -> Result<Vec<(String, String)>, StepError> {
        let mut req = self.client.describe_security_groups().filters(filter(&format!("tag:{TAG_MANAGED_BY}"), &[TAG_MANAGED_BY_VALUE]));
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
    pub async fn ensure_security_group(&self, deployment_id: &str, role: &str, vpc_id: &str, description: &str) -> Result<String, StepError> {
        if let Some(id) = self.find_security_group(deployment_id, role).await? {
            return Ok(id);
        }
        let out = self
            .client
            .create_security_group()
            .group_name(format!("aviary-{deployment_id}-{role}"))
            .description(description)
            .vpc_id(vpc_id)
            .tag_specifications(tag_spec(ResourceType::SecurityGroup, deployment_id, role))
            .send()
            .await
            .map_err(aws_err("CreateSecurityGroup"))?;
        out.group_id().map(str::to_string).ok_or_else(|| StepError::aws("CreateSecurityGroup", false, "no group id in the response"))
    }

    /// Adds ingress rules; rules that already exist count as done.
    pub async fn allow_ingress(&self, group_id: &str, rules: &[Ingress]) -> Result<(), StepError> {
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
    pub async fn instances(&self, deployment_id: &str, role: Option<&str>) -> Result<Vec<InstanceInfo>, StepError> {
        let mut req = self
            .client
            .describe_instances()
            // Both tags: an instance someone tagged with a deployment id alone is not ours.
            .filters(filter(&format!("tag:{TAG_MANAGED_BY}"), &[TAG_MANAGED_BY_VALUE]))
            .filters(filter(&format!("tag:{TAG_DEPLOYMENT_ID}"), &[deployment_id]))
            .filters(filter("instance-state-name", &LIVE_STATES));
        if let Some(r) = role {
            req = req.filters(filter(&format!("tag:{TAG_ROLE}"), &[r]));
        }
        let out = req.send().await.map_err(aws_err("DescribeInstances"))?;
        Ok(out.reservations().iter().flat_map(|r| r.instances()).map(info).collect())
    }

    /// Every live instance tagged by Aviary: (instance id, deployment id).
    pub async fn aviary_instances(&self) -> Result<Vec<(String, String)>, StepError> {
        let out = self
            .client
            .describe_instances()
            .filters(filter(&format!("tag:{TAG_MANAGED_BY}"), &[TAG_MANAGED_BY_VALUE]))
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
    pub async fn ensure_instance(&self, req: &LaunchRequest<'_>) -> Result<InstanceInfo, StepError> {
        if let Some(existing) = self.instances(req.deployment_id, Some(req.role)).await?.into_iter().next() {
            return Ok(existing);
        }
        use base64_encode as b64;
        let out = self
            .client
            .run_instances()
            .image_id(req.ami_id)
            .instance_type(InstanceType::from(req.instance_type))
            .min_count(1)
            .max_count(1)
            .subnet_id(req.subnet_id)
            .security_group_ids(req.security_group_id)
            .iam_instance_profile(IamInstanceProfileSpecification::builder().name(req.instance_profile).build())
            .metadata_options(
                InstanceMetadataOptionsRequest::builder()
                    .http_tokens(HttpTokensState::Required)
                    .http_endpoint(InstanceMetadataEndpointState::Enabled)
                    // Containers on the instance sit one hop further away.
                    .http_put_response_hop_limit(2)
                    .build(),
            )
            .user_data(b64(req.user_data.as_bytes()))
            .client_token(format!("{}-{}", req.deployment_id, req.role))
            .tag_specifications(tag_spec(ResourceType::Instance, req.deployment_id, req.role))
            .tag_specifications(tag_spec(ResourceType::Volume, req.deployment_id, req.role))
            .send()
            .await
            .map_err(aws_err("RunInstances"))?;
        let inst = out.instances().first().ok_or_else(|| StepError::aws("RunInstances", false, "no instance in the response"))?;
        Ok(info(inst))
    }

    /// Terminates instances; already gone counts as done.
    pub async fn terminate(&self, ids: &[String]) -> Result<(), StepError> {
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
    pub async fn delete_security_group(&self, group_id: &str) -> Result<bool, StepError> {
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

/// Standard base64 (user data must be base64-encoded for RunInstances).
pub fn base64_encode(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16) | (u32::from(*c.get(1).unwrap_or(&0)) << 8) | u32::from(*c.get(2).unwrap_or(&0));
        out.push(T[(n >> 18) as usize & 63] as char);
        out.push(T[(n >> 12) as usize & 63] as char);
        out.push(if c.len() > 1 { T[(n >> 6) as usize & 63] as char } else { '=' });
        out.push(if c.len() > 2 { T[n as usize & 63] as char } else { '=' });
    }
    out
}

/// The latest Amazon Linux 2023 AMI for an architecture, from the SSM public parameter.
pub async fn resolve_ami(ssm: &aws_sdk_ssm::Client, parameter: &str) -> Result<String, StepError> {
    let out = ssm.get_parameter().name(parameter).send().await.map_err(aws_err("GetParameter"))?;
    out.parameter()
        .and_then(|p| p.value())
        .map(str::to_string)
        .ok_or_else(|| StepError::Environment(format!("SSM parameter {parameter} has no value")))
}

#[cfg(test)]
mod tests {
    use super::base64_encode;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (i, o) in [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy")] {
            assert_eq!(base64_encode(i.as_bytes()), o);
        }
    }
}
