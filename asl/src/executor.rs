//! Running a [`StateMachine`]: the state loop, data flow, Task invocation with Retry/Catch and
//! timeouts, Wait, Choice, and the history.
//!
//! All waiting goes through `tokio::time`, so tests can run under `tokio::time::pause()` and
//! a five-minute backoff costs nothing.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde::Serialize;
use serde_json::{json, Value};

use crate::choice;
use crate::definition::{
    FailState, StateKind, StateMachine, TaskState, Text, Transition, WaitFor, WaitState,
};
use crate::error::StateFailure;
use crate::history::{EventCallback, EventKind, HistoryEvent, Recorder};
use crate::retry::{self, STATES_TIMEOUT};
use crate::{timestamp, AslError};

/// A failed Task invocation. `error` is what `ErrorEquals` matches, exactly (for a Lambda, its
/// `errorType`, e.g. `ProvisionFailed` or `Lambda.ServiceException`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaskFailure {
    pub error: String,
    pub cause: String,
}

impl TaskFailure {
    pub fn new(error: impl Into<String>, cause: impl Into<String>) -> Self {
        TaskFailure {
            error: error.into(),
            cause: cause.into(),
        }
    }
}

impl fmt::Display for TaskFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error, self.cause)
    }
}

impl std::error::Error for TaskFailure {}

/// Runs a Task's `Resource`. `resource` is the Resource string of the (substituted) definition;
/// `input` is the state's input after `InputPath` and `Parameters`.
#[async_trait]
pub trait TaskInvoker: Send + Sync {
    async fn invoke(&self, resource: &str, input: Value) -> Result<Value, TaskFailure>;
}

/// How an execution ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Outcome {
    Succeeded(Value),
    /// `error`/`cause` are empty strings when a Fail state gives none.
    Failed {
        error: String,
        cause: String,
    },
    /// The machine-level `TimeoutSeconds` elapsed.
    TimedOut,
}

/// The outcome plus everything that happened on the way.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExecutionResult {
    pub execution_arn: String,
    pub outcome: Outcome,
    pub history: Vec<HistoryEvent>,
}

impl ExecutionResult {
    /// The output, if the execution succeeded.
    pub fn output(&self) -> Option<&Value> {
        match &self.outcome {
            Outcome::Succeeded(v) => Some(v),
            _ => None,
        }
    }

    pub fn succeeded(&self) -> bool {
        matches!(self.outcome, Outcome::Succeeded(_))
    }

    /// Names of the states entered, in order (with repeats for loops).
    pub fn states_entered(&self) -> Vec<&str> {
        self.history
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::StateEntered { name, .. } => Some(name.as_str()),
                _ => None,
            })
            .collect()
    }

    /// Events of one type, e.g. `events("TaskRetry")`.
    pub fn events(&self, type_name: &str) -> Vec<&EventKind> {
        self.history
            .iter()
            .map(|e| &e.kind)
            .filter(|k| k.type_name() == type_name)
            .collect()
    }
}

/// Executor settings. `Default` gives real-time behaviour.
#[derive(Clone)]
pub struct ExecutorOptions {
    /// Multiplies every Wait duration and every Retry delay (after jitter): `0.01` turns a
    /// 10-second Wait into 100 ms, `0.0` removes waiting altogether. Task `TimeoutSeconds` and
    /// the machine's `TimeoutSeconds` are NOT scaled: they bound real work (the invoker's).
    /// Must be finite and ≥ 0. Default 1.0.
    pub time_scale: f64,
    /// Maximum number of states entered before the execution fails with `States.Runtime`
    /// (a runaway loop guard, like Step Functions' 25,000-event history limit). Default 25,000.
    pub max_transitions: u64,
    /// Used for `$$.StateMachine.Id` / `.Name` and to derive `$$.Execution.Id`.
    pub state_machine_arn: String,
    /// `$$.Execution.StartTime`; default: the system clock when `run` starts. The context
    /// object's later times advance from it on the tokio clock.
    pub start_time: Option<SystemTime>,
    /// Seed for `JitterStrategy: FULL`; default: from entropy.
    pub jitter_seed: Option<u64>,
    /// Called with each history event as it happens (live progress for a CLI).
    pub on_event: Option<EventCallback>,
}

