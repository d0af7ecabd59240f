//! The README's first command: one canary's whole lifecycle on the emulated AWS, printed as it
//! happens — the listener's rules before, during and after, every event, and the handler time.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use aviary_ports::RuleSnapshot;
use aviary_lifecycle::destroy::request_teardown;
use aviary_lifecycle::traffic::{change_traffic, TrafficChange};
use aviary_core::model::Event;
use aviary_core::status::Status;
use aviary_docker_save::{build_image, BuildOptions, Layout};

use crate::runtime::{LocalError, LocalOptions, LocalRuntime};

pub struct DemoOptions {
    pub local: LocalOptions,
    /// A user's own canary directory (aviary.json, tarballs, compose file); default: the
    /// embedded sample, against a sample production environment created on the emulator.
    pub spec_dir: Option<PathBuf>,
    /// Where the sample artifacts are written.
    pub work_dir: PathBuf,
    /// Share to switch to once active, showing live traffic control (None: skip).
    pub change_to_percent: Option<f64>,
    pub quiet: bool,
    /// Real requests through the emulated listener (`aviary-sample-app` processes behind it,
    /// the canary's with this fault); None: the rules only.
    pub traffic: Option<crate::dataplane::front::Fault>,
    /// Seconds of load while the canary is active, at least; with traffic the load goes on
    /// until the live verdict decides (at most [`MAX_VERDICT_WAIT`]).
    pub load_seconds: u64,
}

/// How long the demo waits for the live verdict under load.
pub const MAX_VERDICT_WAIT: Duration = Duration::from_secs(120);
/// The data plane's metric period in the demo (high-resolution CloudWatch metrics).
const DEMO_PERIOD_SECONDS: u32 = 2;

/// One target group's share of the demo's load.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoutedGroup {
    pub target_group: String,
    /// `production`, `baseline` or `canary`.
    pub role: String,
    /// The rule's weight as a share of the rule (percent).
    pub weight_percent: f64,
    /// Requests the rule's conditions matched that this group answered.
    pub requests: u64,
    pub observed_percent: f64,
    pub errors_5xx: u64,
    pub mean_latency_ms: f64,
}

#[derive(Debug, Clone)]
pub struct DemoReport {
    pub deployment_id: String,
    pub final_status: Status,
    pub rules_before: Vec<RuleSnapshot>,
    pub rules_during: Vec<RuleSnapshot>,
    pub rules_after: Vec<RuleSnapshot>,
    pub events: Vec<Event>,
    pub handler_time: Vec<(String, u32, Duration)>,
    /// Requests the load generator's traffic took per target group (name → count), and in
    /// what share the rule weighed them.
    pub routed: Vec<RoutedGroup>,
    /// The POST requests, which the sample rule does not match: the group that answered, and
    /// how many (all production's when the rule's conditions hold).
    pub unmatched: std::collections::HashMap<String, u64>,
    /// The live verdict reached on the routed requests (None without traffic).
    pub verdict: Option<aviary_analysis::live::LiveVerdict>,
    pub elapsed: Duration,
}

impl DemoReport {
    pub fn listener_restored(&self) -> bool {
        self.rules_before == self.rules_after
    }

    /// `aviary demo --json`: one document with what happened.
    pub fn to_json(&self) -> serde_json::Value {
        let count = |role: &str| self.routed.iter().filter(|g| g.role == role).map(|g| g.requests).sum::<u64>();
        serde_json::json!({
            "deploymentId": self.deployment_id,
            "finalStatus": self.final_status,
            "requests": {"production": count("production"), "baseline": count("baseline"), "canary": count("canary")},
            "routed": self.routed,
            "unmatched": self.unmatched,
            "verdict": self.verdict,
            "listenerRestored": self.listener_restored(),
            "rulesBefore": self.rules_before,
            "rulesDuring": self.rules_during,
            "rulesAfter": self.rules_after,
            "elapsedSeconds": self.elapsed.as_secs_f64(),
        })
    }
}

struct Out {
    quiet: bool,
}

impl Out {
    fn say(&self, s: impl AsRef<str>) {
        if !self.quiet {
            println!("{}", s.as_ref());
            let _ = std::io::stdout().flush();
        }
    }
}

