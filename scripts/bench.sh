#!/usr/bin/env bash
# Runs the function's Go benchmarks: the dump side by side with the naive
# approach (decode the whole body into map[string]any, pick, log) on a
# 1 KB and a 256 KB body. Figures, never timed tests.
#
# Usage: scripts/bench.sh [-count N]   (default: -count 5)
set -euo pipefail

usage() { echo "usage: scripts/bench.sh [-count N]"; }
die_usage() { usage >&2; exit 2; }
case ${1:-} in -h | --help) usage; exit 0 ;; esac

count=5
while [ $# -gt 0 ]; do
  case $1 in
    -count | --count) [ $# -ge 2 ] || die_usage; count=$2; shift 2 ;;
    *) echo "bench.sh: unknown argument '$1'" >&2; die_usage ;;
  esac
done
case $count in
  '' | *[!0-9]* | 0) echo "bench.sh: -count must be a whole number above 0, not '$count'" >&2; exit 2 ;;
esac

cd "$(dirname "$0")/.."
echo "bench.sh: go test -run '^\$' -bench . -benchmem -count $count ./lambda/..."
go test -run '^$' -bench . -benchmem -count "$count" ./lambda/...
