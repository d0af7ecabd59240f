#!/usr/bin/env bash
# Builds every Lambda crate under functions/ for arm64 (aarch64-unknown-linux-gnu, provided.al2023) in release
# mode with cargo-lambda + zig from the project's venv (installed by scripts/setup.sh), then prints the size of
# each bootstrap binary and writes the table to <target dir>/lambda-sizes.txt.
#
# Uses the workspace target/ (or $CARGO_TARGET_DIR when set). Binaries land in <target dir>/lambda/<crate>/bootstrap.
# Usage: scripts/build-lambdas.sh [CRATE...]   (default: every crate under functions/)
# Options (environment): AVIARY_BUILD_JOBS=N passes -j N to cargo; AVIARY_BUILD_VERBOSE=1 shows cargo's output.
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

target_dir=${CARGO_TARGET_DIR:-$ROOT/target}
case $target_dir in /*) ;; *) target_dir=$ROOT/$target_dir ;; esac
lambda_dir=$target_dir/lambda

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

table=$(
  printf '%-20s %12s %9s\n' function bytes MiB
  total=0
  for c in "${crates[@]}"; do
    bin=$lambda_dir/$c/bootstrap
    [ -f "$bin" ] || die "missing $bin after the build"
    bytes=$(stat -c %s "$bin")
    total=$((total + bytes))
    awk -v n="$c" -v b="$bytes" 'BEGIN { printf "%-20s %12d %9.2f\n", n, b, b / 1048576 }'
  done
  awk -v b="$total" 'BEGIN { printf "%-20s %12d %9.2f\n", "total", b, b / 1048576 }'
)
# Check the binaries really are aarch64 ELF executables (a host-arch build would deploy and fail at init).
for c in "${crates[@]}"; do
  machine=$(od -An -tu2 -j18 -N2 "$lambda_dir/$c/bootstrap" | tr -d ' ')
  [ "$machine" = 183 ] || die "$lambda_dir/$c/bootstrap is not an aarch64 ELF (e_machine=$machine)"
done
mkdir -p "$target_dir"
printf '%s\n' "$table" >"$target_dir/lambda-sizes.txt"
printf '%s\n' "$table"
printf 'built %d functions for arm64 in %ds; sizes written to %s\n' "${#crates[@]}" "$elapsed" "$target_dir/lambda-sizes.txt"
