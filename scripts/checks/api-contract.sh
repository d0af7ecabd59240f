#!/usr/bin/env bash
# The HTTP API's contract (api/openapi.yaml), offline against the emulator:
#  1. the OpenAPI document is valid (openapi-spec-validator);
#  2. tests/tests/api_contract.rs: scripted requests covering every route and every documented
#     status below 500 go through the local HTTP front; each answer is checked against the
#     document by scripts/checks/api_contract.py (jsonschema, every $ref resolved), and the
#     checker is shown to reject non-conforming answers;
#  3. if schemathesis is in .venv (scripts/requirements.txt installs it): it fuzzes the local
#     front from the document (valid and invalid inputs) and requires no 5xx, documented
#     statuses, content types and bodies. Set API_CONTRACT_FUZZ=0 to skip, or
#     API_CONTRACT_MAX_EXAMPLES to change the examples per operation (default 25).
# Assumes scripts/setup.sh ran (.venv with moto, openapi-spec-validator, jsonschema).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
VENV=$ROOT/.venv/bin
export AWS_ACCESS_KEY_ID=offline AWS_SECRET_ACCESS_KEY=offline AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_SESSION_TOKEN

echo "[api-contract] openapi-spec-validator api/openapi.yaml"
"$VENV/openapi-spec-validator" api/openapi.yaml

echo "[api-contract] recorded answers of every route against the document"
cargo test -q --workspace --features aviary-cli/local --test api_contract -- --nocapture

if [[ ${API_CONTRACT_FUZZ:-1} == 0 || ! -x $VENV/st ]]; then
  echo "[api-contract] schemathesis skipped (${API_CONTRACT_FUZZ:+API_CONTRACT_FUZZ=0}${API_CONTRACT_FUZZ:-not installed})"
  exit 0
fi

WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
  # Only the server this script started.
  if [[ -n $SERVER_PID ]]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "[api-contract] starting the local API (emulator + one ACTIVE canary)"
# Run the test binary itself (not through cargo) so the PID is the server's own.
BIN=$(cargo test --workspace --features aviary-cli/local --test api_contract --no-run 2>&1 | sed -n 's/.*Executable .*(\(.*\)).*/\1/p' | tail -1)
[[ -x $BIN ]] || { echo "[api-contract] could not find the api_contract test binary" >&2; exit 1; }
AVIARY_API_URL_FILE=$WORK/url AVIARY_API_SERVE_SECS=900 \
  "$BIN" --ignored --exact serve_local_api --nocapture >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 120); do
  [[ -s $WORK/url ]] && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log"; echo "[api-contract] the local API did not start" >&2; exit 1; }
  sleep 0.5
done
[[ -s $WORK/url ]] || { cat "$WORK/server.log"; echo "[api-contract] no URL after 60s" >&2; exit 1; }
URL=$(cat "$WORK/url")
echo "[api-contract] schemathesis against $URL"
# Every check except: the SigV4 ones (the local front has no authentication: API Gateway
# does it on AWS) and `positive_data_acceptance` (a schema-valid spec still needs its
# listener and artifacts to exist, which admission checks, so it may rightly be a 400).
"$VENV/st" run api/openapi.yaml --url "$URL" \
  --checks all --exclude-checks ignored_auth,missing_required_header,positive_data_acceptance \
  --generation-with-security-parameters false \
  --phases examples,coverage,fuzzing \
  --max-examples "${API_CONTRACT_MAX_EXAMPLES:-25}" \
  --generation-deterministic --workers 1 --request-timeout 20 \
  --suppress-health-check all
