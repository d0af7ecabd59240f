//! End to end on this machine: `aviary local up` in the background (moto from `.venv`, the
//! real state machines and handlers, the local API front), then the CLI as a user runs it —
//! deploy the sample canary to ACTIVE, read its events, move traffic (checked on the emulated
//! ALB's rule itself), destroy it (the listener's rules end exactly as they began), deploy
//! again straight to S3, trigger the cleanup on demand, and stop with SIGINT.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

mod support {
    pub mod json_shapes;
}

use aviary_aws::elb::AlbRouter;
use support::json_shapes;
use aviary_ports::{RuleSnapshot, TrafficRouter};

const BIN: &str = env!("CARGO_BIN_EXE_aviary");

struct LocalUp {
    child: Child,
    /// The test's own directory: the state file, `local-up.log` (and `local-up.json`).
    dir: PathBuf,
    state_file: PathBuf,
    /// The state file's document, once `local up` wrote it.
    state: serde_json::Value,
}

impl LocalUp {
    /// A string field of the state file.
    fn field(&self, name: &str) -> String {
        self.state[name].as_str().unwrap_or_else(|| panic!("state file without {name}: {}", self.state)).to_string()
    }
}

impl LocalUp {
    fn pid(&self) -> String {
        self.child.id().to_string()
    }

    /// SIGINT (Ctrl-C): the CLI stops the emulator it started.
    fn interrupt(&self) {
        let _ = Command::new("kill").args(["-INT", &self.pid()]).status();
    }
}

impl Drop for LocalUp {
    fn drop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        self.interrupt();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
    }
}

/// The CLI with the emulator's dummy credentials and region.
fn aviary_command(args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.args(args)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true");
    c
}

fn aviary(endpoint: &str, args: &[&str]) -> Output {
    aviary_command(&["--endpoint", endpoint, "--no-sign"]).args(args).output().expect("run aviary")
}

fn ok(o: Output, what: &str) -> String {
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(o.status.code(), Some(0), "{what} failed\nstdout:\n{out}\nstderr:\n{}", String::from_utf8_lossy(&o.stderr));
    out
}

fn ok_code(o: Output, code: i32, what: &str) -> String {
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(o.status.code(), Some(code), "{what}\nstdout:\n{out}\nstderr:\n{}", String::from_utf8_lossy(&o.stderr));
    out
}

fn json(o: Output, what: &str) -> serde_json::Value {
    let text = ok(o, what);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {text}"))
}

