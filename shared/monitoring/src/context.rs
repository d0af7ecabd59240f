//! What a monitor render needs besides the spec: the deployment, the region, where Prometheus
//! finds its targets, and what is known of the ALB's CloudWatch dimensions.

use super::error::MonitoringError;

/// Placeholders in the dashboard for target group dimensions the monitor resolves at boot.
pub const TG_PLACEHOLDER_BASELINE: &str = "__AVIARY_TG_BASELINE__";
pub const TG_PLACEHOLDER_CANARY: &str = "__AVIARY_TG_CANARY__";

#[derive(Debug, Clone, PartialEq)]
pub struct MonitorContext {
    pub deployment_id: String,
    pub region: String,
    pub targets: ScrapeTargets,
    pub alb: AlbDimensions,
    /// Prometheus scrape interval (also Grafana's minimum step).
    pub scrape_interval_seconds: u32,
    /// The SSM parameter the monitor writes its Grafana admin password to (a SecureString the
    /// API hands to the deployment's owner); `None` keeps it on the instance only.
    pub password_parameter: Option<String>,
}

/// Where Prometheus finds baseline and canary.
#[derive(Debug, Clone, PartialEq)]
pub enum ScrapeTargets {
    /// EC2 service discovery by Aviary's tags (what the monitor instance uses).
    Ec2Discovery,
    /// Fixed `host:port` targets per role, through the same job definitions and relabelling:
    /// lets the checks point a real Prometheus at local processes.
    Static(StaticTargets),
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct StaticTargets {
    /// Node exporters.
    pub node: RoleTargets,
    /// The application's metrics endpoints (used only when the spec sets `appMetricsPath`).
    pub app: RoleTargets,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct RoleTargets {
    pub baseline: Vec<String>,
    pub canary: Vec<String>,
}

impl RoleTargets {
    pub fn for_role(&self, role: &str) -> &[String] {
        if role == "baseline" {
            &self.baseline
        } else {
            &self.canary
        }
    }
}

/// The ALB's per-target-group CloudWatch dimensions. `LoadBalancer` comes from the spec's
/// listener ARN; `TargetGroup` (`targetgroup/<name>/<id>`) exists only once the target groups do.
#[derive(Debug, Clone, PartialEq)]
pub enum AlbDimensions {
    /// Placeholders in the dashboard, replaced on the monitor by a boot-time job that looks the
    /// deterministic target group names up with the AWS CLI (the monitor starts before the
    /// target groups exist).
    ResolveAtBoot,
    /// Known already (re-renders, `aviary render`, tests): target group ARNs or dimensions.
    Known { baseline_target_group: String, canary_target_group: String },
}

impl MonitorContext {
    /// EC2 discovery, dimensions resolved at boot, 15 s scrapes.
    pub fn new(deployment_id: impl Into<String>, region: impl Into<String>) -> Self {
        MonitorContext {
            deployment_id: deployment_id.into(),
            region: region.into(),
            targets: ScrapeTargets::Ec2Discovery,
            alb: AlbDimensions::ResolveAtBoot,
            scrape_interval_seconds: 15,
            password_parameter: None,
        }
    }

    /// Where the monitor stores its Grafana password (see [`MonitorContext::password_parameter`]).
    pub fn with_password_parameter(mut self, name: impl Into<String>) -> Self {
        self.password_parameter = Some(name.into());
        self
    }

    /// Checks everything the render embeds. Rendering escapes values regardless; this refuses
    /// contexts that would render a stack that cannot work.
    pub fn validate(&self) -> Result<(), MonitoringError> {
        if !is_deployment_id(&self.deployment_id) {
            return Err(MonitoringError::InvalidDeploymentId(self.deployment_id.clone()));
        }
        if !is_region(&self.region) {
            return Err(MonitoringError::InvalidRegion(self.region.clone()));
        }
        if !(1..=300).contains(&self.scrape_interval_seconds) {
            return Err(MonitoringError::InvalidScrapeInterval(self.scrape_interval_seconds));
        }
        if let ScrapeTargets::Static(s) = &self.targets {
            for (job, t) in [("node", &s.node), ("app", &s.app)] {
                for addr in t.baseline.iter().chain(&t.canary) {
                    if !is_host_port(addr) {
                        return Err(MonitoringError::InvalidScrapeTarget(addr.clone()));
                    }
                }
                if job == "node" && (t.baseline.is_empty() || t.canary.is_empty()) {
                    return Err(MonitoringError::MissingScrapeTargets { job: "node" });
                }
            }
        }
        if let AlbDimensions::Known { baseline_target_group, canary_target_group } = &self.alb {
            for tg in [baseline_target_group, canary_target_group] {
                if target_group_dimension(tg).is_none() {
                    return Err(MonitoringError::InvalidTargetGroup(tg.clone()));
                }
            }
        }
        Ok(())
    }

    /// The TargetGroup dimension values the dashboard uses, in [`super::ROLES`] order.
    pub fn target_group_dimensions(&self) -> [String; 2] {
        match &self.alb {
            AlbDimensions::ResolveAtBoot => [TG_PLACEHOLDER_BASELINE.to_string(), TG_PLACEHOLDER_CANARY.to_string()],
            AlbDimensions::Known { baseline_target_group, canary_target_group } => [
                target_group_dimension(baseline_target_group).unwrap_or_else(|| baseline_target_group.clone()),
                target_group_dimension(canary_target_group).unwrap_or_else(|| canary_target_group.clone()),
            ],
        }
    }
}

/// `arn:aws:elasticloadbalancing:<region>:<account>:listener/app/<name>/<lb-id>/<listener-id>`
/// → `app/<name>/<lb-id>`, CloudWatch's `LoadBalancer` dimension.
pub fn load_balancer_dimension(listener_arn: &str) -> Option<String> {
    let resource = listener_arn.strip_prefix("arn:")?.splitn(5, ':').nth(4)?;
    let parts: Vec<&str> = resource.split('/').collect();
    match parts.as_slice() {
        ["listener", "app", name, lb_id, listener_id] if ![name, lb_id, listener_id].iter().any(|p| p.is_empty()) => {
            Some(format!("app/{name}/{lb_id}"))
        }
        _ => None,
    }
}

/// A target group ARN or dimension → `targetgroup/<name>/<id>`, CloudWatch's `TargetGroup`.
pub fn target_group_dimension(arn_or_dimension: &str) -> Option<String> {
    let dim = match arn_or_dimension.strip_prefix("arn:") {
        Some(rest) => rest.splitn(5, ':').nth(4)?,
        None => arn_or_dimension,
    };
    let parts: Vec<&str> = dim.split('/').collect();
    let ok = matches!(parts.as_slice(), ["targetgroup", name, id]
        if !name.is_empty() && !id.is_empty()
            && dim.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '/'));
    ok.then(|| dim.to_string())
}

pub fn is_deployment_id(s: &str) -> bool {
    (1..=64).contains(&s.len()) && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// `us-east-1`, `ap-southeast-2`, `us-gov-west-1`, ...
pub fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[..parts.len() - 1].iter().all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts[parts.len() - 1].chars().all(|c| c.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

fn is_host_port(s: &str) -> bool {
    match s.rsplit_once(':') {
        Some((host, port)) => {
            !host.is_empty()
                && host.chars().all(|c| c.is_ascii_alphanumeric() || ".-[]:".contains(c))
                && port.parse::<u16>().is_ok_and(|p| p > 0)
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_balancer_dimension_from_listener_arn() {
        let arn =
            "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2";
        assert_eq!(load_balancer_dimension(arn).as_deref(), Some("app/web/50dc6c495c0c9188"));
        assert_eq!(load_balancer_dimension("arn:aws:elasticloadbalancing:eu-west-1:1:listener/net/x/y/z"), None);
        assert_eq!(load_balancer_dimension("nonsense"), None);
    }

    #[test]
    fn target_group_dimension_from_arn_or_dimension() {
        let arn = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/av-0123456789-b/73e2d6bc24d8a067";
        assert_eq!(target_group_dimension(arn).as_deref(), Some("targetgroup/av-0123456789-b/73e2d6bc24d8a067"));
        assert_eq!(target_group_dimension("targetgroup/a/b").as_deref(), Some("targetgroup/a/b"));
        assert_eq!(target_group_dimension("targetgroup/a"), None);
        assert_eq!(target_group_dimension("targetgroup/a/b\"; rm -rf /"), None);
    }

    #[test]
    fn validation_rejects_what_cannot_work() {
        assert!(MonitorContext::new("web-0123456789", "eu-west-1").validate().is_ok());
        assert!(matches!(
            MonitorContext::new("Web", "eu-west-1").validate(),
            Err(MonitoringError::InvalidDeploymentId(_))
        ));
        assert!(matches!(MonitorContext::new("web", "europe").validate(), Err(MonitoringError::InvalidRegion(_))));
        assert!(
            is_region("us-gov-west-1")
                && is_region("ap-southeast-2")
                && !is_region("us-east-")
                && !is_region("US-east-1")
        );
        let mut c = MonitorContext::new("web", "eu-west-1");
        c.targets = ScrapeTargets::Static(StaticTargets {
            node: RoleTargets { baseline: vec!["127.0.0.1:9100".into()], canary: vec![] },
            app: RoleTargets::default(),
        });
        assert_eq!(c.validate(), Err(MonitoringError::MissingScrapeTargets { job: "node" }));
        c.targets = ScrapeTargets::Static(StaticTargets {
            node: RoleTargets { baseline: vec!["127.0.0.1".into()], canary: vec!["127.0.0.1:1".into()] },
            app: RoleTargets::default(),
        });
        assert!(matches!(c.validate(), Err(MonitoringError::InvalidScrapeTarget(_))));
        c.targets = ScrapeTargets::Ec2Discovery;
        c.scrape_interval_seconds = 0;
        assert_eq!(c.validate(), Err(MonitoringError::InvalidScrapeInterval(0)));
    }
}
