//! Pinned versions of everything the instances download, in one place so an upgrade is one
//! reviewed diff. Images are pinned to exact tags (never `latest`); binaries fetched from GitHub
//! releases are pinned and verified against the sha256 published with the release.

/// Prometheus 2.53 is a long-term-support line; its config syntax is also accepted by the
/// Debian `promtool` the checks run.
pub const PROMETHEUS_IMAGE: &str = "prom/prometheus:v2.53.1";
pub const GRAFANA_IMAGE: &str = "grafana/grafana:11.2.0";
pub const REDIS_IMAGE: &str = "redis:7.2.5-alpine";
/// Kayenta from the Spinnaker community registry (multi-arch, alpine-based "slim" variant).
pub const KAYENTA_IMAGE: &str = "us-docker.pkg.dev/spinnaker-community/docker/kayenta:2026.0.4-slim";

/// Referee publishes no image: the monitor builds one from this commit (master, May 2021, the
/// last release line; includes the Prometheus metric source).
pub const REFEREE_REPO: &str = "https://github.com/Nike-Inc/referee.git";
pub const REFEREE_COMMIT: &str = "070a8c718e032c54d2d8ca23562050cd73edc96c";
/// The Node.js line Referee's `.nvmrc` asks for (14.16), at its last patch release.
pub const REFEREE_BUILD_IMAGE: &str = "node:14.21.3-bullseye";
/// Tag of the locally built image (never pushed anywhere).
pub const REFEREE_IMAGE: &str = "aviary/referee:070a8c7";

/// Docker Compose CLI plugin (Amazon Linux 2023's `docker` package does not ship it).
pub const COMPOSE_VERSION: &str = "2.33.0";
pub const COMPOSE_SHA256_X86_64: &str = "6395dbb256db6ea28d5c6695bc9bc33866c07ad1c93792f8d85857f1c21c34ee";
pub const COMPOSE_SHA256_AARCH64: &str = "03a42a0fc0614ffc3c9ebca521cab75e02c427b68e45e3f6867d9510b9a28818";

/// Prometheus node exporter on baseline and canary (not packaged for Amazon Linux 2023).
pub const NODE_EXPORTER_VERSION: &str = "1.8.2";
pub const NODE_EXPORTER_SHA256_AMD64: &str = "6809dd0b3ec45fd6e992c19071d6b5253aed3ead7bf0686885a51d85c6643c66";
pub const NODE_EXPORTER_SHA256_ARM64: &str = "627382b9723c642411c33f48861134ebe893e70a63bcc8b3fc0619cd0bfac4be";

/// Every image reference the compose file uses.
pub const IMAGES: [&str; 5] = [PROMETHEUS_IMAGE, GRAFANA_IMAGE, REDIS_IMAGE, KAYENTA_IMAGE, REFEREE_IMAGE];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_pinned_to_exact_tags() {
        for image in IMAGES.iter().chain([&REFEREE_BUILD_IMAGE]) {
            let tag = image.rsplit_once(':').map(|(_, t)| t).unwrap_or("");
            assert!(!tag.is_empty() && !tag.contains('/'), "{image} has no tag");
            assert_ne!(tag, "latest", "{image}");
            assert!(tag.chars().any(|c| c.is_ascii_digit()), "{image}: tag names no version");
        }
    }

    #[test]
    fn checksums_look_like_sha256() {
        for sum in
            [COMPOSE_SHA256_X86_64, COMPOSE_SHA256_AARCH64, NODE_EXPORTER_SHA256_AMD64, NODE_EXPORTER_SHA256_ARM64]
        {
            assert_eq!(sum.len(), 64);
            assert!(sum.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        }
        assert_eq!(REFEREE_COMMIT.len(), 40);
        assert!(REFEREE_IMAGE.ends_with(&REFEREE_COMMIT[..7]));
    }
}
