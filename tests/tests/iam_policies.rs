//! The lifecycle with each function's own permissions, as infra/template.yaml grants them.
//!
//! moto can enforce IAM: after `POST /moto-api/reset-auth`, every request must be signed by a
//! known access key and the signer's policies must allow the action. `tests/infra/moto_iam.py`
//! gives each function an IAM user whose policy is its template role's (actions exactly, S3
//! resources exactly; other resources widened to "*" and conditions dropped, because moto
//! checks neither: see that file's doc). Then s3-trigger, the API, the five workflow steps and
//! cleanup each run on their own key. A missing grant fails a step with AccessDenied, which the
//! second test proves by taking one away.

mod api_support;

use std::process::Command;
use std::time::Duration;

use api_support::{call, Api};
use aviary_core::status::Status;
use aviary_lifecycle::cleanup::{run_cleanup, CleanupOptions};
use aviary_local::moto::Moto;
use aviary_local::runtime::LocalOptions;
use aviary_local::stack::StackNames;
use serde_json::{json, Value};

const INSTALLATION: &str = "aviary-iam";
/// The functions whose calls the emulator lifecycle makes (analyze reads CloudWatch, which moto
/// cannot serve to the Rust SDK; see tests/analysis.rs).
const FUNCTIONS: [&str; 8] = ["s3-trigger", "api", "provision", "register-targets", "add-listener-rule", "check-health", "teardown", "cleanup"];

fn names() -> StackNames {
    StackNames {
        table: format!("{INSTALLATION}-deployments"),
        // Named as the template names it, so S3 statements apply unchanged.
        bucket: format!("{INSTALLATION}-artifacts-123456789012-us-east-1"),
        queue: format!("{INSTALLATION}-artifact-events"),
        instance_profile: format!("{INSTALLATION}-instance"),
        monitor_instance_profile: format!("{INSTALLATION}-monitor-instance"),
        installation: INSTALLATION.into(),
    }
}

