//! `aviary render <spec.json>`: everything Aviary would run on a canary's instances, rendered
//! from the spec for review before deploying — the monitor's files (Prometheus, Grafana,
//! Kayenta, Referee, compose), the monitor's user data, and the baseline and canary user
//! data. Printed with a header per file, or written under `--out DIR`.

use std::path::Path;

use aviary_core::ids::{canary_prefix, deployment_id_for_request};
use aviary_monitoring::{preview_pin, render_all, render_app_user_data, render_monitor_user_data, AppInstanceContext, MonitorContext};
use aviary_core::spec::parse_and_validate;
use serde::Serialize;

use crate::cli::RenderArgs;
use crate::commands::Ctx;
use crate::error::CliError;
use crate::output::{bytes, print_json};

/// One rendered file, by its path in the output tree.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Rendered {
    pub path: String,
    pub mode: u32,
    pub contents: String,
}

/// Every file for a spec: `monitor/<path>` (when monitoring is on), `userdata/monitor.sh`,
/// `userdata/baseline.sh`, `userdata/canary.sh`.
pub fn render_files(spec_bytes: &[u8], spec_path: &str, deployment_id: Option<&str>, region: &str, bucket: &str) -> Result<(String, Vec<Rendered>), CliError> {
    let spec = parse_and_validate(spec_bytes).map_err(|errors| CliError::InvalidSpec { path: spec_path.to_string(), errors })?;
    let id = deployment_id.map(str::to_string).unwrap_or_else(|| deployment_id_for_request(&spec.name, "render"));
    // The stack's name is not known here; the preview names the parameter's place with STACK.
    let ctx = MonitorContext::new(&id, region)
        .with_password_parameter(aviary_core::secrets::parameter_name("STACK", &id, aviary_core::secrets::GRAFANA_PASSWORD));
    let mut out = Vec::new();
    if spec.monitoring.enabled {
        let monitor = render_monitor_user_data(&spec, &ctx)?;
        for f in render_all(&spec, &ctx) {
            out.push(Rendered { path: format!("monitor/{}", f.path), mode: f.mode, contents: f.contents });
        }
        out.push(Rendered { path: "userdata/monitor.sh".into(), mode: 0o644, contents: monitor });
    }
    let prefix = canary_prefix(&spec.name);
    for (role, tarball) in [("baseline", &spec.artifacts.baseline_tarball), ("canary", &spec.artifacts.canary_tarball)] {
        let script = render_app_user_data(&AppInstanceContext {
            deployment_id: id.clone(),
            role: role.into(),
            region: region.to_string(),
            bucket: bucket.to_string(),
            tarball: preview_pin(&format!("{prefix}{tarball}")),
            compose: preview_pin(&format!("{prefix}{}", spec.artifacts.compose_file)),
            app_port: spec.app_port,
        });
        out.push(Rendered { path: format!("userdata/{role}.sh"), mode: 0o644, contents: script });
    }
    Ok((id, out))
}

fn write_file(root: &Path, f: &Rendered) -> Result<(), CliError> {
    let path = root.join(&f.path);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(CliError::write(dir))?;
    }
    std::fs::write(&path, &f.contents).map_err(CliError::write(&path))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(f.mode)).map_err(CliError::write(&path))?;
    }
    Ok(())
}

pub fn run(args: RenderArgs, ctx: Ctx) -> Result<u8, CliError> {
    let bytes_in = std::fs::read(&args.spec).map_err(CliError::read(&args.spec))?;
    let (id, files) = render_files(&bytes_in, &args.spec.display().to_string(), args.deployment_id.as_deref(), &args.region, &args.bucket)?;
    if !files.iter().any(|f| f.path.starts_with("monitor/")) {
        eprintln!("note: monitoring.enabled is false: no monitor instance, so no monitoring files");
    }
    match &args.out {
        Some(dir) => {
            for f in &files {
                write_file(dir, f)?;
            }
            if ctx.json {
                let list: Vec<serde_json::Value> = files
                    .iter()
                    .map(|f| serde_json::json!({"path": dir.join(&f.path).display().to_string(), "mode": format!("{:o}", f.mode), "bytes": f.contents.len()}))
                    .collect();
                print_json(&serde_json::json!({"deploymentId": id, "files": list}));
            } else {
                println!("deployment {id}: {} files written under {}", files.len(), dir.display());
                for f in &files {
                    println!("  {:<60} {:>10}", f.path, bytes(f.contents.len() as u64));
                }
            }
        }
        None if ctx.json => print_json(&serde_json::json!({"deploymentId": id, "files": files})),
        None => {
            for f in &files {
                println!("==> {} (mode {:o}, {}) <==", f.path, f.mode, bytes(f.contents.len() as u64));
                print!("{}", f.contents);
                if !f.contents.ends_with('\n') {
                    println!();
                }
                println!();
            }
        }
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = r#"{"name":"checkout","listenerArn":"arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/shop/50dc6c495c0c9188/f2f7dc8efc522ab2","trafficPercent":10,"appPort":8080,"monitoring":{"appMetricsPath":"/metrics"}}"#;

    #[test]
    fn renders_monitor_files_and_both_app_scripts() {
        let (id, files) = render_files(SPEC.as_bytes(), "spec.json", Some("checkout-0123456789"), "eu-west-1", "bkt").unwrap();
        assert_eq!(id, "checkout-0123456789");
        let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
        for want in ["monitor/compose.yml", "monitor/prometheus/prometheus.yml", "userdata/monitor.sh", "userdata/baseline.sh", "userdata/canary.sh"] {
            assert!(paths.contains(&want), "{want} not in {paths:?}");
        }
        let canary = files.iter().find(|f| f.path == "userdata/canary.sh").unwrap();
        assert!(canary.contents.starts_with("#!/bin/bash") && canary.contents.contains("canaries/checkout/canary.tar"));
        assert!(canary.contents.contains("checkout-0123456789"));
    }

    #[test]
    fn monitoring_off_renders_only_app_scripts() {
        let spec = SPEC.replace(r#""monitoring":{"appMetricsPath":"/metrics"}"#, r#""monitoring":{"enabled":false}"#);
        let (_, files) = render_files(spec.as_bytes(), "spec.json", None, "eu-west-1", "bkt").unwrap();
        assert_eq!(files.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(), vec!["userdata/baseline.sh", "userdata/canary.sh"]);
    }

    #[test]
    fn invalid_spec_and_region_are_usage_errors() {
        let e = render_files(br#"{"name":"Bad!"}"#, "x.json", None, "eu-west-1", "b").unwrap_err();
        assert_eq!(e.exit_code(), 1);
        let e = render_files(SPEC.as_bytes(), "spec.json", None, "moon-1", "b").unwrap_err();
        assert_eq!(e.exit_code(), 1);
        assert!(e.to_string().contains("moon-1"), "{e}");
    }
}
