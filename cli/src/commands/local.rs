//! `aviary local up` and `aviary local cleanup`.
//!
//! `local up` starts Aviary on this machine — the emulator (moto from `.venv`), Aviary's
//! resources on it, the local Step Functions endpoint running the real state machines with the
//! real handlers, a sample production environment, and the local API front on 127.0.0.1 — then
//! pumps S3 notifications to `s3-trigger` continuously, runs the cleanup function on a timer,
//! and serves until Ctrl-C (or SIGTERM). It also serves a small control endpoint on another
//! loopback port (`POST /cleanup[?dryRun=true]`) and records everything in a state file
//! (default `.aviary/local/state.json`), which `aviary local cleanup` reads to trigger the
//! cleanup on demand *inside* the running `local up` process (the only process that can start
//! the teardown workflows it may need).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use aviary_local::runtime::{LocalOptions, LocalRuntime};
use serde::{Deserialize, Serialize};

use crate::cli::{default_state_file, find_state_file, LocalUpArgs};
use crate::commands::Ctx;
use crate::error::CliError;
use crate::output::{key_values, print_json, Table};
use aviary_lifecycle::cleanup::{ActionKind, CleanupOptions, CleanupReport};

/// What `aviary local up` writes to its state file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LocalState {
    pub pid: u32,
    /// The API front: pass it as `--endpoint` (with `--no-sign`).
    pub endpoint: String,
    /// The control endpoint (`POST /cleanup`).
    pub control: String,
    /// The emulated AWS endpoint (for `--s3-endpoint` and the AWS CLI).
    pub emulator: String,
    pub region: String,
    pub bucket: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listener_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_balancer_arn: Option<String>,
    /// A sample canary directory for the sample environment (`aviary deploy` it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_dir: Option<PathBuf>,
    /// The emulated load balancer's front for the sample listener (requests go through its
    /// rules to sample-app processes); null without the data plane.
    #[serde(default)]
    pub data_plane_url: Option<String>,
}

/// Runs the cleanup function once against the local stack.
async fn run_cleanup(rt: &LocalRuntime, dry_run: bool) -> Result<CleanupReport, String> {
    let opts = CleanupOptions { dry_run, ..Default::default() };
    aviary_lifecycle::cleanup::run_cleanup(&rt.ports, &opts).await.map_err(|e| e.to_string())
}

/// One line about a sweep, or None when it found nothing.
pub fn cleanup_line(r: &CleanupReport) -> Option<String> {
    if r.actions.is_empty() && r.errors.is_empty() {
        return None;
    }
    let count = |k: ActionKind| r.actions.iter().filter(|a| a.kind == k).count();
    let failed = r.failures().count();
    let mut parts = vec![
        format!("{} expired", count(ActionKind::Expired)),
        format!("{} stuck", count(ActionKind::Stuck)),
        format!("{} orphaned resources", count(ActionKind::Orphan)),
    ];
    if failed > 0 {
        parts.push(format!("{failed} failed"));
    }
    if !r.errors.is_empty() {
        parts.push(format!("{} listing errors", r.errors.len()));
    }
    Some(parts.join(", "))
}

/// The sweep's actions as a table.
pub fn cleanup_table(r: &CleanupReport) -> String {
    let mut t = Table::new(["KIND", "DEPLOYMENT", "ACTION", "RESOURCE", "DONE", "DETAIL"]);
    for a in &r.actions {
        let lower = |v: &dyn std::fmt::Debug| format!("{v:?}").to_lowercase();
        t.row([
            lower(&a.kind),
            a.deployment_id.clone(),
            lower(&a.action),
            a.resource.clone().unwrap_or_else(|| "-".into()),
            if a.done { "yes".into() } else { "no".into() },
            a.detail.clone(),
        ]);
    }
    let mut out = t.render();
    for e in &r.errors {
        out.push_str(&format!("error: {e}\n"));
    }
    out
}

