#!/usr/bin/env bash
# Offline checks of Aviary's infrastructure (no AWS account, no credentials, no network):
#  - cfn-lint infra/template.yaml (runs the SAM transform; catches dependency cycles too);
#  - sam validate --lint -t infra/template.yaml;
#  - tests/infra/check_template.py: state machines <-> functions <-> crates, timeouts, environment,
#    table, bucket, HTTP API routes and IAM authorisation, schedule, log retention, outputs;
#  - tests/infra/check_iam.py: one role per function with exactly the actions of
#    infra/iam-actions.json, tag-scoped writes, no ModifyListener, IMDSv2, PassRole, S3/DynamoDB scope,
#    and every AWS operation the Rust code names is granted to some function;
#  - tests/infra/selftest.py: the checks catch injected mistakes (they can fail);
#  - docs/iam.md is what tests/infra/gen_iam_doc.py generates from the template and the table.
# Assumes scripts/setup.sh ran (cfn-lint and aws-sam-cli in .venv). Quiet on success except a summary.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
PY=$ROOT/.venv/bin/python
export SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
# Never let the checks reach an account: whatever credentials the caller has are not used.
export AWS_ACCESS_KEY_ID=offline AWS_SECRET_ACCESS_KEY=offline AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_SESSION_TOKEN

for tool in "$ROOT/.venv/bin/cfn-lint" "$ROOT/.venv/bin/sam" "$PY"; do
  [[ -x $tool ]] || { echo "[infra] missing $tool (run scripts/setup.sh)" >&2; exit 1; }
done

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
passed=0
failed=0
# check NAME COMMAND...: runs the command; on failure shows its output.
check() {
  local name=$1
  shift
  if "$@" >"$WORK/out.log" 2>&1; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    printf '  FAIL  %s\n' "$name" >&2
    sed 's/^/        /' "$WORK/out.log" | tail -n 60 >&2
  fi
}

check "cfn-lint infra/template.yaml" "$ROOT/.venv/bin/cfn-lint" infra/template.yaml
check "sam validate --lint" "$ROOT/.venv/bin/sam" validate --lint -t infra/template.yaml
check "template: state machines, functions, crates, storage, API" "$PY" tests/infra/check_template.py
check "iam: one role per function, exact actions, tag scoping" "$PY" tests/infra/check_iam.py
check "selftest: the checks catch injected mistakes" "$PY" tests/infra/selftest.py
check "docs/iam.md is generated from the template and the table" "$PY" tests/infra/gen_iam_doc.py --check
check "iam-actions.json is valid JSON" "$PY" -m json.tool infra/iam-actions.json

printf 'infra: %d passed, %d failed\n' "$passed" "$failed"
[[ $failed -eq 0 ]]
