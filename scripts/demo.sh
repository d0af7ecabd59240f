#!/usr/bin/env bash
# Runs Aviary's main job locally: one canary's whole lifecycle on an emulated AWS.
# Extra arguments go to `aviary demo` (e.g. --endpoint http://127.0.0.1:5000 --spec-dir DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh demo
# The processes behind the emulated load balancer's target groups.
cargo build -q -p aviary-sample-app
exec cargo run -q -p aviary-cli --features local -- demo "$@"
