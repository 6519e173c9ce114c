#!/usr/bin/env bash
# The main job on the embedded defaults (make demo): synthesize the lending datamart of
# shared/data-spec.md part A into the example project's workspace, ingest it into bronze,
# silver and quarantine, and show the run log. Later issues extend this to the whole pipeline.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${1:-$root/build/riskpipe}"
config="$root/examples/lending-datamart/riskpipe.yaml"

echo "== riskpipe $("$bin" --version | head -1)"
echo "== 1/3 synthesize the lending datamart (12,500 customers, seed 42)"
"$bin" --config "$config" synth --scenario lending-datamart --seed 42
echo "== 2/3 ingest every source into bronze, silver and quarantine"
"$bin" --config "$config" ingest
echo "== 3/3 run log"
"$bin" --config "$config" status --limit 1
echo "== datamart: $root/examples/lending-datamart/workspace/datamart (Hive-partitioned Parquet)"
