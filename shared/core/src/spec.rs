//! The deployment spec (`aviary.json`): what a user asks for, and its validation against
//! Aviary's rules and the Application Load Balancer's documented limits.
//!
//! Validation here is pure (no AWS calls) and reports *every* problem with the field path it
//! belongs to, so the API can answer with field-level messages and the S3 path can record a
//! precise REJECTED reason. Checks that need AWS (does the listener exist?) live in
//! the admission use case (`aviary-lifecycle`).

use serde::{Deserialize, Serialize};

pub use crate::limits::{
    MAX_CONDITION_VALUES_PER_RULE, MAX_RULE_PRIORITY, MAX_TARGET_GROUPS_PER_ACTION, MAX_TRAFFIC_PERCENT, STICKINESS_MAX_SECONDS,
    STICKINESS_MIN_SECONDS, TRAFFIC_RESOLUTION_PERCENT,
};

/// A canary deployment as the user describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeploymentSpec {
    /// Short name: lowercase letters, digits and `-`, 1–32 characters. Also the S3 prefix
    /// (`canaries/<name>/`).
    pub name: String,
    /// The existing ALB listener the canary rule is added to.
    pub listener_arn: String,
    /// Production target group(s). Default: the listener's default forward action.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub production_target_group_arns: Vec<String>,
    /// The canary's share of the rule's traffic, in percent (0.1–50, steps of 0.1). The
    /// baseline gets the same share; production keeps the rest.
    pub traffic_percent: f64,
    /// Optional rule conditions; none means the rule matches all traffic that reaches it.
    #[serde(default)]
    pub conditions: RuleConditions,
    /// Sticky sessions on the rule's forward action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stickiness: Option<Stickiness>,
    /// Target group health check for baseline and canary.
    #[serde(default)]
    pub health_check: HealthCheck,
    /// Port the application listens on in the instances.
    pub app_port: u16,
    /// EC2 instance type for baseline and canary.
    #[serde(default = "default_instance_type")]
    pub instance_type: String,
    /// Explicit AMI; by default the latest Amazon Linux 2023 for the instance's architecture.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ami_id: Option<String>,
    /// Subnets for the instances; default: the load balancer's subnets.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subnet_ids: Vec<String>,
    /// Explicit rule priority; default: the first free priority after the listener's rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<u32>,
    /// Where the rule may go among the listener's rules: after every existing rule (the
    /// default), or ahead of them at the explicit `priority` (needs the installation's
    /// permission too).
    #[serde(default, skip_serializing_if = "RulePlacement::is_default")]
    pub rule_placement: RulePlacement,
    /// Time to live: cleanup tears the canary down after this many minutes (10–10080).
    #[serde(default = "default_ttl_minutes")]
    pub ttl_minutes: u32,
    /// How long to wait for both target groups to become healthy (1–120 minutes).
    #[serde(default = "default_health_deadline_minutes")]
    pub health_deadline_minutes: u32,
    /// The per-canary monitoring stack.
    #[serde(default)]
    pub monitoring: Monitoring,
    /// Artifact names inside the deployment's S3 prefix.
    #[serde(default)]
    pub artifacts: Artifacts,
}

/// Where the canary rule is evaluated relative to the rules the listener already has.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RulePlacement {
    /// After every rule that exists at admission: the canary only shares traffic no user
    /// rule handles (a user's deny or redirect rule keeps working).
    #[default]
    AfterExistingRules,
    /// At the spec's explicit priority, even before existing rules.
    AheadOfExistingRules,
}

impl RulePlacement {
    pub fn is_default(&self) -> bool {
        *self == RulePlacement::AfterExistingRules
    }
}

fn default_instance_type() -> String {
    "t4g.small".into()
}
fn default_ttl_minutes() -> u32 {
    240
}
fn default_health_deadline_minutes() -> u32 {
    15
}

/// Listener rule conditions (ALB condition types).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RuleConditions {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub path_patterns: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub http_methods: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub host_headers: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub source_ips: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub http_headers: Vec<HeaderCondition>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub query_strings: Vec<QueryStringCondition>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HeaderCondition {
    pub name: String,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct QueryStringCondition {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    pub value: String,
}

