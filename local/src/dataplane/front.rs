//! The emulated load balancer's front: an HTTP server on a loopback port that routes every
//! request by the listener's rules as stored in the emulator (read again every 250 ms, so a
//! traffic change or a teardown takes effect on the next requests), to `aviary-sample-app`
//! processes that stand in for the emulated instances.
//!
//! * **Instances → processes.** Every instance registered in a target group the listener forwards
//!   to gets one process on a free loopback port, with its role from the instance's
//!   `aviary:role` tag (`production` without one); the canary's gets the chosen [`Fault`]. A
//!   process whose instance left every group is stopped.
//! * **Control and data apart.** Refreshes, process starts, health checks and metric uploads
//!   run on a thread of their own, so the thread serving requests only routes them.
//! * **Health.** Each process is checked at `/health` (1 s timeout) on every refresh; only
//!   healthy targets get requests, and [`DataPlane`] is a [`TargetHealthSource`], so the
//!   workflow's `check-health` sees these results instead of the emulator's "always healthy".
//! * **Counts.** Requests, 5xx answers and latency per target group, for the demo and the tests;
//!   every answer carries `x-aviary-target-group: <name>`.
//! * **Metrics.** With a CloudWatch client ([`MetricsSink`]), each closed period's counts go to
//!   CloudWatch in the shapes the ALB publishes (`AWS/ApplicationELB`, dimensions `LoadBalancer`
//!   and `TargetGroup`: `RequestCount` and `HTTPCode_Target_5XX_Count` sums, `TargetResponseTime`
//!   in seconds), so the judge and the live verdict read local traffic through the same code as
//!   on AWS.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use aviary_core::steps::{GroupHealth, TargetState};
use aviary_core::StepError;
use aviary_ports::TargetHealthSource;
use aws_sdk_elasticloadbalancingv2::types::{ActionTypeEnum, Rule as SdkRule, RuleCondition};
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use tokio::process::{Child, Command};

use crate::dataplane::choose::{choose_group, group_name, Dice};
use crate::dataplane::matcher::{parse_query, select, Condition, Forward, RequestFacts, Rule};

/// What the canary's process does wrong.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fault {
    None,
    /// Every `/` answer's work takes this many percent longer.
    Slower(u64),
    /// This share of answers are 500s.
    Errors(f64),
    /// Its `/health` answers 503: it never passes the load balancer's health check.
    Unhealthy,
}

impl Fault {
    /// `latency` (30% slower), `errors` (5%), `unhealthy`, `none`.
    pub fn parse(s: &str) -> Result<Fault, String> {
        match s {
            "none" => Ok(Fault::None),
            "latency" => Ok(Fault::Slower(30)),
            "errors" => Ok(Fault::Errors(0.05)),
            "unhealthy" => Ok(Fault::Unhealthy),
            other => Err(format!("unknown fault '{other}': latency, errors, unhealthy or none")),
        }
    }

