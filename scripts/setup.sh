#!/usr/bin/env bash
# Installs everything Aviary's local runs and tests need, idempotently, into the project
# (.venv for Python tools, node_modules for npm tools) plus a few Debian packages.
# Safe to run repeatedly: each step is skipped when its result is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
# `scripts/setup.sh demo` installs only what the local run needs (moto in .venv).
MODE=${1:-all}
log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*" >&2; }

if [ "$MODE" = demo ]; then
  if [ ! -x .venv/bin/moto_server ]; then
    log "python venv (.venv): moto[server]"
    python3 -m venv .venv
    .venv/bin/pip install -q --upgrade pip >/dev/null
    .venv/bin/pip install -q -r scripts/requirements-demo.txt
  fi
  exit 0
fi

want_apt=()
command -v promtool >/dev/null || want_apt+=(prometheus)
command -v prometheus-node-exporter >/dev/null || [ -x /usr/bin/prometheus-node-exporter ] || want_apt+=(prometheus-node-exporter)
command -v docker-compose >/dev/null || want_apt+=(docker-compose)
command -v shellcheck >/dev/null || want_apt+=(shellcheck)
# scripts/bench-cold-init.sh (AVIARY_FULL=1) runs the arm64 bootstraps under qemu-user on an x86_64 host.
if [ "${AVIARY_FULL:-0}" = 1 ] && [ "$(uname -m)" != aarch64 ]; then
  command -v qemu-aarch64 >/dev/null || want_apt+=(qemu-user)
  [ -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ] || want_apt+=(libc6-arm64-cross)
  [ -e /usr/aarch64-linux-gnu/lib/libgcc_s.so.1 ] || want_apt+=(libgcc-s1-arm64-cross)
fi
if [ "${AVIARY_SKIP_BROWSER:-0}" != 1 ]; then
  command -v chromium >/dev/null || want_apt+=(chromium)
fi
if [ ${#want_apt[@]} -gt 0 ]; then
  log "apt-get install ${want_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${want_apt[@]}" >/dev/null
  # Debian starts these as services on install; tests run their own copies on other ports.
  for svc in prometheus prometheus-node-exporter; do
    (systemctl stop "$svc" 2>/dev/null || service "$svc" stop 2>/dev/null || pkill -x "$svc" 2>/dev/null) >/dev/null 2>&1 || true
  done
fi

# Reinstall the venv's packages whenever the requirement files change.
req_hash=$(cat scripts/requirements-demo.txt scripts/requirements.txt | sha256sum | cut -c1-16)
if [ "$(cat .venv/.aviary-requirements 2>/dev/null)" != "$req_hash" ]; then
  log "python venv (.venv): $(tr '\n' ' ' < scripts/requirements.txt)"
  [ -x .venv/bin/pip ] || python3 -m venv .venv
  .venv/bin/pip install -q --upgrade pip >/dev/null
  .venv/bin/pip install -q -r scripts/requirements-demo.txt -r scripts/requirements.txt
  echo "$req_hash" > .venv/.aviary-requirements
fi

if [ ! -x node_modules/.bin/asl-validator ]; then
  log "npm tools (node_modules): asl-validator, playwright-core"
  npm install --no-audit --no-fund --silent >/dev/null
fi

if ! rustup target list --installed | grep -q aarch64-unknown-linux-gnu; then
  log "rustup target add aarch64-unknown-linux-gnu"
  rustup target add aarch64-unknown-linux-gnu >/dev/null
fi
log "setup complete"
