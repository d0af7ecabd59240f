#!/usr/bin/env bash
# The local data plane's front: requests/s and the latency it adds over calling the sample
# app directly (16 keep-alive clients, 8 s each). `--one-core` pins everything (clients, front,
# emulator, sample apps) to CPU 0 with taskset. Debug build (what the tests use): a release
# build of the front is faster.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh demo >/dev/null
cargo build -q -p aviary-sample-app
pin=()
if [ "${1:-}" = "--one-core" ]; then pin=(taskset -c 0); fi
"${pin[@]}" cargo test -q -p aviary-tests --test dataplane front_throughput_and_added_latency -- --ignored --nocapture 2>&1 | grep -E "^front:|test result"
