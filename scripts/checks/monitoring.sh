#!/usr/bin/env bash
# Checks Aviary's monitoring files without Docker or AWS:
#  - renders them for the fixture specs (shared/monitoring/examples/render_monitoring.rs);
#  - promtool check config / check rules (every dashboard and canary-config PromQL expression),
#    docker-compose config, bash -n and shellcheck on every script, user data under 16 KiB,
#    the monitor's user data unpacks to exactly the rendered files;
#  - runs a real Prometheus with the same scrape config pointed at local processes (two node
#    exporters and two sample apps, the canary with injected latency and errors), sends load,
#    and requires every dashboard and canary-config query to return the right role series.
# Assumes scripts/setup.sh ran: it installs prometheus, prometheus-node-exporter,
# docker-compose and shellcheck. Starts and stops everything it needs on free loopback ports.
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
TARGET_DIR=${CARGO_TARGET_DIR:-$REPO/target}
FIXTURES=$REPO/tests/fixtures/monitoring
WORK=$(mktemp -d)
PIDS=()
passed=0
failed=0

cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

say() { printf '\033[1;34m[monitoring]\033[0m %s\n' "$*" >&2; }
# check NAME COMMAND...: runs the command, counts and reports the result, shows output on failure.
check() {
  local name=$1
  shift
  if "$@" >"$WORK/check.log" 2>&1; then
    passed=$((passed + 1))
    printf '  ok    %s\n' "$name" >&2
  else
    failed=$((failed + 1))
    printf '  FAIL  %s\n' "$name" >&2
    sed 's/^/        /' "$WORK/check.log" | tail -n 40 >&2
  fi
}

for tool in promtool prometheus prometheus-node-exporter docker-compose shellcheck python3 curl; do
  command -v "$tool" >/dev/null || [[ -x /usr/bin/$tool ]] || { say "missing $tool (run scripts/setup.sh)"; exit 1; }
done
NODE_EXPORTER=$(command -v prometheus-node-exporter || echo /usr/bin/prometheus-node-exporter)

say "building the renderer and the sample app (target dir $TARGET_DIR)"
export CARGO_TARGET_DIR=$TARGET_DIR
# With the workspace's feature set (the one `cargo test --workspace --features aviary-cli/local` of
# scripts/test.sh resolved), so nothing it already compiled is compiled again.
cargo build -q --workspace --features aviary-cli/local --bin aviary-sample-app --example render_monitoring
RENDER=$TARGET_DIR/debug/examples/render_monitoring
APP=$TARGET_DIR/debug/aviary-sample-app
started=$SECONDS

free_ports() {
  python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}

# wait_http URL SECONDS
wait_http() {
  local i
  for ((i = 0; i < $2 * 4; i++)); do
    curl -fsS -o /dev/null --max-time 1 "$1" 2>/dev/null && return 0
    sleep 0.25
  done
  echo "no answer from $1 within $2 s" >&2
  return 1
}

# --- static checks, for a spec with app metrics and one without -----------------------------
no_match() { ! grep -rniE "$1" "$2"; }
size_ok() { local n; n=$(wc -c <"$1"); echo "$1: $n bytes"; [[ $n -lt 16384 ]]; }
# (check runs its command as a condition, where errexit is off: multi-step checks use || return.)
unpacks_exactly() {
  local out=$1 dest=$WORK/unpacked-$2
  AVIARY_WRITE_ONLY=1 AVIARY_ROOT="$dest" bash "$out/userdata/monitor.sh" || return 1
  diff -r "$out/monitor" "$dest" || return 1
  [[ -x $dest/bin/post-start.sh && ! -x $dest/compose.yml ]]
}
json_ok() { python3 -m json.tool "$1" >/dev/null; }

