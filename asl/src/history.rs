//! Execution history: what happened, in order, for printing (CLI) and asserting (tests).
//!
//! Shaped after Step Functions' own history (state entered/exited, task scheduled/succeeded/
//! failed, ...) but flattened to what a reader needs. Events serialise to JSON with a `type` tag.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

/// One entry of an execution's history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryEvent {
    /// 1-based, in order of occurrence.
    pub id: u64,
    /// Time since the execution started, on the tokio clock (so paused-time tests see virtual time).
    #[serde(rename = "elapsed_ms", serialize_with = "as_millis")]
    pub elapsed: Duration,
    #[serde(flatten)]
    pub kind: EventKind,
}

fn as_millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64() * 1000.0)
}

fn as_secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// What happened. `state` is always the name of the state concerned.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type")]
pub enum EventKind {
    ExecutionStarted {
        name: String,
        input: Value,
    },
    /// A state was entered with this (raw) input.
    StateEntered {
        name: String,
        state_type: String,
        input: Value,
    },
    /// A Task is about to invoke its resource with `input` (after InputPath and Parameters).
    /// `retry` is 0 for the first attempt, then the retry number.
    TaskScheduled {
        state: String,
        resource: String,
        input: Value,
        retry: u64,
    },
    /// The resource returned `output` (before ResultSelector/ResultPath/OutputPath).
    TaskSucceeded {
        state: String,
        output: Value,
    },
    TaskFailed {
        state: String,
        error: String,
        cause: String,
    },
    /// A retrier matched; the task runs again after `delay` (already jittered and time-scaled).
    /// `attempt` counts retries of this state visit (1 for the first retry); `retrier` is the
    /// index of the matching entry of `Retry`.
    TaskRetry {
        state: String,
        attempt: u64,
        retrier: usize,
        #[serde(rename = "delay_secs", serialize_with = "as_secs")]
        delay: Duration,
    },
    /// A catcher matched: the execution continues at `next`.
    CaughtError {
        state: String,
        error: String,
        cause: String,
        next: String,
    },
    /// A Choice state picked `next` (`rule` is the index in `Choices`, `None` for `Default`).
    ChoiceMade {
        state: String,
        rule: Option<usize>,
        next: String,
    },
    /// A Wait state sleeps for `delay` (already time-scaled).
    WaitStarted {
        state: String,
        #[serde(rename = "delay_secs", serialize_with = "as_secs")]
        delay: Duration,
    },
    StateExited {
        name: String,
        output: Value,
    },
    ExecutionSucceeded {
        output: Value,
    },
    ExecutionFailed {
        error: String,
        cause: String,
    },
    ExecutionTimedOut,
}

impl EventKind {
    /// The variant's name, e.g. `"TaskRetry"`.
    pub fn type_name(&self) -> &'static str {
        match self {
            EventKind::ExecutionStarted { .. } => "ExecutionStarted",
            EventKind::StateEntered { .. } => "StateEntered",
            EventKind::TaskScheduled { .. } => "TaskScheduled",
            EventKind::TaskSucceeded { .. } => "TaskSucceeded",
            EventKind::TaskFailed { .. } => "TaskFailed",
            EventKind::TaskRetry { .. } => "TaskRetry",
            EventKind::CaughtError { .. } => "CaughtError",
            EventKind::ChoiceMade { .. } => "ChoiceMade",
            EventKind::WaitStarted { .. } => "WaitStarted",
            EventKind::StateExited { .. } => "StateExited",
            EventKind::ExecutionSucceeded { .. } => "ExecutionSucceeded",
            EventKind::ExecutionFailed { .. } => "ExecutionFailed",
            EventKind::ExecutionTimedOut => "ExecutionTimedOut",
        }
    }
}

/// JSON text of `v`, cut to about `max` bytes (for causes and one-line displays).
pub(crate) fn truncate_json(v: &Value, max: usize) -> String {
    let mut s = v.to_string();
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push('…');
    }
    s
}

