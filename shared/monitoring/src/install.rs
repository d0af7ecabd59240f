//! Bash shared by the user data scripts: logging, retries, the failure trap, and installing
//! Docker with the Compose plugin and the node exporter on Amazon Linux 2023. Downloads are
//! pinned and checked against the sha256 in [`super::versions`] before anything runs them.

use super::versions::{
    COMPOSE_SHA256_AARCH64, COMPOSE_SHA256_X86_64, COMPOSE_VERSION, NODE_EXPORTER_SHA256_AMD64,
    NODE_EXPORTER_SHA256_ARM64, NODE_EXPORTER_VERSION,
};
use super::NODE_EXPORTER_PORT;

/// A single-quoted shell word: safe for any string (a `'` becomes `'\''`).
pub fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// `log`, `retry` and an ERR trap naming the failing line. `tag` prefixes log lines.
pub fn functions(tag: &str) -> String {
    format!(
        r#"log() {{ echo "{tag} $(date -u +%Y-%m-%dT%H:%M:%SZ) $*"; }}
trap 'log "FAILED at line $LINENO (exit $?)"' ERR
# retry N command...: transient network and repository errors are common at first boot.
retry() {{
  local n=$1 i
  shift
  for ((i = 1; i <= n; i++)); do
    "$@" && return 0
    log "attempt $i/$n failed: $*"
    sleep $((i * 5))
  done
  return 1
}}
"#
    )
}

/// Defines `install_docker`: the distribution's Docker, and the Compose plugin (which Amazon
/// Linux 2023 does not package) unless a `docker compose` is already there.
pub fn install_docker() -> String {
    format!(
        r#"install_docker() {{
  local arch sum tmp
  command -v docker >/dev/null 2>&1 || retry 5 dnf install -y -q docker
  systemctl enable --now docker
  if docker compose version >/dev/null 2>&1; then return 0; fi
  case "$(uname -m)" in
    x86_64) arch=x86_64 sum={COMPOSE_SHA256_X86_64} ;;
    aarch64) arch=aarch64 sum={COMPOSE_SHA256_AARCH64} ;;
    *) log "unsupported architecture $(uname -m)"; return 1 ;;
  esac
  tmp=$(mktemp)
  retry 5 curl -fsSL -o "$tmp" "https://github.com/docker/compose/releases/download/v{COMPOSE_VERSION}/docker-compose-linux-$arch"
  echo "$sum  $tmp" | sha256sum -c --quiet -
  install -D -m 0755 "$tmp" /usr/local/lib/docker/cli-plugins/docker-compose
  rm -f "$tmp"
  docker compose version
}}
"#
    )
}

/// Defines `install_node_exporter`: the release tarball, verified, run by systemd as an
/// unprivileged user on port 9100 (the security group admits only the monitor there).
pub fn install_node_exporter() -> String {
    let v = NODE_EXPORTER_VERSION;
    format!(
        r#"install_node_exporter() {{
  local arch sum tmp name
  case "$(uname -m)" in
    x86_64) arch=amd64 sum={NODE_EXPORTER_SHA256_AMD64} ;;
    aarch64) arch=arm64 sum={NODE_EXPORTER_SHA256_ARM64} ;;
    *) log "unsupported architecture $(uname -m)"; return 1 ;;
  esac
  name="node_exporter-{v}.linux-$arch"
  tmp=$(mktemp -d)
  retry 5 curl -fsSL -o "$tmp/ne.tar.gz" "https://github.com/prometheus/node_exporter/releases/download/v{v}/$name.tar.gz"
  echo "$sum  $tmp/ne.tar.gz" | sha256sum -c --quiet -
  tar -xzf "$tmp/ne.tar.gz" -C "$tmp" "$name/node_exporter"
  install -m 0755 "$tmp/$name/node_exporter" /usr/local/bin/node_exporter
  rm -rf "$tmp"
  id node_exporter >/dev/null 2>&1 || useradd --system --no-create-home --shell /sbin/nologin node_exporter
  cat >/etc/systemd/system/node_exporter.service <<'UNIT'
[Unit]
Description=Prometheus node exporter (Aviary)
Wants=network-online.target
After=network-online.target

[Service]
User=node_exporter
ExecStart=/usr/local/bin/node_exporter --web.listen-address=:{NODE_EXPORTER_PORT}
Restart=always
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=read-only
PrivateTmp=yes

[Install]
WantedBy=multi-user.target
UNIT
  systemctl daemon-reload
  systemctl enable --now node_exporter
}}
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_survives_quotes() {
        assert_eq!(sh_quote("a b"), "'a b'");
        assert_eq!(sh_quote("it's"), r"'it'\''s'");
        assert_eq!(sh_quote("$(reboot)"), "'$(reboot)'");
    }

    #[test]
    fn downloads_are_pinned_and_verified() {
        let docker = install_docker();
        assert!(docker.contains("download/v2.33.0/docker-compose-linux-$arch"));
        assert!(docker.contains(COMPOSE_SHA256_AARCH64) && docker.contains(COMPOSE_SHA256_X86_64));
        assert!(docker.contains("sha256sum -c"));
        let ne = install_node_exporter();
        assert!(ne.contains("download/v1.8.2/$name.tar.gz"));
        assert!(ne.contains(NODE_EXPORTER_SHA256_ARM64) && ne.contains(NODE_EXPORTER_SHA256_AMD64));
        assert!(ne.find("sha256sum -c").unwrap() < ne.find("tar -xzf").unwrap(), "verify before unpacking");
        assert!(ne.contains("User=node_exporter"));
    }
}
