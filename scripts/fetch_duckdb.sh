#!/usr/bin/env bash
# Fetches DuckDB's C library, pinned, from the npm registry (Debian 12 has no DuckDB package).
# duckdb.h comes from the `duckdb` package, libduckdb.so from the matching
# `@duckdb/node-bindings-linux-x64` package. Both tarballs are checked against the sha512
# integrity hashes pinned below before anything is unpacked. Idempotent: a complete install
# (marked by .installed holding the pinned versions) is left alone.
#
# Usage: scripts/fetch_duckdb.sh [DEST]   (default: third_party/duckdb, git-ignored)
set -euo pipefail

DUCKDB_VERSION="1.4.4"
BINDINGS_VERSION="1.4.4-r.4"
# From `npm view <pkg>@<version> dist.integrity`.
HEADER_INTEGRITY="sha512-hEJJ5hyVF0VLj3dmOLpsWrQR0b3d4Ykqtygm6iUXjHJDDnSqg/USKxcb5qvNrOhFYPgktayU6dXCtgPqcmmpog=="
LIB_INTEGRITY="sha512-jBTL/WvfwxLToFa/pVHfT6elMtltJGnc3wSuxZD9OfMltit9YUdVFS37vBFQzXMT1Z8OWjtSjMh+zPKxOwHLHA=="

root="$(cd "$(dirname "$0")/.." && pwd)"
dest="${1:-$root/third_party/duckdb}"
stamp="duckdb=$DUCKDB_VERSION bindings=$BINDINGS_VERSION"

if [[ -f "$dest/.installed" && "$(cat "$dest/.installed")" == "$stamp" \
      && -f "$dest/include/duckdb.h" && -f "$dest/lib/libduckdb.so" ]]; then
  exit 0
fi

command -v npm >/dev/null || { echo "fetch_duckdb: npm is required (apt-get install npm)" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

check_integrity() {  # file expected-sri
  local file="$1" expected="$2" actual
  actual="sha512-$(openssl dgst -sha512 -binary "$file" | base64 -w0)"
  if [[ "$actual" != "$expected" ]]; then
    echo "fetch_duckdb: integrity mismatch for $(basename "$file")" >&2
    echo "  expected $expected" >&2
    echo "  actual   $actual" >&2
    exit 1
  fi
}

echo "fetch_duckdb: downloading duckdb $DUCKDB_VERSION and node-bindings $BINDINGS_VERSION from npm" >&2
(cd "$work" && npm pack --silent "duckdb@$DUCKDB_VERSION" >/dev/null 2>&1 \
  && npm pack --silent "@duckdb/node-bindings-linux-x64@$BINDINGS_VERSION" >/dev/null 2>&1)
header_tgz="$work/duckdb-$DUCKDB_VERSION.tgz"
lib_tgz="$work/duckdb-node-bindings-linux-x64-$BINDINGS_VERSION.tgz"
check_integrity "$header_tgz" "$HEADER_INTEGRITY"
check_integrity "$lib_tgz" "$LIB_INTEGRITY"

mkdir -p "$work/h" "$work/l"
tar -xzf "$header_tgz" -C "$work/h" package/src/duckdb/src/include/duckdb.h
tar -xzf "$lib_tgz" -C "$work/l" package/libduckdb.so

staging="$dest.tmp.$$"
rm -rf "$staging"
mkdir -p "$staging/include" "$staging/lib"
cp "$work/h/package/src/duckdb/src/include/duckdb.h" "$staging/include/"
cp "$work/l/package/libduckdb.so" "$staging/lib/"
echo "$stamp" > "$staging/.installed"
rm -rf "$dest"
mkdir -p "$(dirname "$dest")"
mv "$staging" "$dest"
echo "fetch_duckdb: installed into $dest" >&2
