//! The `aviary` binary without an Aviary stack: the offline judge and renderer, exit codes,
//! local validation (nothing is sent when the canary directory is bad), and SigV4 signing as
//! a server sees it (a loopback server records what arrives).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};

mod support {
    pub mod json_shapes;
}

use support::json_shapes;

const BIN: &str = env!("CARGO_BIN_EXE_aviary");

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn fixture(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(p)
}

/// Runs aviary with a clean environment (no endpoint or AWS settings from the caller).
fn aviary(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(BIN);
    c.args(args).env_remove("AVIARY_ENDPOINT").env_remove("AVIARY_STACK").env("AWS_EC2_METADATA_DISABLED", "true").env("AWS_CONFIG_FILE", "/nonexistent").env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent");
    for k in ["AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION"] {
        c.env_remove(k);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run aviary")
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exit code")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("aviary-cli-offline-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn judge_pass_exits_0_with_the_json_report() {
    let o = aviary(&["judge", fixture("judge/config.json").to_str().unwrap(), fixture("judge/pass.json").to_str().unwrap()], &[]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON on stdout");
    json_shapes::check("judge", &report);
    assert_eq!(report["classification"], "Pass");
    assert_eq!(report["score"], 100.0);
    assert_eq!(report["thresholds"], serde_json::json!({"marginal": 75.0, "pass": 95.0}));
    let metrics = report["metrics"].as_array().unwrap();
    assert_eq!(metrics.len(), 2);
    assert_eq!(metrics[0]["name"], "latency_p50");
    assert_eq!(metrics[0]["label"], "Pass");
    for key in ["groups", "warnings", "tolerance", "confidence"] {
        assert!(report.get(key).is_some(), "report lacks {key}");
    }
}

#[test]
fn judge_fail_exits_2_and_table_format_prints_the_verdict() {
    let config = fixture("judge/config.json");
    let data = fixture("judge/fail.json");
    let o = aviary(&["judge", config.to_str().unwrap(), data.to_str().unwrap()], &[]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["classification"], "Fail");
    assert_eq!(report["metrics"][0]["label"], "High");
    assert_eq!(report["metrics"][0]["critical"], true);

    let o = aviary(&["judge", config.to_str().unwrap(), data.to_str().unwrap(), "--format", "table"], &[]);
    assert_eq!(code(&o), 2);
    let text = stdout(&o);
    assert!(text.starts_with("METRIC") && text.contains("latency_p50  High !critical") && text.contains("→ Fail"), "{text}");
    // The global --output is the same option.
    let o = aviary(&["-o", "table", "judge", config.to_str().unwrap(), data.to_str().unwrap()], &[]);
    assert_eq!((code(&o), stdout(&o)), (2, text));
}

#[test]
fn judge_threshold_override_and_input_errors() {
    let config = fixture("judge/config.json");
    let pass = fixture("judge/pass.json");
    // Explicit thresholds win over the config's.
    let o = aviary(&["judge", config.to_str().unwrap(), pass.to_str().unwrap(), "--marginal", "10", "--pass", "20"], &[]);
    assert_eq!(code(&o), 0);
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["thresholds"], serde_json::json!({"marginal": 10.0, "pass": 20.0}));
    // Unreadable or invalid inputs, bad thresholds and bad usage are 4, never a verdict code.
    let dir = tmp("judge-bad");
    std::fs::write(dir.join("bad.json"), "{ not json").unwrap();
    for args in [
        vec!["judge", config.to_str().unwrap(), "/nonexistent/data.json"],
        vec!["judge", dir.join("bad.json").to_str().unwrap(), pass.to_str().unwrap()],
        vec!["judge", config.to_str().unwrap(), pass.to_str().unwrap(), "--marginal", "90", "--pass", "50"],
        vec!["judge", config.to_str().unwrap()],
        vec!["judge", config.to_str().unwrap(), pass.to_str().unwrap(), "--pass", "50"],
    ] {
        let o = aviary(&args, &[]);
        assert_eq!(code(&o), 4, "{args:?}: {}", stderr(&o));
        assert!(o.stdout.is_empty(), "{args:?} printed a report");
    }
}

#[test]
fn render_prints_every_file_or_writes_them() {
    let spec = root().join("tests/fixtures/monitoring/spec.json");
    let o = aviary(&["render", spec.to_str().unwrap(), "--deployment-id", "checkout-0123456789"], &[]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    for header in [
        "==> monitor/compose.yml",
        "==> monitor/prometheus/prometheus.yml",
        "==> userdata/monitor.sh",
        "==> userdata/baseline.sh",
        "==> userdata/canary.sh",
    ] {
        assert!(text.contains(header), "missing {header}");
    }
    assert!(text.contains("checkout-0123456789") && text.contains("canaries/checkout/canary.tar"));
    let o = aviary(&["--json", "render", spec.to_str().unwrap(), "--deployment-id", "checkout-0123456789"], &[]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    json_shapes::check("render", &serde_json::from_slice(&o.stdout).expect("JSON on stdout"));

    let out = tmp("render");
    let o = aviary(&["--json", "render", spec.to_str().unwrap(), "--out", out.to_str().unwrap(), "--region", "us-west-2"], &[]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let listing: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let files = listing["files"].as_array().unwrap();
    assert!(files.len() >= 5);
    for f in files {
        let p = PathBuf::from(f["path"].as_str().unwrap());
        assert_eq!(std::fs::metadata(&p).unwrap().len(), f["bytes"].as_u64().unwrap(), "{}", p.display());
    }
    let canary = std::fs::read_to_string(out.join("userdata/canary.sh")).unwrap();
    assert!(canary.starts_with("#!/bin/bash") && canary.contains("us-west-2"));
    assert!(out.join("monitor/compose.yml").is_file());

    let o = aviary(&["render", root().join("Cargo.toml").to_str().unwrap()], &[]);
    assert_eq!(code(&o), 1, "a non-spec is a validation error");
}

/// What the recorder saw: request line, lowercase headers, body.
type Seen = (String, Vec<(String, String)>, Vec<u8>);

/// A loopback HTTP server that records every request and answers each with `reply`.
struct Recorder {
    url: String,
    requests: Arc<Mutex<Vec<Seen>>>,
}

fn recorder(status: u16, body: &'static str) -> Recorder {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = requests.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                continue;
            }
            let mut headers = Vec::new();
            loop {
                let mut h = String::new();
                reader.read_line(&mut h).unwrap();
                let h = h.trim_end();
                if h.is_empty() {
                    break;
                }
                let (k, v) = h.split_once(':').unwrap();
                headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
            }
            let len = headers.iter().find(|(k, _)| k == "content-length").map(|(_, v)| v.parse().unwrap()).unwrap_or(0);
            let mut body_in = vec![0u8; len];
            reader.read_exact(&mut body_in).unwrap();
            seen.lock().unwrap().push((line.trim_end().to_string(), headers, body_in));
            let reply = format!("HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len());
            let _ = stream.write_all(reply.as_bytes());
        }
    });
    Recorder { url, requests }
}

const NOT_FOUND: &str = r#"{"error":"NotFound","message":"deployment web-0000000000 not found"}"#;

#[test]
fn requests_are_sigv4_signed_with_the_credential_chain() {
    let server = recorder(404, NOT_FOUND);
    let creds = [("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"), ("AWS_SECRET_ACCESS_KEY", "secret"), ("AWS_SESSION_TOKEN", "session-token")];
    let o = aviary(&["--endpoint", &server.url, "--sign", "--region", "eu-west-1", "status", "web-0000000000"], &creds);
    assert_eq!(code(&o), 2, "not found is an API error: {}", stderr(&o));
    assert!(stderr(&o).contains("deployment web-0000000000 not found"), "{}", stderr(&o));
    let reqs = server.requests.lock().unwrap().clone();
    assert_eq!(reqs.len(), 1);
    let (line, headers, _) = &reqs[0];
    assert_eq!(line, "GET /deployments/web-0000000000 HTTP/1.1");
    let h = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone()).unwrap_or_else(|| panic!("no {n} header"));
    let date = h("x-amz-date");
    assert_eq!(date.len(), 16, "{date}");
    assert_eq!(h("x-amz-security-token"), "session-token");
    let auth = h("authorization");
    let prefix = format!("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/{}/eu-west-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=", &date[..8]);
    assert!(auth.starts_with(&prefix), "{auth}");
    let sig = &auth[prefix.len()..];
    assert!(sig.len() == 64 && sig.chars().all(|c| c.is_ascii_hexdigit()), "{sig}");
    assert_eq!(h("host"), server.url.trim_start_matches("http://"));
}

#[test]
fn loopback_endpoints_are_not_signed_by_default_and_missing_credentials_fail_cleanly() {
    let server = recorder(200, r#"{"items":[]}"#);
    let o = aviary(&["--endpoint", &server.url, "ls"], &[]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout(&o).trim(), "no deployments");
    let reqs = server.requests.lock().unwrap().clone();
    assert_eq!(reqs[0].0, "GET /deployments?limit=50 HTTP/1.1");
    assert!(reqs[0].1.iter().all(|(k, _)| k != "authorization"));

    // Signing with no credentials anywhere: an error before anything is sent.
    let before = server.requests.lock().unwrap().len();
    let o = aviary(&["--endpoint", &server.url, "--sign", "--region", "eu-west-1", "ls"], &[]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("credentials"), "{}", stderr(&o));
    assert_eq!(server.requests.lock().unwrap().len(), before);

    // An unknown profile is named as such, from the flag or from AWS_PROFILE, in one line.
    let config = tmp("aws-config").join("config");
    std::fs::write(&config, "[default]\nregion = eu-west-1\n[profile team]\nregion = eu-west-1\n").unwrap();
    let cfg = config.to_str().unwrap();
    let o = aviary(&["--endpoint", &server.url, "--sign", "--profile", "nosuch", "ls"], &[("AWS_CONFIG_FILE", cfg)]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let text = stderr(&o);
    assert!(text.contains("AWS profile 'nosuch' (from --profile) is not defined in") && text.contains(cfg), "{text}");
    assert_eq!(text.trim().lines().count(), 1, "{text}");
    let o = aviary(&["--endpoint", &server.url, "--sign", "ls"], &[("AWS_CONFIG_FILE", cfg), ("AWS_PROFILE", "typo")]);
    assert!(stderr(&o).contains("AWS profile 'typo' (from AWS_PROFILE)"), "{}", stderr(&o));
    // A defined profile gets past the check (and then lacks credentials here).
    let o = aviary(&["--endpoint", &server.url, "--sign", "--profile", "team", "ls"], &[("AWS_CONFIG_FILE", cfg)]);
    assert!(!stderr(&o).contains("is not defined"), "{}", stderr(&o));
    // The console signs with the same profile as every other command: an unknown one is refused
    // before it serves anything (it used to take the default chain and serve on).
    let mut console = Command::new(BIN)
        .args(["console", "--port", "0", "--endpoint", &server.url, "--sign", "--profile", "nosuch"])
        .env("AWS_CONFIG_FILE", cfg)
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run aviary console");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while console.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = console.kill();
            panic!("aviary console --profile nosuch kept serving instead of refusing the profile");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let o = console.wait_with_output().unwrap();
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("AWS profile 'nosuch' (from --profile) is not defined in"), "{}", stderr(&o));
    assert_eq!(server.requests.lock().unwrap().len(), before, "nothing was sent");
}

fn sample_dir(name: &str, spec: serde_json::Value) -> PathBuf {
    use aviary_docker_save::{build_image, BuildOptions, Layout};
    let d = tmp(name);
    std::fs::write(d.join("aviary.json"), serde_json::to_vec_pretty(&spec).unwrap()).unwrap();
    std::fs::write(d.join("baseline.tar"), build_image(&BuildOptions::new(Layout::Legacy, "app:1.0"))).unwrap();
    std::fs::write(d.join("canary.tar"), build_image(&BuildOptions::new(Layout::Oci, "app:1.1"))).unwrap();
    std::fs::write(d.join("compose.yml"), "services: {}\n").unwrap();
    d
}

fn valid_spec() -> serde_json::Value {
    serde_json::json!({
        "name": "web",
        "listenerArn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/prod/1/2",
        "trafficPercent": 5, "appPort": 8080
    })
}

#[test]
fn deploy_checks_locally_and_sends_nothing_when_the_directory_is_bad() {
    let server = recorder(500, r#"{"error":"Boom","message":"must not be called"}"#);
    let mut bad = valid_spec();
    bad["trafficPercent"] = 80.into();
    bad["conditions"] = serde_json::json!({"httpMethods": ["get"]});
    let dir = sample_dir("bad-spec", bad);
    let o = aviary(&["--endpoint", &server.url, "deploy", dir.to_str().unwrap()], &[]);
    assert_eq!(code(&o), 1);
    let err = stderr(&o);
    assert!(err.contains("is not a valid deployment spec") && err.contains("trafficPercent:") && err.contains("conditions.httpMethods"), "{err}");

    let dir = sample_dir("bad-tar", valid_spec());
    std::fs::write(dir.join("baseline.tar"), vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0]).unwrap();
    let o = aviary(&["--endpoint", &server.url, "deploy", dir.to_str().unwrap()], &[]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("baseline.tar is not a valid `docker save` tarball"), "{}", stderr(&o));

    let dir = sample_dir("no-compose", valid_spec());
    std::fs::remove_file(dir.join("compose.yml")).unwrap();
    let o = aviary(&["--endpoint", &server.url, "deploy", dir.to_str().unwrap()], &[]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("compose.yml"), "{}", stderr(&o));

    assert!(server.requests.lock().unwrap().is_empty(), "a bad canary directory must not reach the API");
}

#[test]
fn usage_errors_exit_1() {
    let o = aviary(&["ls"], &[]);
    assert_eq!(code(&o), 1, "no endpoint");
    assert!(stderr(&o).contains("AVIARY_ENDPOINT"));
    let o = aviary(&["ls", "--stack", "aviary"], &[]);
    assert_eq!(code(&o), 1, "a stack with no region to look in: {}", stderr(&o));
    assert!(stderr(&o).starts_with("error: no AWS region to find stack 'aviary' in: pass --region"), "{}", stderr(&o));
    assert_eq!(code(&aviary(&["ls", "--stack", "aviary", "--endpoint", "http://127.0.0.1:9"], &[])), 1, "one place, one choice");
    assert_eq!(code(&aviary(&["traffic", "web-1", "--endpoint", "http://127.0.0.1:9"], &[])), 1, "nothing to change");
    assert_eq!(code(&aviary(&["frobnicate"], &[])), 1);
    assert_eq!(code(&aviary(&["ls", "--status", "asleep"], &[])), 1);
    let o = aviary(&["--help"], &[]);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).contains("deploy") && stdout(&o).contains("judge"));
}

