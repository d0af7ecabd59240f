#!/usr/bin/env bash
# Builds every Lambda crate under functions/ for arm64 (aarch64-unknown-linux-gnu, provided.al2023) in release
# mode with cargo-lambda + zig from the project's venv (installed by scripts/setup.sh), then prints the size of
# each bootstrap binary, writes the table to <target dir>/lambda-sizes.txt and FAILS when a bootstrap is over
# the size budget (10 MiB each, 70 MiB for all nine; the release profile in the root Cargo.toml is tuned for it).
#
# Builds in its own target dir, target/arm64 (AVIARY_LAMBDA_TARGET_DIR or CARGO_TARGET_DIR override it), so the
# long release build never holds the lock of the workspace's target/. Binaries land in
# <target dir>/lambda/<crate>/bootstrap; scripts/bench-cold-init.sh times their cold init.
# Usage: scripts/build-lambdas.sh [CRATE...]   (default: every crate under functions/; the total budget
#        applies only to a build of all of them)
#        scripts/build-lambdas.sh --check [CRATE...]   a type check for aarch64 instead (what scripts/test.sh
#        runs): `cargo check --target aarch64-unknown-linux-gnu` with zig as the C compiler (ring's C and
#        assembly are really compiled for arm64), no codegen, link or size budget; in the workspace's target/
#        (or $CARGO_TARGET_DIR), so the host build's scripts and proc macros are reused.
# Options (environment): AVIARY_BUILD_JOBS=N passes -j N to cargo; AVIARY_BUILD_VERBOSE=1 shows cargo's output;
#        AVIARY_MAX_MIB (default 10) and AVIARY_MAX_TOTAL_MIB (default 70) set the budget.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

die() { printf '\033[1;31m[build-lambdas]\033[0m %s\n' "$*" >&2; exit 1; }

[ -x "$ROOT/.venv/bin/cargo-lambda" ] || die "cargo-lambda not found in .venv: run scripts/setup.sh first"
"$ROOT/.venv/bin/python" -c 'import ziglang' 2>/dev/null || die "ziglang not installed in .venv: run scripts/setup.sh first"
command -v cargo >/dev/null || die "cargo not found on PATH (install Rust with rustup)"
if command -v rustup >/dev/null; then
  rustup target list --installed | grep -qx aarch64-unknown-linux-gnu \
    || die "rust target aarch64-unknown-linux-gnu missing: run scripts/setup.sh (rustup target add aarch64-unknown-linux-gnu)"
fi

# cargo-lambda finds zig through `python3 -m ziglang` when no `zig` is on PATH: put the venv first so the
# venv's python (which has ziglang) is the one it runs.
export PATH="$ROOT/.venv/bin:$PATH"

check=0
if [ "${1:-}" = --check ]; then check=1; shift; fi

