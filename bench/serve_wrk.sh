#!/usr/bin/env bash
# Serving benchmark (issue 7): `riskpipe serve` under wrk on loopback, sharing the machine's
# cores with wrk. Builds a small Kueski workspace (a trained XGBoost model in production),
# replaces its online snapshot with a synthetic one of $CUSTOMERS customers (the five Kueski
# features), then measures startup time and RSS, and wrk runs of GET /v1/features/{id} and
# POST /v1/predict by id with and without reason codes, at 64 and 8 connections.
#
#   bench/serve_wrk.sh [path/to/riskpipe]     (env: CUSTOMERS=1000000 DURATION=10s THREADS=2
#                                              WRK_THREADS=1: one wrk thread leaves a core to
#                                              the server; two measured p99 2.5 ms at 64 conns)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$(realpath "${1:-$root/build-bench/riskpipe}")"
customers="${CUSTOMERS:-1000000}"
duration="${DURATION:-10s}"
threads="${THREADS:-2}"
port="${PORT:-18080}"
work="$(mktemp -d /tmp/riskpipe-serve-bench.XXXXXX)"
trap 'kill "${server_pid:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
command -v wrk >/dev/null || { echo "wrk is not installed (scripts/setup.sh installs it)"; exit 2; }

echo "== workspace in $work"
sed -e 's/^workspace: workspace/workspace: ws/' \
    -e 's/max_oot_drop: 0.05/max_oot_drop: 1.0/' "$root/examples/kueski/riskpipe.yaml" \
  | awk '/^  candidates:/{print "  candidates:\n    - family: xgboost\n      params: {rounds: 200, max_depth: 4, eta: 0.05}"; skip=1; next}
         skip && /^  selection:/{skip=0} !skip' > "$work/riskpipe.yaml"
rp() { (cd "$work" && "$bin" -q "$@"); }
rp synth --scenario kueski --customers 3000 --seed 42
rp ingest
rp features build
rp train > "$work/train.log"
rp models approve kueski_pd/1 --by bench --reason bench
rp models promote kueski_pd/1 --stage production --by bench --override-reason bench 2>/dev/null \
  || rp models promote kueski_pd/1 --stage production --by bench

echo "== synthetic online snapshot of $customers customers"
version="bench-$customers"
snap="$work/ws/online/snapshots/$version"
mkdir -p "$snap"
awk -v n="$customers" 'BEGIN {
  srand(7); print "id,age,years_on_the_job,flag_own_car,nb_previous_loans,avg_amount_loans_previous";
  for (i = 1; i <= n; i++) {
    nb = int(rand() * 40); avg = nb == 0 ? "" : sprintf("%.4f", 50 + rand() * 200);
    printf "%d,%d,%d,%d,%d,%s\n", i, 18 + int(rand() * 50), int(rand() * 30), rand() < 0.4, nb, avg } }' \
  > "$snap/features.csv"
bytes=$(stat -c %s "$snap/features.csv")
sha=$(sha256sum "$snap/features.csv" | cut -d' ' -f1)
cat > "$snap/manifest.json" <<JSON
{"format": "riskpipe-online-snapshot/1", "version": "$version", "as_of": "2021-09-30",
 "created_at": "2021-09-30T00:00:00Z", "project": "kueski", "feature_set_version": "1",
 "entity": {"name": "id", "type": "BIGINT"},
 "features": [{"name": "age", "type": "BIGINT"}, {"name": "years_on_the_job", "type": "BIGINT"},
  {"name": "flag_own_car", "type": "INTEGER"}, {"name": "nb_previous_loans", "type": "BIGINT"},
  {"name": "avg_amount_loans_previous", "type": "DOUBLE"}],
 "rows": $customers, "file": "features.csv", "bytes": $bytes, "sha256": "$sha"}
JSON
echo "$version" > "$work/ws/online/CURRENT"

echo "== startup"
start=$(date +%s.%N)
(cd "$work" && exec "$bin" serve --port "$port" --threads "$threads") > "$work/serve.log" 2>&1 &
server_pid=$!
until curl -sf "http://127.0.0.1:$port/readyz" > /dev/null; do sleep 0.02; done
ready=$(date +%s.%N)
echo "ready after $(echo "$ready - $start" | bc) s; RSS $(awk '/VmRSS/{print $2/1024 " MiB"}' /proc/$server_pid/status)"

cat > "$work/features.lua" <<LUA
math.randomseed(1)
request = function() return wrk.format("GET", "/v1/features/" .. math.random(1, $customers)) end
LUA
for reasons in false true; do
  cat > "$work/predict_$reasons.lua" <<LUA
math.randomseed(2)
local h = {["Content-Type"] = "application/json"}
request = function()
  return wrk.format("POST", "/v1/predict", h, '{"id": "' .. math.random(1, $customers) .. '", "reasons": $reasons}')
end
LUA
done
run() {  # name script connections
  echo "== $1, $3 connections"
  wrk -t"${WRK_THREADS:-1}" -c"$3" -d"$duration" --latency -s "$work/$2" "http://127.0.0.1:$port" \
    | grep -E "Requests/sec|^ +(50|99)%|Non-2xx|Socket errors"
}
# Warm-up (not reported): the first seconds touch the snapshot's pages and the allocator's
# arenas for the first time, which shows as a p99 several times the steady one.
wrk -t1 -c8 -d3s -s "$work/features.lua" "http://127.0.0.1:$port" > /dev/null
wrk -t1 -c8 -d3s -s "$work/predict_true.lua" "http://127.0.0.1:$port" > /dev/null
run "GET /v1/features/{id}" features.lua 64
run "GET /v1/features/{id}" features.lua 8
run "POST /v1/predict (no reasons)" predict_false.lua 8
run "POST /v1/predict (no reasons)" predict_false.lua 64
run "POST /v1/predict (reasons)" predict_true.lua 8
run "POST /v1/predict (reasons)" predict_true.lua 64
echo "== server RSS after the runs: $(awk '/VmRSS/{print $2/1024 " MiB"}' /proc/$server_pid/status)"
kill -TERM "$server_pid"; wait "$server_pid" || true
