//! `aviary-compose-policy`: the compose file a canary uploads, checked at admission before
//! anything is created. The tarball checker proves which image is admitted; this crate makes
//! sure the compose file runs *that* image and cannot step outside its container:
//!
//! - it is UTF-8 YAML (parsed by `serde_yaml_ng`, which reports line and column and refuses
//!   duplicate keys), a mapping with a non-empty `services` mapping, no larger than the policy
//!   allows;
//! - at least one service runs the admitted image, written `${AVIARY_IMAGE}` (or
//!   `$AVIARY_IMAGE`); every other `image` is a literal reference on the installation's
//!   allow-list (an image chosen by interpolation at run time would escape the check);
//! - nothing that reaches the host: `build`, `privileged`, `cap_add`, `devices`, host or
//!   another container's network/pid/ipc/uts/user namespaces, `cgroup: host`, confinement
//!   switched off in `security_opt`, bind mounts of host paths (short or long syntax, or a
//!   top-level volume whose driver binds a host path), `extends`, `include`, `env_file`, and
//!   top-level `configs`/`secrets` read from host files;
//! - no YAML merge keys (`<<`): Compose would merge keys this check never saw.
//!
//! Every problem is reported (not only the first), each naming the service and the key.
//!
//! Owns: the compose rules. Must never import: another Aviary crate, an AWS SDK crate or an
//! async runtime.

use std::fmt;

use serde_yaml_ng::{Mapping, Value};

/// The placeholder the app service's `image` must be.
pub const ADMITTED_IMAGE: &str = "${AVIARY_IMAGE}";

/// What the installation allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComposePolicy {
    /// Images a service may run besides the admitted one: exact references, or a prefix
    /// pattern ending in `*` (`fluent/fluent-bit:*`, `registry/repo@sha256:*`).
    pub allowed_extra_images: Vec<String>,
    /// Size limit of the file, bytes.
    pub max_bytes: usize,
}

impl Default for ComposePolicy {
    fn default() -> Self {
        ComposePolicy { allowed_extra_images: Vec::new(), max_bytes: 64 * 1024 }
    }
}

/// What an accepted file runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComposeSummary {
    /// The services that run the admitted image.
    pub app_services: Vec<String>,
    /// Other images, each on the allow-list.
    pub extra_images: Vec<String>,
}

/// Which rule a problem breaks (stable names, e.g. for metrics or tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    TooLarge,
    NotUtf8,
    NotYaml,
    NotAMapping,
    NoServices,
    NoAdmittedImage,
    ImageNotAllowed,
    ImageInterpolated,
    NoImage,
    Forbidden,
    HostBindMount,
    MergeKey,
}

/// One refusal: the service (when it is about one) and the key, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ComposeProblem {
    pub kind: ProblemKind,
    pub service: Option<String>,
    pub key: String,
    pub reason: String,
}

impl fmt::Display for ComposeProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.service {
            Some(s) => write!(f, "service '{s}': {}: {}", self.key, self.reason),
            None if self.key.is_empty() => write!(f, "{}", self.reason),
            None => write!(f, "{}: {}", self.key, self.reason),
        }
    }
}

fn problem(kind: ProblemKind, service: Option<&str>, key: &str, reason: impl Into<String>) -> ComposeProblem {
    ComposeProblem { kind, service: service.map(str::to_string), key: key.into(), reason: reason.into() }
}

