//! Instances and security groups in memory. Launched instances start in the state the test
//! chooses (`running` by default); a security group cannot be deleted while a live instance
//! uses it, as on EC2. Like the EC2 adapter, a `MemoryCompute` belongs to one installation
//! and sees only what carries its installation; [`MemoryCompute::for_installation`] gives a
//! second installation's view of the same cloud.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use aviary_core::StepError;

use super::Cloud;
use crate::compute::{Compute, Ingress, InstanceInfo, LaunchRequest, SubnetInfo};

#[derive(Debug, Clone)]
struct Group {
    installation: String,
    deployment_id: String,
    role: String,
    ingress: Vec<Ingress>,
}

#[derive(Debug, Clone)]
struct Instance {
    installation: String,
    info: InstanceInfo,
    deployment_id: String,
    security_group_id: String,
}

#[derive(Default)]
struct State {
    groups: BTreeMap<String, Group>,
    instances: BTreeMap<String, Instance>,
    launches: Vec<LaunchRequest>,
    next: u32,
    launch_state: Option<String>,
    images: BTreeMap<String, String>,
    /// subnet id → vpc id.
    subnets: BTreeMap<String, String>,
    /// SSM parameter name → value (the instances' secrets, every installation's).
    secrets: BTreeMap<String, String>,
}

#[derive(Clone)]
pub struct MemoryCompute {
    state: Arc<Mutex<State>>,
    installation: String,
    pub cloud: Cloud,
}

/// The installation the fakes belong to unless a test asks for another.
pub const TEST_INSTALLATION: &str = "aviary-test";

impl MemoryCompute {
    /// With the sample environment's subnets (`subnet-a`, `subnet-b` in `vpc-1`).
    pub fn new(cloud: Cloud) -> Self {
        let c = MemoryCompute { state: Arc::default(), installation: TEST_INSTALLATION.into(), cloud };
        {
            let mut s = c.state.lock().unwrap();
            s.subnets.insert("subnet-a".into(), "vpc-1".into());
            s.subnets.insert("subnet-b".into(), "vpc-1".into());
            s.images.insert("/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64".into(), "ami-arm64".into());
            s.images.insert("/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64".into(), "ami-x86".into());
        }
        c
    }
    /// Another installation's view of the same instances and groups.
    pub fn for_installation(&self, installation: &str) -> Self {
        MemoryCompute { installation: installation.into(), ..self.clone() }
    }
    pub fn add_subnet(&self, subnet_id: &str, vpc_id: &str) {
        self.state.lock().unwrap().subnets.insert(subnet_id.into(), vpc_id.into());
    }
    /// The state new instances start in (`pending` to exercise the not-ready path).
    pub fn launch_in_state(&self, state: &str) {
        self.state.lock().unwrap().launch_state = Some(state.into());
    }
    pub fn set_state(&self, instance_id: &str, state: &str) {
        if let Some(i) = self.state.lock().unwrap().instances.get_mut(instance_id) {
            i.info.state = state.into();
        }
    }
    /// Every launch request served, in order.
    pub fn launches(&self) -> Vec<LaunchRequest> {
        self.state.lock().unwrap().launches.clone()
    }
    /// Live instances (not terminated): (id, deployment id, role).
    pub fn live_instances(&self) -> Vec<(String, String, String)> {
        let s = self.state.lock().unwrap();
        s.instances.values().filter(|i| i.info.state != "terminated").map(|i| (i.info.instance_id.clone(), i.deployment_id.clone(), i.info.role.clone())).collect()
    }
    pub fn security_groups(&self) -> Vec<(String, String, String)> {
        let s = self.state.lock().unwrap();
        s.groups.iter().map(|(id, g)| (id.clone(), g.deployment_id.clone(), g.role.clone())).collect()
    }
    pub fn ingress_of(&self, group_id: &str) -> Vec<Ingress> {
        self.state.lock().unwrap().groups.get(group_id).map(|g| g.ingress.clone()).unwrap_or_default()
    }
    /// Writes a secret of a deployment as its monitor does at boot (no logged call).
    pub fn put_secret(&self, deployment_id: &str, secret: &str, value: &str) {
        let name = aviary_core::secrets::parameter_name(&self.installation, deployment_id, secret);
        self.state.lock().unwrap().secrets.insert(name, value.into());
    }
    /// Every secret's parameter name, of every installation.
    pub fn secret_names(&self) -> Vec<String> {
        self.state.lock().unwrap().secrets.keys().cloned().collect()
    }
    /// Creates an instance or group as if someone else (or another installation) had.
    pub fn insert_foreign_instance(&self, instance_id: &str, deployment_id: &str) {
        let mut s = self.state.lock().unwrap();
        s.instances.insert(
            instance_id.into(),
            Instance {
                info: InstanceInfo { instance_id: instance_id.into(), role: "canary".into(), state: "running".into(), private_ip: None, public_ip: None },
                installation: self.installation.clone(),
                deployment_id: deployment_id.into(),
                security_group_id: String::new(),
            },
        );
    }
}

