#!/usr/bin/env bash
# Fetches Apache ECharts, pinned, from the npm registry for the HTML dashboard and report
# (`riskpipe report` inlines dist/echarts.min.js into each page so it opens offline). The
# tarball is checked against the sha512 integrity hash pinned below before anything is
# unpacked. Idempotent: a complete install (marked by .installed holding the pinned version)
# is left alone.
#
# Usage: scripts/fetch_charts.sh [DEST]   (default: third_party/echarts, git-ignored)
# The build compiles the path of DEST/echarts.min.js into riskpipe (RISKPIPE_ECHARTS_JS,
# src/report/CMakeLists.txt); the environment variable RISKPIPE_ECHARTS_JS overrides it.
set -euo pipefail

ECHARTS_VERSION="5.6.0"
# From `npm view echarts@5.6.0 dist.integrity`.
ECHARTS_INTEGRITY="sha512-oTbVTsXfKuEhxftHqL5xprgLoc0k7uScAwtryCgWF6hPYFLRwOUHiFmHGCBKP5NPFNkDVopOieyUqYGH8Fa3kA=="

root="$(cd "$(dirname "$0")/.." && pwd)"
dest="${1:-$root/third_party/echarts}"
stamp="echarts=$ECHARTS_VERSION"

if [[ -f "$dest/.installed" && "$(cat "$dest/.installed")" == "$stamp" \
      && -f "$dest/echarts.min.js" && -f "$dest/LICENSE" ]]; then
  exit 0
fi

command -v npm >/dev/null || { echo "fetch_charts: npm is required (apt-get install npm)" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "fetch_charts: downloading echarts $ECHARTS_VERSION from npm" >&2
(cd "$work" && npm pack --silent "echarts@$ECHARTS_VERSION" >/dev/null 2>&1)
tgz="$work/echarts-$ECHARTS_VERSION.tgz"
actual="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
if [[ "$actual" != "$ECHARTS_INTEGRITY" ]]; then
  echo "fetch_charts: integrity mismatch for $(basename "$tgz")" >&2
  echo "  expected $ECHARTS_INTEGRITY" >&2
  echo "  actual   $actual" >&2
  exit 1
fi

mkdir -p "$work/x"
tar -xzf "$tgz" -C "$work/x" package/dist/echarts.min.js package/LICENSE package/NOTICE

staging="$dest.tmp.$$"
rm -rf "$staging"
mkdir -p "$staging"
cp "$work/x/package/dist/echarts.min.js" "$work/x/package/LICENSE" "$work/x/package/NOTICE" \
  "$staging/"
echo "$stamp" > "$staging/.installed"
rm -rf "$dest"
mkdir -p "$(dirname "$dest")"
mv "$staging" "$dest"
echo "fetch_charts: installed into $dest" >&2
