#!/usr/bin/env bash
# Interleaved A/B benchmark runs: the benchmark binaries of a baseline build (A) against a new
# build (B), run as pairs A B A B ... in one sitting, because the machine's speed drifts by the
# hour and only ratios taken minutes apart mean anything.
#
#   bench/pairs.sh BASE_BUILD_DIR NEW_BUILD_DIR [PAIRS=5] [FILTER_REGEX=.]
#
# Every <dir>/bench/*_bench binary present in both builds runs PAIRS times each, A then B,
# with --benchmark_format=json and --benchmark_filter=FILTER_REGEX (binaries where the filter
# matches nothing are skipped). Prints Markdown on stdout:
#   1. per benchmark: baseline and new median real time, the median of the per-pair ratios
#      new/base with their min-max, and the verdict against the guard (1.15x; 1.3x for names
#      containing "Materialize"); benchmarks present in one build only are listed as such;
#   2. from the NEW build's runs: each riskpipe benchmark against its in-run baseline
#      (BM_X[/args] against BM_X_DuckDbBaseline[/args] or BM_X_XgboostBaseline[/args], and
#      the older reference benchmarks listed in LEGACY below, such as BM_TrainStep against
#      BM_BareXgboostFit), the median of the per-run ratios.
# Progress goes to stderr; the raw JSON and logs stay in $PAIRS_OUT (default: a new folder
# under /tmp). Environment variables such as RISKPIPE_BENCH_ROWS pass through to both builds.
# Both builds share the inputs the programs cache under $TMPDIR (the same bytes for both
# sides); PAIRS_SEPARATE_TMP=1 gives each build its own $PAIRS_OUT/tmp-A or tmp-B instead,
# for builds whose generators or ingest write different inputs.
# Needs bash and Debian's python3 (standard library only).
set -euo pipefail