/// `aviary local up` in the background, in a fresh directory named after the test; with
/// `json`, its stdout goes to `local-up.json` instead of the log.
fn start(name: &str, json: bool) -> LocalUp {
    let dir = std::env::temp_dir().join(format!("aviary-cli-e2e-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let state_file = dir.join("state.json");
    let log = std::fs::File::create(dir.join("local-up.log")).unwrap();
    let stdout = if json { std::fs::File::create(dir.join("local-up.json")).unwrap() } else { log.try_clone().unwrap() };
    let child = Command::new(BIN)
        .args(if json { &["--json"][..] } else { &[][..] })
        .args(["local", "up", "--port", "0", "--cleanup-every", "2", "--time-scale", "0.002", "--state-file"])
        .arg(&state_file)
        .stdout(Stdio::from(stdout))
        .stderr(Stdio::from(log))
        .spawn()
        .expect("start aviary local up");
    let mut up = LocalUp { child, dir, state_file, state: serde_json::Value::Null };
    let deadline = Instant::now() + Duration::from_secs(60);
    while !up.state_file.exists() {
        assert!(Instant::now() < deadline, "local up did not start within 60s: {}", std::fs::read_to_string(up.dir.join("local-up.log")).unwrap_or_default());
        std::thread::sleep(Duration::from_millis(100));
    }
    up.state = serde_json::from_slice(&std::fs::read(&up.state_file).unwrap()).unwrap();
    up
}

async fn rules(emulator: &str, listener: &str) -> Vec<RuleSnapshot> {
    let config = aviary_local::stack::sdk_config(emulator).await;
    AlbRouter::from_conf(&config, "aviary-local").rules(listener).await.expect("describe rules")
}

/// What the monitor's user data does on AWS (nothing boots on the emulator): its Grafana
/// password as an SSM SecureString under the local installation's path.
async fn store_monitor_password(emulator: &str, id: &str, password: &str) {
    let config = aviary_local::stack::sdk_config(emulator).await;
    let name = aviary_core::secrets::parameter_name("aviary-local", id, aviary_core::secrets::GRAFANA_PASSWORD);
    let ssm = aws_sdk_ssm::Client::new(&config);
    let secure = aws_sdk_ssm::types::ParameterType::SecureString;
    ssm.put_parameter().name(name).value(password).r#type(secure).overwrite(true).send().await.expect("put the password");
}

/// The canary's share of the rule with two Aviary target groups (`av-…`), in percent.
fn canary_share(rules: &[RuleSnapshot]) -> Option<f64> {
    let rule = rules.iter().find(|r| r.forward.iter().filter(|t| t.target_group_arn.contains("/av-")).count() == 2)?;
    let total: u32 = rule.forward.iter().map(|t| t.weight).sum();
    let canary = rule.forward.iter().find(|t| t.target_group_arn.contains("-c/"))?.weight;
    Some(f64::from(canary) * 100.0 / f64::from(total))
}

#[test]
fn local_up_then_deploy_events_traffic_destroy_s3_and_cleanup() {
    let started = Instant::now();
    let up = start("lifecycle", false);
    let dir = up.dir.clone();
    let (endpoint, emulator, listener, sample) = (up.field("endpoint"), up.field("emulator"), up.field("listenerArn"), up.field("sampleDir"));
    let rt = tokio::runtime::Runtime::new().unwrap();
    let before = rt.block_on(rules(&emulator, &listener));
    assert!(canary_share(&before).is_none());

    // The environment as the API describes it: the sample ALB and its listener.
    let env = ok(aviary(&endpoint, &["env"]), "env");
    assert!(env.contains("prod-alb") && env.contains(&listener), "{env}");

    // A listener the installation cannot see is refused before anything is uploaded.
    let typo = dir.join("typo");
    std::fs::create_dir_all(&typo).unwrap();
    for f in ["compose.yml", "baseline.tar", "canary.tar"] {
        std::fs::copy(Path::new(&sample).join(f), typo.join(f)).unwrap();
    }
    let mut spec: serde_json::Value = serde_json::from_slice(&std::fs::read(Path::new(&sample).join("aviary.json")).unwrap()).unwrap();
    let mut wrong = listener.clone();
    let last = wrong.pop().unwrap();
    wrong.push(if last == '0' { '1' } else { '0' });
    spec["listenerArn"] = wrong.into();
    std::fs::write(typo.join("aviary.json"), serde_json::to_vec(&spec).unwrap()).unwrap();
    let o = aviary(&endpoint, &["deploy", typo.to_str().unwrap(), "--poll-ms", "100", "--timeout", "10"]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let text = String::from_utf8_lossy(&o.stderr);
    assert!(text.contains("not a listener this installation can see") && text.contains("aviary env") && text.contains(&listener), "{text}");
    assert_eq!(text.lines().filter(|l| !l.trim().is_empty()).count(), 1, "one line: {text}");
    assert!(!String::from_utf8_lossy(&o.stdout).contains("uploading"), "{o:?}");
    assert_eq!(json(aviary(&endpoint, &["--json", "ls"]), "ls").as_array().unwrap().len(), 0);

    // Deploy through the API: uploads, POST /deployments, followed until ACTIVE.
    let out = ok(aviary(&endpoint, &["deploy", &sample, "--poll-ms", "100", "--timeout", "60"]), "deploy");
    assert!(out.contains("is ACTIVE"), "{out}");
    let list = json(aviary(&endpoint, &["--json", "ls"]), "ls");
    json_shapes::check("ls", &list);
    let items = list.as_array().unwrap();
    assert_eq!(items.len(), 1, "exactly one deployment (the uploads must not start another): {list}");
    let id = items[0]["id"].as_str().unwrap().to_string();
    assert_eq!(items[0]["status"], "ACTIVE");
    assert_eq!(rt.block_on(rules(&emulator, &listener)).len(), before.len() + 1);
    assert_eq!(canary_share(&rt.block_on(rules(&emulator, &listener))), Some(5.0));

    // Real requests through the sample listener's rules: the canary answers its share.
    assert!(up.field("dataPlaneUrl").starts_with("http://127.0.0.1:"), "{}", up.state);
    let sf = up.state_file.to_str().unwrap();
    let loaded = json(aviary(&endpoint, &["--json", "local", "load", "--seconds", "2", "--state-file", sf]), "local load");
    json_shapes::check("local load", &loaded);
    let rows = loaded.as_array().unwrap();
    let by = |prefix: &str, suffix: &str| rows.iter().filter(|r| r["targetGroup"].as_str().is_some_and(|g| g.starts_with(prefix) && g.ends_with(suffix))).map(|r| r["requests"].as_u64().unwrap()).sum::<u64>();
    let (prod, canary) = (by("prod-web", ""), by("av-", "-c"));
    assert!(prod > 0 && canary > 0 && canary < prod, "requests per group: {loaded}");

    // The live verdict: undecided right after activation (no period has closed); --json lines.
    let o = aviary(&endpoint, &["--json", "watch", &id, "--interval", "1", "--timeout", "0"]);
    assert_eq!(o.status.code(), Some(3), "no decision within the timeout: {o:?}");
    let line: serde_json::Value = serde_json::from_str(String::from_utf8_lossy(&o.stdout).lines().next().unwrap()).unwrap();
    assert_eq!((line["deploymentId"].as_str(), line["decision"].as_str()), (Some(id.as_str()), Some("no-difference-yet")), "{line}");
    json_shapes::check("watch", &line);
    let o = ok_code(aviary(&endpoint, &["watch", &id, "--interval", "1", "--timeout", "0"]), 3, "watch");
    assert!(o.contains("no-difference-yet") && o.contains("no decision within 0 s"), "{o}");

    // A re-run returns the same deployment and uploads nothing.
    let again = ok(aviary(&endpoint, &["deploy", &sample, "--poll-ms", "100"]), "deploy again");
    assert!(again.contains(&format!("deployment {id} already exists")) && !again.contains("uploaded"), "{again}");

    let events = ok(aviary(&endpoint, &["events", &id]), "events");
    for step in ["admission", "provision", "register-targets", "add-listener-rule", "check-health"] {
        assert!(events.contains(step), "no {step} event in\n{events}");
    }
    let ndjson = ok(aviary(&endpoint, &["--json", "events", &id]), "events --json");
    for l in ndjson.lines() {
        json_shapes::check("events", &serde_json::from_str(l).unwrap_or_else(|e| panic!("events --json line is not JSON ({e}): {l}")));
    }
    let shown = json(aviary(&endpoint, &["--json", "status", &id]), "status --json");
    json_shapes::check("status", &shown);
    assert_eq!(shown["weights"].as_array().map(|w| w.len()), Some(3), "production, baseline, canary: {shown}");
    let env = json(aviary(&endpoint, &["--json", "env"]), "env --json");
    json_shapes::check("env", &env);
    let rules_json = &env["loadBalancers"][0]["listeners"][0]["rules"];
    assert!(rules_json.as_array().is_some_and(|r| r.iter().any(|r| r["priority"].is_null() && r["isDefault"] == true)), "{rules_json}");

    // Live traffic control: the ALB rule itself changes.
    // A change that sends the canary more traffic needs --yes without a terminal; nothing
    // changes without it, and a plain condition flag must say it replaces the conditions.
    let refused = aviary(&endpoint, &["traffic", &id, "--percent", "10"]);
    assert_eq!(refused.status.code(), Some(1), "{refused:?}");
    let text = String::from_utf8_lossy(&refused.stderr);
    assert!(text.contains("share grows from 5% to 10%") && text.contains("--yes") && text.contains("nothing changed"), "{text}");
    assert!(String::from_utf8_lossy(&refused.stdout).contains("5% → 10%"), "before → after shown: {refused:?}");
    assert_eq!(canary_share(&rt.block_on(rules(&emulator, &listener))), Some(5.0));
    let replaced = aviary(&endpoint, &["traffic", &id, "--path", "/api/*", "--yes"]);
    assert_eq!(replaced.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&replaced.stderr).contains("--replace-conditions"), "{replaced:?}");
    let missing = aviary(&endpoint, &["traffic", &id, "--remove-path", "/nowhere/*"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no path condition '/nowhere/*'"), "{missing:?}");
    let o = aviary(&endpoint, &["--json", "traffic", &id, "--percent", "10", "--add-path", "/api/*", "--sticky", "120", "--yes"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("share       5% → 10%"), "the plan goes to stderr beside --json: {o:?}");
    let changed = json(o, "traffic");
    json_shapes::check("traffic", &changed);
    assert_eq!(changed["traffic"]["canaryPercent"], 10.0, "{changed}");
    let during = rt.block_on(rules(&emulator, &listener));
    assert_eq!(canary_share(&during), Some(10.0));
    let rule = during.iter().find(|r| r.forward.len() == 3).unwrap();
    assert!(rule.conditions.iter().any(|c| c.contains("/api/*")), "{:?}", rule.conditions);
    assert_eq!(rule.stickiness_seconds, Some(120));
    let status = ok(aviary(&endpoint, &["status", &id]), "status");
    assert!(status.contains("canary") && status.contains("10%") && status.contains("path /api/*"), "{status}");
    // The Grafana login: only with --credentials, once the monitor stored it.
    let missing = aviary(&endpoint, &["status", &id, "--credentials"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("not stored its Grafana password yet"), "{missing:?}");
    rt.block_on(store_monitor_password(&emulator, &id, "pw-from-the-monitor"));
    let login = ok(aviary(&endpoint, &["status", &id, "--credentials"]), "status --credentials");
    assert!(login.contains("grafana password") && login.contains("pw-from-the-monitor"), "{login}");
    assert!(!ok(aviary(&endpoint, &["status", &id]), "status").contains("pw-from-the-monitor"));
    let login = json(aviary(&endpoint, &["--json", "status", &id, "--credentials"]), "status --credentials --json");
    assert_eq!(login["grafana"]["password"], "pw-from-the-monitor");
    json_shapes::check("status --credentials", &login);

    // Destroy, waiting: DESTROYED, and the listener is exactly as before.
    let destroyed = ok(aviary(&endpoint, &["destroy", &id, "--wait", "--poll-ms", "100", "--timeout", "60"]), "destroy");
    assert!(destroyed.contains(&format!("{id} is DESTROYED")), "{destroyed}");
    assert_eq!(rt.block_on(rules(&emulator, &listener)), before);
    // Teardown deleted the secret with everything else.
    let gone = aviary(&endpoint, &["status", &id, "--credentials"]);
    assert!(String::from_utf8_lossy(&gone.stderr).contains("its monitor and secrets are gone"), "{gone:?}");
    let followed = ok(aviary(&endpoint, &["events", &id, "--follow", "--poll-ms", "100"]), "events --follow");
    assert!(followed.contains("teardown") && followed.contains(&format!("{id} is DESTROYED")), "{followed}");
    let o = aviary(&endpoint, &["traffic", &id, "--percent", "5"]);
    assert_eq!(o.status.code(), Some(2), "traffic on a destroyed canary is a 409");

    // Straight to S3: the canary tarball upload starts the deployment.
    let bucket = up.field("bucket");
    let s3 = json(
        aviary(&endpoint, &["--json", "deploy", &sample, "--s3-bucket", &bucket, "--s3-endpoint", &emulator, "--poll-ms", "100", "--timeout", "60"]),
        "deploy --s3-bucket",
    );
    assert_eq!(s3["status"], "ACTIVE");
    json_shapes::check("deploy", &s3);
    assert_eq!(s3["source"]["kind"], "s3");
    let s3_id = s3["id"].as_str().unwrap().to_string();
    assert_ne!(s3_id, id);
    // Without --wait, --json is the deployment too (not a different acknowledgement shape).
    let asked = json(aviary(&endpoint, &["--json", "destroy", &s3_id]), "destroy s3");
    assert_eq!(asked["id"].as_str(), Some(s3_id.as_str()));
    assert!(asked["spec"].is_object() && asked["status"].is_string(), "{asked}");
    json_shapes::check("destroy", &asked);
    let gone = json(aviary(&endpoint, &["--json", "destroy", &s3_id, "--wait", "--poll-ms", "100", "--timeout", "60"]), "destroy s3");
    assert_eq!(gone["status"], "DESTROYED");
    json_shapes::check("destroy", &gone);
    assert_eq!(rt.block_on(rules(&emulator, &listener)), before);

    // Cleanup on demand, inside the running `local up`.
    let report = json(
        Command::new(BIN).args(["--json", "local", "cleanup", "--dry-run", "--state-file"]).arg(&up.state_file).output().unwrap(),
        "local cleanup",
    );
    assert_eq!(report["dryRun"], true);
    json_shapes::check("local cleanup", &report);
    assert!(report["actions"].is_array());

    // Ctrl-C: stops, removes its state file, exits 0.
    up.interrupt();
    let mut up = up;
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(s) = up.child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "local up did not stop on SIGINT");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "local up exited with {status}");
    assert!(!up.state_file.exists());
    let log = std::fs::read_to_string(dir.join("local-up.log")).unwrap();
    assert!(log.contains("Aviary is running locally") && log.contains("s3-trigger: canaries/web/canary.tar -> started"), "{log}");
    assert!(started.elapsed() < Duration::from_secs(90), "took {:?}", started.elapsed());
}

/// `aviary demo --json` (rules only: `--fault off`): one document with the documented fields.
#[test]
fn demo_json_is_one_document_with_the_documented_fields() {
    let o = Command::new(BIN)
        .args(["--json", "demo", "--fault", "off", "--change-to", "0", "--time-scale", "0.002"])
        .current_dir(std::env::temp_dir())
        .output()
        .expect("run aviary demo");
    let report = json(o, "demo --json");
    json_shapes::check("demo", &report);
    assert_eq!(report["finalStatus"], "DESTROYED");
    assert_eq!(report["listenerRestored"], true);
}

/// `aviary --json local up`: the state file's document on stdout, with the documented fields.
#[test]
fn local_up_json_prints_its_state() {
    let up = start("json", true);
    let deadline = Instant::now() + Duration::from_secs(10);
    let printed: serde_json::Value = loop {
        match serde_json::from_slice(&std::fs::read(up.dir.join("local-up.json")).unwrap()) {
            Ok(v) => break v,
            Err(e) => assert!(Instant::now() < deadline, "local up --json printed no JSON: {e}"),
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    json_shapes::check("local up", &printed);
    assert_eq!(printed, up.state);
}

/// `--stack NAME`: the endpoint is the stack's `ApiUrl` output, read from CloudFormation (here
/// the emulator's, through `AWS_ENDPOINT_URL`), and the flag beats `AVIARY_ENDPOINT`. A missing
/// stack and a stack without the output are one line each, exit 2.
#[test]
fn stack_names_the_endpoint_through_its_api_url_output() {
    let up = start("stack", false);
    let (endpoint, emulator) = (up.field("endpoint"), up.field("emulator"));
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let config = aviary_local::stack::sdk_config(&emulator).await;
        let cfn = aws_sdk_cloudformation::Client::new(&config);
        for (name, outputs) in [
            ("aviary-e2e", serde_json::json!({"ApiUrl": {"Value": format!("{endpoint}/")}, "Other": {"Value": "x"}})),
            ("not-aviary", serde_json::json!({"Other": {"Value": "x"}})),
        ] {
            let template = serde_json::json!({
                "Resources": {"Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": format!("{name}-q")}}},
                "Outputs": outputs,
            });
            cfn.create_stack().stack_name(name).template_body(template.to_string()).send().await.expect("create the stack");
        }
    });
    let command = |args: &[&str]| {
        let mut c = aviary_command(args);
        c.env("AVIARY_ENDPOINT", "http://127.0.0.1:9") // the flag must win over it
            .env_remove("AVIARY_STACK")
            .env("AWS_ENDPOINT_URL", &emulator);
        c
    };
    let run = |args: &[&str]| command(args).output().expect("run aviary");
    let listed = json(run(&["--stack", "aviary-e2e", "--json", "ls"]), "ls through --stack");
    assert!(listed.as_array().is_some(), "{listed}");
    let env = ok(run(&["env", "--stack", "aviary-e2e"]), "env through --stack after the command");
    assert!(env.contains(&up.field("listenerArn")), "{env}");

    // The console finds the API the same way: its proxied calls reach the stack's endpoint.
    let mut console = command(&["console", "--port", "0", "--stack", "aviary-e2e"]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("start the console");
    let mut first = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(console.stdout.take().unwrap()), &mut first).unwrap();
    let url = first.strip_prefix("Aviary console: ").and_then(|r| r.split_whitespace().next()).unwrap_or_else(|| panic!("console said: {first:?}")).trim_end_matches('/').to_string();
    let proxied = rt.block_on(async { reqwest::get(format!("{url}/api/deployments")).await.expect("ask the console").json::<serde_json::Value>().await });
    let _ = console.kill();
    let _ = console.wait();
    let proxied = proxied.expect("the console answers the API's JSON");
    assert!(proxied["items"].is_array(), "a page of deployments: {proxied}");

    let o = run(&["--stack", "no-such-stack", "ls"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: stack 'no-such-stack': no such stack in us-east-1"), "{err}");

    let o = run(&["--stack", "not-aviary", "ls"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("stack 'not-aviary': it has no ApiUrl output (status CREATE_COMPLETE in us-east-1)"), "{err}");
}

/// The processes whose parent is `pid`, with their command names (Linux `/proc`).
fn children_of(pid: u32) -> Vec<(u32, String)> {
    let mut out = vec![];
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{child}/stat")) else { continue };
        // "pid (comm) state ppid …": the name may hold spaces, so split after its last ')'.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else { continue };
        let ppid = stat[close + 1..].split_whitespace().nth(1).and_then(|p| p.parse::<u32>().ok());
        if ppid == Some(pid) {
            out.push((child, stat[open + 1..close].to_string()));
        }
    }
    out
}

/// Gone, or a zombie nobody reaps: it runs no more.
fn has_ended(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat.rfind(')').and_then(|i| stat[i + 1..].split_whitespace().next().map(|s| s == "Z" || s == "X")).unwrap_or(true),
        Err(_) => true,
    }
}

/// `aviary local up` killed outright (SIGKILL: nothing of it runs, no destructor) leaves no
/// emulator and no sample-app process behind.
#[test]
fn local_up_killed_outright_leaves_no_process_behind() {
    let mut up = start("killed", false);
    let pid = up.child.id();
    let children = children_of(pid);
    let names: Vec<&str> = children.iter().map(|(_, n)| n.as_str()).collect();
    assert!(names.iter().filter(|n| n.starts_with("aviary-sample")).count() >= 2, "the sample environment's production processes: {children:?}");
    assert!(names.iter().any(|n| n.starts_with("python") || n.starts_with("moto")), "the emulator: {children:?}");
    up.child.kill().unwrap();
    up.child.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let running: Vec<&(u32, String)> = children.iter().filter(|(p, _)| !has_ended(*p)).collect();
        if running.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "still running 10 s after `local up` was killed: {running:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}
