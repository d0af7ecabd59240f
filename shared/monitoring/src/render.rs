//! Entry points: every monitor file, the monitor's user data, and the links to its tools.

use super::canary_config::render_canary_config;
use super::compose::render_compose;
use super::context::{load_balancer_dimension, MonitorContext};
use super::dashboard::render_dashboard;
use super::error::MonitoringError;
use super::grafana::{render_dashboard_provider, render_datasources, DASHBOARD_FILE};
use super::kayenta::render_kayenta_yml;
use super::prometheus::render_prometheus_yml;
use super::{post_start, referee, userdata};
use super::{GRAFANA_PORT, KAYENTA_PORT, PROMETHEUS_PORT, REFEREE_PORT, USER_DATA_LIMIT_BYTES};
use aviary_core::model::MonitoringLinks;
use aviary_core::spec::DeploymentSpec;

pub use super::rendered::RenderedFile;

/// Every file of the monitor stack. Pure and infallible: values are escaped wherever they are
/// embedded; [`validate`] says whether the result can work.
pub fn render_all(spec: &DeploymentSpec, ctx: &MonitorContext) -> Vec<RenderedFile> {
    let json = |v: serde_json::Value| {
        // Compact: the dashboard is embedded in size-limited user data.
        let mut s = v.to_string();
        s.push('\n');
        s
    };
    vec![
        RenderedFile::new("compose.yml", render_compose(ctx), 0o644),
        RenderedFile::new("prometheus/prometheus.yml", render_prometheus_yml(spec, ctx), 0o644),
        RenderedFile::new("grafana/provisioning/datasources/aviary.yml", render_datasources(ctx), 0o644),
        RenderedFile::new("grafana/provisioning/dashboards/aviary.yml", render_dashboard_provider(), 0o644),
        RenderedFile::new(&format!("grafana/dashboards/{DASHBOARD_FILE}"), json(render_dashboard(spec, ctx)), 0o644),
        RenderedFile::new("kayenta/kayenta.yml", render_kayenta_yml(ctx), 0o644),
        RenderedFile::new("kayenta/canary-config.json", json(render_canary_config(spec, ctx)), 0o644),
        RenderedFile::new("referee/Dockerfile", referee::render_dockerfile(), 0o644),
        RenderedFile::new(post_start::SCRIPT_PATH, post_start::render_script(spec, ctx), 0o755),
        RenderedFile::new(post_start::UNIT_PATH, post_start::render_unit(), 0o644),
    ]
}

/// Whether the spec and context render a stack that can work.
pub fn validate(spec: &DeploymentSpec, ctx: &MonitorContext) -> Result<(), MonitoringError> {
    ctx.validate()?;
    if load_balancer_dimension(&spec.listener_arn).is_none() {
        return Err(MonitoringError::InvalidListenerArn(spec.listener_arn.clone()));
    }
    Ok(())
}

/// The monitor's user data, after validating the inputs and EC2's size limit.
pub fn render_monitor_user_data(spec: &DeploymentSpec, ctx: &MonitorContext) -> Result<String, MonitoringError> {
    validate(spec, ctx)?;
    let script = userdata::render_user_data(ctx, &render_all(spec, ctx));
    if script.len() > USER_DATA_LIMIT_BYTES {
        return Err(MonitoringError::UserDataTooLarge {
            what: "monitor",
            bytes: script.len(),
            limit: USER_DATA_LIMIT_BYTES,
        });
    }
    Ok(script)
}

/// The monitor's user data for a validated spec: EC2 discovery, target group dimensions
/// resolved at boot, the Grafana password written to `password_parameter` in SSM. Infallible
/// (the tests bound its size for the largest valid specs); use [`render_monitor_user_data`] to
/// have inputs checked.
pub fn monitor_user_data(spec: &DeploymentSpec, deployment_id: &str, region: &str, password_parameter: &str) -> String {
    let ctx = MonitorContext::new(deployment_id, region).with_password_parameter(password_parameter);
    userdata::render_user_data(&ctx, &render_all(spec, &ctx))
}