impl Default for ExecutorOptions {
    fn default() -> Self {
        ExecutorOptions {
            time_scale: 1.0,
            max_transitions: 25_000,
            state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:aviary-local"
                .into(),
            start_time: None,
            jitter_seed: None,
            on_event: None,
        }
    }
}

impl fmt::Debug for ExecutorOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExecutorOptions")
            .field("time_scale", &self.time_scale)
            .field("max_transitions", &self.max_transitions)
            .field("state_machine_arn", &self.state_machine_arn)
            .field("start_time", &self.start_time)
            .field("jitter_seed", &self.jitter_seed)
            .field("on_event", &self.on_event.as_ref().map(|_| "Fn"))
            .finish()
    }
}

impl ExecutorOptions {
    pub fn with_time_scale(mut self, time_scale: f64) -> Self {
        self.time_scale = time_scale;
        self
    }
    pub fn with_max_transitions(mut self, max: u64) -> Self {
        self.max_transitions = max;
        self
    }
    pub fn with_state_machine_arn(mut self, arn: impl Into<String>) -> Self {
        self.state_machine_arn = arn.into();
        self
    }
    pub fn with_start_time(mut self, t: SystemTime) -> Self {
        self.start_time = Some(t);
        self
    }
    pub fn with_jitter_seed(mut self, seed: u64) -> Self {
        self.jitter_seed = Some(seed);
        self
    }
    pub fn with_on_event(mut self, f: impl Fn(&HistoryEvent) + Send + Sync + 'static) -> Self {
        self.on_event = Some(Arc::new(f));
        self
    }
}

/// Runs executions of one state machine. Cheap to share: `run` takes `&self`, and concurrent
/// runs are independent.
pub struct Executor {
    machine: StateMachine,
    invoker: Arc<dyn TaskInvoker>,
    options: ExecutorOptions,
    rng: Mutex<StdRng>,
}

impl fmt::Debug for Executor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Executor")
            .field("start_at", &self.machine.start_at)
            .field("options", &self.options)
            .finish()
    }
}

/// What a state hands to the loop.
enum Step {
    Next(String, Value),
    End(Value),
    Fail(StateFailure),
}

impl Step {
    fn from(transition: &Transition, output: Value) -> Step {
        match transition {
            Transition::Next(n) => Step::Next(n.clone(), output),
            Transition::End => Step::End(output),
        }
    }
}

/// Per-execution facts (context object, clocks).
struct Run<'a> {
    rec: &'a Recorder,
    name: &'a str,
    arn: String,
    input: Value,
    start_nanos: i128,
    start_instant: tokio::time::Instant,
}

impl Run<'_> {
    /// Wall-clock "now": the start time advanced by the tokio clock (virtual under pause()).
    fn now_nanos(&self) -> i128 {
        self.start_nanos + self.start_instant.elapsed().as_nanos() as i128
    }
}

/// Visit-local context: the state's name, entry time and retries so far.
struct Visit<'a> {
    name: &'a str,
    entered_nanos: i128,
    retry_count: u64,
}