#[test]
fn unreachable_api_is_exit_2() {
    // A port nothing listens on.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let o = aviary(&["--endpoint", &format!("http://127.0.0.1:{port}"), "status", "web-0000000000"], &[]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("cannot reach"), "{}", stderr(&o));
}

#[test]
fn demo_and_local_need_the_local_feature() {
    let help = stdout(&aviary(&["--help"], &[]));
    let listed = |c: &str| help.lines().any(|l| l.strip_prefix("  ").and_then(|l| l.split_whitespace().next()) == Some(c));
    if cfg!(feature = "local") {
        assert!(listed("demo") && listed("local"), "{help}");
    } else {
        assert!(!listed("demo") && !listed("local"), "--help must not offer commands this build leaves out:\n{help}");
        for args in [&["demo"][..], &["local", "up", "--port", "0"], &["local", "cleanup", "--dry-run"]] {
            let o = aviary(args, &[]);
            assert_eq!(code(&o), 1, "{args:?}");
            let err = stderr(&o);
            assert!(err.contains("--features local") && err.lines().count() == 1, "{args:?}: {err}");
        }
    }
}

#[cfg(target_os = "linux")]
#[test]
fn output_into_a_closed_pipe_ends_quietly() {
    use std::os::fd::{FromRawFd, OwnedFd};
    use std::os::unix::process::ExitStatusExt;
    // `aviary render … | head -c 16`: the reader goes away long before the output ends. The
    // pipe is shrunk to one page so the output (~58 KB) cannot all fit before the reader closes.
    let mut fds = [0; 2];
    // SAFETY: a fresh pipe whose two descriptors are owned right below (close-on-exec, so the
    // child holds only the write end it is given).
    let (reader, writer) = unsafe {
        assert_eq!(libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC), 0);
        assert!(libc::fcntl(fds[1], libc::F_SETPIPE_SZ, 4096) > 0);
        (std::fs::File::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1]))
    };
    let spec = root().join("tests/fixtures/monitoring/spec.json");
    let mut child = Command::new(BIN)
        .args(["render", spec.to_str().unwrap(), "--deployment-id", "checkout-0123456789"])
        .stdout(Stdio::from(writer))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut head = [0u8; 16];
    let mut reader = reader;
    reader.read_exact(&mut head).unwrap();
    drop(reader);
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    let status = child.wait().unwrap();
    assert!(!err.contains("panicked") && !err.contains("Broken pipe"), "{err}");
    assert!(status.success() || status.signal() == Some(libc::SIGPIPE), "{status:?}");
}