/// Checks `text` against `policy`; every problem found, or what the file runs.
pub fn check_compose(text: &[u8], policy: &ComposePolicy) -> Result<ComposeSummary, Vec<ComposeProblem>> {
    if text.len() > policy.max_bytes {
        return Err(vec![problem(
            ProblemKind::TooLarge,
            None,
            "",
            format!("the compose file is {} bytes; the limit is {}", text.len(), policy.max_bytes),
        )]);
    }
    let text = std::str::from_utf8(text)
        .map_err(|e| vec![problem(ProblemKind::NotUtf8, None, "", format!("the compose file is not UTF-8 text (byte {})", e.valid_up_to()))])?;
    let doc: Value = serde_yaml_ng::from_str(text).map_err(|e| {
        let at = e.location().map(|l| format!("line {} column {}: ", l.line(), l.column())).unwrap_or_default();
        vec![problem(ProblemKind::NotYaml, None, "", format!("the compose file is not valid YAML: {at}{e}"))]
    })?;
    let Value::Mapping(root) = &doc else {
        return Err(vec![problem(ProblemKind::NotAMapping, None, "", "the compose file must be a mapping with a `services` key")]);
    };
    let mut problems = Vec::new();
    merge_keys(&doc, &mut problems);
    top_level(root, &mut problems);
    let mut summary = ComposeSummary { app_services: Vec::new(), extra_images: Vec::new() };
    match root.get("services") {
        Some(Value::Mapping(services)) if !services.is_empty() => {
            for (name, service) in services {
                let name = key_text(name);
                check_service(&name, service, policy, &mut summary, &mut problems);
            }
            if summary.app_services.is_empty() {
                problems.push(problem(
                    ProblemKind::NoAdmittedImage,
                    None,
                    "services",
                    format!("no service runs the admitted image: the app service's image must be {ADMITTED_IMAGE}"),
                ));
            }
        }
        _ => problems.push(problem(ProblemKind::NoServices, None, "services", "there must be a non-empty `services` mapping")),
    }
    if problems.is_empty() {
        Ok(summary)
    } else {
        Err(problems)
    }
}

fn key_text(k: &Value) -> String {
    match k {
        Value::String(s) => s.clone(),
        other => serde_yaml_ng::to_string(other).map(|s| s.trim().to_string()).unwrap_or_default(),
    }
}

/// `<<` anywhere: Compose applies merge keys; this check would not see what they bring.
fn merge_keys(v: &Value, problems: &mut Vec<ComposeProblem>) {
    match v {
        Value::Mapping(m) => {
            for (k, v) in m {
                if k.as_str() == Some("<<") && !problems.iter().any(|p| p.kind == ProblemKind::MergeKey) {
                    problems.push(problem(ProblemKind::MergeKey, None, "<<", "YAML merge keys are not allowed: write the keys out"));
                }
                merge_keys(v, problems);
            }
        }
        Value::Sequence(s) => s.iter().for_each(|v| merge_keys(v, problems)),
        Value::Tagged(t) => merge_keys(&t.value, problems),
        _ => {}
    }
}

fn top_level(root: &Mapping, problems: &mut Vec<ComposeProblem>) {
    if root.contains_key("include") {
        problems.push(problem(ProblemKind::Forbidden, None, "include", "other compose files are not allowed (only this file is checked)"));
    }
    if let Some(Value::Mapping(volumes)) = root.get("volumes") {
        for (name, v) in volumes {
            if let Some(opts) = v.get("driver_opts") {
                let o = opts.get("o").and_then(Value::as_str).unwrap_or("");
                if o.split(',').any(|x| x.trim() == "bind") || opts.get("device").is_some() {
                    problems.push(problem(
                        ProblemKind::HostBindMount,
                        None,
                        &format!("volumes.{}.driver_opts", key_text(name)),
                        "a volume that binds a host path is not allowed",
                    ));
                }
            }
        }
    }
    for section in ["configs", "secrets"] {
        if let Some(Value::Mapping(items)) = root.get(section) {
            for (name, v) in items {
                if v.get("file").is_some() {
                    problems.push(problem(
                        ProblemKind::HostBindMount,
                        None,
                        &format!("{section}.{}.file", key_text(name)),
                        "files from the host are not allowed (only the compose file is uploaded)",
                    ));
                }
            }
        }
    }
}

/// Keys that reach the host whatever their value (when present and not empty/false).
const FORBIDDEN: &[(&str, &str)] = &[
    ("build", "building images on the instance is not allowed: only the admitted image runs"),
    ("privileged", "privileged containers get every host capability"),
    ("cap_add", "extra capabilities are not allowed"),
    ("devices", "host devices are not allowed"),
    ("device_cgroup_rules", "host device access is not allowed"),
    ("extends", "extending other files or services is not allowed (only this file is checked)"),
    ("env_file", "env files are not allowed (only the compose file is uploaded)"),
    ("cgroup_parent", "a custom cgroup parent is not allowed"),
];

/// Namespace keys: `host`, or another container's (`service:`/`container:`), are refused.
const NAMESPACES: &[&str] = &["network_mode", "pid", "ipc", "uts", "userns_mode", "cgroup"];

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::String(s) => !s.is_empty() && s != "false",
        Value::Sequence(s) => !s.is_empty(),
        Value::Mapping(m) => !m.is_empty(),
        _ => true,
    }
}

