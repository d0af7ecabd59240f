#!/usr/bin/env bash
# The web console in headless Chromium against the local stack: builds the console_e2e
# runner, starts it, waits for its JSON line, runs tests/browser/console.spec.mjs (bounded),
# stops the runner. Screenshots: test-results/console/*.png. Exits non-zero on failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
TIMEOUT="${CONSOLE_TEST_TIMEOUT:-600}"

# CONSOLE_E2E_BIN: an already built runner (skips the build).
BIN="${CONSOLE_E2E_BIN:-}"
if [ -z "$BIN" ]; then
  # The workspace's feature set (as scripts/test.sh's cargo test resolved it): nothing is compiled twice.
  cargo build -q --workspace --features aviary-cli/local --example console_e2e
  # The runner's data plane starts sample-app processes for the instances.
  cargo build -q -p aviary-sample-app
  BIN="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/debug/examples/console_e2e"
fi

OUT="$(mktemp -d)"
mkdir -p test-results/console
setsid "$BIN" >"$OUT/stdout" 2>"$OUT/stderr" &
RUNNER=$!
stop() {
  kill -TERM "$RUNNER" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$RUNNER" 2>/dev/null || break; sleep 0.1; done
  # The runner's process group (moto) if it did not stop by itself.
  kill -KILL -- "-$RUNNER" 2>/dev/null || true
  cp "$OUT/stderr" test-results/console/runner.log 2>/dev/null || true
  rm -rf "$OUT"
}
trap stop EXIT

for _ in $(seq 1 1200); do
  if [ -s "$OUT/stdout" ] && head -1 "$OUT/stdout" | grep -q '^{'; then break; fi
  if ! kill -0 "$RUNNER" 2>/dev/null; then echo "runner exited:"; cat "$OUT/stderr"; exit 1; fi
  sleep 0.1
done
LINE="$(head -1 "$OUT/stdout")"
[ -n "$LINE" ] || { echo "runner printed nothing within 120s"; cat "$OUT/stderr"; exit 1; }
echo "runner: $LINE"
timeout "$TIMEOUT" node tests/browser/console.spec.mjs "$LINE"
