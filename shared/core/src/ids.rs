//! Names and identifiers derived deterministically, so retries and duplicate events map to the
//! same deployment and the same Step Functions execution.

use sha2::{Digest, Sha256};

/// Tag keys Aviary puts on everything it creates; IAM conditions and cleanup use them.
pub const TAG_MANAGED_BY: &str = "aviary:managed-by";
pub const TAG_MANAGED_BY_VALUE: &str = "aviary";
pub const TAG_DEPLOYMENT_ID: &str = "aviary:deployment-id";
pub const TAG_ROLE: &str = "aviary:role";
/// Which installation (stack) created a resource. Every resource Aviary creates carries it, and
/// every inventory, cleanup filter and IAM write condition requires it, so two installations on
/// one account never see or touch each other's resources.
pub const TAG_INSTALLATION: &str = "aviary:installation";

/// The S3 prefix all canaries live under.
pub const CANARY_PREFIX: &str = "canaries/";
/// The spec's file name inside a canary's prefix.
pub const SPEC_FILE: &str = "aviary.json";

fn short_hash(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    hex::encode(&h.finalize()[..5])
}

/// The deployment id for an S3 upload: the same object version always gives the same id.
pub fn deployment_id_for_upload(name: &str, bucket: &str, key: &str, version: &str) -> String {
    format!("{name}-{}", short_hash(&["s3", bucket, key, version]))
}

/// The deployment id for an API request with an idempotency key.
pub fn deployment_id_for_request(name: &str, idempotency_key: &str) -> String {
    format!("{name}-{}", short_hash(&["api", name, idempotency_key]))
}

/// Step Functions execution names (at most 80 characters; idempotent for 90 days on AWS).
/// The part of an ARN people need in a log line: a target group's name, a rule's or
/// listener's id, an execution's name; anything else unchanged.
pub fn short_arn(arn: &str) -> &str {
    let Some(resource) = arn.strip_prefix("arn:").and_then(|r| r.splitn(5, ':').nth(4)) else {
        return arn;
    };
    if let Some(rest) = resource.strip_prefix("targetgroup/") {
        return rest.split('/').next().unwrap_or(rest);
    }
    if resource.starts_with("listener-rule/") || resource.starts_with("listener/") {
        return resource.rsplit('/').next().unwrap_or(resource);
    }
    if let Some(rest) = resource.strip_prefix("execution:") {
        return rest.rsplit(':').next().unwrap_or(rest);
    }
    arn
}

pub fn deploy_execution_name(deployment_id: &str) -> String {
    truncate(format!("deploy-{deployment_id}"))
}

pub fn teardown_execution_name(deployment_id: &str) -> String {
    truncate(format!("teardown-{deployment_id}"))
}

fn truncate(mut s: String) -> String {
    s.truncate(80);
    s
}

/// A canary's prefix: `canaries/<name>/`.
pub fn canary_prefix(name: &str) -> String {
    format!("{CANARY_PREFIX}{name}/")
}

/// Splits `canaries/<name>/<file>` into name and file.
pub fn parse_artifact_key(key: &str) -> Option<(&str, &str)> {
    let rest = key.strip_prefix(CANARY_PREFIX)?;
    let (name, file) = rest.split_once('/')?;
    if name.is_empty() || file.is_empty() || file.contains('/') {
        return None;
    }
    Some((name, file))
}

/// A valid canary name made from an upload prefix that is not one (`MyApp` → `myapp`,
/// `1st_try` → `upload-1st-try`), so the REJECTED record of such an upload has an id the API
/// can read. Its reason quotes the prefix as uploaded.
pub fn readable_name(prefix: &str) -> String {
    let mut name: String = prefix
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .map(|c| if c.is_ascii_lowercase() || c.is_ascii_digit() { c } else { '-' })
        .collect();
    while name.contains("--") {
        name = name.replace("--", "-");
    }
    let mut name = name.trim_matches('-').to_string();
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        name = format!("upload-{name}").trim_end_matches('-').to_string();
    }
    name.truncate(32);
    name.trim_end_matches('-').to_string()
}

/// Resource names (target groups: at most 32 characters, alphanumerics and hyphens).
pub fn target_group_name(deployment_id: &str, role: &str) -> String {
    let hash = short_hash(&[deployment_id, role]);
    let r = if role == "baseline" { "b" } else { "c" };
    format!("av-{hash}-{r}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invalid_prefix_gets_a_valid_readable_name() {
        for (prefix, want) in [("MyApp", "myapp"), ("1st_try", "upload-1st-try"), ("--", "upload"), ("Ünïcode App", "n-code-app")] {
            let got = readable_name(prefix);
            assert_eq!(got, want, "{prefix}");
            assert!(crate::spec::is_valid_name(&got), "{got}");
        }
        assert!(crate::spec::is_valid_name(&readable_name(&"A".repeat(100))));
    }

    #[test]
    fn short_arns_keep_what_people_need() {
        assert_eq!(short_arn("arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/av-web-0a-c/50dc6c495c0c9188"), "av-web-0a-c");
        assert_eq!(short_arn("arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/prod/50dc/f2f7/9683b2d0"), "9683b2d0");
        assert_eq!(short_arn("arn:aws:states:us-east-1:123456789012:execution:aviary-deploy:deploy-web-0a"), "deploy-web-0a");
        assert_eq!(short_arn("i-0abc"), "i-0abc");
        assert_eq!(short_arn("arn:aws:s3:::bucket"), "arn:aws:s3:::bucket");
    }

    #[test]
    fn same_object_version_same_id() {
        let a = deployment_id_for_upload("web", "b", "canaries/web/canary.tar", "v1");
        assert_eq!(a, deployment_id_for_upload("web", "b", "canaries/web/canary.tar", "v1"));
        assert_ne!(a, deployment_id_for_upload("web", "b", "canaries/web/canary.tar", "v2"));
        assert!(a.starts_with("web-") && a.len() == "web-".len() + 10);
    }

    #[test]
    fn execution_names_fit_the_limit() {
        let id = deployment_id_for_request(&"a".repeat(32), "k");
        assert!(deploy_execution_name(&id).len() <= 80);
        assert_eq!(teardown_execution_name("x-1"), "teardown-x-1");
    }

    #[test]
    fn artifact_keys_parse_strictly() {
        assert_eq!(parse_artifact_key("canaries/web/canary.tar"), Some(("web", "canary.tar")));
        assert_eq!(parse_artifact_key("canaries/web/x/canary.tar"), None);
        assert_eq!(parse_artifact_key("other/web/canary.tar"), None);
        assert_eq!(parse_artifact_key("canaries//canary.tar"), None);
    }

    #[test]
    fn target_group_names_are_short_and_distinct() {
        let b = target_group_name("checkout-0123456789", "baseline");
        let c = target_group_name("checkout-0123456789", "canary");
        assert_ne!(b, c);
        assert!(b.len() <= 32 && c.len() <= 32);
    }
}