#[async_trait]
impl Compute for MemoryCompute {
    async fn ensure_security_group(&self, deployment_id: &str, role: &str, _vpc_id: &str, _description: &str) -> Result<String, StepError> {
        self.cloud.faults.check(&self.cloud.log, "DescribeSecurityGroups")?;
        if let Some((id, _)) = self.state.lock().unwrap().groups.iter().find(|(_, g)| g.installation == self.installation && g.deployment_id == deployment_id && g.role == role) {
            return Ok(id.clone());
        }
        self.cloud.faults.check(&self.cloud.log, "CreateSecurityGroup")?;
        let mut s = self.state.lock().unwrap();
        s.next += 1;
        let id = format!("sg-{:08x}", s.next);
        s.groups.insert(id.clone(), Group { installation: self.installation.clone(), deployment_id: deployment_id.into(), role: role.into(), ingress: vec![] });
        Ok(id)
    }

    async fn allow_ingress(&self, group_id: &str, rules: &[Ingress]) -> Result<(), StepError> {
        self.cloud.faults.check(&self.cloud.log, "AuthorizeSecurityGroupIngress")?;
        let mut s = self.state.lock().unwrap();
        let g = s.groups.get_mut(group_id).ok_or_else(|| StepError::aws("AuthorizeSecurityGroupIngress", false, format!("InvalidGroup.NotFound: {group_id}")))?;
        for r in rules {
            if !g.ingress.contains(r) {
                g.ingress.push(r.clone());
            }
        }
        Ok(())
    }

    async fn instances(&self, deployment_id: &str, role: Option<&str>) -> Result<Vec<InstanceInfo>, StepError> {
        self.cloud.faults.check(&self.cloud.log, "DescribeInstances")?;
        let s = self.state.lock().unwrap();
        Ok(s.instances
            .values()
            .filter(|i| i.installation == self.installation)
            .filter(|i| i.deployment_id == deployment_id && i.info.state != "terminated" && role.is_none_or(|r| i.info.role == r))
            .map(|i| i.info.clone())
            .collect())
    }

    async fn ensure_instance(&self, req: &LaunchRequest) -> Result<InstanceInfo, StepError> {
        if let Some(existing) = self.instances(&req.deployment_id, Some(&req.role)).await?.into_iter().next() {
            return Ok(existing);
        }
        self.cloud.faults.check(&self.cloud.log, "RunInstances")?;
        let mut s = self.state.lock().unwrap();
        if !s.groups.contains_key(&req.security_group_id) {
            return Err(StepError::aws("RunInstances", false, format!("InvalidGroup.NotFound: {}", req.security_group_id)));
        }
        s.next += 1;
        let n = s.next;
        let info = InstanceInfo {
            instance_id: format!("i-{n:017x}"),
            role: req.role.clone(),
            state: s.launch_state.clone().unwrap_or_else(|| "running".into()),
            private_ip: Some(format!("10.0.0.{}", n % 250 + 1)),
            public_ip: None,
        };
        s.launches.push(req.clone());
        s.instances.insert(
            info.instance_id.clone(),
            Instance {
                installation: self.installation.clone(),
                info: info.clone(),
                deployment_id: req.deployment_id.clone(),
                security_group_id: req.security_group_id.clone(),
            },
        );
        Ok(info)
    }

