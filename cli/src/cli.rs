//! The command line: clap definitions of every command and flag (`docs/cli.md` describes
//! them). API options (`--endpoint` or `--stack`, `--region`, `--profile`, `--no-sign`, `--sign`) may be given before
//! the command or after it; `--json` anywhere.
//!
//! `demo` and `local` exist only in a build with the `local` feature (the emulated stack);
//! without it they are hidden from `--help` and answer with one line saying how to get them.

use std::path::PathBuf;

use aviary_core::status::Status;
use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(name = "aviary", version, about = "Manual canary analysis on AWS: deploy, watch, judge and destroy canaries")]
pub struct Cli {
    #[command(flatten)]
    pub api: ApiArgs,
    /// Machine-readable JSON on stdout instead of tables (the same as `--output json`).
    #[arg(long, global = true)]
    pub json: bool,
    /// Output format: `json` (machine-readable), `table` (aligned columns with headers, the
    /// default for people), or `text` (tables as tab-separated lines without headers, for
    /// `cut`/`awk`). `judge` prints json unless told otherwise.
    #[arg(long, short = 'o', global = true, value_enum, value_name = "FORMAT")]
    pub output: Option<OutputFormat>,
    #[command(subcommand)]
    pub command: Command,
}

/// How to reach the Aviary API.
#[derive(Debug, Clone, Default, Args)]
pub struct ApiArgs {
    /// Aviary API base URL (the stack's `ApiUrl` output, or `aviary local up`'s endpoint).
    /// Without --endpoint or --stack (before or after the command): $AVIARY_ENDPOINT, else
    /// $AVIARY_STACK.
    #[arg(long, value_name = "URL", conflicts_with = "stack")]
    pub endpoint: Option<String>,
    /// The Aviary stack whose `ApiUrl` output is the endpoint (read with CloudFormation
    /// DescribeStacks, with --profile and --region).
    #[arg(long, value_name = "NAME")]
    pub stack: Option<String>,
    /// AWS region to sign for (default: from the endpoint's host, else the AWS config).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// AWS profile for credentials and region (default: $AWS_PROFILE, else the default chain).
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Do not sign requests (the local API front needs no SigV4). Default: sign unless the
    /// endpoint is loopback.
    #[arg(long, conflicts_with = "sign")]
    pub no_sign: bool,
    /// Sign requests even when the endpoint is loopback.
    #[arg(long)]
    pub sign: bool,
}

impl ApiArgs {
    /// Options given after the command win over those given before it, and a flag anywhere
    /// (`--endpoint` or `--stack`) beats `AVIARY_ENDPOINT` and `AVIARY_STACK`; of the two
    /// variables, the endpoint wins.
    pub fn or(&self, outer: &ApiArgs) -> ApiArgs {
        self.merged(outer, std::env::var("AVIARY_ENDPOINT").ok(), std::env::var("AVIARY_STACK").ok())
    }

    fn merged(&self, outer: &ApiArgs, env_endpoint: Option<String>, env_stack: Option<String>) -> ApiArgs {
        let given = |a: &ApiArgs| a.endpoint.is_some() || a.stack.is_some();
        let (endpoint, stack) = if given(self) {
            (self.endpoint.clone(), self.stack.clone())
        } else if given(outer) {
            (outer.endpoint.clone(), outer.stack.clone())
        } else {
            match env_endpoint.filter(|e| !e.is_empty()) {
                Some(e) => (Some(e), None),
                None => (None, env_stack.filter(|s| !s.is_empty())),
            }
        };
        ApiArgs {
            endpoint,
            stack,
            region: self.region.clone().or_else(|| outer.region.clone()),
            profile: self.profile.clone().or_else(|| outer.profile.clone()),
            no_sign: self.no_sign || (outer.no_sign && !self.sign),
            sign: self.sign || (outer.sign && !self.no_sign),
        }
    }
}

