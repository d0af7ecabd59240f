//! Test helpers: a scripted [`TaskInvoker`] that records every call with its (tokio) time.
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use aviary_asl::{
    ExecutionResult, Executor, ExecutorOptions, StateMachine, TaskFailure, TaskInvoker,
};
use serde_json::Value;

/// One scripted reply of a fake resource.
#[derive(Debug, Clone)]
pub enum Reply {
    /// Return this value.
    Return(Value),
    /// Return the task's input unchanged.
    Echo,
    /// Fail with (error, cause).
    Fail(String, String),
    /// Sleep (on the tokio clock), then reply.
    After(Duration, Box<Reply>),
}

pub fn fail(error: &str) -> Reply {
    Reply::Fail(error.into(), format!("cause of {error}"))
}

#[derive(Debug, Clone)]
pub struct Call {
    pub resource: String,
    pub input: Value,
    pub at: tokio::time::Instant,
}

/// Replies from per-resource queues; when a queue is empty, the resource's fallback
/// (default `Echo`) is used.
#[derive(Default)]
pub struct Scripted {
    queues: Mutex<HashMap<String, VecDeque<Reply>>>,
    fallback: Mutex<HashMap<String, Reply>>,
    calls: Mutex<Vec<Call>>,
}

impl Scripted {
    pub fn new() -> Arc<Scripted> {
        Arc::new(Scripted::default())
    }

    /// Queue replies for successive calls to `resource`.
    pub fn then(&self, resource: &str, replies: impl IntoIterator<Item = Reply>) -> &Self {
        self.queues
            .lock()
            .unwrap()
            .entry(resource.into())
            .or_default()
            .extend(replies);
        self
    }

    /// Reply used once the queue of `resource` is empty.
    pub fn always(&self, resource: &str, reply: Reply) -> &Self {
        self.fallback.lock().unwrap().insert(resource.into(), reply);
        self
    }

    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }

    pub fn calls_to(&self, resource: &str) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| c.resource == resource)
            .collect()
    }

    /// Gaps between successive calls to `resource`.
    pub fn gaps(&self, resource: &str) -> Vec<Duration> {
        self.calls_to(resource)
            .windows(2)
            .map(|w| w[1].at - w[0].at)
            .collect()
    }
}

#[async_trait]
impl TaskInvoker for Scripted {
    async fn invoke(&self, resource: &str, input: Value) -> Result<Value, TaskFailure> {
        self.calls.lock().unwrap().push(Call {
            resource: resource.into(),
            input: input.clone(),
            at: tokio::time::Instant::now(),
        });
        let reply = {
            let queued = self
                .queues
                .lock()
                .unwrap()
                .get_mut(resource)
                .and_then(VecDeque::pop_front);
            queued
                .or_else(|| self.fallback.lock().unwrap().get(resource).cloned())
                .unwrap_or(Reply::Echo)
        };
        let mut reply = reply;
        loop {
            match reply {
                Reply::Return(v) => return Ok(v),
                Reply::Echo => return Ok(input),
                Reply::Fail(e, c) => return Err(TaskFailure::new(e, c)),
                Reply::After(d, next) => {
                    tokio::time::sleep(d).await;
                    reply = *next;
                }
            }
        }
    }
}

/// Parses `definition` (panicking with the error) and runs it once.
pub async fn run_with(
    definition: Value,
    invoker: Arc<Scripted>,
    options: ExecutorOptions,
    input: Value,
) -> ExecutionResult {
    let machine = StateMachine::from_value(&definition)
        .unwrap_or_else(|e| panic!("definition rejected: {e}"));
    let exec = Executor::new(machine, invoker, options).unwrap();
    exec.run("test-exec", input).await
}

pub async fn run(definition: Value, invoker: Arc<Scripted>, input: Value) -> ExecutionResult {
    run_with(
        definition,
        invoker,
        ExecutorOptions::default().with_jitter_seed(1),
        input,
    )
    .await
}

/// Print the history when a test fails, to see what happened.
pub fn dump(r: &ExecutionResult) -> String {
    r.history
        .iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}