    fn args(&self) -> Vec<String> {
        match self {
            Fault::None => vec![],
            Fault::Slower(percent) => vec!["--slowdown-percent".into(), percent.to_string()],
            Fault::Errors(rate) => vec!["--error-rate".into(), rate.to_string()],
            Fault::Unhealthy => vec!["--health-status".into(), "503".into()],
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupStats {
    pub requests: u64,
    pub errors_5xx: u64,
    pub latency_ms_sum: f64,
}

struct Process {
    port: u16,
    role: String,
    healthy: Option<bool>,
    _child: Child,
}

/// Where closed periods' metrics go, and how long a period is.
#[derive(Clone)]
pub struct MetricsSink {
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub period_seconds: u32,
}

/// One target group's requests in one period.
#[derive(Debug, Clone, Copy, Default)]
struct PeriodAgg {
    requests: u64,
    errors_5xx: u64,
    latency_s_sum: f64,
}

struct Shared {
    listener_arn: String,
    sink: Option<MetricsSink>,
    /// (target group ARN, period start) → counts, until published.
    periods: Mutex<HashMap<(String, i64), PeriodAgg>>,
    elb: aws_sdk_elasticloadbalancingv2::Client,
    ec2: aws_sdk_ec2::Client,
    sample_app: SampleApp,
    canary_fault: Fault,
    rules: RwLock<Vec<Rule>>,
    /// Target group → its registered instance ids.
    members: RwLock<HashMap<String, Vec<String>>>,
    processes: Mutex<HashMap<String, Process>>,
    stats: Mutex<HashMap<String, GroupStats>>,
    dice: Mutex<Dice>,
    turn: std::sync::atomic::AtomicUsize,
    http: reqwest::Client,
}

/// A running front; stopped (with its processes) on drop.
pub struct DataPlane {
    /// `http://127.0.0.1:<port>`
    pub url: String,
    shared: Arc<Shared>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    /// The control thread's runtime: every refresh runs there.
    control: tokio::runtime::Handle,
    /// Dropping it ends the control thread (and its runtime's tasks).
    _control: tokio::sync::oneshot::Sender<()>,
}

impl Drop for DataPlane {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Niceness 10 for the calling thread: on a busy core the thread serving requests goes first.
#[cfg(target_os = "linux")]
fn lower_priority() {
    // SAFETY: gettid and setpriority take and return plain integers; on Linux, PRIO_PROCESS with
    // a thread id sets that thread's niceness only. A failure leaves the priority as it was.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, 10);
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {}

/// The control plane's own thread and runtime: re-reading the rules, starting processes, health
/// checks and publishing metrics never run on the thread that serves requests (measured: a
/// refresh every 250 ms on the serving thread added ~1.5 ms to the front's p99). Returns the
/// runtime's handle and the sender whose drop stops it.
fn control_thread() -> std::io::Result<(tokio::runtime::Handle, tokio::sync::oneshot::Sender<()>)> {
    let (handle_tx, handle_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    std::thread::Builder::new().name("aviary-dataplane-control".into()).spawn(move || {
        lower_priority();
        let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
            Ok(rt) => rt,
            Err(e) => {
                let _ = handle_tx.send(Err(e));
                return;
            }
        };
        let _ = handle_tx.send(Ok(rt.handle().clone()));
        // Until the data plane is dropped (the sender with it).
        rt.block_on(async {
            let _ = stop_rx.await;
        });
    })?;
    let handle = handle_rx.recv().map_err(|_| std::io::Error::other("the data plane's control thread did not start"))??;
    Ok((handle, stop_tx))
}

#[derive(Debug, thiserror::Error)]
pub enum DataPlaneError {
    #[error("the sample app is not built at {0}: run `cargo build -p aviary-sample-app` (scripts/demo.sh does)")]
    NoSampleApp(PathBuf),
    #[error("cannot start the data plane: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot read the listener's rules: {0}")]
    Rules(String),
}

/// The program that stands in for every instance, and how much work its `/` does.
#[derive(Debug, Clone)]
pub struct SampleApp {
    pub path: PathBuf,
    /// Milliseconds of simulated work per `/` request (±25%), so that a slower canary is slower
    /// by a share of something, as a real service's would be.
    pub work_ms: u64,
}

/// The demo's and `local up`'s simulated work per request.
pub const DEFAULT_WORK_MS: u64 = 20;

impl SampleApp {
    /// The built `aviary-sample-app` ([`sample_app_path`]) with [`DEFAULT_WORK_MS`].
    pub fn built() -> SampleApp {
        SampleApp { path: sample_app_path(), work_ms: DEFAULT_WORK_MS }
    }

    pub fn with_work_ms(self, work_ms: u64) -> SampleApp {
        SampleApp { work_ms, ..self }
    }
}

/// `aviary-sample-app` next to the running binary (target/<profile>/), or `$AVIARY_SAMPLE_APP`.
pub fn sample_app_path() -> PathBuf {
    if let Ok(p) = std::env::var("AVIARY_SAMPLE_APP") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().unwrap_or_default();
    let dir = exe.parent().map(|d| d.to_path_buf()).unwrap_or_default();
    // Test binaries live in target/<profile>/deps, examples in target/<profile>/examples.
    let dir = if dir.ends_with("deps") || dir.ends_with("examples") { dir.parent().map(|d| d.to_path_buf()).unwrap_or(dir) } else { dir };
    dir.join("aviary-sample-app")
}

impl DataPlane {
    /// Starts the front for `listener_arn` and waits until it has read the rules once.
    pub async fn start(
        config: &aws_config::SdkConfig,
        listener_arn: &str,
        sample_app: SampleApp,
        canary_fault: Fault,
        sink: Option<MetricsSink>,
    ) -> Result<DataPlane, DataPlaneError> {
        if !sample_app.path.is_file() {
            return Err(DataPlaneError::NoSampleApp(sample_app.path));
        }
        let shared = Arc::new(Shared {
            listener_arn: listener_arn.to_string(),
            sink,
            periods: Mutex::default(),
            elb: aws_sdk_elasticloadbalancingv2::Client::new(config),
            ec2: aws_sdk_ec2::Client::new(config),
            sample_app,
            canary_fault,
            rules: RwLock::default(),
            members: RwLock::default(),
            processes: Mutex::default(),
            stats: Mutex::default(),
            dice: Mutex::new(Dice::new(0x5eed)),
            turn: Default::default(),
            http: reqwest::Client::builder().pool_max_idle_per_host(64).timeout(Duration::from_secs(10)).build().map_err(|e| std::io::Error::other(e.to_string()))?,
        });
        let (control, stop_control) = control_thread()?;
        // The first read (and the processes it starts) on the control runtime too.
        let first = {
            let shared = shared.clone();
            control.spawn(async move { refresh(&shared).await })
        };
        first.await.map_err(|e| DataPlaneError::Rules(e.to_string()))?.map_err(DataPlaneError::Rules)?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let app = axum::Router::new().fallback(route).with_state(shared.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await;
        });
        let refresher = {
            let shared = shared.clone();
            control.spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_millis(250)).await;
                    if let Err(e) = refresh(&shared).await {
                        tracing::warn!("data plane refresh: {e}");
                    }
                }
            })
        };
        let mut tasks = vec![server, refresher];
        if let Some(sink) = shared.sink.clone() {
            let shared = shared.clone();
            tasks.push(control.spawn(async move {
                let every = Duration::from_millis(u64::from(sink.period_seconds) * 500);
                loop {
                    tokio::time::sleep(every).await;
                    if let Err(e) = publish(&shared, &sink, false).await {
                        tracing::warn!("data plane metrics: {e}");
                    }
                }
            }));
        }
        Ok(DataPlane { url, shared, tasks, control, _control: stop_control })
    }

