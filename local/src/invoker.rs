//! The Lambda side of the local Step Functions endpoint: a [`TaskInvoker`] that maps each
//! function ARN to the real handler crate and calls it in-process with a `LambdaEvent`, turning
//! handler errors into what Lambda reports to Step Functions (`Error` = the error type name,
//! `Cause` = `{"errorType", "errorMessage"}`). It also measures handler time and can inject
//! faults, which the failure tests use.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use aviary_asl::{TaskFailure, TaskInvoker};
use aviary_core::StepError;
use aviary_lifecycle::Ports;
use lambda_runtime::{Context, LambdaEvent};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

/// The account and region local ARNs use.
pub const LOCAL_ACCOUNT: &str = "123456789012";
pub const LOCAL_REGION: &str = "us-east-1";

/// The workflow functions, as named in the ASL substitutions and the SAM template.
pub const WORKFLOW_FUNCTIONS: [(&str, &str); 5] = [
    ("ProvisionFunctionArn", "provision"),
    ("RegisterTargetsFunctionArn", "register-targets"),
    ("AddListenerRuleFunctionArn", "add-listener-rule"),
    ("CheckHealthFunctionArn", "check-health"),
    ("TeardownFunctionArn", "teardown"),
];

pub fn function_arn(name: &str) -> String {
    format!("arn:aws:lambda:{LOCAL_REGION}:{LOCAL_ACCOUNT}:function:aviary-{name}")
}

/// The `DefinitionSubstitutions` for the local run.
pub fn substitutions() -> HashMap<String, String> {
    WORKFLOW_FUNCTIONS.iter().map(|(var, name)| (var.to_string(), function_arn(name))).collect()
}

/// When an injected fault fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultTiming {
    /// The invocation fails before the handler runs (Lambda could not start it).
    Before,
    /// The handler runs (and creates what it creates), then the invocation fails (a timeout
    /// or crash after the work was done).
    After,
}

#[derive(Debug, Clone)]
pub struct Fault {
    pub function: String,
    pub timing: FaultTiming,
    /// The error name Step Functions sees.
    pub error: String,
    /// How many invocations of that function fail (then it recovers).
    pub times: u32,
}

#[derive(Default)]
struct Stats {
    calls: HashMap<String, u32>,
    time: HashMap<String, Duration>,
}

pub struct LocalInvoker {
    ports: std::sync::RwLock<Ports>,
    /// Functions that run with their own credentials: their adapters, rebuilt on those.
    own: std::sync::RwLock<HashMap<String, Ports>>,
    faults: Mutex<Vec<Fault>>,
    stats: Mutex<Stats>,
}

impl LocalInvoker {
    pub fn new(ports: Ports) -> Arc<LocalInvoker> {
        Arc::new(LocalInvoker { ports: std::sync::RwLock::new(ports), own: Default::default(), faults: Mutex::new(Vec::new()), stats: Mutex::new(Stats::default()) })
    }

    /// Replaces the handlers' ports (tests swap the health source or the clock).
    pub fn set_ports(&self, ports: Ports) {
        *self.ports.write().expect("ports lock") = ports;
    }

    /// Makes `function` run on `adapters` (the same ports on its own credentials); the
    /// settings and the clock stay those of [`LocalInvoker::set_ports`].
    pub fn set_function_adapters(&self, function: &str, adapters: Ports) {
        self.own.write().expect("own lock").insert(function.to_string(), adapters);
    }

    /// The ports `function` runs with: its own adapters if it has them, else the shared ones.
    pub fn ports_for(&self, function: &str) -> Ports {
        let base = self.ports.read().expect("ports lock").clone();
        match self.own.read().expect("own lock").get(function) {
            Some(a) => Ports { settings: base.settings, clock: base.clock, ..a.clone() },
            None => base,
        }
    }

    pub fn inject(&self, fault: Fault) {
        self.faults.lock().expect("faults lock").push(fault);
    }

    /// Adds handler time measured outside the workflow (s3-trigger, called by the pump).
    pub fn record(&self, function: &str, calls: u32, time: Duration) {
        let mut s = self.stats.lock().expect("stats lock");
        *s.calls.entry(function.into()).or_default() += calls;
        *s.time.entry(function.into()).or_default() += time;
    }

    /// Total handler time and call counts per function since start.
    pub fn handler_time(&self) -> Vec<(String, u32, Duration)> {
        let s = self.stats.lock().expect("stats lock");
        let mut v: Vec<_> = s.time.iter().map(|(k, d)| (k.clone(), s.calls.get(k).copied().unwrap_or(0), *d)).collect();
        v.sort();
        v
    }

    fn take_fault(&self, function: &str, timing: FaultTiming) -> Option<Fault> {
        let mut faults = self.faults.lock().expect("faults lock");
        let f = faults.iter_mut().find(|f| f.function == function && f.timing == timing && f.times > 0)?;
        f.times -= 1;
        Some(f.clone())
    }

    async fn call(&self, function: &str, input: Value) -> Result<Value, TaskFailure> {
        let ports = &self.ports_for(function);
        match function {
            "provision" => run(input, |e| provision::handler(ports, e)).await,
            "register-targets" => run(input, |e| register_targets::handler(ports, e)).await,
            "add-listener-rule" => run(input, |e| add_listener_rule::handler(ports, e)).await,
            "check-health" => run(input, |e| check_health::handler(ports, e)).await,
            "teardown" => run(input, |e| teardown::handler(ports, e)).await,
            other => Err(TaskFailure::new("Lambda.ResourceNotFoundException", format!("no local function named {other}"))),
        }
    }
}

/// Deserialises the payload as the handler's input type (a mismatch is what the Lambda
/// runtime would report), calls it and serialises its output.
async fn run<I, O, F, Fut>(input: Value, handler: F) -> Result<Value, TaskFailure>
where
    I: DeserializeOwned,
    O: Serialize,
    F: FnOnce(LambdaEvent<I>) -> Fut,
    Fut: std::future::Future<Output = Result<O, StepError>>,
{
    let payload: I = serde_json::from_value(input).map_err(|e| failure(&StepError::InvalidInput(e.to_string())))?;
    let out = handler(LambdaEvent::new(payload, Context::default())).await.map_err(|e| failure(&e))?;
    serde_json::to_value(out).map_err(|e| failure(&StepError::InvalidInput(e.to_string())))
}

fn failure(e: &StepError) -> TaskFailure {
    TaskFailure::new(e.name(), serde_json::json!({"errorType": e.name(), "errorMessage": e.to_string()}).to_string())
}

#[async_trait]
impl TaskInvoker for LocalInvoker {
    async fn invoke(&self, resource: &str, input: Value) -> Result<Value, TaskFailure> {
        let Some(function) = resource.rsplit(":function:aviary-").next().filter(|_| resource.contains(":function:aviary-")) else {
            return Err(TaskFailure::new("Lambda.ResourceNotFoundException", format!("{resource} is not an Aviary function")));
        };
        if let Some(f) = self.take_fault(function, FaultTiming::Before) {
            return Err(TaskFailure::new(&f.error, format!("injected fault before {function}")));
        }
        let started = Instant::now();
        let result = self.call(function, input).await;
        {
            let mut s = self.stats.lock().expect("stats lock");
            *s.calls.entry(function.into()).or_default() += 1;
            *s.time.entry(function.into()).or_default() += started.elapsed();
        }
        if let Some(f) = self.take_fault(function, FaultTiming::After) {
            return Err(TaskFailure::new(&f.error, format!("injected fault after {function} ran")));
        }
        result
    }
}
