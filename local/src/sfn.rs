//! A local Step Functions endpoint: the subset of the AWS JSON protocol the handlers and the
//! CLI use (StartExecution, DescribeExecution, ListExecutions), serving the project's real
//! `statemachines/*.asl.json` with the in-process executor. Handlers reach it exactly as they
//! reach Step Functions on AWS — through the SDK — with only the endpoint changed.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use aviary_asl::{EventCallback, ExecutionResult, Executor, ExecutorOptions, Outcome, StateMachine, TaskInvoker};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};

use crate::invoker::{substitutions, LOCAL_ACCOUNT, LOCAL_REGION};

#[derive(Debug, thiserror::Error)]
pub enum SfnError {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("state machine {path} is not runnable: {source}")]
    Definition { path: String, source: aviary_asl::AslError },
    #[error("cannot bind the local Step Functions endpoint: {0}")]
    Bind(std::io::Error),
}

#[derive(Clone, Debug)]
pub struct ExecutionInfo {
    pub arn: String,
    pub state_machine_arn: String,
    pub name: String,
    pub input: String,
    pub status: &'static str,
    pub start: f64,
    pub stop: Option<f64>,
    pub output: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
}

struct Inner {
    machines: HashMap<String, Arc<StateMachine>>,
    executions: Mutex<HashMap<String, ExecutionInfo>>,
    invoker: Arc<dyn TaskInvoker>,
    time_scale: f64,
    on_event: Option<EventCallback>,
    handles: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

/// The running endpoint.
#[derive(Clone)]
pub struct LocalStepFunctions {
    inner: Arc<Inner>,
    pub url: String,
}

pub fn state_machine_arn(name: &str) -> String {
    format!("arn:aws:states:{LOCAL_REGION}:{LOCAL_ACCOUNT}:stateMachine:aviary-{name}")
}

fn now() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

impl LocalStepFunctions {
    /// Loads `deploy.asl.json` and `teardown.asl.json` from `statemachines/` (with the local
    /// substitutions) and serves them on a free loopback port.
    pub async fn start(
        root: &Path,
        invoker: Arc<dyn TaskInvoker>,
        time_scale: f64,
        on_event: Option<EventCallback>,
    ) -> Result<LocalStepFunctions, SfnError> {
        let mut machines = HashMap::new();
        for name in ["deploy", "teardown"] {
            let path = root.join("statemachines").join(format!("{name}.asl.json"));
            let text = std::fs::read_to_string(&path).map_err(|source| SfnError::Read { path: path.display().to_string(), source })?;
            let machine = StateMachine::from_template(&text, &substitutions())
                .map_err(|source| SfnError::Definition { path: path.display().to_string(), source })?;
            machines.insert(state_machine_arn(name), Arc::new(machine));
        }
        let inner = Arc::new(Inner {
            machines,
            executions: Mutex::new(HashMap::new()),
            invoker,
            time_scale,
            on_event,
            handles: Mutex::new(Vec::new()),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(SfnError::Bind)?;
        let url = format!("http://{}", listener.local_addr().map_err(SfnError::Bind)?);
        let app = Router::new().route("/", post(handle)).with_state(inner.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(LocalStepFunctions { inner, url })
    }

    pub fn execution(&self, arn: &str) -> Option<ExecutionInfo> {
        self.inner.executions.lock().expect("executions lock").get(arn).cloned()
    }

    pub fn executions(&self) -> Vec<ExecutionInfo> {
        let mut v: Vec<_> = self.inner.executions.lock().expect("executions lock").values().cloned().collect();
        v.sort_by(|a, b| a.start.total_cmp(&b.start));
        v
    }

    /// Waits for every execution started so far (and any they lead to) to finish.
    pub async fn wait_idle(&self) {
        loop {
            let handles: Vec<_> = std::mem::take(&mut *self.inner.handles.lock().expect("handles lock"));
            if handles.is_empty() {
                return;
            }
            for h in handles {
                let _ = h.await;
            }
        }
    }
}

fn error(status: StatusCode, kind: &str, message: impl Into<String>) -> Response {
    (status, [("content-type", "application/x-amz-json-1.0")], json!({"__type": kind, "message": message.into()}).to_string())
        .into_response()
}

fn ok(body: Value) -> Response {
    (StatusCode::OK, [("content-type", "application/x-amz-json-1.0")], body.to_string()).into_response()
}

async fn handle(State(inner): State<Arc<Inner>>, headers: HeaderMap, body: Bytes) -> Response {
    let target = headers.get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or("");
    let req: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return error(StatusCode::BAD_REQUEST, "SerializationException", e.to_string()),
    };
    match target.strip_prefix("AWSStepFunctions.") {
        Some("StartExecution") => start_execution(&inner, &req),
        Some("DescribeExecution") => describe_execution(&inner, &req),
        Some("ListExecutions") => list_executions(&inner, &req),
        _ => error(StatusCode::BAD_REQUEST, "UnknownOperationException", format!("{target} is not supported locally")),
    }
}

fn start_execution(inner: &Arc<Inner>, req: &Value) -> Response {
    let sm_arn = req["stateMachineArn"].as_str().unwrap_or_default().to_string();
    let Some(machine) = inner.machines.get(&sm_arn).cloned() else {
        return error(StatusCode::BAD_REQUEST, "StateMachineDoesNotExist", format!("State Machine Does Not Exist: '{sm_arn}'"));
    };
    let Some(name) = req["name"].as_str().map(str::to_string) else {
        return error(StatusCode::BAD_REQUEST, "ValidationException", "name is required locally (Aviary always names executions)");
    };
    let input = req["input"].as_str().unwrap_or("{}").to_string();
    let Ok(input_value) = serde_json::from_str::<Value>(&input) else {
        return error(StatusCode::BAD_REQUEST, "InvalidExecutionInput", "input is not JSON");
    };
    let arn = format!("{}:{name}", sm_arn.replacen(":stateMachine:", ":execution:", 1));
    {
        let mut execs = inner.executions.lock().expect("executions lock");
        if let Some(existing) = execs.get(&arn) {
            // Step Functions: same name and input while running returns the same execution.
            return if existing.status == "RUNNING" && existing.input == input {
                ok(json!({"executionArn": arn, "startDate": existing.start}))
            } else {
                error(StatusCode::BAD_REQUEST, "ExecutionAlreadyExists", format!("Execution Already Exists: '{arn}'"))
            };
        }
        execs.insert(
            arn.clone(),
            ExecutionInfo {
                arn: arn.clone(),
                state_machine_arn: sm_arn.clone(),
                name: name.clone(),
                input: input.clone(),
                status: "RUNNING",
                start: now(),
                stop: None,
                output: None,
                error: None,
                cause: None,
            },
        );
    }
    let mut options = ExecutorOptions { time_scale: inner.time_scale, state_machine_arn: sm_arn.clone(), ..Default::default() };
    options.on_event = inner.on_event.clone();
    let executor = match Executor::new((*machine).clone(), inner.invoker.clone(), options) {
        Ok(e) => e,
        Err(e) => return error(StatusCode::BAD_REQUEST, "InvalidDefinition", e.to_string()),
    };
    let task_inner = inner.clone();
    let task_arn = arn.clone();
    let handle = tokio::spawn(async move {
        let result: ExecutionResult = executor.run(&name, input_value).await;
        let mut execs = task_inner.executions.lock().expect("executions lock");
        if let Some(e) = execs.get_mut(&task_arn) {
            e.stop = Some(now());
            match result.outcome {
                Outcome::Succeeded(out) => {
                    e.status = "SUCCEEDED";
                    e.output = Some(out.to_string());
                }
                Outcome::Failed { error, cause } => {
                    e.status = "FAILED";
                    e.error = Some(error);
                    e.cause = Some(cause);
                }
                Outcome::TimedOut => e.status = "TIMED_OUT",
            }
        }
    });
    inner.handles.lock().expect("handles lock").push(handle);
    ok(json!({"executionArn": arn, "startDate": now()}))
}

fn describe(e: &ExecutionInfo) -> Value {
    let mut v = json!({
        "executionArn": e.arn, "stateMachineArn": e.state_machine_arn, "name": e.name,
        "status": e.status, "startDate": e.start, "input": e.input,
    });
    if let Some(s) = e.stop {
        v["stopDate"] = json!(s);
    }
    if let Some(o) = &e.output {
        v["output"] = json!(o);
    }
    if let Some(er) = &e.error {
        v["error"] = json!(er);
    }
    if let Some(c) = &e.cause {
        v["cause"] = json!(c);
    }
    v
}

fn describe_execution(inner: &Arc<Inner>, req: &Value) -> Response {
    let arn = req["executionArn"].as_str().unwrap_or_default();
    match inner.executions.lock().expect("executions lock").get(arn) {
        Some(e) => ok(describe(e)),
        None => error(StatusCode::BAD_REQUEST, "ExecutionDoesNotExist", format!("Execution Does Not Exist: '{arn}'")),
    }
}

fn list_executions(inner: &Arc<Inner>, req: &Value) -> Response {
    let sm = req["stateMachineArn"].as_str().unwrap_or_default();
    let filter = req["statusFilter"].as_str();
    let execs = inner.executions.lock().expect("executions lock");
    let items: Vec<Value> = execs
        .values()
        .filter(|e| e.state_machine_arn == sm && filter.is_none_or(|f| f == e.status))
        .map(|e| json!({"executionArn": e.arn, "stateMachineArn": e.state_machine_arn, "name": e.name, "status": e.status, "startDate": e.start}))
        .collect();
    ok(json!({ "executions": items }))
}