    /// Requests, 5xx and latency per target group name since the start.
    pub fn stats(&self) -> HashMap<String, GroupStats> {
        self.shared.stats.lock().expect("stats lock").clone()
    }

    /// Processes by instance id: (role, port, healthy?).
    pub fn processes(&self) -> Vec<(String, String, u16, Option<bool>)> {
        let p = self.shared.processes.lock().expect("processes lock");
        let mut v: Vec<_> = p.iter().map(|(id, p)| (id.clone(), p.role.clone(), p.port, p.healthy)).collect();
        v.sort();
        v
    }

    /// The processes' operating-system ids (the front benchmark pins them to another core).
    pub fn process_ids(&self) -> Vec<u32> {
        self.shared.processes.lock().expect("processes lock").values().filter_map(|p| p._child.id()).collect()
    }

    /// Publishes every period's metrics now, the current one too (before a final verdict).
    pub async fn flush_metrics(&self) -> Result<(), String> {
        match &self.shared.sink {
            Some(sink) => publish(&self.shared, sink, true).await,
            None => Ok(()),
        }
    }

    /// Reads the rules, members and health now (instead of within 250 ms).
    pub async fn refresh_now(&self) -> Result<(), String> {
        let shared = self.shared.clone();
        self.control.spawn(async move { refresh(&shared).await }).await.map_err(|e| e.to_string())?
    }
}

#[async_trait]
impl TargetHealthSource for DataPlane {
    async fn target_health(&self, target_group_arn: &str) -> Result<GroupHealth, StepError> {
        // The group may be newer than the last refresh: read its members now.
        self.refresh_now().await.map_err(|e| StepError::aws("DescribeTargetHealth", true, e))?;
        let members = self.shared.members.read().expect("members lock").get(target_group_arn).cloned().unwrap_or_default();
        let procs = self.shared.processes.lock().expect("processes lock");
        let targets = members
            .into_iter()
            .map(|id| {
                let (state, reason) = match procs.get(&id).and_then(|p| p.healthy) {
                    Some(true) => ("healthy", None),
                    Some(false) => ("unhealthy", Some("Target.FailedHealthChecks".to_string())),
                    None => ("initial", Some("Elb.RegistrationInProgress".to_string())),
                };
                TargetState { target_id: id, state: state.into(), reason }
            })
            .collect();
        Ok(GroupHealth { target_group_arn: target_group_arn.to_string(), targets })
    }
}

fn values(c: &RuleCondition) -> Vec<String> {
    c.values().to_vec()
}