for variant in spec spec-no-app-metrics; do
  out=$WORK/$variant
  say "rendering $variant.json"
  "$RENDER" "$FIXTURES/$variant.json" "$out" --region eu-west-1 >/dev/null
  check "$variant: promtool check config" promtool check config "$out/monitor/prometheus/prometheus.yml"
  check "$variant: promtool check rules (all rendered PromQL)" promtool check rules "$out/promql/rules.yml"
  check "$variant: docker-compose config" docker-compose -f "$out/monitor/compose.yml" config -q
  for script in "$out"/userdata/*.sh "$out/monitor/bin/post-start.sh"; do
    check "$variant: bash -n $(basename "$script")" bash -n "$script"
  done
  check "$variant: shellcheck" shellcheck "$out"/userdata/*.sh "$out/monitor/bin/post-start.sh"
  for script in "$out"/userdata/*.sh; do
    check "$variant: $(basename "$script") under EC2's 16 KiB" size_ok "$script"
  done
  check "$variant: no unpinned image" no_match ':latest\b' "$out"
  check "$variant: no credentials" no_match 'aws_access_key|aws_secret|secret_access_key' "$out"
  check "$variant: dashboard and canary config are JSON" json_ok "$out/monitor/grafana/dashboards/baseline-vs-canary.json"
  check "$variant: canary config is JSON" json_ok "$out/monitor/kayenta/canary-config.json"
  check "$variant: monitor user data unpacks to the rendered files" unpacks_exactly "$out" "$variant"
done
check "metrics path only when set" no_match 'metrics_path' "$WORK/spec-no-app-metrics/monitor/prometheus"
check "sample app's demo compose file" env AVIARY_IMAGE=aviary-sample-app:1 AVIARY_ROLE=canary AVIARY_APP_PORT=8080 \
  docker-compose -f sample-app/compose.yml config -q

# --- the monitor's boot job against stand-ins for the AWS CLI and Kayenta ---------------------
# It must post the starter canary config and put the target groups' CloudWatch dimensions,
# looked up by their deterministic names, into the dashboard.
boot_job() {
  local dest=$WORK/boot port
  cp -r "$WORK/unpacked-spec" "$dest" || return 1
  mkdir -p "$WORK/bin"
  cat >"$WORK/bin/aws" <<'SH'
#!/bin/bash
# Stand-in for `aws elbv2 describe-target-groups --names A B ... --output text`.
names=() collecting=0
for arg in "$@"; do
  if [[ $arg == --names ]]; then collecting=1; elif [[ $arg == --* ]]; then collecting=0; elif ((collecting)); then names+=("$arg"); fi
done
for n in "${names[@]}"; do printf '%s\tarn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/%s/0123456789abcdef\n' "$n" "$n"; done
SH
  chmod +x "$WORK/bin/aws"
  read -r port <<<"$(free_ports 1)"
  python3 - "$port" "$WORK/posted.json" <<'PY' &
import http.server, json, sys
configs = []
class Kayenta(http.server.BaseHTTPRequestHandler):
    def reply(self, body):
        data = json.dumps(body).encode()
        self.send_response(200); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data))); self.end_headers(); self.wfile.write(data)
    def do_GET(self):
        self.reply([{"name": c["name"]} for c in configs])
    def do_POST(self):
        config = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        configs.append(config)
        json.dump(config, open(sys.argv[2], "w"))
        self.reply({"canaryConfigId": "stub"})
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Kayenta).serve_forever()
PY
  PIDS+=($!)
  wait_http "http://127.0.0.1:$port/canaryConfig" 10 || return 1
  PATH="$WORK/bin:$PATH" AVIARY_ROOT="$dest" AVIARY_KAYENTA_URL="http://127.0.0.1:$port" \
    timeout 60 bash "$dest/bin/post-start.sh" || return 1
  local dashboard=$dest/grafana/dashboards/baseline-vs-canary.json
  if grep -q '__AVIARY_TG_' "$dashboard"; then echo "placeholders left in the dashboard"; return 1; fi
  grep -qE '"TargetGroup":"targetgroup/av-[0-9a-f]+-b/0123456789abcdef"' "$dashboard" || return 1
  grep -qE '"TargetGroup":"targetgroup/av-[0-9a-f]+-c/0123456789abcdef"' "$dashboard" || return 1
  python3 -c 'import json, sys; assert json.load(open(sys.argv[1])) == json.load(open(sys.argv[2]))' \
    "$WORK/posted.json" "$dest/kayenta/canary-config.json"
}
check "boot job: loads the canary config and fills the ALB dimensions" boot_job

# --- live check: a real Prometheus scraping local processes -----------------------------------
read -r P_PROM P_NODE_B P_NODE_C P_APP_B P_APP_C <<<"$(free_ports 5)"
DEPLOYMENT=checkout-localcheck
say "starting node exporters, sample apps and Prometheus on 127.0.0.1"
for port in "$P_NODE_B" "$P_NODE_C"; do
  "$NODE_EXPORTER" --web.listen-address="127.0.0.1:$port" >"$WORK/node-$port.log" 2>&1 &
  PIDS+=($!)
done
"$APP" --bind 127.0.0.1 --port "$P_APP_B" --role baseline >"$WORK/app-baseline.log" 2>&1 &
PIDS+=($!)
# The regression the canary must show: +40 ms per request and 20% 500s.
"$APP" --bind 127.0.0.1 --port "$P_APP_C" --role canary --extra-latency-ms 40 --error-rate 0.2 >"$WORK/app-canary.log" 2>&1 &
PIDS+=($!)

local_out=$WORK/local
"$RENDER" "$FIXTURES/spec.json" "$local_out" --deployment-id "$DEPLOYMENT" --scrape-interval 1 --rate-window 10s \
  --static-node "127.0.0.1:$P_NODE_B,127.0.0.1:$P_NODE_C" --static-app "127.0.0.1:$P_APP_B,127.0.0.1:$P_APP_C" >/dev/null
check "local: promtool check config (static targets)" promtool check config "$local_out/monitor/prometheus/prometheus.yml"

prometheus --config.file="$local_out/monitor/prometheus/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" \
  --web.listen-address="127.0.0.1:$P_PROM" --log.level=warn >"$WORK/prometheus.log" 2>&1 &
PIDS+=($!)

for url in "http://127.0.0.1:$P_NODE_B/metrics" "http://127.0.0.1:$P_NODE_C/metrics" \
  "http://127.0.0.1:$P_APP_B/health" "http://127.0.0.1:$P_APP_C/health" "http://127.0.0.1:$P_PROM/-/ready"; do
  check "local: $url answers" wait_http "$url" 20
done

# Load on both roles while Prometheus scrapes every second, until the queries are checked
# (bounded: 60 s and 3000 requests per role at most).
load() {
  local i end=$((SECONDS + 60))
  for ((i = 0; i < 3000 && SECONDS < end; i++)); do
    curl -s -o /dev/null --max-time 2 "$1" || true
    sleep 0.02
  done
}
load "http://127.0.0.1:$P_APP_B/" &
LOAD_PIDS=($!)
load "http://127.0.0.1:$P_APP_C/" &
LOAD_PIDS+=($!)
PIDS+=("${LOAD_PIDS[@]}")

# Every expression must return exactly the roles it is scoped to, with finite values; the
# canary must show its injected regression. Retried while the rate windows fill (30 s bound).
query_all() {
  python3 - "$local_out/promql/queries.json" "http://127.0.0.1:$P_PROM" <<'PY'
import json, math, sys, time, urllib.parse, urllib.request

queries, base = json.load(open(sys.argv[1])), sys.argv[2]

def run(expr):
    url = base + "/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=5) as r:
        body = json.load(r)
    if body.get("status") != "success":
        raise RuntimeError(body)
    return {s["metric"].get("role"): float(s["value"][1]) for s in body["data"]["result"]}

deadline, problems = time.time() + 30, ["not run"]
while problems and time.time() < deadline:
    problems, values = [], {}
    for q in queries:
        try:
            got = run(q["expr"])
        except Exception as e:  # noqa: BLE001 - report any API failure as a problem
            problems.append(f"{q['source']}: {e}")
            continue
        if sorted(got) != sorted(q["roles"]):
            problems.append(f"{q['source']}: roles {sorted(got)} != {sorted(q['roles'])}")
        elif any(math.isnan(v) or math.isinf(v) for v in got.values()):
            problems.append(f"{q['source']}: non-finite value {got}")
        values[q["source"]] = got
    if not problems:
        err = values["dashboard: 5xx error ratio (A)"]
        p99 = values["dashboard: Latency p99 (A)"]
        if not (err["canary"] > 0.1 and err["baseline"] == 0):
            problems.append(f"error ratio does not show the canary's regression: {err}")
        if not p99["canary"] > p99["baseline"]:
            problems.append(f"p99 latency does not show the canary's regression: {p99}")
    if problems:
        time.sleep(2)
for p in problems:
    print(p)
print(f"{len(queries)} queries checked")
sys.exit(1 if problems else 0)
PY
}
check "local: every dashboard and canary-config query returns its roles" query_all
kill "${LOAD_PIDS[@]}" 2>/dev/null || true

say "live part took $((SECONDS - started)) s"
printf '%d passed, %d failed\n' "$passed" "$failed"
[[ $failed -eq 0 ]]
