#!/usr/bin/env bash
# Installs everything riskpipe needs to build and test on Debian 12, and nothing twice.
# Debian packages come from apt (one `apt-get update`, only when something is missing);
# DuckDB's C library and the ECharts charting library come pinned from the npm registry
# (scripts/fetch_duckdb.sh, scripts/fetch_charts.sh).
# Quiet when nothing is missing; set SETUP_VERBOSE=1 to see each check.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"

# Build tools and libraries (see shared/dependency-notes.md for why each is here).
packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates openssl
  libyaml-cpp-dev libcli11-dev nlohmann-json3-dev
  libsqlite3-dev libssl-dev libgtest-dev libgmock-dev libbenchmark-dev
  libxgboost-dev xgboost libboost-dev wrk
  python3-xgboost python3-numpy
  chromium poppler-utils
  curl jq  # tests/serving/api_doc_test.cc runs the curl examples of docs/api.md
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
command -v npm >/dev/null 2>&1 || missing+=(npm)

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  sudo_cmd=()
  [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
elif [[ "${SETUP_VERBOSE:-0}" == 1 ]]; then
  echo "setup: all Debian packages present" >&2
fi

"$root/scripts/fetch_duckdb.sh"
"$root/scripts/fetch_charts.sh"