/// An SDK rule as the matcher reads it.
pub fn from_sdk(r: &SdkRule) -> Rule {
    let priority = r.priority().and_then(|p| p.parse::<u32>().ok());
    let conditions = r
        .conditions()
        .iter()
        .filter_map(|c| {
            Some(match c.field()? {
                "path-pattern" => Condition::PathPattern(c.path_pattern_config().map(|p| p.values().to_vec()).unwrap_or_else(|| values(c))),
                "host-header" => Condition::HostHeader(c.host_header_config().map(|p| p.values().to_vec()).unwrap_or_else(|| values(c))),
                "http-request-method" => Condition::HttpRequestMethod(c.http_request_method_config().map(|p| p.values().to_vec()).unwrap_or_default()),
                "source-ip" => Condition::SourceIp(c.source_ip_config().map(|p| p.values().to_vec()).unwrap_or_default()),
                "http-header" => {
                    let h = c.http_header_config()?;
                    Condition::HttpHeader { name: h.http_header_name().unwrap_or_default().to_string(), values: h.values().to_vec() }
                }
                "query-string" => Condition::QueryString(
                    c.query_string_config()
                        .map(|q| q.values().iter().map(|kv| (kv.key().map(str::to_string), kv.value().unwrap_or_default().to_string())).collect())
                        .unwrap_or_default(),
                ),
                // A condition this data plane does not know must not match by accident.
                _ => Condition::PathPattern(vec![]),
            })
        })
        .collect();
    let forward = r.actions().iter().find(|a| a.r#type() == Some(&ActionTypeEnum::Forward)).map(|a| {
        let mut groups: Vec<(String, u32)> = a
            .forward_config()
            .map(|f| f.target_groups().iter().filter_map(|t| Some((t.target_group_arn()?.to_string(), t.weight().unwrap_or(1).max(0) as u32))).collect())
            .unwrap_or_default();
        if groups.is_empty() {
            if let Some(arn) = a.target_group_arn() {
                groups.push((arn.to_string(), 1));
            }
        }
        let stickiness_seconds = a
            .forward_config()
            .and_then(|f| f.target_group_stickiness_config())
            .filter(|s| s.enabled() == Some(true))
            .map(|s| s.duration_seconds().unwrap_or(3600).max(1) as u32);
        Forward { groups, stickiness_seconds }
    });
    Rule { priority, conditions, forward }
}

async fn refresh(s: &Shared) -> Result<(), String> {
    let out = s.elb.describe_rules().listener_arn(&s.listener_arn).send().await.map_err(|e| aws_sdk_elasticloadbalancingv2::error::DisplayErrorContext(e).to_string())?;
    let rules: Vec<Rule> = out.rules().iter().map(from_sdk).collect();
    let groups: HashSet<String> = rules.iter().filter_map(|r| r.forward.as_ref()).flat_map(|f| f.groups.iter().map(|(g, _)| g.clone())).collect();
    let mut members = HashMap::new();
    for g in &groups {
        let Ok(h) = s.elb.describe_target_health().target_group_arn(g).send().await else { continue };
        let ids: Vec<String> = h.target_health_descriptions().iter().filter_map(|d| d.target()?.id().map(str::to_string)).collect();
        members.insert(g.clone(), ids);
    }
    *s.rules.write().expect("rules lock") = rules;
    let wanted: HashSet<String> = members.values().flatten().cloned().collect();
    *s.members.write().expect("members lock") = members;

    // Start a process for each new instance, stop those of instances that left.
    let new: Vec<String> = {
        let mut procs = s.processes.lock().expect("processes lock");
        procs.retain(|id, _| wanted.contains(id));
        wanted.iter().filter(|id| !procs.contains_key(*id)).cloned().collect()
    };
    if !new.is_empty() {
        let roles = roles_of(s, &new).await;
        for id in new {
            let role = roles.get(&id).cloned().unwrap_or_else(|| "production".into());
            match spawn(s, &role).await {
                Ok(p) => {
                    s.processes.lock().expect("processes lock").insert(id, p);
                }
                Err(e) => tracing::warn!("cannot start a process for {id}: {e}"),
            }
        }
    }

    // Health checks.
    let ports: Vec<(String, u16)> = s.processes.lock().expect("processes lock").iter().map(|(id, p)| (id.clone(), p.port)).collect();
    for (id, port) in ports {
        let ok = s
            .http
            .get(format!("http://127.0.0.1:{port}/health"))
            .timeout(Duration::from_secs(1))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if let Some(p) = s.processes.lock().expect("processes lock").get_mut(&id) {
            p.healthy = Some(ok);
        }
    }
    Ok(())
}