pub fn print_rules(rules: &[RuleSnapshot]) -> String {
    let mut s = String::new();
    for r in rules {
        let fwd: Vec<String> = r
            .forward
            .iter()
            .map(|t| format!("{}={}", t.target_group_arn.rsplit('/').nth(1).unwrap_or(&t.target_group_arn), t.weight))
            .collect();
        let sticky = r.stickiness_seconds.map(|s| format!(" sticky {s}s")).unwrap_or_default();
        s.push_str(&format!("    {:>8}  {:<40} -> {}{}\n", r.priority, r.conditions.join(" & "), fwd.join(", "), sticky));
    }
    s
}

/// Writes the embedded sample canary (spec, two docker-save tarballs, compose file).
pub fn write_sample(dir: &Path, listener_arn: &str) -> Result<(), LocalError> {
    let io = |e: std::io::Error| LocalError::Artifacts { path: dir.display().to_string(), message: e.to_string() };
    std::fs::create_dir_all(dir).map_err(io)?;
    let spec = serde_json::json!({
        "name": "web",
        "listenerArn": listener_arn,
        "trafficPercent": 5,
        "appPort": 8080,
        "healthCheck": { "path": "/health" },
        "conditions": { "httpMethods": ["GET", "HEAD"] },
        "stickiness": { "enabled": true, "durationSeconds": 600 },
        "monitoring": { "allowedCidr": "203.0.113.0/24", "appMetricsPath": "/metrics" },
        "ttlMinutes": 120
    });
    std::fs::write(dir.join("aviary.json"), serde_json::to_vec_pretty(&spec).expect("spec")).map_err(io)?;
    std::fs::write(dir.join("baseline.tar"), build_image(&BuildOptions::new(Layout::Legacy, "sample-app:1.0"))).map_err(io)?;
    std::fs::write(dir.join("canary.tar"), build_image(&BuildOptions::new(Layout::Oci, "sample-app:1.1"))).map_err(io)?;
    std::fs::write(
        dir.join("compose.yml"),
        "services:\n  app:\n    image: ${AVIARY_IMAGE}\n    ports:\n      - \"8080:8080\"\n    environment:\n      ROLE: ${AVIARY_ROLE}\n    restart: unless-stopped\n",
    )
    .map_err(io)?;
    Ok(())
}

