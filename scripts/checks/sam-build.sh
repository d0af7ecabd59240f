#!/usr/bin/env bash
# docs/install.md's build step as the docs say it, so that path cannot rot: `sam build` run from
# infra/ with the shipped infra/samconfig.toml, non-interactively (stdin closed), then every
# function's artifact checked: .aws-sam/build/<Function>/bootstrap exists and is an aarch64 ELF,
# and .aws-sam/build/template.yaml points each function at its artifact.
#
# SAM runs `cargo lambda build --arm64 --bin <function>` for each function (BuildMethod
# rust-cargolambda), in the workspace's target/. By default this check sets SAM_BUILD_MODE=debug
# (SAM's own switch: the same build without --release), because the size-tuned release build takes
# 11-26 minutes on 2 cores; AVIARY_SAM_RELEASE=1 runs exactly what a user runs.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
die() { printf '[sam-build] %s\n' "$*" >&2; exit 1; }
[ -x .venv/bin/sam ] || die "sam not found in .venv: run scripts/setup.sh first"
[ -x .venv/bin/cargo-lambda ] || die "cargo-lambda not found in .venv: run scripts/setup.sh first"
# cargo-lambda finds zig through the venv's python (ziglang); sam finds cargo-lambda on PATH.
export PATH="$ROOT/.venv/bin:$PATH"
export SAM_CLI_TELEMETRY=0
if [ "${AVIARY_SAM_RELEASE:-0}" != 1 ]; then export SAM_BUILD_MODE=debug; fi
rustup target list --installed 2>/dev/null | grep -qx aarch64-unknown-linux-gnu || rustup target add aarch64-unknown-linux-gnu >/dev/null

build_dir=$ROOT/infra/.aws-sam/build
rm -rf "$build_dir"
start=$(date +%s)
log=$(mktemp "${TMPDIR:-/tmp}/aviary-sam-build.XXXXXX")
trap 'rm -f "$log"' EXIT
if ! (cd infra && sam build --config-file samconfig.toml </dev/null >"$log" 2>&1); then
  tail -n 60 "$log" >&2
  die "sam build failed (last 60 lines above)"
fi
elapsed=$(( $(date +%s) - start ))
grep -q "Build Succeeded" "$log" || { tail -n 30 "$log" >&2; die "sam build did not report success"; }

# Every AWS::Serverless::Function of the template has an aarch64 bootstrap in the build.
mapfile -t functions < <(.venv/bin/python - <<'PY'
import sys
sys.path.insert(0, "tests/infra")
from cfn import load_template
t = load_template("infra/template.yaml")
for name, r in sorted(t["Resources"].items()):
    if r.get("Type") == "AWS::Serverless::Function":
        print(name)
PY
)
[ ${#functions[@]} -ge 9 ] || die "expected at least 9 functions in the template, found ${#functions[@]}"
for f in "${functions[@]}"; do
  bin=$build_dir/$f/bootstrap
  [ -f "$bin" ] || die "$f: no bootstrap in $build_dir/$f"
  machine=$(od -An -tu2 -j18 -N2 "$bin" | tr -d ' ')
  [ "$machine" = 183 ] || die "$bin is not an aarch64 ELF (e_machine=$machine)"
  grep -q "CodeUri: $f\$" "$build_dir/template.yaml" || die "the built template does not point $f at its artifact"
done
printf 'sam build (%s, samconfig.toml, no prompt): %d functions, each an aarch64 bootstrap, in %ds\n' \
  "${SAM_BUILD_MODE:-release}" "${#functions[@]}" "$elapsed"