async fn roles_of(s: &Shared, ids: &[String]) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let Ok(r) = s.ec2.describe_instances().set_instance_ids(Some(ids.to_vec())).send().await else { return out };
    for i in r.reservations().iter().flat_map(|r| r.instances()) {
        if let (Some(id), Some(role)) = (i.instance_id(), i.tags().iter().find(|t| t.key() == Some(aviary_core::ids::TAG_ROLE)).and_then(|t| t.value())) {
            out.insert(id.to_string(), role.to_string());
        }
    }
    out
}

async fn spawn(s: &Shared, role: &str) -> Result<Process, String> {
    let port = crate::moto::free_port().map_err(|e| e.to_string())?;
    let mut cmd = Command::new(&s.sample_app.path);
    // Loopback only: nothing outside this machine reaches the processes.
    cmd.args(["--bind", "127.0.0.1", "--port", &port.to_string(), "--role", role, "--work-ms", &s.sample_app.work_ms.to_string()]);
    if role == "canary" {
        cmd.args(s.canary_fault.args());
    }
    // Started on the control thread: the process ends with the data plane, or with Aviary.
    crate::child::dies_with_starting_thread(&mut cmd);
    let child = cmd.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null()).kill_on_drop(true).spawn().map_err(|e| e.to_string())?;
    // Ready when it accepts a connection (at most 5 s).
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(5) {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(Process { port, role: role.to_string(), healthy: None, _child: child })
}

fn text(status: StatusCode, msg: &str) -> Response {
    let mut r = Response::new(Body::from(format!("{msg}\n")));
    *r.status_mut() = status;
    r
}

const HOP_BY_HOP: [&str; 8] = ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade", "host"];

async fn route(State(s): State<Arc<Shared>>, ConnectInfo(peer): ConnectInfo<SocketAddr>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let facts = RequestFacts {
        method: parts.method.as_str().to_string(),
        host: parts.headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or_default().to_string(),
        path: parts.uri.path().to_string(),
        headers: parts.headers.iter().filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string()))).collect(),
        query: parse_query(parts.uri.query().unwrap_or("")),
        source_ip: peer.ip(),
    };
    let chosen = {
        let rules = s.rules.read().expect("rules lock");
        match select(&rules, &facts) {
            None => return text(StatusCode::NOT_FOUND, "no rule matched"),
            Some(Rule { forward: None, .. }) => return text(StatusCode::NOT_IMPLEMENTED, "this rule's action is not a forward (not emulated)"),
            Some(Rule { forward: Some(f), .. }) => {
                let cookie = parts.headers.get("cookie").and_then(|c| c.to_str().ok());
                choose_group(f, cookie, &mut s.dice.lock().expect("dice lock"))
            }
        }
    };
    let Some((group, set_cookie)) = chosen else { return text(StatusCode::SERVICE_UNAVAILABLE, "every target group has weight 0") };
    let port = {
        let members = s.members.read().expect("members lock");
        let procs = s.processes.lock().expect("processes lock");
        let healthy: Vec<u16> =
            members.get(&group).into_iter().flatten().filter_map(|id| procs.get(id)).filter(|p| p.healthy == Some(true)).map(|p| p.port).collect();
        if healthy.is_empty() {
            None
        } else {
            Some(healthy[s.turn.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % healthy.len()])
        }
    };
    let name = group_name(&group).to_string();
    let Some(port) = port else { return text(StatusCode::SERVICE_UNAVAILABLE, &format!("no healthy target in {name}")) };

    let started = Instant::now();
    let target = format!("http://127.0.0.1:{port}{}", parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/"));
    let mut call = s.http.request(parts.method.clone(), target);
    for (k, v) in &parts.headers {
        if !HOP_BY_HOP.contains(&k.as_str()) {
            call = call.header(k, v);
        }
    }
    let body = axum::body::to_bytes(body, 8 << 20).await.unwrap_or_default();
    let answer = call.body(body).send().await;
    let elapsed = started.elapsed().as_secs_f64() * 1000.0;
    let mut response = match answer {
        Ok(a) => {
            let status = StatusCode::from_u16(a.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
            let headers = a.headers().clone();
            let bytes = a.bytes().await.unwrap_or_default();
            let mut r = Response::new(Body::from(bytes));
            *r.status_mut() = status;
            for (k, v) in headers.iter() {
                if !HOP_BY_HOP.contains(&k.as_str()) && k.as_str() != "content-length" {
                    r.headers_mut().append(k.clone(), v.clone());
                }
            }
            r
        }
        Err(e) => text(StatusCode::BAD_GATEWAY, &format!("target {port} did not answer: {e}")),
    };
    let failed = response.status().is_server_error();
    {
        let mut stats = s.stats.lock().expect("stats lock");
        let g = stats.entry(name.clone()).or_default();
        g.requests += 1;
        g.errors_5xx += u64::from(failed);
        g.latency_ms_sum += elapsed;
    }
    if let Some(sink) = &s.sink {
        let period = i64::from(sink.period_seconds.max(1));
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
        let mut periods = s.periods.lock().expect("periods lock");
        let p = periods.entry((group.clone(), now.div_euclid(period) * period)).or_default();
        p.requests += 1;
        p.errors_5xx += u64::from(failed);
        p.latency_s_sum += elapsed / 1000.0;
    }
    if let Ok(v) = HeaderValue::from_str(&name) {
        response.headers_mut().insert(HeaderName::from_static("x-aviary-target-group"), v);
    }
    if let Some(c) = set_cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        response.headers_mut().append("set-cookie", c);
    }
    response
}

