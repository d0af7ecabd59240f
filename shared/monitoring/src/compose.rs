//! The monitor's compose file: Prometheus, Grafana, Redis, Kayenta and Referee on one network,
//! each started once its dependencies report healthy. Only the UI ports are published (Redis is
//! reachable on the compose network alone); images are pinned in [`super::versions`].
//!
//! Written as compose file format 2.4: the Docker Compose v2 plugin on the instance accepts it,
//! and so does the Debian `docker-compose` the offline checks validate it with (which does not
//! know the unversioned Compose Specification).

use std::fmt::Write as _;

use super::context::MonitorContext;
use super::grafana::{DASHBOARDS_DIR, DASHBOARD_FILE};
use super::versions::{GRAFANA_IMAGE, KAYENTA_IMAGE, PROMETHEUS_IMAGE, REDIS_IMAGE, REFEREE_IMAGE};
use super::yaml::{list, q};
use super::{GRAFANA_PORT, KAYENTA_PORT, PROMETHEUS_PORT, REFEREE_PORT};

/// The compose project name on the monitor.
pub const PROJECT: &str = "aviary";
/// Grafana's admin password file, relative to the monitor root (created at boot, never rendered).
pub const GRAFANA_PASSWORD_FILE: &str = "secrets/grafana-admin-password";
/// The services that must come up for the monitor to be useful, in start order.
pub const CORE_SERVICES: [&str; 4] = ["prometheus", "grafana", "redis", "kayenta"];
/// Built on the instance and started best-effort after the core.
pub const OPTIONAL_SERVICES: [&str; 1] = ["referee"];

struct Service<'a> {
    name: &'a str,
    image: &'a str,
    build: Option<&'a str>,
    command: Vec<String>,
    environment: Vec<(&'a str, String)>,
    volumes: Vec<String>,
    port: Option<u16>,
    depends_on: Vec<&'a str>,
    mem_limit: &'a str,
    health: Vec<String>,
    /// (interval, retries, start_period) in seconds.
    health_timing: (u32, u32, u32),
}

fn http_check(tool_fallback: bool, port: u16, path: &str) -> Vec<String> {
    let url = format!("http://127.0.0.1:{port}{path}");
    let mut cmd = format!("wget -q -O /dev/null {url}");
    if tool_fallback {
        // Not every image ships wget; try curl as well.
        cmd.push_str(&format!(" || curl -fsS -o /dev/null {url}"));
    }
    vec!["CMD-SHELL".into(), cmd]
}