async fn control_server(rt: Arc<LocalRuntime>) -> Result<(String, tokio::task::JoinHandle<()>), CliError> {
    use axum::extract::{Query, State};
    use axum::http::StatusCode;
    use axum::routing::post;
    use axum::Json;

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct CleanupQuery {
        #[serde(default)]
        dry_run: bool,
    }

    async fn cleanup_now(State(rt): State<Arc<LocalRuntime>>, Query(q): Query<CleanupQuery>) -> (StatusCode, Json<serde_json::Value>) {
        match run_cleanup(&rt, q.dry_run).await {
            Ok(r) => (StatusCode::OK, Json(serde_json::to_value(&r).expect("report serialises"))),
            Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, Json(serde_json::json!({"error": "CleanupFailed", "message": e}))),
        }
    }

    let app = axum::Router::new().route("/cleanup", post(cleanup_now)).with_state(rt);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| CliError::Other(format!("control endpoint: {e}")))?;
    let url = format!("http://{}", listener.local_addr().map_err(|e| CliError::Other(e.to_string()))?);
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((url, task))
}

/// Forwards connections on 127.0.0.1:`port` to `target` (`host:port`).
async fn forward(port: u16, target: String) -> Result<(String, tokio::task::JoinHandle<()>), CliError> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|e| CliError::Usage(format!("cannot listen on 127.0.0.1:{port} ({e}): pick another --port, or --port 0")))?;
    let url = format!("http://127.0.0.1:{port}");
    let task = tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            let target = target.clone();
            tokio::spawn(async move {
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    Ok((url, task))
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

pub async fn up(args: LocalUpArgs, ctx: Ctx) -> Result<u8, CliError> {
    let opts = LocalOptions { endpoint: args.emulator.clone(), time_scale: args.time_scale, ..Default::default() };
    if !ctx.json {
        println!("starting the local stack (emulator, Aviary's resources, local Step Functions)…");
    }
    let mut rt = LocalRuntime::start(opts).await?;
    let env = if args.no_sample_env { None } else { Some(aviary_local::environment::create(&rt.config, "prod").await?) };
    for listener in env.iter().map(|e| &e.listener_arn).chain(&args.allow_listeners) {
        rt.allow_listener(listener);
    }
    // The data plane for the sample listener; without the sample app it is left out, said once.
    let mut data_plane = None;
    if let (Some(e), false) = (&env, args.fault == "off") {
        let fault = aviary_local::dataplane::front::Fault::parse(&args.fault).map_err(CliError::Usage)?;
        let sink = aviary_local::dataplane::front::MetricsSink { cloudwatch: rt.cloudwatch(), period_seconds: LOCAL_PERIOD_SECONDS };
        match aviary_local::dataplane::front::DataPlane::start(&rt.config, &e.listener_arn, aviary_local::dataplane::front::SampleApp::built(), fault, Some(sink)).await {
            Ok(dp) => {
                let dp = Arc::new(dp);
                rt.set_health_and_clock(dp.clone(), Arc::new(aviary_core::clock::SystemClock));
                rt.live = aviary_local::LiveSettings { period_seconds: LOCAL_PERIOD_SECONDS, settle_seconds: Some(2) };
                data_plane = Some(dp);
            }
            Err(e) => eprintln!("note: no data plane ({e}); requests cannot reach the canary and the live verdict stays undecided"),
        }
    }
    let rt = Arc::new(rt);
    let api = aviary_local::api_server::ApiServer::start(&rt).await.map_err(|e| CliError::Other(format!("API front: {e}")))?;
    // The front listens on a free port; `--port N` adds a loopback forwarder on N.
    let (endpoint, forwarder) = match args.port {
        0 => (api.url.clone(), None),
        port => {
            let (url, task) = forward(port, api.url.trim_start_matches("http://").to_string()).await?;
            (url, Some(task))
        }
    };
    let (control, control_task) = control_server(rt.clone()).await?;

    let state_file = args.state_file.clone().unwrap_or_else(default_state_file);
    let sample_dir = match &env {
        Some(e) => {
            let dir = state_file.parent().unwrap_or(std::path::Path::new(".")).join("sample");
            aviary_local::demo::write_sample(&dir, &e.listener_arn)?;
            Some(dir)
        }
        None => None,
    };
    let state = LocalState {
        pid: std::process::id(),
        endpoint,
        control,
        emulator: rt.moto.url.clone(),
        region: aviary_local::invoker::LOCAL_REGION.to_string(),
        bucket: rt.names.bucket.clone(),
        listener_arn: env.as_ref().map(|e| e.listener_arn.clone()),
        load_balancer_arn: env.as_ref().map(|e| e.load_balancer_arn.clone()),
        sample_dir,
        data_plane_url: data_plane.as_ref().map(|d| d.url.clone()),
    };
    if let Some(dir) = state_file.parent() {
        std::fs::create_dir_all(dir).map_err(CliError::write(dir))?;
    }
    std::fs::write(&state_file, serde_json::to_vec_pretty(&state).expect("state")).map_err(CliError::write(&state_file))?;

    if ctx.json {
        println!("{}", serde_json::to_string(&state).expect("state"));
    } else {
        print!("{}", up_banner(&state, &state_file, args.cleanup_every));
    }

    // S3 notifications → s3-trigger, continuously.
    let pump_rt = rt.clone();
    let quiet = ctx.json;
    let pump = tokio::spawn(async move {
        loop {
            match pump_rt.pump(Duration::from_secs(1)).await {
                Ok(outcomes) => {
                    for o in outcomes.iter().filter(|_| !quiet) {
                        println!("s3-trigger: {} -> {} {}", o.key, o.outcome, o.deployment_id.clone().unwrap_or_default());
                    }
                }
                Err(e) => {
                    eprintln!("warning: {e}");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    });
    // The cleanup function on a timer.
    let timer = (args.cleanup_every > 0).then(|| {
        let rt = rt.clone();
        let every = Duration::from_secs(args.cleanup_every);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            loop {
                tick.tick().await;
                match run_cleanup(&rt, false).await {
                    Ok(r) => {
                        if let Some(line) = cleanup_line(&r).filter(|_| !quiet) {
                            println!("cleanup: {line}");
                        }
                    }
                    Err(e) => eprintln!("warning: cleanup failed: {e}"),
                }
            }
        })
    });

    shutdown_signal().await;
    if !ctx.json {
        println!("\nstopping (the emulator's state is discarded)");
    }
    pump.abort();
    control_task.abort();
    if let Some(f) = forwarder {
        f.abort();
    }
    if let Some(t) = timer {
        t.abort();
    }
    api.stop().await;
    let _ = std::fs::remove_file(&state_file);
    // Wait for the aborted tasks to let go of the runtime, so the emulator stops with it.
    tokio::time::sleep(Duration::from_millis(50)).await;
    drop(rt);
    Ok(0)
}

/// What `aviary local up` prints once it serves.
pub fn up_banner(s: &LocalState, state_file: &std::path::Path, cleanup_every: u64) -> String {
    let mut kv = vec![
        ("endpoint", format!("{} (no SigV4: pass --no-sign)", s.endpoint)),
        ("emulator", format!("{} (region {}, artifact bucket {})", s.emulator, s.region, s.bucket)),
    ];
    if let Some(l) = &s.listener_arn {
        kv.push(("listener", l.clone()));
    }
    if let Some(u) = &s.data_plane_url {
        kv.push(("data plane", format!("{u} (the listener's rules, served; send load with `aviary local load`)")));
    }
    kv.push(("cleanup", if cleanup_every > 0 { format!("every {cleanup_every}s; now: aviary local cleanup [--dry-run]") } else { "on demand: aviary local cleanup [--dry-run]".into() }));
    kv.push(("state", state_file.display().to_string()));
    let mut out = String::from("\nAviary is running locally\n");
    out.push_str(&key_values(&kv));
    out.push_str(&format!("\nTry it:\n  export AVIARY_ENDPOINT={}\n", s.endpoint));
    match &s.sample_dir {
        Some(d) => out.push_str(&format!("  aviary --no-sign deploy {}    # a sample canary for the listener above\n", d.display())),
        None => out.push_str("  aviary --no-sign deploy <dir>    # a canary directory whose aviary.json names a listener here\n"),
    }
    out.push_str("  aviary --no-sign ls\n  aviary --no-sign traffic <id> --percent 10\n  aviary --no-sign destroy <id> --wait\n\nCtrl-C stops everything (the emulator's state is discarded).\n");
    out
}

/// The live verdict's period with `local up`'s data plane.
const LOCAL_PERIOD_SECONDS: u32 = 5;

/// `aviary local load`: mixed requests through the running stack's data plane.
pub async fn load(seconds: u64, state_file: Option<PathBuf>, ctx: Ctx) -> Result<u8, CliError> {
    let path = state_file.unwrap_or_else(find_state_file);
    let bytes = std::fs::read(&path).map_err(|e| CliError::Usage(format!("cannot read {} ({e}): is `aviary local up` running?", path.display())))?;
    let state: LocalState = serde_json::from_slice(&bytes).map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))?;
    let url = state.data_plane_url.ok_or_else(|| CliError::Usage(format!("{} has no data plane: start `aviary local up` with the sample environment and without --fault off", path.display())))?;
    if !ctx.json {
        println!("sending GET, HEAD and POST requests through {url} for {seconds} s…");
    }
    let counted = aviary_local::demo::load_for(&url, Duration::from_secs(seconds)).await;
    let mut rows: Vec<(String, u64, u64, f64)> = counted.matched.into_iter().map(|(g, (n, e, ms))| (g, n, e, if n > 0 { ms / n as f64 } else { 0.0 })).collect();
    let mut posts: Vec<String> = counted.unmatched.iter().map(|(g, n)| format!("{g} {n}")).collect();
    posts.sort();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    if ctx.json {
        let v: Vec<serde_json::Value> = rows.iter().map(|(g, n, e, ms)| serde_json::json!({"targetGroup": g, "requests": n, "errors5xx": e, "meanLatencyMs": ms})).collect();
        crate::output::print_json(&v);
    } else {
        let mut t = crate::output::Table::new(["TARGET GROUP", "REQUESTS", "5XX", "MEAN MS"]);
        for (g, n, e, ms) in &rows {
            t.row([g.clone(), n.to_string(), e.to_string(), format!("{ms:.1}")]);
        }
        print!("{}", t.render());
        println!("(GET and HEAD requests; the POSTs, which the sample rule does not match, went to: {})", if posts.is_empty() { "none sent".into() } else { posts.join(", ") });
    }
    Ok(0)
}

pub async fn cleanup(dry_run: bool, state_file: Option<PathBuf>, ctx: Ctx) -> Result<u8, CliError> {
    let path = state_file.unwrap_or_else(find_state_file);
    let bytes = std::fs::read(&path)
        .map_err(|e| CliError::Usage(format!("cannot read {} ({e}): is `aviary local up` running?", path.display())))?;
    let state: LocalState = serde_json::from_slice(&bytes).map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))?;
    let url = format!("{}/cleanup{}", state.control, if dry_run { "?dryRun=true" } else { "" });
    let resp = reqwest::Client::new()
        .post(&url)
        .timeout(Duration::from_secs(300))
        .send()
        .await
        .map_err(|e| CliError::Other(format!("cannot reach `aviary local up` at {url}: {e}")))?;
    let status = resp.status();
    let body: serde_json::Value = resp.json().await.map_err(|e| CliError::Other(format!("cleanup answered {status}: {e}")))?;
    if !status.is_success() {
        return Err(CliError::Other(format!("cleanup failed: {}", body.get("message").and_then(|m| m.as_str()).unwrap_or("unknown error"))));
    }
    let report: CleanupReport = serde_json::from_value(body).map_err(|e| CliError::Other(format!("unexpected cleanup report: {e}")))?;
    let what = if dry_run { "cleanup (dry run)" } else { "cleanup" };
    if ctx.json {
        print_json(&report);
    } else {
        match cleanup_line(&report) {
            Some(line) => {
                println!("{what}: {line}");
                print!("{}", cleanup_table(&report));
            }
            None => println!("{what}: nothing to do"),
        }
    }
    Ok(0)
}
