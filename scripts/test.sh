#!/usr/bin/env bash
# Aviary's whole test suite: installs what it needs (scripts/setup.sh), then runs every check.
# Usage: scripts/test.sh            everything (what CI runs)
#        AVIARY_SKIP_ARM64=1 ...    skip the arm64 release build of the Lambdas (slowest step)
set -uo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}

bash scripts/setup.sh || { echo "setup failed"; exit 1; }

passed=0; failed=0; failures=()
step() {
  local name=$1; shift
  local start=$SECONDS
  printf '\n=== %s\n' "$name"
  if "$@"; then
    passed=$((passed + 1)); printf -- '--- ok: %s (%ds)\n' "$name" $((SECONDS - start))
  else
    failed=$((failed + 1)); failures+=("$name"); printf -- '--- FAILED: %s (%ds)\n' "$name" $((SECONDS - start))
  fi
}

step "state machines: asl-validator" bash -c 'for f in statemachines/*.asl.json; do node_modules/.bin/asl-validator --json-path "$f" || exit 1; done'
# One invocation for the whole workspace; the CLI's `local` feature (its local commands and its
# end-to-end test against `aviary local up`) is turned on here, so nothing is compiled twice.
step "cargo test (workspace: unit, handler and emulator integration tests)" cargo test --workspace --features aviary-cli/local --no-fail-fast
step "monitoring checks (promtool, docker-compose config, shellcheck, live Prometheus)" bash scripts/checks/monitoring.sh
[ -f scripts/checks/infra.sh ] && step "infrastructure checks (cfn-lint, sam validate, template/IAM tests)" bash scripts/checks/infra.sh
[ -f scripts/checks/api-contract.sh ] && step "API contract (OpenAPI document and local API responses)" bash scripts/checks/api-contract.sh
[ -f scripts/checks/console.sh ] && step "web console in headless Chromium" bash scripts/checks/console.sh
step "judge benchmark (100 metrics x 2 x 5,000 samples vs scipy)" cargo bench -p aviary-judge --bench judge
if [ "${AVIARY_SKIP_ARM64:-0}" != 1 ]; then
  step "arm64 release build of every Lambda (cargo lambda)" bash scripts/build-lambdas.sh
fi

echo
if [ $failed -gt 0 ]; then printf 'failed step: %s\n' "${failures[@]}"; fi
echo "steps: $passed passed, $failed failed"
[ $failed -eq 0 ]