fn moto_iam(endpoint: &str, extra: &[&str], admin: Option<(&str, &str)>) -> Value {
    let root = aviary_local::moto::project_root();
    let mut cmd = Command::new(root.join(".venv/bin/python"));
    cmd.arg(root.join("tests/infra/moto_iam.py")).args(["--endpoint", endpoint, "--installation", INSTALLATION]).args(extra);
    if let Some((k, s)) = admin {
        cmd.env("AWS_ACCESS_KEY_ID", k).env("AWS_SECRET_ACCESS_KEY", s);
    }
    let out = cmd.output().expect("run tests/infra/moto_iam.py");
    assert!(out.status.success(), "moto_iam.py failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("moto_iam.py prints JSON")
}

fn key(v: &Value) -> (String, String) {
    (v["accessKeyId"].as_str().expect("access key").to_string(), v["secretAccessKey"].as_str().expect("secret").to_string())
}

/// An installation on its own emulator, each function on its own key, the harness on an admin
/// key, and the emulator enforcing IAM from now on. Returns the API and the cleanup's and
/// admin's keys.
async fn enforcing() -> (Api, Moto, (String, String), (String, String)) {
    let root = aviary_local::moto::project_root();
    let moto = Moto::start_program(&root, &root.join(".venv/bin/python"), &[root.join("tests/infra/moto_server_iam.py").to_str().unwrap()])
        .await
        .expect("moto with IAM");
    let options = LocalOptions { names: names(), time_scale: 0.002, endpoint: Some(moto.url.clone()), ..Default::default() };
    let mut api = api_support::start(options).await;
    let url = api.rt.moto.url.clone();
    let users = moto_iam(&url, &[], None);
    for f in FUNCTIONS {
        let (k, s) = key(&users["functions"][f]);
        api.rt.run_function_as(f, &k, &s).await;
    }
    let admin = key(&users["admin"]);
    api.rt.act_as(&admin.0, &admin.1).await;
    let cleanup = key(&users["functions"]["cleanup"]);
    let r = reqwest::Client::new().post(format!("{url}/moto-api/reset-auth")).body("0").send().await.expect("reset-auth");
    assert!(r.status().is_success(), "moto did not switch IAM on: {}", r.status());
    // Proof that the emulator now checks: an unknown key is refused.
    let stranger = api.rt.ports_as("AKIAIOSFODNN7EXAMPLE", "wrong").await;
    assert!(stranger.router.rules(&api.env.listener_arn).await.is_err(), "moto accepted an unknown access key: IAM is not enforced");
    (api, moto, cleanup, admin)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lifecycle_runs_with_each_functions_own_policy() {
    let (api, _moto, cleanup_key, _admin) = enforcing().await;

    // s3-trigger (admission) and the whole deploy workflow, from an upload.
    api.rt.upload_canary("web", &api.dir).await.expect("upload");
    let mut id = None;
    for _ in 0..60 {
        if let Some(found) = api.rt.pump(Duration::from_millis(300)).await.expect("pump").into_iter().find_map(|o| o.deployment_id) {
            id = Some(found);
            break;
        }
    }
    let id = id.expect("no S3 event reached s3-trigger");
    let d = api.rt.wait_for(&id, "ACTIVE", Duration::from_secs(60), |s| s == Status::Active || s.is_final()).await.unwrap();
    assert_eq!(d.status, Status::Active, "{:?}", d.status_reason);

    // The API, on its own key, called by an operator (the upload went straight to S3, so the
    // deployment has no owner): read, list, change traffic, environment.
    let mut settings = api.rt.ports.settings.clone();
    settings.guardrails.as_mut().expect("guardrails").ownership.operators.push(api_support::CALLER.into());
    let mut api = api;
    api.rt.set_settings(settings);
    let path = format!("/deployments/{id}");
    let a = call(&api, "GET", &path, None).await;
    assert_eq!(a.status, 200, "{a:?}");
    assert_eq!(call(&api, "GET", "/deployments", None).await.status, 200);
    let a = call(&api, "PATCH", &format!("{path}/traffic"), Some(json!({"trafficPercent": 4}))).await;
    assert_eq!(a.status, 200, "{a:?}");
    let a = call(&api, "GET", "/environment", None).await;
    assert_eq!(a.status, 200, "{a:?}");

    // Cleanup, on its own key: an orphaned security group goes, the live canary stays.
    let ghost = "web-0a0a0a0a01";
    let orphan = api.rt.ports.compute.ensure_security_group(ghost, "app", &api.env.vpc_id, "orphan").await.unwrap();
    let cleanup = api.rt.ports_as(&cleanup_key.0, &cleanup_key.1).await;
    let report = run_cleanup(&cleanup, &CleanupOptions::default()).await.expect("cleanup");
    assert!(report.errors.is_empty(), "{:#?}", report.errors);
    assert!(report.actions.iter().all(|a| a.done), "{:#?}", report.actions);
    assert!(report.for_deployment(ghost).any(|a| a.resource.as_deref().is_some_and(|r| r.contains(&orphan))), "{:#?}", report.actions);
    assert!(report.for_deployment(&id).next().is_none(), "{:#?}", report.actions);

    // DELETE through the API; the teardown workflow on its own key.
    let a = call(&api, "DELETE", &path, None).await;
    assert!(a.status == 202 || a.status == 200, "{a:?}");
    let d = api.wait_final(&id).await;
    assert_eq!(d.status, Status::Destroyed, "{:?}", d.status_reason);
    let compute = &api.rt.ports.compute;
    assert_eq!(compute.instances(&id, None).await.unwrap(), vec![]);
    assert_eq!(compute.aviary_security_groups(None).await.unwrap(), vec![]);
    assert_eq!(api.rt.rules(&api.env.listener_arn).await.unwrap(), api.rules_before, "listener restored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grant_taken_away_fails_the_step_with_access_denied_and_leaves_nothing() {
    let (api, _moto, _cleanup, admin) = enforcing().await;
    // add-listener-rule without CreateRule: the workflow must fail there and tear down.
    moto_iam(&api.rt.moto.url, &["--only", "add-listener-rule", "--drop", "add-listener-rule:elasticloadbalancing:CreateRule"], Some((&admin.0, &admin.1)));

    api.put_artifacts("web").await;
    let a = api_support::invoke(&api, api_support::event("POST", "/deployments", Some(&json!({"spec": api.spec("web")}).to_string()), &[("Idempotency-Key", "iam-denied")])).await;
    assert_eq!(a.status, 201, "{a:?}");
    let id = a.body["id"].as_str().unwrap().to_string();
    let d = api.wait_final(&id).await;
    assert_eq!(d.status, Status::Failed, "{d:?}");
    let reason = d.status_reason.clone().unwrap_or_default();
    assert!(reason.contains("AccessDenied") || reason.contains("not authorized"), "the reason should name the denial: {reason}");
    let compute = &api.rt.ports.compute;
    assert_eq!(compute.instances(&id, None).await.unwrap(), vec![], "instances left after the denied step");
    assert_eq!(compute.aviary_security_groups(None).await.unwrap(), vec![]);
    assert_eq!(api.rt.ports.router.aviary_target_groups().await.unwrap(), vec![]);
    assert_eq!(api.rt.rules(&api.env.listener_arn).await.unwrap(), api.rules_before, "listener restored");
}
