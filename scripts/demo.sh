#!/usr/bin/env bash
# The main job on the embedded defaults (make demo), on the example lending-datamart project:
# synthesize the four source CSVs of shared/data-spec.md part A, ingest them into bronze, silver
# and quarantine, run the data-quality suites over every month (the synthetic clickstream feed
# outage of 2024-03 is caught and reported), build the gold label and feature stores with their
# point-in-time audit, export a training set, materialize the online store, and show the run
# log, train the four model families, register the chosen calibrated PD model, approve it and
# promote it to production; now all of it runs as one month-by-month backfill (docs/pipeline.md).
# The story the replay tells (docs/monitoring.md, "The synthetic drift story"): quiet months,
# the macro shock of 2024-01 (score PSI and approval alerts), the feed outage of 2024-03 (an act
# data-quality alert), the shocked labels maturing in 2024-07 (calibration gap), the retraining
# the policy triggered in 2024-08, validated and promoted, and the new model stable again.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${1:-$root/build/riskpipe}"
config="$root/examples/lending-datamart/riskpipe.yaml"
ws="$root/examples/lending-datamart/workspace"
rp() { "$bin" --config "$config" "$@"; }

echo "== $("$bin" --version | head -1)"
# A replay from an empty workspace: models, alerts and run log of an earlier demo would mix
# their versions into this one's story (the raw files are synthesized again anyway).
for d in datamart model_bank monitoring online reports checkpoints tmp; do rm -rf "${ws:?}/$d"; done
rm -f "$ws/metastore.sqlite"
echo "== 1/5 synthesize the lending datamart (12,500 customers, seed 42)"
rp synth --scenario lending-datamart --seed 42
echo "== 2/5 backfill 2023-01..2024-12 month by month (docs/pipeline.md): ingest, quality,"
echo "        labels, features, train (2023-11, then when the policy triggers it), validate,"
echo "        approve, predict, monitor, materialize; then the report"
set +e
rp backfill --from 2023-01 --to 2024-12
backfill_exit=$?
set -e
if [ "$backfill_exit" -eq 1 ]; then
  echo "   some months stopped (expected: 2024-03, where the quality gate caught the fe_7 feed outage);"
  echo "   riskpipe status shows each step's error"
elif [ "$backfill_exit" -ne 0 ]; then
  exit "$backfill_exit"
fi
echo "== 3/5 the validation gate report of the production model"
prod="$(rp models show production 2>/dev/null | sed -n 's/^model  *//p' | head -1)"
rp validate "${prod:-lending_pd/1}" || true
echo "== 4/5 registry history, the retraining and the alerts that led to it"
rp models history --name lending_pd | tail -8
rp alerts --severity act 2>/dev/null | grep -E "  retrain +retrain " | head -8 || true
rp alerts --month 2024-03 2>/dev/null || true
echo "== 5/5 run log"
rp status --limit 3
echo "== outputs"
echo "   datamart (Hive-partitioned Parquet): $ws/datamart (gold/predictions, gold/monitoring_*)"
echo "   model bank: $ws/model_bank; online store: $ws/online"
echo "   dashboard: $ws/reports/dashboard.html; report: $ws/reports/report.html and report.pdf"
echo "   serve it: $bin --config $config serve   (docs/api.md)"