pub async fn run_demo(opts: DemoOptions) -> Result<DemoReport, LocalError> {
    let out = Out { quiet: opts.quiet };
    let started = Instant::now();
    out.say("== Aviary local run: the whole canary lifecycle on an emulated AWS ==");
    let mut rt = LocalRuntime::start(opts.local).await?;
    out.say(format!(
        "emulator: {} ({}); local Step Functions: {}",
        rt.moto.url,
        if rt.moto.is_owned() { "moto server started from .venv" } else { "already running" },
        rt.sfn.url
    ));

    let (dir, name) = match &opts.spec_dir {
        Some(d) => {
            let bytes = std::fs::read(d.join("aviary.json")).map_err(|e| LocalError::Artifacts { path: d.display().to_string(), message: e.to_string() })?;
            let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
            let name = v["name"].as_str().unwrap_or("canary").to_string();
            (d.clone(), name)
        }
        None => {
            let env = crate::environment::create(&rt.config, "prod").await?;
            out.say(format!("sample production environment: ALB {} with listener {}", env.load_balancer_arn, env.listener_arn));
            write_sample(&opts.work_dir, &env.listener_arn)?;
            (opts.work_dir.clone(), "web".to_string())
        }
    };
    let spec: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("aviary.json")).unwrap_or_default()).unwrap_or_default();
    let listener = spec["listenerArn"].as_str().unwrap_or_default().to_string();
    // The demo's own emulator: the listener it created, or the one the user's spec names, is
    // the one this local installation may edit (on AWS: the stack's AllowedListenerArns).
    rt.allow_listener(&listener);
    let rules_before = rt.rules(&listener).await.unwrap_or_default();
    out.say(format!("\nlistener rules BEFORE:\n{}", print_rules(&rules_before)));
    let dataplane = match opts.traffic {
        Some(fault) => {
            let sink = crate::dataplane::front::MetricsSink { cloudwatch: rt.cloudwatch(), period_seconds: DEMO_PERIOD_SECONDS };
            let dp = std::sync::Arc::new(
                crate::dataplane::front::DataPlane::start(&rt.config, &listener, crate::dataplane::front::SampleApp::built(), fault, Some(sink))
                    .await
                    .map_err(|e| LocalError::Pump(e.to_string()))?,
            );
            // The live verdict over the data plane's periods (a period counts once 1 s old).
            rt.live = aviary_analysis::live::LiveSettings { period_seconds: DEMO_PERIOD_SECONDS, settle_seconds: Some(1) };
            // check-health reads the processes' real health checks.
            rt.set_health_and_clock(dp.clone(), std::sync::Arc::new(aviary_core::clock::SystemClock));
            out.say(format!("data plane: the listener's rules served on {} (sample-app processes behind each target group; canary fault: {fault:?})", dp.url));
            if opts.spec_dir.is_some() {
                let engine = std::process::Command::new("docker").arg("info").stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null()).status().is_ok_and(|s| s.success());
                out.say(if engine {
                    "note: your tarballs were checked but are not run here: the data plane runs aviary-sample-app processes for baseline and canary (running your images on the Docker engine is not built yet)"
                } else {
                    "note: no Docker engine answers `docker info`, so your tarballs were checked but are not run: aviary-sample-app processes stand in for baseline and canary"
                });
            }
            Some(dp)
        }
        None => None,
    };

    out.say(format!("uploading {} to s3://{}/canaries/{name}/ (canary.tar last: it starts the canary)", dir.display(), rt.names.bucket));
    rt.upload_canary(&name, &dir).await?;
    let mut id = None;
    let deadline = Instant::now() + Duration::from_secs(60);
    while id.is_none() && Instant::now() < deadline {
        for o in rt.pump(Duration::from_secs(1)).await? {
            out.say(format!("s3-trigger: {} -> {} {}", o.key, o.outcome, o.deployment_id.clone().unwrap_or_default()));
            if o.deployment_id.is_some() {
                id = o.deployment_id;
            }
        }
    }
    let id = id.ok_or_else(|| LocalError::Pump("no S3 event reached s3-trigger within 60s".into()))?;

    let mut seen = 0usize;
    let show_new = |events: &[Event], seen: &mut usize| {
        for e in events.iter().skip(*seen) {
            out.say(format!("  {}  {:<18} {:<5} {}", &e.time[11..23], e.step, format!("{:?}", e.outcome).to_lowercase(), e.detail));
        }
        *seen = events.len();
    };
    out.say(format!("\ndeployment {id}: events as they happen"));
    let d = loop {
        let d = rt.ports.deployments().require(&id).await?;
        show_new(&rt.events(&id).await?, &mut seen);
        if d.status == Status::Active || d.status.is_final() {
            break d;
        }
        if started.elapsed() > Duration::from_secs(300) {
            return Err(LocalError::Timeout { id, wanted: "ACTIVE".into(), actual: d.status.to_string(), secs: 300 });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let rules_during = rt.rules(&listener).await.unwrap_or_default();
    let mut routed = Vec::new();
    let mut unmatched = std::collections::HashMap::new();
    let mut verdict = None;
    if d.status == Status::Active {
        out.say(format!("\nlistener rules DURING (canary ACTIVE):\n{}", print_rules(&rules_during)));
        if let Some(dp) = &dataplane {
            let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
            let load_task = tokio::spawn(load(dp.url.clone(), stop.clone()));
            out.say(format!("\nload: GET, HEAD and POST requests from new clients through {}; the live verdict every second:", dp.url));
            let analysis = rt.analysis_ports(rt.ports.clone());
            let load_started = Instant::now();
            let mut last = String::new();
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                let v = aviary_analysis::live::refresh_verdict(&analysis, &id).await.map_err(|e| LocalError::Pump(format!("live verdict: {e}")))?;
                let line = verdict_line(&v);
                if line != last {
                    out.say(format!("  {:>5.1}s  {line}", load_started.elapsed().as_secs_f64()));
                    last = line;
                }
                let decided = v.decision != aviary_analysis::live::Decision::NoDifferenceYet;
                verdict = Some(v);
                let waited = load_started.elapsed();
                if (decided && waited >= Duration::from_secs(opts.load_seconds)) || waited >= MAX_VERDICT_WAIT {
                    break;
                }
            }
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            let counted = load_task.await.map_err(|e| LocalError::Pump(format!("load: {e}")))?;
            routed = routed_groups(&counted, &d, &rules_during);
            unmatched = counted.unmatched.clone();
            out.say("\nrequests routed through the canary rule by the data plane (the GET and HEAD requests its conditions match):");
            for g in &routed {
                out.say(format!(
                    "    {:<10} {:<18} weight {:>5.1}%   observed {:>5.1}% ({:>5} requests, {} 5xx, mean {:.1} ms)",
                    g.role, g.target_group, g.weight_percent, g.observed_percent, g.requests, g.errors_5xx, g.mean_latency_ms
                ));
            }
            let mut posts: Vec<String> = unmatched.iter().map(|(g, n)| format!("{g} {n}")).collect();
            posts.sort();
            out.say(format!("  POST requests (the rule does not match them), by the group that answered: {}", if posts.is_empty() { "none sent".into() } else { posts.join(", ") }));
        }
        if let Some(p) = opts.change_to_percent {
            let change = TrafficChange { traffic_percent: Some(p), ..Default::default() };
            change_traffic(&rt.ports, &id, &change).await.map_err(|e| LocalError::Pump(e.to_string()))?;
            show_new(&rt.events(&id).await?, &mut seen);
            out.say(format!("\nlistener rules after the traffic change:\n{}", print_rules(&rt.rules(&listener).await.unwrap_or_default())));
        }
        request_teardown(&rt.ports, &id, "demo finished").await?;
    } else {
        out.say(format!("\ndeployment ended {}: {}", d.status, d.status_reason.clone().unwrap_or_default()));
    }
    let d = loop {
        let d = rt.ports.deployments().require(&id).await?;
        show_new(&rt.events(&id).await?, &mut seen);
        if d.status.is_final() {
            break d;
        }
        if started.elapsed() > Duration::from_secs(420) {
            return Err(LocalError::Timeout { id, wanted: "DESTROYED".into(), actual: d.status.to_string(), secs: 420 });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    rt.sfn.wait_idle().await;
    let rules_after = rt.rules(&listener).await.unwrap_or_default();
    out.say(format!("\nlistener rules AFTER:\n{}", print_rules(&rules_after)));
    let report = DemoReport {
        deployment_id: id,
        final_status: d.status,
        rules_before,
        rules_during,
        rules_after,
        events: rt.events(&d.id).await?,
        handler_time: rt.invoker.handler_time(),
        routed,
        unmatched,
        verdict,
        elapsed: started.elapsed(),
    };
    out.say(format!(
        "listener restored exactly: {}",
        if report.listener_restored() { "yes (same rules, priorities, conditions and actions as before)" } else { "NO" }
    ));
    let total: Duration = report.handler_time.iter().map(|t| t.2).sum();
    out.say("\nhandler time (in-process, against the emulator):");
    for (f, calls, t) in &report.handler_time {
        out.say(format!("    {f:<18} {calls:>3} calls  {:>8.1} ms", t.as_secs_f64() * 1000.0));
    }
    out.say(format!("    {:<18} {:>9}  {:>8.1} ms", "total", "", total.as_secs_f64() * 1000.0));
    out.say(format!("\nfinal status: {} after {:.1}s", report.final_status, report.elapsed.as_secs_f64()));
    Ok(report)
}

/// What the load's requests got, per target group name.
#[derive(Debug, Clone, Default)]
pub struct Counted {
    /// Requests the sample rule's conditions match (GET, HEAD): (requests, 5xx, latency sum ms).
    pub matched: std::collections::HashMap<String, (u64, u64, f64)>,
    /// Requests it does not match (POST): the group that answered, and how many.
    pub unmatched: std::collections::HashMap<String, u64>,
}

/// The load's concurrent clients: with the sample app's 20 ms of work, ~700 requests/s.
const WORKERS: u64 = 16;

/// Mixed requests through the data plane until `stop`: GET and HEAD (which the sample rule
/// matches) and POST (which it does not), each from a new client, 16 at a time.
async fn load(url: String, stop: std::sync::Arc<std::sync::atomic::AtomicBool>) -> Counted {
    let client = reqwest::Client::new();
    let counted = std::sync::Arc::new(std::sync::Mutex::new(Counted::default()));
    let mut workers = Vec::new();
    for w in 0..WORKERS {
        let (client, url, counted, stop) = (client.clone(), url.clone(), counted.clone(), stop.clone());
        workers.push(tokio::spawn(async move {
            let mut i = w;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                i += WORKERS;
                let method = match i % 10 {
                    0 => reqwest::Method::POST,
                    1 => reqwest::Method::HEAD,
                    _ => reqwest::Method::GET,
                };
                let matched = method != reqwest::Method::POST;
                let started = Instant::now();
                let Ok(a) = client.request(method, format!("{url}/?item={}", i % 97)).send().await else { continue };
                let ms = started.elapsed().as_secs_f64() * 1000.0;
                let group = a.headers().get("x-aviary-target-group").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
                let err = a.status().is_server_error();
                let mut c = counted.lock().expect("counts");
                if matched {
                    let e = c.matched.entry(group).or_default();
                    e.0 += 1;
                    e.1 += u64::from(err);
                    e.2 += ms;
                } else {
                    *c.unmatched.entry(group).or_default() += 1;
                }
            }
        }));
    }
    for w in workers {
        let _ = w.await;
    }
    let c = counted.lock().expect("counts").clone();
    c
}

/// [`load`] for `duration`.
pub async fn load_for(url: &str, duration: Duration) -> Counted {
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let task = tokio::spawn(load(url.to_string(), stop.clone()));
    tokio::time::sleep(duration).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    task.await.unwrap_or_default()
}

/// The rule's target groups with their weights and what the load's matched requests got.
fn routed_groups(counted: &Counted, d: &aviary_core::model::Deployment, rules: &[RuleSnapshot]) -> Vec<RoutedGroup> {
    let total: u64 = counted.matched.values().map(|c| c.0).sum();
    let rule = rules.iter().find(|r| Some(&r.rule_arn) == d.resources.rule_arn.as_ref());
    let weight_total: u32 = rule.map(|r| r.forward.iter().map(|t| t.weight).sum()).unwrap_or(0);
    let role = |arn: &str| {
        if Some(arn) == d.resources.canary_target_group_arn.as_deref() {
            "canary"
        } else if Some(arn) == d.resources.baseline_target_group_arn.as_deref() {
            "baseline"
        } else {
            "production"
        }
    };
    rule.map(|r| r.forward.clone())
        .unwrap_or_default()
        .into_iter()
        .map(|t| {
            let name = crate::dataplane::choose::group_name(&t.target_group_arn).to_string();
            let (requests, errors_5xx, ms) = counted.matched.get(&name).copied().unwrap_or_default();
            RoutedGroup {
                role: role(&t.target_group_arn).to_string(),
                target_group: name,
                weight_percent: if weight_total > 0 { f64::from(t.weight) * 100.0 / f64::from(weight_total) } else { 0.0 },
                requests,
                observed_percent: if total > 0 { requests as f64 * 100.0 / total as f64 } else { 0.0 },
                errors_5xx,
                mean_latency_ms: if requests > 0 { ms / requests as f64 } else { 0.0 },
            }
        })
        .collect()
}

/// `canary-worse — target_response_time sign e=97 ≥ 60 (23/23 periods); …`
fn verdict_line(v: &aviary_analysis::live::LiveVerdict) -> String {
    let metrics: Vec<String> = v
        .metrics
        .iter()
        .map(|m| format!("{} {} e={:.1}/{:.0} ({} periods)", m.name, m.decision.as_str(), m.e_value, m.threshold, m.samples.baseline.min(m.samples.canary)))
        .collect();
    format!("live verdict {}: {}", v.decision.as_str(), metrics.join("; "))
}