impl Executor {
    /// Errors: [`AslError::InvalidOption`] for a negative/NaN `time_scale` or zero `max_transitions`.
    pub fn new(
        machine: StateMachine,
        invoker: Arc<dyn TaskInvoker>,
        options: ExecutorOptions,
    ) -> Result<Executor, AslError> {
        if !(options.time_scale.is_finite() && options.time_scale >= 0.0) {
            return Err(AslError::InvalidOption {
                option: "time_scale".into(),
                reason: format!("must be finite and >= 0, got {}", options.time_scale),
            });
        }
        if options.max_transitions == 0 {
            return Err(AslError::InvalidOption {
                option: "max_transitions".into(),
                reason: "must be at least 1".into(),
            });
        }
        let rng = match options.jitter_seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => StdRng::from_entropy(),
        };
        Ok(Executor {
            machine,
            invoker,
            options,
            rng: Mutex::new(rng),
        })
    }

    pub fn machine(&self) -> &StateMachine {
        &self.machine
    }

    pub fn options(&self) -> &ExecutorOptions {
        &self.options
    }

    fn execution_arn(&self, name: &str) -> String {
        let arn = &self.options.state_machine_arn;
        match arn.split_once(":stateMachine:") {
            Some((prefix, machine)) => format!("{prefix}:execution:{machine}:{name}"),
            None => format!("{arn}:{name}"),
        }
    }

    fn machine_name(&self) -> &str {
        let arn = &self.options.state_machine_arn;
        arn.rsplit_once(':').map_or(arn.as_str(), |(_, n)| n)
    }

    /// Runs one execution to its end and returns the outcome with the full history.
    pub async fn run(&self, execution_name: &str, input: Value) -> ExecutionResult {
        let start_instant = tokio::time::Instant::now();
        let start_nanos = self
            .options
            .start_time
            .unwrap_or_else(SystemTime::now)
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as i128);
        let rec = Recorder::new(start_instant, self.options.on_event.clone());
        let run = Run {
            rec: &rec,
            name: execution_name,
            arn: self.execution_arn(execution_name),
            input: input.clone(),
            start_nanos,
            start_instant,
        };
        rec.push(EventKind::ExecutionStarted {
            name: execution_name.to_string(),
            input: input.clone(),
        });
        let outcome = match self.machine.timeout_seconds {
            Some(secs) => {
                match tokio::time::timeout(Duration::from_secs(secs), self.run_states(&run, input))
                    .await
                {
                    Ok(outcome) => outcome,
                    Err(_) => {
                        rec.push(EventKind::ExecutionTimedOut);
                        Outcome::TimedOut
                    }
                }
            }
            None => self.run_states(&run, input).await,
        };
        let execution_arn = run.arn;
        ExecutionResult {
            execution_arn,
            outcome,
            history: rec.into_events(),
        }
    }

    async fn run_states(&self, run: &Run<'_>, input: Value) -> Outcome {
        let mut current = self.machine.start_at.as_str();
        let mut input = input;
        let mut transitions = 0u64;
        loop {
            transitions += 1;
            if transitions > self.options.max_transitions {
                return self.fail(run, StateFailure::runtime(format!(
                    "the execution entered more than {} states (max_transitions); stopped before `{current}`",
                    self.options.max_transitions
                )));
            }
            let state = self.machine.state(current);
            run.rec.push(EventKind::StateEntered {
                name: state.name.clone(),
                state_type: state.kind.type_name().into(),
                input: input.clone(),
            });
            let visit = Visit {
                name: &state.name,
                entered_nanos: run.now_nanos(),
                retry_count: 0,
            };
            let step = match &state.kind {
                StateKind::Task(t) => self.task(run, visit, t, &input).await,
                StateKind::Pass(p) => data_step(|| {
                    let effective = p.input_path.apply(&input, "InputPath")?;
                    let effective = match &p.parameters {
                        Some(t) => t.apply(&effective, &self.context(run, &visit))?,
                        None => effective,
                    };
                    let result = p.result.clone().unwrap_or(effective);
                    let out = p.result_path.apply(&input, result)?;
                    Ok(Step::from(
                        &p.transition,
                        p.output_path.apply(&out, "OutputPath")?,
                    ))
                }),
                StateKind::Wait(w) => self.wait(run, &visit, w, &input).await,
                StateKind::Choice(c) => data_step(|| {
                    let effective = c.input_path.apply(&input, "InputPath")?;
                    let (rule, next) =
                        match choice::choose(&c.choices, &effective, &self.context(run, &visit))? {
                            Some((i, next)) => (Some(i), next),
                            None => match &c.default {
                                Some(d) => (None, d.as_str()),
                                None => {
                                    return Ok(Step::Fail(StateFailure {
                                        error: "States.NoChoiceMatched".into(),
                                        cause: format!(
                                            "No choice rule of `{}` matched and it has no Default",
                                            state.name
                                        ),
                                    }))
                                }
                            },
                        };
                    run.rec.push(EventKind::ChoiceMade {
                        state: state.name.clone(),
                        rule,
                        next: next.to_string(),
                    });
                    Ok(Step::Next(
                        next.to_string(),
                        c.output_path.apply(&effective, "OutputPath")?,
                    ))
                }),
                StateKind::Succeed(s) => data_step(|| {
                    let effective = s.input_path.apply(&input, "InputPath")?;
                    Ok(Step::End(s.output_path.apply(&effective, "OutputPath")?))
                }),
                StateKind::Fail(f) => Step::Fail(self.fail_state(run, &visit, f, &input)),
            };
            match step {
                Step::Next(next, output) => {
                    run.rec.push(EventKind::StateExited {
                        name: state.name.clone(),
                        output: output.clone(),
                    });
                    current = self.machine.state(&next).name.as_str();
                    input = output;
                }
                Step::End(output) => {
                    run.rec.push(EventKind::StateExited {
                        name: state.name.clone(),
                        output: output.clone(),
                    });
                    run.rec.push(EventKind::ExecutionSucceeded {
                        output: output.clone(),
                    });
                    return Outcome::Succeeded(output);
                }
                Step::Fail(failure) => return self.fail(run, failure),
            }
        }
    }

    fn fail(&self, run: &Run<'_>, f: StateFailure) -> Outcome {
        run.rec.push(EventKind::ExecutionFailed {
            error: f.error.clone(),
            cause: f.cause.clone(),
        });
        Outcome::Failed {
            error: f.error,
            cause: f.cause,
        }
    }

    /// The `$$` context object for one moment of a state visit.
    fn context(&self, run: &Run<'_>, visit: &Visit<'_>) -> Value {
        json!({
            "Execution": {
                "Id": run.arn,
                "Input": run.input,
                "Name": run.name,
                "StartTime": timestamp::format_millis(run.start_nanos),
                "RedriveCount": 0,
            },
            "State": {
                "EnteredTime": timestamp::format_millis(visit.entered_nanos),
                "Name": visit.name,
                "RetryCount": visit.retry_count,
            },
            "StateMachine": {
                "Id": self.options.state_machine_arn,
                "Name": self.machine_name(),
            },
        })
    }

    async fn task(
        &self,
        run: &Run<'_>,
        mut visit: Visit<'_>,
        t: &TaskState,
        raw_input: &Value,
    ) -> Step {
        let effective = match t.input_path.apply(raw_input, "InputPath") {
            Ok(v) => v,
            Err(f) => return Step::Fail(f),
        };
        // Attempts made by each retrier during this visit of the state.
        let mut retries_by = vec![0u64; t.retry.len()];
        loop {
            // Parameters are evaluated per attempt, so `$$.State.RetryCount` is current.
            let params = match &t.parameters {
                Some(tpl) => match tpl.apply(&effective, &self.context(run, &visit)) {
                    Ok(v) => v,
                    Err(f) => return Step::Fail(f),
                },
                None => effective.clone(),
            };
            run.rec.push(EventKind::TaskScheduled {
                state: visit.name.to_string(),
                resource: t.resource.clone(),
                input: params.clone(),
                retry: visit.retry_count,
            });
            let call = self.invoker.invoke(&t.resource, params);
            let result = match t.timeout_seconds {
                Some(secs) => tokio::time::timeout(Duration::from_secs(secs), call)
                    .await
                    .unwrap_or_else(|_| {
                        Err(TaskFailure::new(
                            STATES_TIMEOUT,
                            format!("Task did not finish within TimeoutSeconds ({secs} s)"),
                        ))
                    }),
                None => call.await,
            };
            let failure = match result {
                Ok(output) => {
                    run.rec.push(EventKind::TaskSucceeded {
                        state: visit.name.to_string(),
                        output: output.clone(),
                    });
                    return data_step(|| {
                        let selected = match &t.result_selector {
                            Some(tpl) => tpl.apply(&output, &self.context(run, &visit))?,
                            None => output,
                        };
                        let combined = t.result_path.apply(raw_input, selected)?;
                        Ok(Step::from(
                            &t.transition,
                            t.output_path.apply(&combined, "OutputPath")?,
                        ))
                    });
                }
                Err(f) => f,
            };
            run.rec.push(EventKind::TaskFailed {
                state: visit.name.to_string(),
                error: failure.error.clone(),
                cause: failure.cause.clone(),
            });

            // Only the first retrier whose ErrorEquals matches is considered.
            if let Some(i) = t
                .retry
                .iter()
                .position(|r| retry::matches(&r.error_equals, &failure.error))
            {
                let retrier = &t.retry[i];
                if retries_by[i] < retrier.max_attempts {
                    let delay = {
                        let mut rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
                        retrier.delay(retries_by[i], self.options.time_scale, &mut *rng)
                    };
                    retries_by[i] += 1;
                    visit.retry_count += 1;
                    run.rec.push(EventKind::TaskRetry {
                        state: visit.name.to_string(),
                        attempt: visit.retry_count,
                        retrier: i,
                        delay,
                    });
                    tokio::time::sleep(delay).await;
                    continue;
                }
            }
            if let Some(c) = t
                .catch
                .iter()
                .find(|c| retry::matches(&c.error_equals, &failure.error))
            {
                let error_output = json!({"Error": failure.error, "Cause": failure.cause});
                return match c.result_path.apply(raw_input, error_output) {
                    Ok(out) => {
                        run.rec.push(EventKind::CaughtError {
                            state: visit.name.to_string(),
                            error: failure.error,
                            cause: failure.cause,
                            next: c.next.clone(),
                        });
                        Step::Next(c.next.clone(), out)
                    }
                    Err(f) => Step::Fail(f),
                };
            }
            return Step::Fail(StateFailure {
                error: failure.error,
                cause: failure.cause,
            });
        }
    }

    async fn wait(
        &self,
        run: &Run<'_>,
        visit: &Visit<'_>,
        w: &WaitState,
        raw_input: &Value,
    ) -> Step {
        let prepared = (|| -> Result<(f64, Value), StateFailure> {
            let effective = w.input_path.apply(raw_input, "InputPath")?;
            let ctx = || self.context(run, visit);
            let secs = match &w.wait {
                WaitFor::Seconds(s) => *s as f64,
                WaitFor::SecondsPath(p) => {
                    let c = ctx();
                    let v = p.resolve(&effective, &c, "SecondsPath")?;
                    v.as_u64().ok_or_else(|| {
                        StateFailure::runtime(format!(
                            "SecondsPath '{}' must select a non-negative integer, got {v}",
                            p.text
                        ))
                    })? as f64
                }
                WaitFor::Timestamp(t) => until(*t, run.now_nanos()),
                WaitFor::TimestampPath(p) => {
                    let c = ctx();
                    let v = p.resolve(&effective, &c, "TimestampPath")?;
                    let t = v.as_str().and_then(timestamp::parse).ok_or_else(|| {
                        StateFailure::runtime(format!(
                            "TimestampPath '{}' must select an RFC 3339 timestamp, got {v}",
                            p.text
                        ))
                    })?;
                    until(t, run.now_nanos())
                }
            };
            let output = w.output_path.apply(&effective, "OutputPath")?;
            Ok((secs, output))
        })();
        let (secs, output) = match prepared {
            Ok(x) => x,
            Err(f) => return Step::Fail(f),
        };
        let delay = timestamp::scaled_millis(secs, self.options.time_scale);
        run.rec.push(EventKind::WaitStarted {
            state: visit.name.to_string(),
            delay,
        });
        tokio::time::sleep(delay).await;
        Step::from(&w.transition, output)
    }

    fn fail_state(
        &self,
        run: &Run<'_>,
        visit: &Visit<'_>,
        f: &FailState,
        raw_input: &Value,
    ) -> StateFailure {
        let text = |t: &Option<Text>, field: &str| -> Result<String, StateFailure> {
            let v = match t {
                None => return Ok(String::new()),
                Some(Text::Literal(s)) => return Ok(s.clone()),
                Some(Text::Path(p)) => p
                    .resolve(raw_input, &self.context(run, visit), field)?
                    .clone(),
                Some(Text::Call(c)) => c.eval(raw_input, &self.context(run, visit), field)?,
            };
            match v {
                Value::String(s) => Ok(s),
                other => Err(StateFailure::runtime(format!(
                    "{field} must select a string, got {other}"
                ))),
            }
        };
        match (text(&f.error, "ErrorPath"), text(&f.cause, "CausePath")) {
            (Ok(error), Ok(cause)) => StateFailure { error, cause },
            (Err(e), _) | (_, Err(e)) => e,
        }
    }
}

/// Seconds from `now` until `target` (both Unix nanoseconds), never negative.
fn until(target: i128, now: i128) -> f64 {
    ((target - now).max(0) as f64) / 1e9
}

/// Runs a synchronous data-flow step, turning its failure into the execution's failure.
fn data_step(f: impl FnOnce() -> Result<Step, StateFailure>) -> Step {
    f().unwrap_or_else(Step::Fail)
}