impl RuleConditions {
    /// Number of match evaluations the rule uses (the ALB quota counts each value).
    pub fn value_count(&self) -> usize {
        self.path_patterns.len()
            + self.http_methods.len()
            + self.host_headers.len()
            + self.source_ips.len()
            + self.http_headers.iter().map(|h| h.values.len()).sum::<usize>()
            + self.query_strings.len()
    }

    pub fn is_empty(&self) -> bool {
        self.value_count() == 0 && self.http_headers.is_empty()
    }

    /// The conditions as people read them: `path /api/* | /v2/* & header X-Canary: 1`
    /// (values of a kind OR-ed with `|`, kinds AND-ed with `&`).
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        let mut kind = |name: &str, values: &[String]| {
            if !values.is_empty() {
                parts.push(format!("{name} {}", values.join(" | ")));
            }
        };
        kind("path", &self.path_patterns);
        kind("method", &self.http_methods);
        kind("host", &self.host_headers);
        kind("source", &self.source_ips);
        for h in &self.http_headers {
            parts.push(format!("header {}: {}", h.name, h.values.join(" | ")));
        }
        if !self.query_strings.is_empty() {
            let q: Vec<String> = self.query_strings.iter().map(|q| match &q.key { Some(k) => format!("{k}={}", q.value), None => q.value.clone() }).collect();
            parts.push(format!("query {}", q.join(" | ")));
        }
        if parts.is_empty() {
            "none (all traffic reaching the rule)".into()
        } else {
            parts.join(" & ")
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Stickiness {
    #[serde(default = "yes")]
    pub enabled: bool,
    pub duration_seconds: u32,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HealthCheck {
    #[serde(default = "default_health_path")]
    pub path: String,
    /// Port to check; default: the app port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(default = "default_interval")]
    pub interval_seconds: u32,
    #[serde(default = "default_timeout")]
    pub timeout_seconds: u32,
    #[serde(default = "default_healthy_threshold")]
    pub healthy_threshold: u32,
    #[serde(default = "default_unhealthy_threshold")]
    pub unhealthy_threshold: u32,
    /// HTTP codes counted as healthy, ALB syntax: `200`, `200,204`, `200-299`.
    #[serde(default = "default_matcher")]
    pub matcher: String,
}

fn default_health_path() -> String {
    "/".into()
}
fn default_interval() -> u32 {
    10
}
fn default_timeout() -> u32 {
    5
}
fn default_healthy_threshold() -> u32 {
    3
}
fn default_unhealthy_threshold() -> u32 {
    2
}
fn default_matcher() -> String {
    "200".into()
}

impl Default for HealthCheck {
    fn default() -> Self {
        HealthCheck {
            path: default_health_path(),
            port: None,
            interval_seconds: default_interval(),
            timeout_seconds: default_timeout(),
            healthy_threshold: default_healthy_threshold(),
            unhealthy_threshold: default_unhealthy_threshold(),
            matcher: default_matcher(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Monitoring {
    #[serde(default = "yes")]
    pub enabled: bool,
    /// CIDR allowed to reach the monitoring UIs. None: no inbound rule at all (use SSM port
    /// forwarding).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_cidr: Option<String>,
    /// The application's Prometheus metrics path (scraped on the app port), if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_metrics_path: Option<String>,
    #[serde(default = "default_monitor_instance_type")]
    pub instance_type: String,
}

fn default_monitor_instance_type() -> String {
    "t4g.medium".into()
}

impl Default for Monitoring {
    fn default() -> Self {
        Monitoring {
            enabled: true,
            allowed_cidr: None,
            app_metrics_path: None,
            instance_type: default_monitor_instance_type(),
        }
    }
}

/// File names (relative to the deployment's S3 prefix).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Artifacts {
    #[serde(default = "default_baseline_tarball")]
    pub baseline_tarball: String,
    #[serde(default = "default_canary_tarball")]
    pub canary_tarball: String,
    /// Compose file for both roles; the loaded image's reference is passed as `AVIARY_IMAGE`.
    #[serde(default = "default_compose")]
    pub compose_file: String,
}

fn default_baseline_tarball() -> String {
    "baseline.tar".into()
}
fn default_canary_tarball() -> String {
    "canary.tar".into()
}
fn default_compose() -> String {
    "compose.yml".into()
}

impl Default for Artifacts {
    fn default() -> Self {
        Artifacts {
            baseline_tarball: default_baseline_tarball(),
            canary_tarball: default_canary_tarball(),
            compose_file: default_compose(),
        }
    }
}

/// One validation problem, tied to the JSON path of the field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError { field: field.into(), message: message.into() }
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Joins field errors into one human-readable reason.
pub fn describe_errors(errors: &[FieldError]) -> String {
    errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

/// Parses `aviary.json` bytes, turning serde's error into a field error.
pub fn parse_spec(bytes: &[u8]) -> Result<DeploymentSpec, Vec<FieldError>> {
    serde_json::from_slice::<DeploymentSpec>(bytes).map_err(|e| {
        vec![FieldError::new("spec", format!("not a valid deployment spec: {e}"))]
    })
}

/// Parses and validates in one go.
pub fn parse_and_validate(bytes: &[u8]) -> Result<DeploymentSpec, Vec<FieldError>> {
    let spec = parse_spec(bytes)?;
    let errors = spec.validate();
    if errors.is_empty() {
        Ok(spec)
    } else {
        Err(errors)
    }
}

impl DeploymentSpec {
    /// The architecture the instance type runs (Graviton families carry a `g` after the
    /// generation digit: t4g, m7g, c7gn, r8g).
    pub fn architecture(&self) -> Architecture {
        architecture_of(&self.instance_type)
    }

    pub fn health_check_port(&self) -> u16 {
        self.health_check.port.unwrap_or(self.app_port)
    }

    /// Every problem with the spec; empty when it is valid.
    pub fn validate(&self) -> Vec<FieldError> {
        let mut errs = Vec::new();
        let mut err = |f: &str, m: String| errs.push(FieldError::new(f, m));

        if !is_valid_name(&self.name) {
            err("name", "must be 1-32 characters of lowercase letters, digits and '-', starting with a letter".into());
        }
        if !is_listener_arn(&self.listener_arn) {
            err("listenerArn", format!("'{}' is not an ALB listener ARN (arn:aws:elasticloadbalancing:<region>:<account>:listener/app/...)", self.listener_arn));
        }
        if self.production_target_group_arns.len() > MAX_TARGET_GROUPS_PER_ACTION - 2 {
            err(
                "productionTargetGroupArns",
                format!(
                    "at most {} production target groups: a forward action holds {} target groups and Aviary adds baseline and canary",
                    MAX_TARGET_GROUPS_PER_ACTION - 2,
                    MAX_TARGET_GROUPS_PER_ACTION
                ),
            );
        }
        for (i, tg) in self.production_target_group_arns.iter().enumerate() {
            if !is_target_group_arn(tg) {
                err(&format!("productionTargetGroupArns[{i}]"), format!("'{tg}' is not a target group ARN"));
            }
        }
        if let Err(m) = crate::traffic::TrafficShare::from_percent(self.traffic_percent) {
            err("trafficPercent", m.to_string());
        }
        validate_conditions(&self.conditions, &mut err);
        if let Some(s) = &self.stickiness {
            if s.enabled && !(STICKINESS_MIN_SECONDS..=STICKINESS_MAX_SECONDS).contains(&s.duration_seconds) {
                err(
                    "stickiness.durationSeconds",
                    format!("must be {STICKINESS_MIN_SECONDS}-{STICKINESS_MAX_SECONDS} seconds, got {}", s.duration_seconds),
                );
            }
        }
        validate_health_check(&self.health_check, &mut err);
        if self.app_port == 0 {
            err("appPort", "must be 1-65535".into());
        }
        if !is_instance_type(&self.instance_type) {
            err("instanceType", format!("'{}' is not an EC2 instance type (e.g. t4g.small)", self.instance_type));
        }
        if let Some(ami) = &self.ami_id {
            if !is_aws_id(ami, "ami-") {
                err("amiId", format!("'{ami}' is not an AMI id (ami-...)"));
            }
        }
        for (i, s) in self.subnet_ids.iter().enumerate() {
            if !is_aws_id(s, "subnet-") {
                err(&format!("subnetIds[{i}]"), format!("'{s}' is not a subnet id (subnet-...)"));
            }
        }
        if let Some(p) = self.priority {
            if !(1..=MAX_RULE_PRIORITY).contains(&p) {
                err("priority", format!("must be 1-{MAX_RULE_PRIORITY}, got {p}"));
            }
        }
        if self.rule_placement == RulePlacement::AheadOfExistingRules && self.priority.is_none() {
            err("rulePlacement", "aheadOfExistingRules needs an explicit priority".into());
        }
        if !(10..=10_080).contains(&self.ttl_minutes) {
            err("ttlMinutes", format!("must be 10-10080 minutes (7 days), got {}", self.ttl_minutes));
        }
        if !(1..=120).contains(&self.health_deadline_minutes) {
            err("healthDeadlineMinutes", format!("must be 1-120 minutes, got {}", self.health_deadline_minutes));
        }
        if self.monitoring.enabled {
            if let Some(cidr) = &self.monitoring.allowed_cidr {
                if !is_cidr(cidr) {
                    err("monitoring.allowedCidr", format!("'{cidr}' is not an IPv4 CIDR block (e.g. 203.0.113.0/24)"));
                } else if cidr_prefix_len(cidr) < MIN_UI_CIDR_PREFIX {
                    err(
                        "monitoring.allowedCidr",
                        format!("'{cidr}' is too wide: the monitoring UIs open at most to a /{MIN_UI_CIDR_PREFIX} (or use SSM port forwarding, docs/monitoring.md)"),
                    );
                }
            }
            if let Some(p) = &self.monitoring.app_metrics_path {
                if !p.starts_with('/') || p.len() > 256 || p.chars().any(|c| c.is_whitespace() || c == '"' || c == '\'') {
                    err("monitoring.appMetricsPath", "must be an absolute URL path like /metrics".into());
                }
            }
            if !is_instance_type(&self.monitoring.instance_type) {
                err("monitoring.instanceType", format!("'{}' is not an EC2 instance type", self.monitoring.instance_type));
            }
        }
        for (field, v) in [
            ("artifacts.baselineTarball", &self.artifacts.baseline_tarball),
            ("artifacts.canaryTarball", &self.artifacts.canary_tarball),
            ("artifacts.composeFile", &self.artifacts.compose_file),
        ] {
            if !is_artifact_name(v) {
                err(field, format!("'{v}' must be a plain file name inside the deployment's prefix (letters, digits, '.', '-', '_')"));
            }
        }
        for (field, v) in [("artifacts.baselineTarball", &self.artifacts.baseline_tarball), ("artifacts.canaryTarball", &self.artifacts.canary_tarball)] {
            // The bucket's notification fires only for `.tar` keys.
            if !v.ends_with(".tar") {
                err(field, format!("'{v}' must end in .tar (the upload notification only fires for .tar files)"));
            }
        }
        if self.artifacts.baseline_tarball == self.artifacts.canary_tarball {
            err("artifacts.canaryTarball", "baseline and canary tarballs must be different files".into());
        }
        errs
    }
}

fn validate_conditions(c: &RuleConditions, err: &mut impl FnMut(&str, String)) {
    let total = c.value_count();
    if total > MAX_CONDITION_VALUES_PER_RULE {
        err(
            "conditions",
            format!("{total} condition values; an ALB rule allows at most {MAX_CONDITION_VALUES_PER_RULE}"),
        );
    }
    for (i, p) in c.path_patterns.iter().enumerate() {
        if p.is_empty() || p.len() > 128 || !p.starts_with('/') {
            err(&format!("conditions.pathPatterns[{i}]"), "must start with '/' and be at most 128 characters".into());
        } else if !p.chars().all(|ch| ch.is_ascii_alphanumeric() || "_-.$/~\"'@:+&()!,;=*?%".contains(ch)) {
            err(&format!("conditions.pathPatterns[{i}]"), format!("'{p}' has characters an ALB path pattern does not allow"));
        }
    }
    const METHODS: [&str; 9] = ["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"];
    for (i, m) in c.http_methods.iter().enumerate() {
        if !METHODS.contains(&m.as_str()) {
            err(&format!("conditions.httpMethods[{i}]"), format!("'{m}' is not an HTTP method (uppercase, e.g. GET)"));
        }
    }
    for (i, h) in c.host_headers.iter().enumerate() {
        if h.is_empty() || h.len() > 128 || !h.chars().all(|ch| ch.is_ascii_alphanumeric() || "-.*?".contains(ch)) {
            err(&format!("conditions.hostHeaders[{i}]"), format!("'{h}' is not a host name pattern (letters, digits, '-', '.', '*', '?')"));
        }
    }
    for (i, s) in c.source_ips.iter().enumerate() {
        if !is_cidr(s) {
            err(&format!("conditions.sourceIps[{i}]"), format!("'{s}' is not an IPv4 CIDR block"));
        }
    }
    for (i, h) in c.http_headers.iter().enumerate() {
        if h.name.is_empty() || h.name.len() > 40 || !h.name.chars().all(|ch| ch.is_ascii_alphanumeric() || "-_".contains(ch)) {
            err(&format!("conditions.httpHeaders[{i}].name"), "must be 1-40 characters of letters, digits, '-' and '_'".into());
        }
        if h.values.is_empty() {
            err(&format!("conditions.httpHeaders[{i}].values"), "needs at least one value".into());
        }
        for (j, v) in h.values.iter().enumerate() {
            if v.is_empty() || v.len() > 128 {
                err(&format!("conditions.httpHeaders[{i}].values[{j}]"), "must be 1-128 characters".into());
            }
        }
    }
    for (i, q) in c.query_strings.iter().enumerate() {
        if q.value.is_empty() || q.value.len() > 128 || q.key.as_ref().is_some_and(|k| k.is_empty() || k.len() > 128) {
            err(&format!("conditions.queryStrings[{i}]"), "key and value must be 1-128 characters".into());
        }
    }
}

fn validate_health_check(h: &HealthCheck, err: &mut impl FnMut(&str, String)) {
    if !h.path.starts_with('/') || h.path.len() > 1024 {
        err("healthCheck.path", "must start with '/' and be at most 1024 characters".into());
    }
    if h.port == Some(0) {
        err("healthCheck.port", "must be 1-65535".into());
    }
    if !(5..=300).contains(&h.interval_seconds) {
        err("healthCheck.intervalSeconds", format!("must be 5-300, got {}", h.interval_seconds));
    }
    if !(2..=120).contains(&h.timeout_seconds) {
        err("healthCheck.timeoutSeconds", format!("must be 2-120, got {}", h.timeout_seconds));
    } else if h.timeout_seconds >= h.interval_seconds {
        // Say both values and the defaults: the user may have set only one of them.
        err(
            "healthCheck.timeoutSeconds",
            format!(
                "{}s must be shorter than intervalSeconds, which is {}s (defaults: timeoutSeconds {}, intervalSeconds {}); \
                 lower timeoutSeconds or raise intervalSeconds",
                h.timeout_seconds,
                h.interval_seconds,
                default_timeout(),
                default_interval()
            ),
        );
    }
    if !(2..=10).contains(&h.healthy_threshold) {
        err("healthCheck.healthyThreshold", format!("must be 2-10, got {}", h.healthy_threshold));
    }
    if !(2..=10).contains(&h.unhealthy_threshold) {
        err("healthCheck.unhealthyThreshold", format!("must be 2-10, got {}", h.unhealthy_threshold));
    }
    if !is_matcher(&h.matcher) {
        err("healthCheck.matcher", format!("'{}' is not an HTTP code matcher (200, 200,204 or 200-299; codes 200-499)", h.matcher));
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Architecture {
    Arm64,
    X86_64,
}

impl Architecture {
    /// The SSM public parameter naming the latest Amazon Linux 2023 AMI.
    pub fn al2023_ssm_parameter(self) -> &'static str {
        match self {
            Architecture::Arm64 => "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64",
            Architecture::X86_64 => "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
        }
    }
}

pub fn architecture_of(instance_type: &str) -> Architecture {
    let family = instance_type.split('.').next().unwrap_or("");
    // The letters after the generation digit are attributes; 'g' means Graviton.
    let attrs: String = family.chars().skip_while(|c| !c.is_ascii_digit()).skip_while(|c| c.is_ascii_digit()).collect();
    if attrs.contains('g') {
        Architecture::Arm64
    } else {
        Architecture::X86_64
    }
}

pub fn is_valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 32
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.ends_with('-')
}

fn is_listener_arn(s: &str) -> bool {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && parts[2] == "elasticloadbalancing"
        && !parts[3].is_empty()
        && parts[5].starts_with("listener/app/")
        && parts[5].split('/').count() == 5
}

fn is_target_group_arn(s: &str) -> bool {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    parts.len() == 6 && parts[0] == "arn" && parts[2] == "elasticloadbalancing" && parts[5].starts_with("targetgroup/")
}

fn is_aws_id(s: &str, prefix: &str) -> bool {
    s.strip_prefix(prefix).is_some_and(|rest| (8..=17).contains(&rest.len()) && rest.chars().all(|c| c.is_ascii_hexdigit()))
}

fn is_instance_type(s: &str) -> bool {
    let mut it = s.split('.');
    matches!((it.next(), it.next(), it.next()), (Some(f), Some(sz), None)
        if !f.is_empty() && f.starts_with(|c: char| c.is_ascii_lowercase())
            && f.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !sz.is_empty() && sz.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()))
}

/// IPv4 CIDR, e.g. `10.0.0.0/16`.
/// The widest block the monitoring UIs may be opened to.
pub const MIN_UI_CIDR_PREFIX: u8 = 16;

/// The prefix length of a CIDR block `is_cidr` accepted (0 for anything else).
fn cidr_prefix_len(s: &str) -> u8 {
    s.split_once('/').and_then(|(_, l)| l.parse().ok()).unwrap_or(0)
}

pub fn is_cidr(s: &str) -> bool {
    let Some((ip, len)) = s.split_once('/') else { return false };
    ip.parse::<std::net::Ipv4Addr>().is_ok() && len.parse::<u8>().is_ok_and(|l| l <= 32) && !len.starts_with('+')
}

fn is_matcher(s: &str) -> bool {
    let code_ok = |c: &str| c.len() == 3 && c.parse::<u16>().is_ok_and(|n| (200..=499).contains(&n));
    if let Some((a, b)) = s.split_once('-') {
        code_ok(a) && code_ok(b) && a < b
    } else {
        !s.is_empty() && s.split(',').all(code_ok)
    }
}

fn is_artifact_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s != "."
        && s != ".."
        && s != "aviary.json"
        && s.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn sample() -> DeploymentSpec {
        serde_json::from_value(serde_json::json!({
            "name": "checkout",
            "listenerArn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/prod/50dc6c495c0c9188/f2f7dc8efc522ab2",
            "trafficPercent": 5,
            "appPort": 8080
        }))
        .unwrap()
    }

    fn fields(spec: &DeploymentSpec) -> Vec<String> {
        spec.validate().into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn minimal_spec_gets_safe_defaults_and_validates() {
        let s = sample();
        assert_eq!(s.validate(), vec![]);
        assert_eq!(s.instance_type, "t4g.small");
        assert_eq!(s.ttl_minutes, 240);
        assert!(s.monitoring.enabled);
        assert_eq!(s.health_check.path, "/");
        assert_eq!(s.health_check_port(), 8080);
        assert_eq!(s.architecture(), Architecture::Arm64);
        assert_eq!(s.artifacts.canary_tarball, "canary.tar");
    }

    #[test]
    fn unknown_fields_are_rejected_with_their_name() {
        let err = parse_spec(br#"{"name":"a","listenerArn":"x","trafficPercent":1,"appPort":1,"weight":3}"#).unwrap_err();
        assert!(err[0].message.contains("unknown field `weight`"), "{err:?}");
    }

    #[test]
    fn every_alb_limit_is_enforced_with_a_field_path() {
        let mut s = sample();
        s.traffic_percent = 60.0;
        s.priority = Some(50_001);
        s.stickiness = Some(Stickiness { enabled: true, duration_seconds: 604_801 });
        s.conditions.path_patterns = vec!["/a".into(), "/b".into(), "/c".into()];
        s.conditions.http_methods = vec!["GET".into(), "get".into(), "POST".into()];
        s.production_target_group_arns = vec!["arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/a/1".into(); 4];
        let f = fields(&s);
        for want in ["trafficPercent", "priority", "stickiness.durationSeconds", "conditions", "conditions.httpMethods[1]", "productionTargetGroupArns"] {
            assert!(f.contains(&want.to_string()), "missing {want} in {f:?}");
        }
    }

    #[test]
    fn stickiness_zero_is_rejected_but_disabled_stickiness_is_not_checked() {
        let mut s = sample();
        s.stickiness = Some(Stickiness { enabled: true, duration_seconds: 0 });
        assert_eq!(fields(&s), vec!["stickiness.durationSeconds"]);
        s.stickiness = Some(Stickiness { enabled: false, duration_seconds: 0 });
        assert!(fields(&s).is_empty());
    }

    #[test]
    fn conditions_are_checked_value_by_value() {
        let mut s = sample();
        s.conditions.source_ips = vec!["10.0.0.0/33".into()];
        s.conditions.http_headers = vec![HeaderCondition { name: "X Bad".into(), values: vec![] }];
        s.conditions.path_patterns = vec!["no-slash".into()];
        s.conditions.host_headers = vec!["exa mple.com".into()];
        let f = fields(&s);
        assert_eq!(
            f,
            vec![
                "conditions.pathPatterns[0]",
                "conditions.hostHeaders[0]",
                "conditions.sourceIps[0]",
                "conditions.httpHeaders[0].name",
                "conditions.httpHeaders[0].values"
            ]
        );
    }

    #[test]
    fn identifiers_and_numbers_are_validated() {
        let mut s = sample();
        s.name = "Bad_Name".into();
        s.listener_arn = "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/x/y".into();
        s.app_port = 0;
        s.instance_type = "huge".into();
        s.ami_id = Some("ami-xyz".into());
        s.ttl_minutes = 5;
        s.health_check.matcher = "100".into();
        s.health_check.timeout_seconds = 10;
        s.monitoring.allowed_cidr = Some("0.0.0.0/0".into());
        s.artifacts.compose_file = "../compose.yml".into();
        s.artifacts.canary_tarball = "canary.tgz".into();
        let f = fields(&s);
        for want in [
            "name", "listenerArn", "appPort", "instanceType", "amiId", "ttlMinutes", "healthCheck.matcher",
            "healthCheck.timeoutSeconds", "monitoring.allowedCidr", "artifacts.composeFile", "artifacts.canaryTarball",
        ] {
            assert!(f.contains(&want.to_string()), "missing {want} in {f:?}");
        }
    }

    #[test]
    fn a_timeout_not_below_the_interval_names_both_values_and_the_defaults() {
        let mut s = sample();
        s.health_check.interval_seconds = 5;
        let errors = s.validate();
        let e = errors.iter().find(|e| e.field == "healthCheck.timeoutSeconds").expect("refused");
        assert!(e.message.contains("5s must be shorter than intervalSeconds, which is 5s"), "{}", e.message);
        assert!(e.message.contains("defaults: timeoutSeconds 5, intervalSeconds 10"), "{}", e.message);
    }

    #[test]
    fn architecture_follows_the_instance_family() {
        assert_eq!(architecture_of("t4g.small"), Architecture::Arm64);
        assert_eq!(architecture_of("c7gn.large"), Architecture::Arm64);
        assert_eq!(architecture_of("m5.large"), Architecture::X86_64);
        assert_eq!(architecture_of("g5.xlarge"), Architecture::X86_64);
    }

    #[test]
    fn spec_round_trips_camel_case() {
        let s = sample();
        let v = serde_json::to_value(&s).unwrap();
        assert!(v.get("listenerArn").is_some() && v.get("trafficPercent").is_some());
        let back: DeploymentSpec = serde_json::from_value(v).unwrap();
        assert_eq!(back, s);
    }
}
