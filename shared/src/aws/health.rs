//! Where target health comes from. On AWS it is the load balancer's DescribeTargetHealth; the
//! trait lets tests and local runs inject unhealthy targets (the emulator reports every
//! registered target healthy).

use async_trait::async_trait;

use super::errors::aws_err;
use crate::error::StepError;
use crate::steps::{GroupHealth, TargetState};

#[async_trait]
pub trait TargetHealthSource: Send + Sync {
    async fn target_health(&self, target_group_arn: &str) -> Result<GroupHealth, StepError>;
}

pub struct ElbTargetHealth {
    client: aws_sdk_elasticloadbalancingv2::Client,
}

impl ElbTargetHealth {
    pub fn new(client: aws_sdk_elasticloadbalancingv2::Client) -> Self {
        ElbTargetHealth { client }
    }
}

#[async_trait]
impl TargetHealthSource for ElbTargetHealth {
    async fn target_health(&self, target_group_arn: &str) -> Result<GroupHealth, StepError> {
        let out = self
            .client
            .describe_target_health()
            .target_group_arn(target_group_arn)
            .send()
            .await
            .map_err(aws_err("DescribeTargetHealth"))?;
        let targets = out
            .target_health_descriptions()
            .iter()
            .map(|d| TargetState {
                target_id: d.target().and_then(|t| t.id()).unwrap_or_default().into(),
                state: d.target_health().and_then(|h| h.state()).map(|s| s.as_str().to_string()).unwrap_or_else(|| "unknown".into()),
                reason: d.target_health().and_then(|h| h.reason()).map(|r| r.as_str().to_string()),
            })
            .collect();
        Ok(GroupHealth { target_group_arn: target_group_arn.into(), targets })
    }
}

/// A health source that reports a fixed state for every target of the groups it is told
/// about, delegating the rest: used to exercise the unhealthy path locally.
pub struct OverrideHealth<S> {
    pub inner: S,
    pub state: String,
    pub reason: Option<String>,
}

#[async_trait]
impl<S: TargetHealthSource> TargetHealthSource for OverrideHealth<S> {
    async fn target_health(&self, target_group_arn: &str) -> Result<GroupHealth, StepError> {
        let mut g = self.inner.target_health(target_group_arn).await?;
        for t in &mut g.targets {
            t.state = self.state.clone();
            t.reason = self.reason.clone();
        }
        Ok(g)
    }
}