fn check_service(name: &str, service: &Value, policy: &ComposePolicy, summary: &mut ComposeSummary, problems: &mut Vec<ComposeProblem>) {
    let svc = Some(name);
    let Value::Mapping(m) = service else {
        problems.push(problem(ProblemKind::NotAMapping, svc, "", "a service must be a mapping"));
        return;
    };
    for (key, why) in FORBIDDEN {
        if m.get(*key).is_some_and(truthy) {
            let shown = if *key == "privileged" { "privileged: true".to_string() } else { (*key).to_string() };
            problems.push(problem(ProblemKind::Forbidden, svc, &shown, *why));
        }
    }
    for key in NAMESPACES {
        if let Some(v) = m.get(*key).and_then(Value::as_str) {
            let v = v.trim();
            if v == "host" || v.starts_with("service:") || v.starts_with("container:") {
                problems.push(problem(
                    ProblemKind::Forbidden,
                    svc,
                    &format!("{key}: {v}"),
                    "sharing the host's or another container's namespace is not allowed",
                ));
            }
        }
    }
    if let Some(Value::Sequence(opts)) = m.get("security_opt") {
        for o in opts.iter().filter_map(Value::as_str) {
            let o = o.replace('=', ":");
            if o.contains("unconfined") || o == "label:disable" {
                problems.push(problem(ProblemKind::Forbidden, svc, &format!("security_opt: {o}"), "switching confinement off is not allowed"));
            }
        }
    }
    if let Some(Value::Sequence(volumes)) = m.get("volumes") {
        for v in volumes {
            if let Some(source) = host_source(v) {
                problems.push(problem(
                    ProblemKind::HostBindMount,
                    svc,
                    &format!("volumes: {source}"),
                    "bind mounts of host paths are not allowed (use a named volume)",
                ));
            }
        }
    }
    match m.get("image") {
        Some(Value::String(image)) => {
            let image = image.trim();
            if image == ADMITTED_IMAGE || image == "$AVIARY_IMAGE" {
                summary.app_services.push(name.to_string());
            } else if image.contains('$') {
                problems.push(problem(
                    ProblemKind::ImageInterpolated,
                    svc,
                    &format!("image: {image}"),
                    format!("an image chosen at run time escapes the check; the app runs {ADMITTED_IMAGE}, others name their image"),
                ));
            } else if image_allowed(image, &policy.allowed_extra_images) {
                summary.extra_images.push(image.to_string());
            } else {
                problems.push(problem(
                    ProblemKind::ImageNotAllowed,
                    svc,
                    &format!("image: {image}"),
                    "not the admitted image and not in the installation's AllowedComposeImages",
                ));
            }
        }
        Some(_) => problems.push(problem(ProblemKind::NoImage, svc, "image", "must be a string")),
        None => problems.push(problem(ProblemKind::NoImage, svc, "image", format!("every service names its image ({ADMITTED_IMAGE} for the app)"))),
    }
}

/// The host path a volume entry binds, if it binds one.
fn host_source(v: &Value) -> Option<String> {
    match v {
        // Short syntax: `SOURCE:TARGET[:MODE]`; a bare `TARGET` is an anonymous volume.
        Value::String(s) => {
            let (source, _) = s.split_once(':')?;
            is_host_path(source).then(|| source.to_string())
        }
        Value::Mapping(m) => {
            let source = m.get("source").and_then(Value::as_str).unwrap_or("");
            let bind = m.get("type").and_then(Value::as_str) == Some("bind");
            (bind || is_host_path(source)).then(|| if source.is_empty() { "type: bind".to_string() } else { source.to_string() })
        }
        _ => None,
    }
}

/// Named volumes are plain names; anything path-like (or decided by interpolation) is the host.
fn is_host_path(source: &str) -> bool {
    source.starts_with('/') || source.starts_with('.') || source.starts_with('~') || source.contains('$') || source.contains('/')
}

fn image_allowed(image: &str, allowed: &[String]) -> bool {
    allowed.iter().any(|a| match a.strip_suffix('*') {
        Some(prefix) => !prefix.is_empty() && image.starts_with(prefix),
        None => a == image,
    })
}

#[cfg(test)]
mod tests;
