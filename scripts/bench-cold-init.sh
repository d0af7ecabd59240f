#!/usr/bin/env bash
# Times each Lambda's cold init: process start -> its first `GET /2018-06-01/runtime/invocation/next`
# against a local Runtime API stub (scripts/lambda_runtime_stub.py), median of several runs. Needs the
# arm64 release binaries from scripts/build-lambdas.sh (same target dir). On an x86_64 host the aarch64
# binaries run under qemu-user (scripts/setup.sh installs it): the numbers then include emulation and
# are upper bounds of the real arm64 init (which also pays the Lambda sandbox's own start).
#
# Usage: scripts/bench-cold-init.sh [CRATE...]   (default: every crate under functions/ that has a bootstrap)
# Options (environment): AVIARY_BENCH_RUNS=N runs per function (default 5); AVIARY_LAMBDA_TARGET_DIR as for
# build-lambdas.sh. Writes the table to <target dir>/cold-init.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
die() { printf '\033[1;31m[bench-cold-init]\033[0m %s\n' "$*" >&2; exit 1; }

target_dir=${AVIARY_LAMBDA_TARGET_DIR:-${CARGO_TARGET_DIR:-$ROOT/target/arm64}}
case $target_dir in /*) ;; *) target_dir=$ROOT/$target_dir ;; esac
lambda_dir=$target_dir/lambda

crates=("$@")
if [ ${#crates[@]} -eq 0 ]; then
  for d in functions/*/; do crates+=("$(basename "$d")"); done
fi

runner=()
how="native arm64"
if [ "$(uname -m)" != aarch64 ]; then
  command -v qemu-aarch64 >/dev/null || die "qemu-aarch64 not found: run scripts/setup.sh (Debian: qemu-user libc6-arm64-cross)"
  [ -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ] || die "aarch64 glibc missing: apt-get install libc6-arm64-cross libgcc-s1-arm64-cross"
  runner=(qemu-aarch64 -L /usr/aarch64-linux-gnu)
  how="under qemu-user emulation on $(uname -m): upper bounds"
fi

specs=()
for c in "${crates[@]}"; do
  bin=$lambda_dir/$c/bootstrap
  if [ -f "$bin" ]; then specs+=("$c=${runner[*]} $bin"); else echo "skipping $c: no $bin (run scripts/build-lambdas.sh)" >&2; fi
done
[ ${#specs[@]} -gt 0 ] || die "no bootstrap under $lambda_dir"

# What the functions read at init. Dummy credentials and names: nothing is called before the first event.
export AWS_REGION=eu-west-1 AWS_DEFAULT_REGION=eu-west-1
export AWS_ACCESS_KEY_ID=AKIDCOLDINIT AWS_SECRET_ACCESS_KEY=cold-init AWS_SESSION_TOKEN=cold-init
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
# shellcheck disable=SC2016 # $LATEST is the literal version name
export AWS_LAMBDA_FUNCTION_NAME=aviary-cold-init AWS_LAMBDA_FUNCTION_VERSION='$LATEST' AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256
export AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/aviary-cold-init AWS_LAMBDA_LOG_STREAM_NAME=cold-init
export AVIARY_TABLE=aviary AVIARY_BUCKET=aviary-artifacts AVIARY_INSTANCE_PROFILE=aviary-instance
export AVIARY_DEPLOY_STATE_MACHINE_ARN=arn:aws:states:eu-west-1:123456789012:stateMachine:aviary-deploy
export AVIARY_TEARDOWN_STATE_MACHINE_ARN=arn:aws:states:eu-west-1:123456789012:stateMachine:aviary-teardown
export RUST_LOG=warn

python=python3
[ -x "$ROOT/.venv/bin/python" ] && python=$ROOT/.venv/bin/python
out=$("$python" scripts/lambda_runtime_stub.py --runs "${AVIARY_BENCH_RUNS:-5}" "${specs[@]}") || { printf '%s\n' "$out"; die "a function did not reach its first 'next'"; }
table=$(printf '%s\n(process start -> first GET /runtime/invocation/next; %s)\n' "$out" "$how")
mkdir -p "$target_dir"
printf '%s\n' "$table" | tee "$target_dir/cold-init.txt"