/// Polling and waiting.
#[derive(Debug, Clone, Args)]
pub struct WaitArgs {
    /// Give up waiting after this many seconds (exit code 3).
    #[arg(long, default_value_t = 1800, value_name = "SECONDS")]
    pub timeout: u64,
    /// How often to poll the API while waiting, in milliseconds.
    #[arg(long, default_value_t = 1000, value_name = "MS")]
    pub poll_ms: u64,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the web console on 127.0.0.1 (its API calls are proxied to --endpoint, signed with
    /// your AWS credentials unless the endpoint is loopback).
    Console {
        #[arg(long, default_value_t = 8177)]
        port: u16,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Run one canary's whole lifecycle on an emulated AWS (moto server) and print it.
    #[cfg(feature = "local")]
    Demo {
        /// Use an emulator that is already running instead of starting moto from .venv.
        #[arg(long)]
        endpoint: Option<String>,
        /// Your own canary directory (aviary.json, tarballs, compose file) instead of the sample.
        #[arg(long)]
        spec_dir: Option<PathBuf>,
        /// Multiplies the state machines' waits and retry delays (1.0 = real time).
        #[arg(long, default_value_t = 0.01)]
        time_scale: f64,
        /// Change the canary's share to this percent once it is active (live traffic control).
        #[arg(long, default_value_t = 10.0)]
        change_to: f64,
        /// The canary's fault behind the emulated load balancer: latency (30% slower), errors (5%),
        /// unhealthy (fails its health check: the deployment ends FAILED), none; `off` sends no
        /// requests (the rules only).
        #[arg(long, default_value = "latency", value_parser = ["latency", "errors", "unhealthy", "none", "off"])]
        fault: String,
        /// Seconds of mixed requests through the canary rule while it is active.
        #[arg(long, default_value_t = 6)]
        load_seconds: u64,
    },
    /// Validate a canary directory, upload it and deploy it; follow it until it takes traffic.
    Deploy(DeployArgs),
    /// List deployments.
    Ls(LsArgs),
    /// Show one deployment: spec summary, status, weights, resources, monitoring links.
    Status {
        id: String,
        /// Also print the monitor's Grafana login (only for the deployment's creator or an
        /// operator; every read is recorded in the deployment's event log).
        #[arg(long)]
        credentials: bool,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Show a deployment's event log.
    Events {
        id: String,
        /// Keep printing new events until the deployment reaches a final status.
        #[arg(long, short)]
        follow: bool,
        #[command(flatten)]
        wait: WaitArgs,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Follow a canary's live verdict (anytime-valid: refresh as often as you like) until it
    /// decides: exit 2 for canary-worse, 0 for canary-better, 3 if the canary ends or the
    /// timeout passes first.
    Watch {
        id: String,
        /// Seconds between refreshes.
        #[arg(long, default_value_t = 15, value_name = "SECONDS")]
        interval: u64,
        /// Give up after this many seconds without a decision (exit 3).
        #[arg(long, default_value_t = 3600, value_name = "SECONDS")]
        timeout: u64,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Change a running canary's traffic share, rule conditions or stickiness.
    Traffic(TrafficArgs),
    /// Print a shell completion script (e.g. `aviary completions bash > /etc/bash_completion.d/aviary`).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff; e.g. `aviary man > ~/.local/share/man/man1/aviary.1`).
    Man,
    /// Tear a deployment down (removes its rule and everything Aviary created for it).
    Destroy {
        id: String,
        /// Wait until the teardown has finished.
        #[arg(long)]
        wait: bool,
        #[command(flatten)]
        wait_args: WaitArgs,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// List the load balancers, listeners and rules a canary can be added to.
    Env {
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Judge a canary offline from a Kayenta-style canary config and a metric data file.
    Judge(JudgeArgs),
    /// Print (or write) every monitoring file and instance user data script for a spec.
    Render(RenderArgs),
    /// Run Aviary on this machine (emulated AWS).
    #[cfg(feature = "local")]
    Local {
        #[command(subcommand)]
        command: LocalCommand,
    },
    /// `aviary demo` in a build without the local runtime (hidden; says how to get it).
    #[cfg(not(feature = "local"))]
    #[command(name = "demo", hide = true, disable_help_flag = true)]
    DemoUnavailable(Unavailable),
    /// `aviary local …` in a build without the local runtime (hidden; says how to get it).
    #[cfg(not(feature = "local"))]
    #[command(name = "local", hide = true, disable_help_flag = true)]
    LocalUnavailable(Unavailable),
}

/// Whatever follows a command this build leaves out (ignored).
#[cfg(not(feature = "local"))]
#[derive(Debug, Args)]
pub struct Unavailable {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    pub args: Vec<String>,
}

/// The one line a build without the `local` feature answers `aviary demo` / `aviary local` with.
#[cfg(not(feature = "local"))]
pub fn needs_local(command: &str) -> String {
    format!(
        "`aviary {command}` needs the local runtime, which this build leaves out: build the CLI with `--features local` (cargo run -p aviary-cli --features local -- {command} ...)"
    )
}

#[derive(Debug, Args)]
pub struct DeployArgs {
    /// The canary directory: aviary.json, the two tarballs and the compose file it names.
    pub dir: PathBuf,
    /// Upload straight to s3://BUCKET/canaries/<name>/ with your AWS credentials (the S3
    /// upload starts the deployment) instead of through the API's presigned URLs.
    #[arg(long, value_name = "BUCKET")]
    pub s3_bucket: Option<String>,
    /// S3 endpoint for --s3-bucket (an emulator; path-style addressing).
    #[arg(long, value_name = "URL", requires = "s3_bucket")]
    pub s3_endpoint: Option<String>,
    /// Idempotency key for POST /deployments (default: derived from the canary tarball's
    /// sha256, so re-running returns the same deployment). Not used with --s3-bucket.
    #[arg(long, value_name = "KEY")]
    pub idempotency_key: Option<String>,
    /// Return once the deployment is created instead of following it until ACTIVE.
    #[arg(long)]
    pub no_wait: bool,
    #[command(flatten)]
    pub wait: WaitArgs,
    #[command(flatten)]
    pub api: ApiArgs,
}

#[derive(Debug, Args)]
pub struct LsArgs {
    /// Only deployments in this status.
    #[arg(long, value_parser = parse_status, value_name = "STATUS")]
    pub status: Option<Status>,
    /// At most this many deployments (newest first).
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
    #[command(flatten)]
    pub api: ApiArgs,
}

pub fn parse_status(s: &str) -> Result<Status, String> {
    let upper = s.to_ascii_uppercase().replace('-', "_");
    Status::parse(&upper).ok_or_else(|| {
        format!("unknown status '{s}' (one of {})", Status::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "))
    })
}

#[derive(Debug, Args)]
pub struct TrafficArgs {
    pub id: String,
    /// The canary's new share in percent (0.1–50; the baseline gets the same).
    #[arg(long, value_name = "N")]
    pub percent: Option<f64>,
    /// Add a path pattern to the rule's conditions (repeatable; values of one kind are OR-ed).
    #[arg(long = "add-path", value_name = "P")]
    pub add_paths: Vec<String>,
    /// Remove a path pattern from the rule's conditions (repeatable).
    #[arg(long = "remove-path", value_name = "P")]
    pub remove_paths: Vec<String>,
    /// Add an HTTP method condition value (repeatable).
    #[arg(long = "add-method", value_name = "M")]
    pub add_methods: Vec<String>,
    /// Remove an HTTP method condition value (repeatable).
    #[arg(long = "remove-method", value_name = "M")]
    pub remove_methods: Vec<String>,
    /// Add an HTTP header condition value NAME=VALUE (repeatable).
    #[arg(long = "add-header", value_name = "K=V", value_parser = parse_key_value)]
    pub add_headers: Vec<(String, String)>,
    /// Remove a header condition value NAME=VALUE, or NAME alone for the whole header (repeatable).
    #[arg(long = "remove-header", value_name = "K[=V]")]
    pub remove_headers: Vec<String>,
    /// Add a host header condition value (repeatable).
    #[arg(long = "add-host", value_name = "H")]
    pub add_hosts: Vec<String>,
    /// Remove a host header condition value (repeatable).
    #[arg(long = "remove-host", value_name = "H")]
    pub remove_hosts: Vec<String>,
    /// Add a source IP condition in CIDR notation (repeatable).
    #[arg(long = "add-source-ip", value_name = "CIDR")]
    pub add_source_ips: Vec<String>,
    /// Remove a source IP condition (repeatable).
    #[arg(long = "remove-source-ip", value_name = "CIDR")]
    pub remove_source_ips: Vec<String>,
    /// Add a query string condition KEY=VALUE, or VALUE alone for any key (repeatable).
    #[arg(long = "add-query", value_name = "K=V")]
    pub add_queries: Vec<String>,
    /// Remove a query string condition, written as it was added (repeatable).
    #[arg(long = "remove-query", value_name = "K=V")]
    pub remove_queries: Vec<String>,
    /// Replace all of the rule's conditions with the --path/--method/--header/--host/--source-ip/
    /// --query values given (none given: the rule matches all traffic reaching it).
    #[arg(long, conflicts_with_all = ["add_paths", "remove_paths", "add_methods", "remove_methods", "add_headers", "remove_headers", "add_hosts", "remove_hosts", "add_source_ips", "remove_source_ips", "add_queries", "remove_queries"])]
    pub replace_conditions: bool,
    /// With --replace-conditions: a path pattern of the new conditions (repeatable).
    #[arg(long = "path", value_name = "P")]
    pub paths: Vec<String>,
    /// With --replace-conditions: an HTTP method of the new conditions (repeatable).
    #[arg(long = "method", value_name = "M")]
    pub methods: Vec<String>,
    /// With --replace-conditions: a header NAME=VALUE of the new conditions (repeatable).
    #[arg(long = "header", value_name = "K=V", value_parser = parse_key_value)]
    pub headers: Vec<(String, String)>,
    /// With --replace-conditions: a host header of the new conditions (repeatable).
    #[arg(long = "host", value_name = "H")]
    pub hosts: Vec<String>,
    /// With --replace-conditions: a source IP CIDR of the new conditions (repeatable).
    #[arg(long = "source-ip", value_name = "CIDR")]
    pub source_ips: Vec<String>,
    /// With --replace-conditions: a query string KEY=VALUE (or VALUE) of the new conditions.
    #[arg(long = "query", value_name = "K=V")]
    pub queries: Vec<String>,
    /// Remove every condition (the same as --replace-conditions with no values).
    #[arg(long, conflicts_with_all = ["paths", "methods", "headers", "hosts", "source_ips", "queries", "replace_conditions"])]
    pub clear_conditions: bool,
    /// Turn sticky sessions on with this duration in seconds.
    #[arg(long, value_name = "SECONDS", conflicts_with = "no_sticky")]
    pub sticky: Option<u32>,
    /// Turn sticky sessions off.
    #[arg(long)]
    pub no_sticky: bool,
    /// Apply a change that widens the canary's traffic without asking (scripts; without a
    /// terminal such a change is refused unless this is given).
    #[arg(long, short = 'y')]
    pub yes: bool,
    #[command(flatten)]
    pub api: ApiArgs,
}

pub fn parse_key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("expected NAME=VALUE, got '{s}'")),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Json,
    Table,
    Text,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum JudgeFormat {
    Json,
    Table,
}

#[derive(Debug, Args)]
pub struct JudgeArgs {
    /// The canary config (Kayenta's JSON shape).
    pub config: PathBuf,
    /// The metric data file (`{"metrics": {name: {"baseline": [...], "canary": [...]}}}`).
    pub data: PathBuf,
    /// Kept for scripts: the same as the global `--output` (json or table; default json).
    #[arg(long, value_enum)]
    pub format: Option<JudgeFormat>,
    /// Score threshold for Marginal (overrides the config; needs --pass).
    #[arg(long, requires = "pass", value_name = "N")]
    pub marginal: Option<f64>,
    /// Score threshold for Pass (overrides the config; needs --marginal).
    #[arg(long, requires = "marginal", value_name = "N")]
    pub pass: Option<f64>,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// The deployment spec (aviary.json).
    pub spec: PathBuf,
    /// Write the files under this directory instead of printing them.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Deployment id to render for (default: a fixed id derived from the spec's name).
    #[arg(long, value_name = "ID")]
    pub deployment_id: Option<String>,
    /// Region the instances run in.
    #[arg(long, default_value = "eu-west-1")]
    pub region: String,
    /// Artifact bucket the app instances download from.
    #[arg(long, default_value = "aviary-artifacts-example", value_name = "BUCKET")]
    pub bucket: String,
}

#[cfg(feature = "local")]
#[derive(Debug, Subcommand)]
pub enum LocalCommand {
    /// Start the emulator, Aviary's resources, a sample production environment and the local
    /// API front; serve until Ctrl-C.
    Up(LocalUpArgs),
    /// Run the cleanup function now, on the stack `aviary local up` serves.
    Cleanup {
        /// Report what would be removed without removing anything.
        #[arg(long)]
        dry_run: bool,
        /// The state file `aviary local up` wrote.
        #[arg(long, value_name = "FILE")]
        state_file: Option<PathBuf>,
    },
    /// Send mixed requests through the local data plane (the emulated load balancer) for a
    /// while and print which target group answered how many.
    Load {
        /// How long to send requests.
        #[arg(long, default_value_t = 30, value_name = "SECONDS")]
        seconds: u64,
        /// The state file `aviary local up` wrote.
        #[arg(long, value_name = "FILE")]
        state_file: Option<PathBuf>,
    },
}

#[cfg(feature = "local")]
#[derive(Debug, Args)]
pub struct LocalUpArgs {
    /// Port of the API front on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 8787)]
    pub port: u16,
    /// Run the cleanup function every this many seconds (0: never).
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    pub cleanup_every: u64,
    /// Do not create the sample production environment.
    #[arg(long)]
    pub no_sample_env: bool,
    /// Use an emulator that is already running instead of starting moto from .venv.
    #[arg(long, value_name = "URL")]
    pub emulator: Option<String>,
    /// Multiplies the state machines' waits and retry delays (1.0 = real time).
    #[arg(long, default_value_t = 0.01)]
    pub time_scale: f64,
    /// Where to write the running stack's description (endpoint, control URL, listener).
    #[arg(long, value_name = "FILE")]
    pub state_file: Option<PathBuf>,
    /// Also let deployments use this listener (repeatable). The sample environment's
    /// listener is always allowed; any other must be named (AllowedListenerArns on AWS).
    #[arg(long = "allow-listener", value_name = "ARN")]
    pub allow_listeners: Vec<String>,
    /// The data plane for the sample listener: sample-app processes behind it, the canary's
    /// with this fault (latency: 30% slower, errors: 5% 500s, none), or off.
    #[arg(long, default_value = "none", value_parser = ["latency", "errors", "unhealthy", "none", "off"])]
    pub fault: String,
}

/// The state file's place under a directory.
#[cfg(feature = "local")]
pub const STATE_FILE: &str = ".aviary/local/state.json";

/// Where `aviary local up` records the running stack by default: under the current directory
/// (never a path baked into the binary).
#[cfg(feature = "local")]
pub fn default_state_file() -> PathBuf {
    std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")).join(STATE_FILE)
}

/// The state file other `local` commands read by default: the nearest one from the current
/// directory up (as git finds `.git`), else the current directory's.
#[cfg(feature = "local")]
pub fn find_state_file() -> PathBuf {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    nearest_state_file(&cwd)
}

#[cfg(feature = "local")]
fn nearest_state_file(start: &std::path::Path) -> PathBuf {
    start.ancestors().map(|d| d.join(STATE_FILE)).find(|f| f.is_file()).unwrap_or_else(|| start.join(STATE_FILE))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once("aviary").chain(args.iter().copied())).unwrap_or_else(|e| panic!("{args:?}: {e}"))
    }

    #[test]
    fn definitions_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn api_options_before_or_after_the_command() {
        let c = parse(&["--endpoint", "http://127.0.0.1:1", "--no-sign", "status", "web-1"]);
        let Command::Status { id, api, credentials } = &c.command else { panic!() };
        assert_eq!(id, "web-1");
        assert!(!credentials);
        let merged = api.or(&c.api);
        assert_eq!(merged.endpoint.as_deref(), Some("http://127.0.0.1:1"));
        assert!(merged.no_sign);
        let c = parse(&["--endpoint", "http://a", "status", "x", "--endpoint", "http://b", "--json"]);
        let Command::Status { api, .. } = &c.command else { panic!() };
        assert_eq!(api.or(&c.api).endpoint.as_deref(), Some("http://b"));
        assert!(c.json);
        assert!(Cli::try_parse_from(["aviary", "--no-sign", "--sign", "ls"]).is_err());
        let c = parse(&["status", "web-1", "--credentials"]);
        assert!(matches!(c.command, Command::Status { credentials: true, .. }));
    }

    #[cfg(feature = "local")]
    #[test]
    fn the_state_file_is_found_from_the_current_directory_up() {
        let root = std::env::temp_dir().join(format!("aviary-state-{}", std::process::id()));
        let deep = root.join("a/b");
        std::fs::create_dir_all(&deep).unwrap();
        assert_eq!(nearest_state_file(&deep), deep.join(STATE_FILE), "none yet: the current directory's");
        std::fs::create_dir_all(root.join(".aviary/local")).unwrap();
        std::fs::write(root.join(STATE_FILE), "{}").unwrap();
        assert_eq!(nearest_state_file(&deep), root.join(STATE_FILE));
        std::fs::remove_dir_all(&root).unwrap();
        assert_eq!(default_state_file(), std::env::current_dir().unwrap().join(STATE_FILE));
    }

    #[test]
    fn a_flag_anywhere_beats_the_environment() {
        let env = Some("http://from-env".to_string());
        let c = parse(&["--endpoint", "http://before", "ls"]);
        let Command::Ls(l) = &c.command else { panic!() };
        assert_eq!(l.api.merged(&c.api, env.clone(), None).endpoint.as_deref(), Some("http://before"));
        let c = parse(&["ls", "--endpoint", "http://after"]);
        let Command::Ls(l) = &c.command else { panic!() };
        assert_eq!(l.api.merged(&c.api, env.clone(), None).endpoint.as_deref(), Some("http://after"));
        let c = parse(&["ls"]);
        let Command::Ls(l) = &c.command else { panic!() };
        assert_eq!(l.api.merged(&c.api, env, None).endpoint.as_deref(), Some("http://from-env"));
        assert_eq!(l.api.merged(&c.api, Some(String::new()), None).endpoint, None, "an empty variable is no endpoint");
    }

    #[test]
    fn stack_or_endpoint_the_flag_given_last_and_nearest_wins() {
        let env = (Some("http://from-env".to_string()), Some("env-stack".to_string()));
        let pick = |args: &[&str], env: (Option<String>, Option<String>)| {
            let c = parse(args);
            let Command::Ls(l) = &c.command else { panic!() };
            let m = l.api.merged(&c.api, env.0, env.1);
            (m.endpoint, m.stack)
        };
        assert_eq!(pick(&["--stack", "prod", "ls"], env.clone()), (None, Some("prod".into())), "a flag beats both variables");
        assert_eq!(pick(&["--stack", "prod", "ls", "--endpoint", "http://after"], env.clone()), (Some("http://after".into()), None));
        assert_eq!(pick(&["--endpoint", "http://before", "ls", "--stack", "after"], env.clone()), (None, Some("after".into())));
        assert_eq!(pick(&["ls"], env.clone()), (Some("http://from-env".into()), None), "AVIARY_ENDPOINT beats AVIARY_STACK");
        assert_eq!(pick(&["ls"], (None, env.1.clone())), (None, Some("env-stack".into())));
        assert_eq!(pick(&["ls"], (None, Some(String::new()))), (None, None));
        assert!(Cli::try_parse_from(["aviary", "ls", "--stack", "a", "--endpoint", "http://b"]).is_err(), "one place, one choice");
    }

    #[test]
    fn traffic_flags() {
        let c = parse(&[
            "traffic", "web-1", "--percent", "12.5", "--path", "/api/*", "--path", "/v2/*", "--method", "GET", "--header",
            "x-canary=yes", "--query", "beta=1", "--query", "on", "--sticky", "300",
        ]);
        let Command::Traffic(t) = c.command else { panic!() };
        assert_eq!(t.percent, Some(12.5));
        assert_eq!(t.paths, vec!["/api/*", "/v2/*"]);
        assert_eq!(t.headers, vec![("x-canary".to_string(), "yes".to_string())]);
        assert_eq!(t.queries, vec!["beta=1", "on"]);
        assert_eq!(t.sticky, Some(300));
        assert!(Cli::try_parse_from(["aviary", "traffic", "x", "--sticky", "5", "--no-sticky"]).is_err());
        assert!(Cli::try_parse_from(["aviary", "traffic", "x", "--header", "novalue"]).is_err());
        assert!(Cli::try_parse_from(["aviary", "traffic", "x", "--clear-conditions", "--path", "/a"]).is_err());
    }

    #[test]
    fn status_filter_and_judge_thresholds() {
        let c = parse(&["ls", "--status", "waiting-healthy"]);
        let Command::Ls(l) = c.command else { panic!() };
        assert_eq!(l.status, Some(Status::WaitingHealthy));
        assert!(Cli::try_parse_from(["aviary", "ls", "--status", "sleeping"]).is_err());
        let c = parse(&["judge", "c.json", "d.json", "--format", "table", "--marginal", "50", "--pass", "80"]);
        let Command::Judge(j) = c.command else { panic!() };
        assert_eq!((j.format, j.marginal, j.pass), (Some(JudgeFormat::Table), Some(50.0), Some(80.0)));
        assert!(Cli::try_parse_from(["aviary", "judge", "c", "d", "--pass", "80"]).is_err());
    }

    #[cfg(feature = "local")]
    #[test]
    fn demo_keeps_its_flags() {
        let c = parse(&["demo", "--endpoint", "http://127.0.0.1:5000", "--time-scale", "0.5", "--change-to", "0"]);
        let Command::Demo { endpoint, time_scale, change_to, spec_dir, fault, load_seconds } = c.command else { panic!() };
        assert_eq!((fault.as_str(), load_seconds), ("latency", 6));
        assert_eq!(endpoint.as_deref(), Some("http://127.0.0.1:5000"));
        assert_eq!((time_scale, change_to, spec_dir), (0.5, 0.0, None));
    }

    #[test]
    fn deploy_and_local_defaults() {
        let c = parse(&["deploy", "./web", "--s3-bucket", "b", "--no-wait"]);
        let Command::Deploy(d) = c.command else { panic!() };
        assert_eq!(d.s3_bucket.as_deref(), Some("b"));
        assert!(d.no_wait);
        assert_eq!((d.wait.timeout, d.wait.poll_ms), (1800, 1000));
        assert!(Cli::try_parse_from(["aviary", "deploy", "x", "--s3-endpoint", "http://e"]).is_err());
        #[cfg(feature = "local")]
        {
            let c = parse(&["local", "up", "--port", "0", "--cleanup-every", "5", "--no-sample-env"]);
            let Command::Local { command: LocalCommand::Up(u) } = c.command else { panic!() };
            assert_eq!((u.port, u.cleanup_every, u.no_sample_env), (0, 5, true));
        }
    }

    #[cfg(not(feature = "local"))]
    #[test]
    fn without_the_local_runtime_demo_and_local_are_hidden_but_answer() {
        let help = Cli::command().render_long_help().to_string();
        let commands: Vec<&str> = help.lines().filter_map(|l| l.strip_prefix("  ")?.split_whitespace().next()).collect();
        assert!(commands.contains(&"deploy") && !commands.contains(&"demo") && !commands.contains(&"local"), "{help}");
        let c = parse(&["demo", "--endpoint", "http://127.0.0.1:5000", "--help"]);
        assert!(matches!(c.command, Command::DemoUnavailable(_)));
        let c = parse(&["local", "up", "--port", "0"]);
        let Command::LocalUnavailable(u) = c.command else { panic!() };
        assert_eq!(u.args, vec!["up", "--port", "0"]);
        assert!(needs_local("demo").contains("--features local"));
    }
}