/// One line per event, e.g. `#4 +0.012s TaskFailed Provision: ProvisionFailed (no capacity)`.
impl fmt::Display for HistoryEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "#{} +{:.3}s {} ",
            self.id,
            self.elapsed.as_secs_f64(),
            self.kind.type_name()
        )?;
        const MAX: usize = 200;
        match &self.kind {
            EventKind::ExecutionStarted { name, input } => {
                write!(f, "{name} input={}", truncate_json(input, MAX))
            }
            EventKind::StateEntered {
                name,
                state_type,
                input,
            } => write!(
                f,
                "{name} ({state_type}) input={}",
                truncate_json(input, MAX)
            ),
            EventKind::TaskScheduled {
                state,
                resource,
                input,
                retry,
            } => {
                write!(f, "{state} -> {resource}")?;
                if *retry > 0 {
                    write!(f, " (retry {retry})")?;
                }
                write!(f, " input={}", truncate_json(input, MAX))
            }
            EventKind::TaskSucceeded { state, output } => {
                write!(f, "{state} output={}", truncate_json(output, MAX))
            }
            EventKind::TaskFailed {
                state,
                error,
                cause,
            } => write!(f, "{state}: {error} ({cause})"),
            EventKind::TaskRetry {
                state,
                attempt,
                retrier,
                delay,
            } => {
                write!(
                    f,
                    "{state}: retry {attempt} by Retry[{retrier}] in {:.3}s",
                    delay.as_secs_f64()
                )
            }
            EventKind::CaughtError {
                state, error, next, ..
            } => write!(f, "{state}: {error} -> {next}"),
            EventKind::ChoiceMade { state, rule, next } => match rule {
                Some(i) => write!(f, "{state}: Choices[{i}] -> {next}"),
                None => write!(f, "{state}: Default -> {next}"),
            },
            EventKind::WaitStarted { state, delay } => {
                write!(f, "{state}: {:.3}s", delay.as_secs_f64())
            }
            EventKind::StateExited { name, output } => {
                write!(f, "{name} output={}", truncate_json(output, MAX))
            }
            EventKind::ExecutionSucceeded { output } => {
                write!(f, "output={}", truncate_json(output, MAX))
            }
            EventKind::ExecutionFailed { error, cause } => write!(f, "{error}: {cause}"),
            EventKind::ExecutionTimedOut => Ok(()),
        }
    }
}

/// Called synchronously for each event as it is recorded (e.g. a CLI printing progress).
/// Keep it quick; to hand events to another task, send them on a channel from here.
pub type EventCallback = Arc<dyn Fn(&HistoryEvent) + Send + Sync>;

/// Collects one execution's events. Kept outside the running future so the events recorded
/// before a machine-level timeout survive the future being dropped.
pub(crate) struct Recorder {
    events: Mutex<Vec<HistoryEvent>>,
    start: tokio::time::Instant,
    callback: Option<EventCallback>,
}

impl Recorder {
    pub(crate) fn new(start: tokio::time::Instant, callback: Option<EventCallback>) -> Self {
        Recorder {
            events: Mutex::new(Vec::new()),
            start,
            callback,
        }
    }

    pub(crate) fn push(&self, kind: EventKind) {
        let event = {
            let mut events = self.events.lock().unwrap_or_else(|p| p.into_inner());
            let event = HistoryEvent {
                id: events.len() as u64 + 1,
                elapsed: self.start.elapsed(),
                kind,
            };
            events.push(event.clone());
            event
        };
        tracing::debug!(target: "aviary_asl", "{event}");
        if let Some(cb) = &self.callback {
            cb(&event);
        }
    }

    pub(crate) fn into_events(self) -> Vec<HistoryEvent> {
        self.events.into_inner().unwrap_or_else(|p| p.into_inner())
    }
}