/// Links to the tools on a monitor reachable at `host` (an address or DNS name).
pub fn monitoring_links(host: &str) -> MonitoringLinks {
    let host = if host.contains(':') && !host.starts_with('[') { format!("[{host}]") } else { host.to_string() };
    // Prometheus, Referee and Kayenta have no login: they listen on the monitor's loopback,
    // so their links are the local end of an SSM port-forwarding session (same port numbers).
    MonitoringLinks {
        grafana: format!("http://{host}:{GRAFANA_PORT}/"),
        prometheus: format!("http://127.0.0.1:{PROMETHEUS_PORT}/"),
        referee: format!("http://127.0.0.1:{REFEREE_PORT}/dashboard/"),
        // The canary config list: Kayenta has no UI of its own.
        kayenta: format!("http://127.0.0.1:{KAYENTA_PORT}/canaryConfig"),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::context::{AlbDimensions, RoleTargets, ScrapeTargets, StaticTargets};
    use crate::encode::base64;

    pub fn spec(app_metrics_path: Option<&str>) -> DeploymentSpec {
        let mut v = serde_json::json!({
            "name": "web",
            "listenerArn": "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2",
            "trafficPercent": 10.0,
            "appPort": 8080
        });
        if let Some(p) = app_metrics_path {
            v["monitoring"] = serde_json::json!({"appMetricsPath": p});
        }
        let s: DeploymentSpec = serde_json::from_value(v).unwrap();
        assert!(s.validate().is_empty(), "{:?}", s.validate());
        s
    }

    /// The largest a valid spec makes the monitor's files: longest name and metrics path.
    fn largest_spec() -> DeploymentSpec {
        let mut s = spec(Some(&format!("/{}", "m".repeat(255))));
        s.name = format!("w{}", "e".repeat(31));
        s.listener_arn = format!(
            "arn:aws:elasticloadbalancing:ap-southeast-2:123456789012:listener/app/{}/50dc6c495c0c9188/f2f7dc8efc522ab2",
            "l".repeat(32)
        );
        assert!(s.validate().is_empty(), "{:?}", s.validate());
        s
    }

    #[test]
    fn files_have_distinct_relative_paths() {
        let files = render_all(&spec(Some("/metrics")), &MonitorContext::new("web-1", "eu-west-1"));
        let mut paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
        paths.sort();
        paths.dedup();
        assert_eq!(paths.len(), files.len());
        assert!(files.iter().all(|f| !f.path.starts_with('/') && !f.path.contains("..")));
        assert_eq!(files.iter().filter(|f| f.mode == 0o755).count(), 1);
    }

    #[test]
    fn nothing_unpinned_and_no_credentials_anywhere() {
        let ctx = MonitorContext::new("web-0123456789", "eu-west-1");
        for f in render_all(&spec(Some("/metrics")), &ctx) {
            let lower = f.contents.to_lowercase();
            assert!(!lower.contains(":latest"), "{}", f.path);
            for word in ["aws_access_key", "aws_secret", "secret_access_key", "secretkey", "accesskey"] {
                assert!(!lower.contains(word), "{} contains {word}", f.path);
            }
            if lower.contains("169.254.169.254") {
                assert!(lower.contains("x-aws-ec2-metadata-token"), "{}: IMDSv1 call", f.path);
            }
        }
    }

    #[test]
    fn metrics_path_appears_only_when_set() {
        let ctx = MonitorContext::new("web-1", "eu-west-1");
        let with: String = render_all(&spec(Some("/app-metrics")), &ctx).into_iter().map(|f| f.contents).collect();
        assert!(with.contains("/app-metrics"));
        assert!(with.contains("http_requests_total"));
        let without: String = render_all(&spec(None), &ctx).into_iter().map(|f| f.contents).collect();
        assert!(!without.contains("/app-metrics") && !without.contains("metrics_path"));
        assert!(!without.contains("http_requests_total"));
    }

    #[test]
    fn user_data_fits_for_the_largest_valid_spec() {
        let id = format!("w{}-0123456789", "e".repeat(31));
        // The longest installation name the template allows (a stack name is at most 128).
        let parameter = aviary_core::secrets::parameter_name(&"i".repeat(128), &id, aviary_core::secrets::GRAFANA_PASSWORD);
        let ctx = MonitorContext::new(id, "ap-southeast-2").with_password_parameter(&parameter);
        let s = largest_spec();
        let ud = render_monitor_user_data(&s, &ctx).unwrap();
        assert!(ud.len() < USER_DATA_LIMIT_BYTES, "{} bytes", ud.len());
        assert_eq!(monitor_user_data(&s, &ctx.deployment_id, &ctx.region, &parameter), ud);
        assert!(ud.contains(&format!("--name '{parameter}' --type SecureString")));
    }

    #[test]
    fn user_data_embeds_the_rendered_bytes() {
        let ctx = MonitorContext::new("web-1", "eu-west-1");
        let files = render_all(&spec(None), &ctx);
        let ud = render_monitor_user_data(&spec(None), &ctx).unwrap();
        for f in &files {
            let payload = base64(&crate::encode::gzip(f.contents.as_bytes()), 76);
            assert!(ud.contains(&payload), "{}", f.path);
        }
    }

    #[test]
    fn strict_render_refuses_bad_inputs() {
        let mut s = spec(None);
        s.listener_arn = "arn:aws:elasticloadbalancing:eu-west-1:1:listener/net/x/y/z".into();
        assert!(matches!(
            render_monitor_user_data(&s, &MonitorContext::new("web-1", "eu-west-1")),
            Err(MonitoringError::InvalidListenerArn(_))
        ));
        let mut ctx = MonitorContext::new("web-1", "eu-west-1");
        ctx.alb = AlbDimensions::Known {
            baseline_target_group: "nope".into(),
            canary_target_group: "targetgroup/a/b".into(),
        };
        assert!(matches!(render_monitor_user_data(&spec(None), &ctx), Err(MonitoringError::InvalidTargetGroup(_))));
    }

    #[test]
    fn static_render_uses_the_same_files() {
        let mut ctx = MonitorContext::new("web-1", "eu-west-1");
        let ec2 = render_all(&spec(Some("/metrics")), &ctx);
        ctx.targets = ScrapeTargets::Static(StaticTargets {
            node: RoleTargets { baseline: vec!["127.0.0.1:1".into()], canary: vec!["127.0.0.1:2".into()] },
            app: RoleTargets { baseline: vec!["127.0.0.1:3".into()], canary: vec!["127.0.0.1:4".into()] },
        });
        let local = render_all(&spec(Some("/metrics")), &ctx);
        for (a, b) in ec2.iter().zip(&local) {
            assert_eq!(a.path, b.path);
            if a.path != "prometheus/prometheus.yml" {
                assert_eq!(a.contents, b.contents, "{}", a.path);
            }
        }
    }

    /// `bash -n` on every script (skipped where bash is missing; the check script runs it too,
    /// with shellcheck).
    #[test]
    fn scripts_parse_with_bash_n() {
        use std::io::Write;
        use std::process::{Command, Stdio};
        if Command::new("bash").arg("--version").output().is_err() {
            return;
        }
        let ctx = MonitorContext::new("web-1", "eu-west-1");
        let mut scripts = vec![render_monitor_user_data(&spec(Some("/metrics")), &ctx).unwrap()];
        scripts.push(post_start::render_script(&spec(None), &ctx));
        scripts.push(crate::app_user_data(&crate::app_userdata::tests::ctx()));
        scripts.push("if then fi\n".to_string());
        let results: Vec<bool> = scripts
            .iter()
            .map(|script| {
                let mut child =
                    Command::new("bash").arg("-n").stdin(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
                child.stdin.take().unwrap().write_all(script.as_bytes()).unwrap();
                child.wait().unwrap().success()
            })
            .collect();
        assert_eq!(results, [true, true, true, false], "the last one is a deliberately broken control");
    }

    #[test]
    fn links_use_the_documented_ports() {
        let l = monitoring_links("203.0.113.10");
        assert_eq!(l.grafana, "http://203.0.113.10:3000/");
        // Through an SSM tunnel: the local end of the forwarded port.
        assert_eq!(l.prometheus, "http://127.0.0.1:9090/");
        assert_eq!(l.kayenta, "http://127.0.0.1:8090/canaryConfig");
        assert_eq!(l.referee, "http://127.0.0.1:3001/dashboard/");
        assert_eq!(monitoring_links("2001:db8::1").grafana, "http://[2001:db8::1]:3000/");
    }
}
