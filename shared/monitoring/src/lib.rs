//! Every file the per-canary instances run, rendered by pure code from the deployment spec.
//!
//! - Baseline/canary instances: [`app_userdata`] (Docker + compose plugin + node exporter, the
//!   image tarball from S3, `docker compose up`).
//! - The monitor instance: Prometheus (EC2 service discovery by Aviary's tags), Grafana
//!   (Prometheus + CloudWatch datasources and a baseline-vs-canary dashboard), Kayenta with
//!   Redis and a starter canary config, and Referee, all on one compose network
//!   ([`compose`], [`prometheus`], [`grafana`], [`dashboard`], [`kayenta`], [`canary_config`],
//!   [`referee`], [`post_start`]), embedded into one user data script by [`userdata`].
//!
//! No credentials are written anywhere: Prometheus, Grafana and the AWS CLI use the instance
//! role through IMDSv2. [`render`] is the entry point; [`promql`] lists every PromQL expression
//! the files contain so the checks can validate and run them.
//!
//! Owns: rendering text from the spec. Imports only `aviary-core`; must never import an AWS SDK
//! crate or do I/O — the lifecycle puts what it renders into launch requests.

pub mod app_userdata;
pub mod canary_config;
pub mod compose;
pub mod context;
pub mod dashboard;
pub mod encode;
pub mod error;
pub mod grafana;
pub mod install;
pub mod kayenta;
pub mod post_start;
pub mod prometheus;
pub mod promql;
pub mod queries;
pub mod referee;
pub mod render;
pub mod rendered;
pub mod userdata;
pub mod versions;
pub mod yaml;

pub use app_userdata::{app_user_data, preview_pin, render_app_user_data, AppInstanceContext};
pub use context::{AlbDimensions, MonitorContext, RoleTargets, ScrapeTargets, StaticTargets};
pub use error::MonitoringError;
pub use render::{monitor_user_data, monitoring_links, render_all, render_monitor_user_data, RenderedFile};

/// Grafana's port on the monitor instance.
pub const GRAFANA_PORT: u16 = 3000;
/// Prometheus's port on the monitor instance.
pub const PROMETHEUS_PORT: u16 = 9090;
/// Kayenta's API port on the monitor instance.
pub const KAYENTA_PORT: u16 = 8090;
/// Referee's port on the monitor instance (its own default).
pub const REFEREE_PORT: u16 = 3001;
/// The ports to open on the monitor's security group to `monitoring.allowedCidr`: Grafana
/// alone, the only tool with a login.
pub const PUBLIC_UI_PORTS: [u16; 1] = [GRAFANA_PORT];
/// Tools without authentication: published on the monitor's loopback only, reached through an
/// SSM port-forwarding session (docs/monitoring.md). Redis stays on the compose network.
pub const TUNNEL_ONLY_PORTS: [u16; 3] = [PROMETHEUS_PORT, KAYENTA_PORT, REFEREE_PORT];
/// Node exporter on baseline and canary; open it to the monitor's security group only.
pub const NODE_EXPORTER_PORT: u16 = 9100;
/// EC2's limit on (unencoded) user data.
pub const USER_DATA_LIMIT_BYTES: usize = 16 * 1024;
/// The two roles the monitor compares.
pub const ROLES: [&str; 2] = ["baseline", "canary"];
/// Where the monitor's files live on the instance.
pub const MONITOR_ROOT: &str = "/opt/aviary/monitor";