if [[ $# -lt 2 || $# -gt 4 ]]; then
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2
  exit 2
fi
base="$(realpath "$1")"
new="$(realpath "$2")"
pairs="${3:-5}"
filter="${4:-.}"
[[ "$pairs" =~ ^[1-9][0-9]*$ ]] || { echo "PAIRS must be a positive integer: $pairs" >&2; exit 2; }
for d in "$base" "$new"; do
  if [[ ! -d "$d/bench" ]]; then
    echo "$d/bench: no such folder (build with -DRISKPIPE_BUILD_BENCH=ON)" >&2
    exit 2
  fi
done
python=/usr/bin/python3
[[ -x "$python" ]] || python=python3
out="${PAIRS_OUT:-$(mktemp -d /tmp/riskpipe-pairs.XXXXXX)}"
mkdir -p "$out"

binaries() { find "$1/bench" -maxdepth 1 -type f -name '*_bench' -perm -u+x -printf '%f\n' | sort; }
common=$(comm -12 <(binaries "$base") <(binaries "$new"))
only_base=$(comm -23 <(binaries "$base") <(binaries "$new"))
only_new=$(comm -13 <(binaries "$base") <(binaries "$new"))

# Benchmark names a binary would run under the filter (empty when none match).
listed() { "$1" --benchmark_list_tests=true --benchmark_filter="$filter" 2>/dev/null || true; }

{
  echo "base: $base"
  echo "new:  $new"
  echo "pairs: $pairs, filter: $filter"
  echo "started $(date -u +%FT%TZ), load: $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$out/meta.txt"
cat "$out/meta.txt" >&2

run_one() {  # side bin pair
  local side=$1 bin=$2 pair=$3 dir
  dir=$([[ $side == A ]] && echo "$base" || echo "$new")
  local json="$out/${bin}.${side}.${pair}.json" log="$out/${bin}.${side}.${pair}.log"
  echo "[$(date +%T)] pair $pair/$pairs $side $bin" >&2
  local tmp="${TMPDIR:-/tmp}"
  if [[ "${PAIRS_SEPARATE_TMP:-0}" == 1 ]]; then
    tmp="$out/tmp-$side"
    mkdir -p "$tmp"
  fi
  # From the build folder: a binary built through ccache with base_dir set finds the source
  # tree (examples/) by a path relative to it.
  if ! (cd "$dir" && TMPDIR="$tmp" "./bench/$bin" --benchmark_format=json \
      --benchmark_filter="$filter" --benchmark_out="$json" --benchmark_out_format=json) \
      > "$log" 2>&1; then
    echo "  $side $bin exited with an error (see $log)" >&2
  fi
}

ran=()
for bin in $common; do
  if [[ -z "$(listed "$base/bench/$bin")$(listed "$new/bench/$bin")" ]]; then continue; fi
  ran+=("$bin")
  for ((p = 1; p <= pairs; p++)); do
    run_one A "$bin" "$p"
    run_one B "$bin" "$p"
  done
done
echo "finished $(date -u +%FT%TZ), load: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/meta.txt"

"$python" - "$out" "$pairs" "${ran[*]:-}" "$only_base" "$only_new" <<'PY'
import json, os, re, statistics, sys

out, pairs, ran = sys.argv[1], int(sys.argv[2]), sys.argv[3].split()
only_base, only_new = sys.argv[4].split(), sys.argv[5].split()
SECONDS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
BASELINE = re.compile(r"_(DuckDb|Xgboost)Baseline(/|$)")
# Reference benchmarks named before the convention: riskpipe's benchmark -> its reference.
LEGACY = {
    "BM_TrainStep": "BM_BareXgboostFit",            # train_bench: XGBoost's bare fit
    "BM_FlatTreeShap": "BM_XgboostContributions",   # serve_bench: XGBoost's own TreeSHAP
    "BM_FlatMarginOneRow": "BM_XgboostMarginOneRow",  # serve_bench: XGBoost's one-row predict
    "BM_Auc": "BM_StdSort",                         # stats_bench: a comparison sort
    "BM_AucFloatTies": "BM_StdSort",
    "BM_KsStatistic": "BM_StdSort",
}
# Name parts Google Benchmark adds for run settings, not arguments ("/iterations:3/real_time").
SETTING = re.compile(r"^(iterations|min_time|min_warmup_time|repeats):|^(real|process|manual)_time$")


def short(name):
    return "/".join(p for p in name.split("/") if not SETTING.match(p))


def load(path):
    """{name: real seconds or None when the run reported an error}; {} when no file."""
    try:
        with open(path) as f:
            doc = json.load(f)
    except (OSError, ValueError):
        return {}
    times = {}
    for b in doc.get("benchmarks", []):
        if b.get("run_type") == "aggregate":
            continue
        name = short(b.get("run_name") or b["name"])
        if b.get("error_occurred"):
            times[name] = None
        else:
            times[name] = b["real_time"] * SECONDS.get(b.get("time_unit", "ns"), 1e-9)
    return times


def fmt(seconds):
    if seconds is None:
        return "—"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds * 1e6:.1f} µs"


def limit(name):
    return 1.3 if "Materialize" in name else 1.15


def is_baseline(name):
    return bool(BASELINE.search(name)) or name.partition("/")[0] in LEGACY.values()


def baseline_of(name, names):
    """The in-run baseline of `name` among `names`, with the same arguments when it has them."""
    head, _, args = name.partition("/")
    candidates = []
    for base in (f"{head}_DuckDbBaseline", f"{head}_XgboostBaseline", LEGACY.get(head)):
        if base is None:
            continue
        if args:
            candidates.append(f"{base}/{args}")
        candidates.append(base)
    return next((c for c in candidates if c in names), None)


print(f"## Interleaved pairs: baseline (A) vs new (B), {pairs} pairs\n")
with open(os.path.join(out, "meta.txt")) as f:
    for line in f:
        print(f"    {line.rstrip()}")
print()
print("| benchmark | baseline median | new median | median ratio new/base | min–max ratio | verdict |")
print("| --- | --- | --- | --- | --- | --- |")
in_run = []
for binary in ran:
    runs = {side: [load(os.path.join(out, f"{binary}.{side}.{p}.json")) for p in range(1, pairs + 1)]
            for side in "AB"}
    names = []
    for side in "AB":
        for r in runs[side]:
            names += [n for n in r if n not in names]
    for name in names:
        a = [r.get(name) for r in runs["A"]]
        b = [r.get(name) for r in runs["B"]]
        in_a = any(name in r for r in runs["A"])
        in_b = any(name in r for r in runs["B"])
        label = f"{binary} `{name}`"
        if not (in_a and in_b):
            side = "baseline" if in_a else "new"
            times = [t for t in (a if in_a else b) if t is not None]
            med = fmt(statistics.median(times)) if times else "error"
            print(f"| {label} | {med if in_a else '—'} | {med if in_b else '—'} | — | — | only in {side} build |")
            continue
        ratios = [y / x for x, y in zip(a, b) if x and y]
        ta, tb = [t for t in a if t], [t for t in b if t]
        if not ratios:
            print(f"| {label} | {fmt(statistics.median(ta)) if ta else 'error'} | "
                  f"{fmt(statistics.median(tb)) if tb else 'error'} | — | — | no complete pair |")
            continue
        med = statistics.median(ratios)
        verdict = "ok" if med <= limit(name) else "**SLOWER**"
        verdict += f" (≤ {limit(name):.2f}x)"
        if len(ratios) < pairs:
            verdict += f", {len(ratios)} of {pairs} pairs"
        print(f"| {label} | {fmt(statistics.median(ta))} | {fmt(statistics.median(tb))} | "
              f"{med:.3f}x | {min(ratios):.3f}–{max(ratios):.3f}x | {verdict} |")
    # In-run ratios of the new build: riskpipe against the plain tool, run by run.
    new_names = [n for n in names if any(n in r for r in runs["B"])]
    for name in new_names:
        if is_baseline(name):
            continue
        base_name = baseline_of(name, new_names)
        if base_name is None:
            continue
        ratios = [r[name] / r[base_name] for r in runs["B"]
                  if r.get(name) and r.get(base_name)]
        times = [r[name] for r in runs["B"] if r.get(name)]
        base_times = [r[base_name] for r in runs["B"] if r.get(base_name)]
        if ratios:
            in_run.append((binary, name, base_name, statistics.median(times),
                           statistics.median(base_times), ratios))

print("\n## New build against its in-run baselines\n")
if not in_run:
    print("No benchmark with an in-run baseline ran.")
else:
    print("| benchmark | in-run baseline | riskpipe median | baseline median | median ratio | min–max | runs |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for binary, name, base_name, t, tb, ratios in in_run:
        print(f"| {binary} `{name}` | `{base_name}` | {fmt(t)} | {fmt(tb)} | "
              f"{statistics.median(ratios):.2f}x | {min(ratios):.2f}–{max(ratios):.2f}x | {len(ratios)} |")
if only_base or only_new:
    print()
    for b in only_base:
        print(f"- binary `{b}`: only in the baseline build, not run")
    for b in only_new:
        print(f"- binary `{b}`: only in the new build, not run")
print(f"\nRaw JSON and logs: `{out}`")
PY