crates=()
if [ $# -gt 0 ]; then
  # Only the named crates (e.g. while another crate is being written).
  for c in "$@"; do
    [ -f "functions/$c/Cargo.toml" ] || die "no crate functions/$c"
    crates+=("$c")
  done
else
  for manifest in functions/*/Cargo.toml; do
    dir=$(dirname "$manifest")
    crates+=("$(basename "$dir")")
  done
fi
[ ${#crates[@]} -gt 0 ] || die "no crates under functions/"

# The crate directory name is the package name and the binary name (checked here so a rename fails loudly).
pkg_args=()
for c in "${crates[@]}"; do
  name=$(sed -n 's/^name[[:space:]]*=[[:space:]]*"\(.*\)"/\1/p' "functions/$c/Cargo.toml" | head -n1)
  [ "$name" = "$c" ] || die "functions/$c/Cargo.toml: package name '$name' differs from its directory '$c'"
  pkg_args+=(--package "$c")
done

if [ $check = 1 ]; then
  target_dir=${CARGO_TARGET_DIR:-$ROOT/target}
else
  target_dir=${AVIARY_LAMBDA_TARGET_DIR:-${CARGO_TARGET_DIR:-$ROOT/target/arm64}}
fi
case $target_dir in /*) ;; *) target_dir=$ROOT/$target_dir ;; esac
lambda_dir=$target_dir/lambda

# Through the environment: cargo-lambda would pass --target-dir on to `cargo metadata`, which refuses it.
export CARGO_TARGET_DIR=$target_dir

if [ $check = 1 ]; then
  # zig (from the venv's ziglang) as the aarch64 C compiler and archiver, through two tiny
  # wrappers: the cc crate wants one executable per tool.
  wrappers=$target_dir/aviary-zig
  mkdir -p "$wrappers"
  # cc-rs passes the Rust triple as --target=aarch64-unknown-linux-gnu, which zig cannot parse: the
  # wrapper drops it and names zig's own target.
  printf '#!/bin/sh\nfor a; do shift; case "$a" in --target=*) ;; *) set -- "$@" "$a" ;; esac; done\nexec "%s" -m ziglang cc -target aarch64-linux-gnu "$@"\n' "$ROOT/.venv/bin/python" >"$wrappers/cc"
  printf '#!/bin/sh\nexec "%s" -m ziglang ar "$@"\n' "$ROOT/.venv/bin/python" >"$wrappers/ar"
  chmod +x "$wrappers/cc" "$wrappers/ar"
  rustup target list --installed 2>/dev/null | grep -qx aarch64-unknown-linux-gnu || rustup target add aarch64-unknown-linux-gnu >/dev/null
  start=$(date +%s)
  CC_aarch64_unknown_linux_gnu=$wrappers/cc AR_aarch64_unknown_linux_gnu=$wrappers/ar \
    cargo check -q --target aarch64-unknown-linux-gnu "${pkg_args[@]}" ${AVIARY_BUILD_JOBS:+-j "$AVIARY_BUILD_JOBS"} ||
    die "cargo check --target aarch64-unknown-linux-gnu failed"
  printf 'type-checked %d functions for arm64 (aarch64-unknown-linux-gnu, C parts compiled with zig) in %ds\n' \
    "${#crates[@]}" $(( $(date +%s) - start ))
  exit 0
fi

build_args=(lambda build --release --arm64 "${pkg_args[@]}")
[ -n "${AVIARY_BUILD_JOBS:-}" ] && build_args+=(-j "$AVIARY_BUILD_JOBS")

log=$(mktemp "${TMPDIR:-/tmp}/aviary-build-lambdas.XXXXXX")
trap 'rm -f "$log"' EXIT
start=$(date +%s)
if [ "${AVIARY_BUILD_VERBOSE:-0}" = 1 ]; then
  "$ROOT/.venv/bin/cargo-lambda" "${build_args[@]}" || die "cargo lambda build failed"
elif ! "$ROOT/.venv/bin/cargo-lambda" "${build_args[@]}" >"$log" 2>&1; then
  tail -n 60 "$log" >&2
  die "cargo lambda build failed (last 60 lines above; AVIARY_BUILD_VERBOSE=1 for all)"
fi
elapsed=$(( $(date +%s) - start ))

max_mib=${AVIARY_MAX_MIB:-10}
max_total_mib=${AVIARY_MAX_TOTAL_MIB:-70}
max_bytes=$((max_mib * 1048576))
max_total_bytes=$((max_total_mib * 1048576))
all=0
[ $# -eq 0 ] && all=1

table=$(
  printf '%-20s %12s %9s\n' function bytes MiB
  for c in "${crates[@]}"; do
    bin=$lambda_dir/$c/bootstrap
    [ -f "$bin" ] || die "missing $bin after the build"
    bytes=$(stat -c %s "$bin")
    awk -v n="$c" -v b="$bytes" 'BEGIN { printf "%-20s %12d %9.2f\n", n, b, b / 1048576 }'
  done
)
total=0
over=()
for c in "${crates[@]}"; do
  bytes=$(stat -c %s "$lambda_dir/$c/bootstrap")
  total=$((total + bytes))
  [ "$bytes" -le "$max_bytes" ] || over+=("$c ($(awk -v b="$bytes" 'BEGIN { printf "%.2f", b / 1048576 }') MiB)")
done
table=$(printf '%s\n' "$table"; awk -v b="$total" 'BEGIN { printf "%-20s %12d %9.2f\n", "total", b, b / 1048576 }')
# Check the binaries really are aarch64 ELF executables (a host-arch build would deploy and fail at init).
for c in "${crates[@]}"; do
  machine=$(od -An -tu2 -j18 -N2 "$lambda_dir/$c/bootstrap" | tr -d ' ')
  [ "$machine" = 183 ] || die "$lambda_dir/$c/bootstrap is not an aarch64 ELF (e_machine=$machine)"
done
mkdir -p "$target_dir"
printf '%s\n' "$table" >"$target_dir/lambda-sizes.txt"
printf '%s\n' "$table"
printf 'built %d functions for arm64 in %ds; sizes written to %s\n' "${#crates[@]}" "$elapsed" "$target_dir/lambda-sizes.txt"

status=0
if [ ${#over[@]} -gt 0 ]; then
  printf '\033[1;31m[build-lambdas]\033[0m over the %d MiB budget per function: %s\n' "$max_mib" "${over[*]}" >&2
  status=1
fi
if [ "$all" = 1 ] && [ "$total" -gt "$max_total_bytes" ]; then
  printf '\033[1;31m[build-lambdas]\033[0m total %s MiB is over the %d MiB budget for all functions\n' \
    "$(awk -v b="$total" 'BEGIN { printf "%.2f", b / 1048576 }')" "$max_total_mib" >&2
  status=1
fi
[ $status -eq 0 ] && printf 'size budget met: every bootstrap <= %d MiB%s\n' "$max_mib" "$([ "$all" = 1 ] && echo ", total <= $max_total_mib MiB")"
exit $status
