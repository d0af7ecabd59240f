//! Why a monitoring render was refused. Rendering itself escapes every value it embeds, so
//! these are about inputs that would produce a stack that cannot work, or user data EC2 rejects.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MonitoringError {
    #[error("deployment id '{0}' must be 1-64 lowercase letters, digits and '-'")]
    InvalidDeploymentId(String),
    #[error("region '{0}' is not an AWS region name (e.g. eu-west-1)")]
    InvalidRegion(String),
    #[error("listener ARN '{0}' does not name an application load balancer listener")]
    InvalidListenerArn(String),
    #[error("'{0}' is neither a target group ARN nor a CloudWatch TargetGroup dimension (targetgroup/<name>/<id>)")]
    InvalidTargetGroup(String),
    #[error("scrape target '{0}' must be host:port")]
    InvalidScrapeTarget(String),
    #[error("static scrape targets need at least one {job} target for each role")]
    MissingScrapeTargets { job: &'static str },
    #[error("scrape interval must be 1-300 seconds, got {0}")]
    InvalidScrapeInterval(u32),
    #[error("{what} user data is {bytes} bytes; EC2 accepts at most {limit}")]
    UserDataTooLarge { what: &'static str, bytes: usize, limit: usize },
}
