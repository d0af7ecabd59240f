#!/usr/bin/env bash
# Aviary's whole test suite: installs what it needs (scripts/setup.sh), then runs every check.
# Usage: scripts/test.sh            everything CI runs (the arm64 step is `sam build` in debug mode)
#        AVIARY_FULL=1 ...          also the arm64 release build of every Lambda with its size budget
#                                   (scripts/build-lambdas.sh) and their cold-init times (scripts/bench-cold-init.sh)
#        AVIARY_SKIP_ARM64=1 ...    skip every arm64 step
# Each step prints its time; the last line is "steps: N passed, M failed".
# The Python-only checks (state machines, infrastructure) run beside the Rust build, which they do not
# compete with for cargo's lock; everything that builds with cargo runs one after another.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
suite_start=$SECONDS

bash scripts/setup.sh || { echo "setup failed"; exit 1; }
printf -- '--- setup (%ds)\n' $((SECONDS - suite_start))

passed=0; failed=0; failures=()
record() { # record NAME STATUS SECONDS
  if [ "$2" -eq 0 ]; then
    passed=$((passed + 1)); printf -- '--- ok: %s (%ds)\n' "$1" "$3"
  else
    failed=$((failed + 1)); failures+=("$1"); printf -- '--- FAILED: %s (%ds)\n' "$1" "$3"
  fi
}
step() { # step NAME COMMAND...: runs in the foreground
  local name=$1; shift
  local start=$SECONDS
  printf '\n=== %s\n' "$name"
  "$@"
  record "$name" $? $((SECONDS - start))
}

# Background steps: output goes to a log shown, with the step's result, when it is collected.
bg_dir=$(mktemp -d "${TMPDIR:-/tmp}/aviary-test.XXXXXX")
trap 'rm -rf "$bg_dir"' EXIT
bg_names=(); bg_pids=()
bg_step() { # bg_step NAME COMMAND...
  local name=$1; shift
  local i=${#bg_names[@]}
  ( start=$SECONDS; "$@" >"$bg_dir/$i.log" 2>&1; echo "$? $((SECONDS - start))" >"$bg_dir/$i.rc" ) &
  bg_names+=("$name"); bg_pids+=($!)
  printf '\n=== %s (in the background)\n' "$name"
}
collect() {
  local i status secs
  for i in "${!bg_names[@]}"; do
    wait "${bg_pids[$i]}"
    printf '\n=== %s\n' "${bg_names[$i]}"
    cat "$bg_dir/$i.log"
    read -r status secs <"$bg_dir/$i.rc" || { status=1; secs=0; }
    record "${bg_names[$i]}" "$status" "$secs"
  done
  bg_names=(); bg_pids=()
}

# shellcheck disable=SC2016 # expanded by the inner bash
bg_step "state machines: asl-validator" bash -c 'for f in statemachines/*.asl.json; do node_modules/.bin/asl-validator --json-path "$f" || exit 1; done'
[ -f scripts/checks/infra.sh ] && bg_step "infrastructure checks (cfn-lint, sam validate, template/IAM tests)" bash scripts/checks/infra.sh
# One invocation for the whole workspace; the CLI's `local` feature (its local commands and its end-to-end
# test against `aviary local up`) is on, so nothing is compiled twice.
# The data plane's tests start the sample app as the emulated instances' processes.
step "sample app for the local data plane" cargo build -q -p aviary-sample-app
step "cargo test (workspace: unit, handler and emulator integration tests)" cargo test --workspace --features aviary-cli/local --no-fail-fast
collect
step "monitoring checks (promtool, docker-compose config, shellcheck, live Prometheus)" bash scripts/checks/monitoring.sh
[ -f scripts/checks/api-contract.sh ] && step "API contract (OpenAPI document and local API responses)" bash scripts/checks/api-contract.sh
[ -f scripts/checks/console.sh ] && step "web console in headless Chromium" bash scripts/checks/console.sh
# [profile.bench] keeps opt-level 3 without the release profile's size-tuned LTO: the judge crate and its few
# dependencies compile once, in about a minute.
step "judge benchmark (100 metrics x 2 x 5,000 samples vs scipy)" cargo bench -p aviary-judge --bench judge
if [ "${AVIARY_SKIP_ARM64:-0}" != 1 ]; then
  if [ "${AVIARY_FULL:-0}" = 1 ]; then
    step "arm64 release build of every Lambda, size budget (scripts/build-lambdas.sh)" bash scripts/build-lambdas.sh
    step "cold init of every Lambda against a local Runtime API (scripts/bench-cold-init.sh)" bash scripts/bench-cold-init.sh
  else
    # docs/install.md's `sam build`, as written (from infra/, the shipped samconfig.toml, no prompt):
    # every function built for arm64 by SAM through cargo-lambda and zig, in SAM's debug mode (the
    # size-tuned release build takes 11-26 min on 2 cores). The release build, its size budget and
    # the cold-init times: AVIARY_FULL=1.
    step "sam build of every Lambda for arm64 (docs/install.md, infra/samconfig.toml; debug mode)" bash scripts/checks/sam-build.sh
  fi
fi

echo
if [ $failed -gt 0 ]; then printf 'failed step: %s\n' "${failures[@]}"; fi
printf 'whole suite: %ds\n' $((SECONDS - suite_start))
echo "steps: $passed passed, $failed failed"
[ $failed -eq 0 ]
