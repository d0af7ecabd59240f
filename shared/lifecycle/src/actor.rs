//! Who is acting on a deployment: the installation itself (cleanup, the workflows, the local
//! demo), which may act on anything it made, or an API caller, who may act only on what it
//! owns unless it is an operator ([`aviary_core::ownership`]).

use aviary_core::model::Deployment;
use aviary_core::ownership::NotOwner;
use aviary_core::StepError;

use crate::Ports;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor<'a> {
    Installation,
    /// The authenticated principal (an IAM ARN); `None` when the front named nobody.
    Caller(Option<&'a str>),
}

impl Actor<'_> {
    /// Whether this actor may change `d`; the installation's operators come from its settings.
    pub fn may_change(&self, ports: &Ports, d: &Deployment) -> Result<Result<(), NotOwner>, StepError> {
        match self {
            Actor::Installation => Ok(Ok(())),
            Actor::Caller(caller) => {
                let guardrails = ports.settings.guardrails()?;
                Ok(guardrails.ownership.authorize(&format!("deployment {}", d.id), d.created_by.as_deref(), *caller))
            }
        }
    }

    /// `by <caller>` for the event log.
    pub fn label(&self) -> &str {
        match self {
            Actor::Installation => "this installation",
            Actor::Caller(Some(c)) => c,
            Actor::Caller(None) => "an unidentified caller",
        }
    }
}