    async fn terminate(&self, instance_ids: &[String]) -> Result<(), StepError> {
        self.cloud.faults.check(&self.cloud.log, "TerminateInstances")?;
        let mut s = self.state.lock().unwrap();
        for id in instance_ids {
            if let Some(i) = s.instances.get_mut(id) {
                i.info.state = "terminated".into();
            }
        }
        Ok(())
    }

    async fn delete_security_group(&self, group_id: &str) -> Result<bool, StepError> {
        self.cloud.faults.check(&self.cloud.log, "DeleteSecurityGroup")?;
        let mut s = self.state.lock().unwrap();
        if !s.groups.contains_key(group_id) {
            return Ok(false);
        }
        let in_use = s.instances.values().any(|i| i.security_group_id == group_id && i.info.state != "terminated")
            || s.groups.values().any(|g| g.ingress.iter().any(|r| matches!(r, Ingress::FromGroup { group_id: src, .. } if src == group_id)));
        if in_use {
            return Err(StepError::TeardownIncomplete(format!("security group {group_id} is still in use")));
        }
        s.groups.remove(group_id);
        Ok(true)
    }

    async fn aviary_security_groups(&self, deployment_id: Option<&str>) -> Result<Vec<(String, String)>, StepError> {
        self.cloud.faults.check(&self.cloud.log, "DescribeSecurityGroups")?;
        let s = self.state.lock().unwrap();
        Ok(s.groups
            .iter()
            .filter(|(_, g)| g.installation == self.installation && deployment_id.is_none_or(|d| g.deployment_id == d))
            .map(|(id, g)| (id.clone(), g.deployment_id.clone()))
            .collect())
    }

    async fn aviary_instances(&self) -> Result<Vec<(String, String)>, StepError> {
        self.cloud.faults.check(&self.cloud.log, "DescribeInstances")?;
        let s = self.state.lock().unwrap();
        Ok(s.instances.values().filter(|i| i.installation == self.installation && i.info.state != "terminated").map(|i| (i.info.instance_id.clone(), i.deployment_id.clone())).collect())
    }

    async fn subnets(&self, ids: &[String]) -> Result<Vec<SubnetInfo>, StepError> {
        self.cloud.faults.check(&self.cloud.log, "DescribeSubnets")?;
        let s = self.state.lock().unwrap();
        Ok(ids.iter().filter_map(|id| Some(SubnetInfo { subnet_id: id.clone(), vpc_id: s.subnets.get(id)?.clone() })).collect())
    }

    async fn resolve_image(&self, parameter: &str) -> Result<String, StepError> {
        self.cloud.faults.check(&self.cloud.log, "GetParameter")?;
        self.state
            .lock()
            .unwrap()
            .images
            .get(parameter)
            .cloned()
            .ok_or_else(|| StepError::aws("GetParameter", false, format!("ParameterNotFound: {parameter}")))
    }

    fn installation(&self) -> &str {
        &self.installation
    }

    async fn read_secret(&self, deployment_id: &str, secret: &str) -> Result<Option<String>, StepError> {
        self.cloud.faults.check(&self.cloud.log, "GetParameter")?;
        let name = aviary_core::secrets::parameter_name(&self.installation, deployment_id, secret);
        Ok(self.state.lock().unwrap().secrets.get(&name).cloned())
    }

    async fn delete_secrets(&self, deployment_id: &str) -> Result<Vec<String>, StepError> {
        let mut deleted = Vec::new();
        for secret in aviary_core::secrets::ALL {
            self.cloud.faults.check(&self.cloud.log, "DeleteParameter")?;
            let name = aviary_core::secrets::parameter_name(&self.installation, deployment_id, secret);
            if self.state.lock().unwrap().secrets.remove(&name).is_some() {
                deleted.push(name);
            }
        }
        Ok(deleted)
    }

    async fn aviary_secrets(&self) -> Result<Vec<(String, String)>, StepError> {
        self.cloud.faults.check(&self.cloud.log, "GetParametersByPath")?;
        let s = self.state.lock().unwrap();
        Ok(s.secrets
            .keys()
            .filter_map(|name| Some((name.clone(), aviary_core::secrets::deployment_of(&self.installation, name)?.to_string())))
            .collect())
    }
}
