#!/usr/bin/env bash
# The local data plane's front, optimised build (the `bench` profile: opt-level 3): requests/s on
# one core at saturation, and the latency it adds at 2,000 requests/s over calling the sample app
# directly. The front runs alone on CPU 0; the load generator, the sample app and the emulator on
# CPU 1 (local/benches/front.rs). Needs 2 CPUs. The first run compiles the SDK at opt-level 3
# (~14 min on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh demo >/dev/null
# The bench binary looks for the sample app beside it, in target/release/.
cargo build -q --profile bench -p aviary-sample-app
cargo bench -q -p aviary-local --bench front 2>&1 | grep -v '^ *Compiling'
