#!/usr/bin/env bash
# The main job on the embedded defaults (make demo), on the example lending-datamart project:
# synthesize the four source CSVs of shared/data-spec.md part A, ingest them into bronze, silver
# and quarantine, run the data-quality suites over every month (the synthetic clickstream feed
# outage of 2024-03 is caught and reported), build the gold label and feature stores with their
# point-in-time audit, export a training set, materialize the online store, and show the run
# log, train the four model families, register the chosen calibrated PD model, approve it and
# promote it to production. Later issues extend this to training, validation, inference, monitoring and serving.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${1:-$root/build/riskpipe}"
config="$root/examples/lending-datamart/riskpipe.yaml"
ws="$root/examples/lending-datamart/workspace"
rp() { "$bin" --config "$config" "$@"; }

echo "== $("$bin" --version | head -1)"
echo "== 1/10 synthesize the lending datamart (12,500 customers, seed 42)"
rp synth --scenario lending-datamart --seed 42
echo "== 2/10 ingest every source into bronze, silver and quarantine"
rp ingest
echo "== 3/10 data-quality suites over every month (summary; reports in $ws/reports/quality)"
set +e
rp --quiet quality --all-months > "$ws/quality.log" 2>&1
quality_exit=$?
set -e
grep -E "FAIL|warn" "$ws/quality.log" | sort | uniq -c | sort -rn | head -12 || true
if [ "$quality_exit" -eq 1 ]; then
  echo "   quality gate: error-severity failures above stop those months (expected: the 2024-03 fe_7 outage)"
elif [ "$quality_exit" -ne 0 ]; then
  cat "$ws/quality.log"; exit "$quality_exit"
fi
echo "== 4/10 gold label store and feature store (point in time, audited)"
rp features build
echo "== 5/10 training set with labels known by 2024-09-01"
rp features training-set --cutoff 2024-09-01 --out "$ws/training/train_2024-09-01.parquet"
echo "== 6/10 online store: every customer's latest features"
rp materialize
echo "== 7/10 train every candidate family on time splits, register the chosen calibrated model"
rp train > "$ws/train.log"
cat "$ws/train.log"
model_id="$(sed -n 's/^registered \([^ ]*\) .*/\1/p' "$ws/train.log")"
echo "== 8/10 manual approval and promotion of $model_id (recorded with who and why)"
echo "   validation gate (docs/validation.md; stored as validation.json with the model)"
gate_exit=0
rp validate "$model_id" || gate_exit=$?
if [ "$gate_exit" -gt 1 ]; then exit "$gate_exit"; fi
rp models approve "$model_id" --by "demo risk officer" --reason "leaderboard, OOT metrics and validation report reviewed"
if [ "$gate_exit" -eq 0 ]; then
  rp models promote "$model_id" --stage production --by "demo risk officer"
else
  # A failed gate blocks promotion; the demo records an explicit override, as an approver would.
  rp models promote "$model_id" --stage production --by "demo risk officer" \
    --override-reason "demo: failed checks reviewed and accepted (see validation.json)"
fi
rp models show production --verify | head -12
echo "== 9/10 registry history"
rp models history --name lending_pd | tail -6
echo "== 10/10 run log"
rp status --limit 6
echo "== datamart: $ws/datamart (Hive-partitioned Parquet); online store: $ws/online"