#[test]
fn output_selects_json_aligned_tables_or_tab_separated_text() {
    const ENV: &str = r#"{"loadBalancers": [{"name": "prod-alb", "scheme": "internet-facing", "state": "active", "dnsName": "prod.example.com",
        "listeners": [{"listenerArn": "arn:l", "port": 80, "protocol": "HTTP", "rules": [
            {"priority": 10, "conditions": ["path-pattern:/static/*"], "forward": [{"targetGroupArn": "arn:aws:elasticloadbalancing:r:1:targetgroup/prod-web/x", "weight": 1}]},
            {"priority": null, "isDefault": true, "conditions": [], "forward": [{"targetGroupArn": "arn:aws:elasticloadbalancing:r:1:targetgroup/prod-web/x", "weight": 1}]}]}]}],
        "targetGroups": []}"#;
    let server = recorder(200, ENV);
    let table = aviary(&["--endpoint", &server.url, "env"], &[]);
    assert_eq!(code(&table), 0, "{}", stderr(&table));
    assert!(stdout(&table).contains("PRIORITY") && stdout(&table).contains("10        path-pattern:/static/*"), "{}", stdout(&table));
    let text = aviary(&["--endpoint", &server.url, "-o", "text", "env"], &[]);
    assert!(stdout(&text).contains("    10\tpath-pattern:/static/*\tprod-web=1\t\n"), "{:?}", stdout(&text));
    assert!(!stdout(&text).contains("PRIORITY"), "no header in text: {}", stdout(&text));
    for flags in [&["--json"][..], &["--output", "json"][..], &["-o", "json"][..]] {
        let mut args = vec!["--endpoint", server.url.as_str()];
        args.extend_from_slice(flags);
        args.push("env");
        let o = aviary(&args, &[]);
        let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap_or_else(|e| panic!("{flags:?}: {e}: {}", stdout(&o)));
        assert_eq!(v["loadBalancers"][0]["name"], "prod-alb");
    }
    let o = aviary(&["--endpoint", &server.url, "--json", "-o", "table", "env"], &[]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("--json and --output table disagree"), "{}", stderr(&o));
}