pub fn render_compose(ctx: &MonitorContext) -> String {
    let services = [
        Service {
            name: "prometheus",
            image: PROMETHEUS_IMAGE,
            build: None,
            command: vec![
                "--config.file=/etc/prometheus/prometheus.yml".into(),
                "--storage.tsdb.path=/prometheus".into(),
                "--storage.tsdb.retention.time=15d".into(),
            ],
            environment: vec![],
            volumes: vec!["./prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro".into(), "prometheus-data:/prometheus".into()],
            port: Some(PROMETHEUS_PORT),
            depends_on: vec![],
            mem_limit: "768m",
            health: http_check(false, PROMETHEUS_PORT, "/-/ready"),
            health_timing: (10, 30, 20),
        },
        Service {
            name: "grafana",
            image: GRAFANA_IMAGE,
            build: None,
            command: vec![],
            environment: vec![
                ("GF_SECURITY_ADMIN_PASSWORD__FILE", "/run/secrets/grafana-admin-password".into()),
                // No anonymous access: the data source reads CloudWatch with the instance role.
                // The admin password is generated on the instance (user data) and never leaves it.
                ("GF_AUTH_ANONYMOUS_ENABLED", "false".into()),
                ("GF_AUTH_DISABLE_LOGIN_FORM", "false".into()),
                ("GF_USERS_ALLOW_SIGN_UP", "false".into()),
                // AWS access only through the instance role: no keys can be configured.
                ("GF_AWS_ALLOWED_AUTH_PROVIDERS", "default".into()),
                ("GF_AWS_ASSUME_ROLE_ENABLED", "false".into()),
                ("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH", format!("{DASHBOARDS_DIR}/{DASHBOARD_FILE}")),
                ("GF_ANALYTICS_REPORTING_ENABLED", "false".into()),
                ("GF_ANALYTICS_CHECK_FOR_UPDATES", "false".into()),
            ],
            volumes: vec![
                "./grafana/provisioning:/etc/grafana/provisioning:ro".into(),
                format!("./grafana/dashboards:{DASHBOARDS_DIR}:ro"),
                format!("./{GRAFANA_PASSWORD_FILE}:/run/secrets/grafana-admin-password:ro"),
                "grafana-data:/var/lib/grafana".into(),
            ],
            port: Some(GRAFANA_PORT),
            depends_on: vec!["prometheus"],
            mem_limit: "384m",
            health: http_check(false, GRAFANA_PORT, "/api/health"),
            health_timing: (10, 30, 20),
        },
        Service {
            name: "redis",
            image: REDIS_IMAGE,
            build: None,
            // Kayenta's work queue only: nothing worth persisting.
            command: vec!["redis-server".into(), "--save".into(), "".into(), "--appendonly".into(), "no".into()],
            environment: vec![],
            volumes: vec![],
            port: None,
            depends_on: vec![],
            mem_limit: "128m",
            health: vec!["CMD".into(), "redis-cli".into(), "ping".into()],
            health_timing: (5, 20, 5),
        },
        Service {
            name: "kayenta",
            image: KAYENTA_IMAGE,
            build: None,
            command: vec![],
            environment: vec![("JAVA_OPTS", "-XX:MaxRAMPercentage=70".into())],
            volumes: vec![
                "./kayenta/kayenta.yml:/opt/kayenta/config/kayenta.yml:ro".into(),
                "./kayenta/kayenta.yml:/opt/spinnaker/config/kayenta.yml:ro".into(),
            ],
            port: Some(KAYENTA_PORT),
            depends_on: vec!["redis", "prometheus"],
            mem_limit: "1280m",
            health: http_check(true, KAYENTA_PORT, "/health"),
            // The JVM takes a minute or two to start on a small instance.
            health_timing: (15, 40, 120),
        },
        Service {
            name: "referee",
            image: REFEREE_IMAGE,
            build: Some("./referee"),
            command: vec![],
            environment: vec![("KAYENTA_BASE_URL", format!("http://kayenta:{KAYENTA_PORT}")), ("PORT", REFEREE_PORT.to_string())],
            volumes: vec![],
            port: Some(REFEREE_PORT),
            depends_on: vec!["kayenta"],
            mem_limit: "384m",
            health: vec![
                "CMD".into(),
                "node".into(),
                "-e".into(),
                format!("require('http').get('http://127.0.0.1:{REFEREE_PORT}/health', r => process.exit(r.statusCode < 400 ? 0 : 1)).on('error', () => process.exit(1))"),
            ],
            health_timing: (15, 20, 30),
        },
    ];

    let mut y = String::new();
    let _ = writeln!(y, "# Generated by Aviary for deployment {} (do not edit by hand).", ctx.deployment_id);
    y.push_str("# One network; each service starts once its dependencies are healthy.\nversion: \"2.4\"\nservices:\n");
    for s in &services {
        let _ = writeln!(y, "  {}:", s.name);
        let _ = writeln!(y, "    image: {}", q(s.image));
        if let Some(ctx_dir) = s.build {
            let _ = writeln!(y, "    build:\n      context: {}", q(ctx_dir));
        }
        if !s.command.is_empty() {
            let _ = writeln!(y, "    command: {}", list(&s.command));
        }
        if !s.environment.is_empty() {
            y.push_str("    environment:\n");
            for (k, v) in &s.environment {
                let _ = writeln!(y, "      {k}: {}", q(v));
            }
        }
        if !s.volumes.is_empty() {
            y.push_str("    volumes:\n");
            for v in &s.volumes {
                let _ = writeln!(y, "      - {}", q(v));
            }
        }
        if let Some(p) = s.port {
            // Tools without a login listen on the monitor's loopback only (an SSM tunnel
            // reaches them); Grafana, which has one, on every interface.
            let bind = if crate::PUBLIC_UI_PORTS.contains(&p) { String::new() } else { "127.0.0.1:".into() };
            let _ = writeln!(y, "    ports: [{}]", q(&format!("{bind}{p}:{p}")));
        }
        if !s.depends_on.is_empty() {
            y.push_str("    depends_on:\n");
            for d in &s.depends_on {
                let _ = writeln!(y, "      {d}:\n        condition: service_healthy");
            }
        }
        let (interval, retries, start) = s.health_timing;
        let _ = writeln!(
            y,
            "    healthcheck:\n      test: {}\n      interval: {interval}s\n      timeout: 5s\n      retries: {retries}\n      start_period: {start}s",
            list(&s.health)
        );
        let _ = writeln!(y, "    mem_limit: {}", s.mem_limit);
        y.push_str("    restart: unless-stopped\n    networks: [aviary]\n");
        y.push_str("    logging:\n      driver: json-file\n      options:\n        max-size: \"10m\"\n        max-file: \"3\"\n");
    }
    y.push_str("networks:\n  aviary:\n    name: \"aviary\"\nvolumes:\n  prometheus-data: {}\n  grafana-data: {}\n");
    y
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::versions::IMAGES;

    #[test]
    fn every_service_is_pinned_checked_and_on_one_network() {
        let y = render_compose(&MonitorContext::new("web-1", "eu-west-1"));
        for image in IMAGES {
            assert!(y.contains(&format!("image: \"{image}\"")), "{image}");
        }
        assert!(!y.contains(":latest"));
        for s in CORE_SERVICES.iter().chain(&OPTIONAL_SERVICES) {
            assert!(y.contains(&format!("\n  {s}:\n")), "{s}");
        }
        assert_eq!(y.matches("healthcheck:").count(), 5);
        assert_eq!(y.matches("networks: [aviary]").count(), 5);
        assert_eq!(y.matches("condition: service_healthy").count(), 4);
        assert!(!y.contains("$"), "no interpolation surprises");
    }

    #[test]
    fn only_grafana_is_published_beyond_the_loopback_and_it_has_no_anonymous_access() {
        let y = render_compose(&MonitorContext::new("web-1", "eu-west-1"));
        let published: Vec<&str> = y.lines().filter(|l| l.trim_start().starts_with("ports:")).collect();
        assert_eq!(published.len(), crate::PUBLIC_UI_PORTS.len() + crate::TUNNEL_ONLY_PORTS.len());
        for p in crate::PUBLIC_UI_PORTS {
            assert!(y.contains(&format!("ports: [\"{p}:{p}\"]")));
        }
        for p in crate::TUNNEL_ONLY_PORTS {
            assert!(y.contains(&format!("ports: [\"127.0.0.1:{p}:{p}\"]")), "{p}");
        }
        assert!(!y.contains("6379:"));
        assert!(y.contains("GF_AUTH_ANONYMOUS_ENABLED: \"false\""));
        assert!(!y.contains("GF_AUTH_ANONYMOUS_ORG_ROLE"));
    }

    #[test]
    fn start_order_follows_dependencies() {
        let y = render_compose(&MonitorContext::new("web-1", "eu-west-1"));
        let grafana = &y[y.find("\n  grafana:").unwrap()..y.find("\n  redis:").unwrap()];
        assert!(grafana.contains("depends_on:\n      prometheus:"));
        let kayenta = &y[y.find("\n  kayenta:").unwrap()..y.find("\n  referee:").unwrap()];
        assert!(kayenta.contains("redis:\n        condition: service_healthy"));
        assert!(kayenta.contains("prometheus:\n        condition: service_healthy"));
        let referee = &y[y.find("\n  referee:").unwrap()..];
        assert!(referee.contains("KAYENTA_BASE_URL: \"http://kayenta:8090\""));
        assert!(referee.contains("kayenta:\n        condition: service_healthy"));
        assert!(y.contains("GF_AWS_ALLOWED_AUTH_PROVIDERS: \"default\""));
    }
}
