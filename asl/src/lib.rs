//! An in-process executor for the subset of the Amazon States Language (ASL) that Aviary's
//! workflows use, so local runs and integration tests execute the very same
//! `statemachines/*.asl.json` files that are deployed to Step Functions, with Task resources
//! served by a [`TaskInvoker`] of the caller's choosing.
//!
//! ```no_run
//! # use std::{collections::HashMap, sync::Arc};
//! # use aviary_asl::*;
//! # async fn demo(invoker: Arc<dyn TaskInvoker>, text: &str, vars: HashMap<String, String>) -> Result<(), AslError> {
//! let machine = StateMachine::from_template(text, &vars)?; // DefinitionSubstitutions + validation
//! let options = ExecutorOptions::default()
//!     .with_time_scale(0.01) // a 10 s Wait lasts 100 ms
//!     .with_on_event(|e| println!("{e}"));
//! let executor = Executor::new(machine, invoker, options)?;
//! let result = executor.run("deploy-1", serde_json::json!({"canaryId": "c1"})).await;
//! match &result.outcome {
//!     Outcome::Succeeded(out) => println!("ok: {out}"),
//!     Outcome::Failed { error, cause } => println!("failed: {error}: {cause}"),
//!     Outcome::TimedOut => println!("timed out"),
//! }
//! # Ok(()) }
//! ```
//!
//! # Supported
//! - States: Task, Pass, Wait, Choice, Succeed, Fail. (Parallel and Map are rejected.)
//! - Data flow: InputPath, Parameters, ResultSelector, ResultPath (incl. `null` and creation of
//!   nested objects), OutputPath; payload templates with `.$` keys, `$$` context object
//!   (`Execution.{Id,Input,Name,StartTime,RedriveCount}`, `State.{EnteredTime,Name,RetryCount}`,
//!   `StateMachine.{Id,Name}`), intrinsic functions `States.Format`, `States.StringToJson`,
//!   `States.JsonToString`, `States.Array`, `States.ArrayLength`, `States.ArrayGetItem`,
//!   `States.MathAdd` (others are refused at load).
//! - Paths: `$`, `$$`, `.field`, `['field']`, `[index]`; no wildcards, filters or slices.
//! - Task: Retry (ErrorEquals, IntervalSeconds, MaxAttempts, BackoffRate, MaxDelaySeconds,
//!   JitterStrategy), Catch (ErrorEquals, Next, ResultPath), TimeoutSeconds → `States.Timeout`;
//!   HeartbeatSeconds is accepted and ignored.
//! - Machine-level TimeoutSeconds → [`Outcome::TimedOut`].
//!
//! Anything else is refused by [`StateMachine::from_value`] with [`AslError::Unsupported`].
//!
//! # Errors at run time
//! Data-flow failures (a path selecting nothing, an intrinsic function failing, a ResultPath that
//! cannot be applied) fail the execution with `States.Runtime`, which no retrier or catcher
//! matches — not even `States.ALL` — as in Step Functions.
//!
//! # Time
//! Every Wait and Retry delay is multiplied by [`ExecutorOptions::time_scale`] (default 1.0).
//! Task and machine `TimeoutSeconds` are not scaled. All sleeping uses `tokio::time`, so tests
//! can use `tokio::time::pause()` and observe exact virtual delays.

mod choice;
mod definition;
mod error;
mod executor;
mod history;
mod intrinsics;
mod paths;
mod retry;
mod substitute;
mod template;
mod timestamp;

pub use definition::StateMachine;
pub use error::{AslError, STATES_RUNTIME};
pub use executor::{ExecutionResult, Executor, ExecutorOptions, Outcome, TaskFailure, TaskInvoker};
pub use history::{EventCallback, EventKind, HistoryEvent};
pub use substitute::{placeholder_names, substitute};
