//! In-memory implementations of every port, for unit tests of the use cases (and anything else
//! that wants a cloud without one). Each fake keeps a [`CallLog`] of the operations it served
//! (named as the AWS operation it stands for, so a test reads like the real call sequence) and
//! takes injected failures through [`Faults`]: the next call of an operation, or every call,
//! fails with the given error.

mod artifacts;
mod compute;
mod router;
mod store;
mod workflow;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aviary_core::StepError;

pub use artifacts::MemoryArtifacts;
pub use compute::{MemoryCompute, TEST_INSTALLATION};
pub use router::{MemoryHealth, MemoryRouter, SAMPLE_LISTENER, SAMPLE_LOAD_BALANCER, SAMPLE_PRODUCTION_TG};
pub use store::MemoryStore;
pub use workflow::MemoryWorkflow;

/// Operations that change something, by the AWS operation's name.
pub const MUTATING: &[&str] = &[
    "PutItem:create",
    "PutItem:cas",
    "PutItem:event",
    "CreateRule",
    "ModifyRule",
    "DeleteRule",
    "CreateTargetGroup",
    "ModifyTargetGroupAttributes",
    "RegisterTargets",
    "DeregisterTargets",
    "DeleteTargetGroup",
    "CreateSecurityGroup",
    "AuthorizeSecurityGroupIngress",
    "RunInstances",
    "TerminateInstances",
    "DeleteSecurityGroup",
    "DeleteParameter",
    "StartExecution",
    "PutObject",
];

/// The operations a fake served, in order.
#[derive(Clone, Default)]
pub struct CallLog(Arc<Mutex<Vec<String>>>);

impl CallLog {
    pub fn record(&self, op: &str) {
        self.0.lock().unwrap().push(op.to_string());
    }
    pub fn all(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
    /// Only the operations that change something in the cloud (not the deployment table).
    pub fn cloud_mutations(&self) -> Vec<String> {
        self.all().into_iter().filter(|op| MUTATING.contains(&op.as_str()) && !op.starts_with("PutItem")).collect()
    }
    pub fn count(&self, op: &str) -> usize {
        self.0.lock().unwrap().iter().filter(|o| *o == op).count()
    }
    pub fn clear(&self) {
        self.0.lock().unwrap().clear();
    }
}

#[derive(Clone)]
enum Fault {
    Once(StepError),
    Always(StepError),
}

/// Injected failures by operation name.
#[derive(Clone, Default)]
pub struct Faults(Arc<Mutex<HashMap<String, Vec<Fault>>>>);

impl Faults {
    /// The next call of `op` fails with `err` (queued: call several times for several failures).
    pub fn fail_next(&self, op: &str, err: StepError) {
        self.0.lock().unwrap().entry(op.to_string()).or_default().push(Fault::Once(err));
    }
    /// Every call of `op` fails with `err` until [`Faults::clear`].
    pub fn fail_always(&self, op: &str, err: StepError) {
        self.0.lock().unwrap().entry(op.to_string()).or_default().push(Fault::Always(err));
    }
    pub fn clear(&self) {
        self.0.lock().unwrap().clear();
    }
    /// Records the call and returns the injected failure, if any.
    pub fn check(&self, log: &CallLog, op: &str) -> Result<(), StepError> {
        log.record(op);
        let mut map = self.0.lock().unwrap();
        let Some(queue) = map.get_mut(op) else { return Ok(()) };
        match queue.first().cloned() {
            None => Ok(()),
            Some(Fault::Always(e)) => Err(e),
            Some(Fault::Once(e)) => {
                queue.remove(0);
                Err(e)
            }
        }
    }
}

/// One call log and one fault table shared by a set of fakes, so a test sees the whole call
/// sequence across services in order.
#[derive(Clone, Default)]
pub struct Cloud {
    pub log: CallLog,
    pub faults: Faults,
}

/// A transient failure, as the adapters report throttling.
pub fn throttled(op: &str) -> StepError {
    StepError::aws(op, true, "Throttling: Rate exceeded")
}