#[test]
fn completions_for_each_shell_and_a_man_page() {
    for (shell, marker) in [("bash", "_aviary()"), ("zsh", "#compdef aviary"), ("fish", "complete -c aviary"), ("powershell", "Register-ArgumentCompleter"), ("elvish", "edit:completion")] {
        let o = aviary(&["completions", shell], &[]);
        assert_eq!(code(&o), 0, "{shell}: {}", stderr(&o));
        let text = stdout(&o);
        assert!(text.contains(marker), "{shell} script lacks {marker}");
        assert!(text.contains("watch") && text.contains("traffic") && text.contains("add-path"), "{shell}: every command and flag");
    }
    assert_eq!(code(&aviary(&["completions", "tcsh"], &[])), 1, "an unknown shell is a usage error");
    let man = aviary(&["man"], &[]);
    assert_eq!(code(&man), 0);
    let text = stdout(&man);
    assert!(text.contains(".TH aviary 1") && text.contains(".SH NAME") && text.contains("watch"), "{text}");
}

#[test]
fn watch_refuses_a_zero_interval_before_any_call() {
    let server = recorder(200, "{}");
    let o = aviary(&["--endpoint", &server.url, "watch", "web-1", "--interval", "0"], &[]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("--interval must be at least 1 second"), "{}", stderr(&o));
    assert!(server.requests.lock().unwrap().is_empty());
}

/// Every command docs/cli.md documents a `--json` shape for is checked against its real output
/// by one of the CLI's tests (`json_shapes::check("<command>", …)`).
#[test]
fn every_documented_json_shape_is_checked_by_a_test() {
    let tests = [include_str!("cli_offline.rs"), include_str!("cli_local_e2e.rs")].concat();
    let documented = json_shapes::documented();
    assert!(documented.len() >= 15, "{documented:?}");
    for (command, _) in documented {
        assert!(tests.contains(&format!("json_shapes::check(\"{command}\"")), "no test checks `{command} --json` against docs/cli.md");
    }
}