/// Puts closed periods (all of them with `everything`) to CloudWatch as the ALB would.
async fn publish(s: &Shared, sink: &MetricsSink, everything: bool) -> Result<(), String> {
    use aws_sdk_cloudwatch::primitives::DateTime;
    use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};
    let period = i64::from(sink.period_seconds.max(1));
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
    let current = now.div_euclid(period) * period;
    let ready: Vec<((String, i64), PeriodAgg)> = {
        let mut periods = s.periods.lock().expect("periods lock");
        let keys: Vec<(String, i64)> = periods.keys().filter(|(_, start)| everything || *start < current).cloned().collect();
        keys.into_iter().filter_map(|k| periods.remove(&k).map(|v| (k, v))).collect()
    };
    let Some(lb) = aviary_monitoring::context::load_balancer_dimension(&s.listener_arn) else { return Ok(()) };
    let mut data = Vec::new();
    for ((group, start), agg) in ready {
        let Some(tg) = aviary_monitoring::context::target_group_dimension(&group) else { continue };
        let dims = vec![Dimension::builder().name("LoadBalancer").value(&lb).build(), Dimension::builder().name("TargetGroup").value(tg).build()];
        // Mid-period, so the point falls in its period whatever the reader's rounding.
        let at = DateTime::from_secs(start + period / 2);
        let datum = |name: &str, v: f64, unit: StandardUnit| {
            MetricDatum::builder().metric_name(name).set_dimensions(Some(dims.clone())).timestamp(at).value(v).unit(unit).storage_resolution(1).build()
        };
        data.push(datum("RequestCount", agg.requests as f64, StandardUnit::Count));
        if agg.errors_5xx > 0 {
            // The ALB publishes 5xx counts only for periods that had one.
            data.push(datum("HTTPCode_Target_5XX_Count", agg.errors_5xx as f64, StandardUnit::Count));
        }
        if agg.requests > 0 {
            data.push(datum("TargetResponseTime", agg.latency_s_sum / agg.requests as f64, StandardUnit::Seconds));
        }
    }
    for chunk in data.chunks(500) {
        sink.cloudwatch
            .put_metric_data()
            .namespace("AWS/ApplicationELB")
            .set_metric_data(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| aws_sdk_cloudwatch::error::DisplayErrorContext(e).to_string())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_parse_and_unknown_ones_name_the_choices() {
        assert_eq!(Fault::parse("latency"), Ok(Fault::Slower(30)));
        assert_eq!(Fault::Slower(30).args(), vec!["--slowdown-percent", "30"]);
        assert_eq!(Fault::parse("unhealthy").unwrap().args(), vec!["--health-status", "503"]);
        assert!(Fault::None.args().is_empty());
        let e = Fault::parse("slow").unwrap_err();
        assert!(e.contains("latency, errors, unhealthy or none"), "{e}");
    }

    #[tokio::test]
    async fn a_missing_sample_app_is_refused_before_any_call() {
        // No emulator behind this endpoint: the check must come first.
        let config = crate::stack::sdk_config("http://127.0.0.1:9").await;
        let missing = std::env::temp_dir().join("no-such-aviary-sample-app");
        let app = SampleApp { path: missing, work_ms: 0 };
        let e = DataPlane::start(&config, "arn:aws:elasticloadbalancing:us-east-1:1:listener/app/a/b/c", app, Fault::None, None).await.err().expect("refused");
        assert!(e.to_string().contains("cargo build -p aviary-sample-app"), "{e}");
    }
}
