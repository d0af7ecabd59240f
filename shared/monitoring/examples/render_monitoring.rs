//! Writes everything the monitoring code renders for a spec into a directory, for review and
//! for `scripts/checks/monitoring.sh`:
//!
//! ```text
//! render_monitoring <spec.json> <outdir> [--deployment-id ID] [--region R] [--scrape-interval S]
//!     [--static-node BASELINE,CANARY] [--static-app BASELINE,CANARY]
//!     [--target-groups BASELINE,CANARY] [--rate-window W] [--bucket NAME]
//! ```
//!
//! Output: `monitor/…` (the monitor's files), `userdata/{monitor,baseline,canary}.sh`,
//! `promql/rules.yml` (every PromQL expression as a recording rule) and `promql/queries.json`
//! (the same expressions with the roles each must return). `--static-*` switch Prometheus
//! from EC2 discovery to fixed `host:port` targets (the local integration check).

use std::error::Error;
use std::fs;
use std::path::Path;

use aviary_core::ids::{canary_prefix, deployment_id_for_request};
use aviary_monitoring::{
    preview_pin, promql, render_all, render_app_user_data, render_monitor_user_data, AlbDimensions, AppInstanceContext,
    MonitorContext, RoleTargets, ScrapeTargets, StaticTargets,
};
use aviary_core::spec::{describe_errors, parse_and_validate};

#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error("usage: render_monitoring <spec.json> <outdir> [--deployment-id ID] [--region R] [--scrape-interval S] [--static-node B,C] [--static-app B,C] [--target-groups B,C] [--rate-window W] [--bucket NAME]")]
    Usage,
    #[error("{0} needs a value")]
    MissingValue(String),
    #[error("{flag} expects two comma-separated values (baseline,canary), got '{value}'")]
    Pair { flag: String, value: String },
    #[error("invalid spec: {0}")]
    Spec(String),
    #[error("--scrape-interval expects whole seconds, got '{0}'")]
    Interval(String),
}

fn pair(flag: &str, value: &str) -> Result<(String, String), CliError> {
    match value.split_once(',') {
        Some((b, c)) if !b.is_empty() && !c.is_empty() && !c.contains(',') => Ok((b.to_string(), c.to_string())),
        _ => Err(CliError::Pair { flag: flag.into(), value: value.into() }),
    }
}

fn write(path: &Path, contents: &str, mode: u32) -> Result<(), Box<dyn Error>> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    fs::write(path, contents)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(mode))?;
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (spec_path, out) = match (args.first(), args.get(1)) {
        (Some(s), Some(o)) if !s.starts_with("--") && !o.starts_with("--") => (s.clone(), o.clone()),
        _ => return Err(CliError::Usage.into()),
    };
    let spec = parse_and_validate(&fs::read(&spec_path)?).map_err(|e| CliError::Spec(describe_errors(&e)))?;

    let mut deployment_id = deployment_id_for_request(&spec.name, "render");
    let mut region = "eu-west-1".to_string();
    let mut bucket = "aviary-artifacts-example".to_string();
    let mut rate_window = "5m".to_string();
    let mut interval = 15;
    let mut node = None;
    let mut app = None;
    let mut tgs = None;
    let mut it = args[2..].iter();
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| CliError::MissingValue(flag.clone()))?;
        match flag.as_str() {
            "--deployment-id" => deployment_id = value.clone(),
            "--region" => region = value.clone(),
            "--bucket" => bucket = value.clone(),
            "--rate-window" => rate_window = value.clone(),
            "--scrape-interval" => interval = value.parse().map_err(|_| CliError::Interval(value.clone()))?,
            "--static-node" => node = Some(pair(flag, value)?),
            "--static-app" => app = Some(pair(flag, value)?),
            "--target-groups" => tgs = Some(pair(flag, value)?),
            _ => return Err(CliError::Usage.into()),
        }
    }

    let mut ctx = MonitorContext::new(&deployment_id, &region).with_password_parameter(aviary_core::secrets::parameter_name(
        "aviary",
        &deployment_id,
        aviary_core::secrets::GRAFANA_PASSWORD,
    ));
    ctx.scrape_interval_seconds = interval;
    if node.is_some() || app.is_some() {
        let targets = |p: Option<(String, String)>| match p {
            Some((b, c)) => RoleTargets { baseline: vec![b], canary: vec![c] },
            None => RoleTargets::default(),
        };
        ctx.targets = ScrapeTargets::Static(StaticTargets { node: targets(node), app: targets(app) });
    }
    if let Some((b, c)) = tgs {
        ctx.alb = AlbDimensions::Known { baseline_target_group: b, canary_target_group: c };
    }

    let out = Path::new(&out);
    let files = render_all(&spec, &ctx);
    for f in &files {
        write(&out.join("monitor").join(&f.path), &f.contents, f.mode)?;
    }
    let monitor = render_monitor_user_data(&spec, &ctx)?;
    write(&out.join("userdata/monitor.sh"), &monitor, 0o644)?;
    let mut sizes = vec![("monitor", monitor.len())];
    for (role, tarball) in [("baseline", &spec.artifacts.baseline_tarball), ("canary", &spec.artifacts.canary_tarball)]
    {
        let prefix = canary_prefix(&spec.name);
        let script = render_app_user_data(&AppInstanceContext {
            deployment_id: deployment_id.clone(),
            role: role.into(),
            region: region.clone(),
            bucket: bucket.clone(),
            tarball: preview_pin(&format!("{prefix}{tarball}")),
            compose: preview_pin(&format!("{prefix}{}", spec.artifacts.compose_file)),
            app_port: spec.app_port,
        });
        write(&out.join(format!("userdata/{role}.sh")), &script, 0o644)?;
        sizes.push((role, script.len()));
    }
    let exprs = promql::extract(&files, &deployment_id, &rate_window)?;
    write(&out.join("promql/rules.yml"), &promql::recording_rules(&exprs), 0o644)?;
    write(&out.join("promql/queries.json"), &serde_json::to_string_pretty(&exprs)?, 0o644)?;

    println!("deployment {deployment_id}: {} files, {} PromQL expressions", files.len(), exprs.len());
    for (what, bytes) in sizes {
        println!("user data {what}: {bytes} bytes");
    }
    Ok(())
}
