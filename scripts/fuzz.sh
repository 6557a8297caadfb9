#!/usr/bin/env bash
# Fuzzes the function's body selector against encoding/json for a while.
# New failing inputs land in lambda/dump/testdata/fuzz/, where `make test`
# replays them; commit them with the fix.
#
# Usage: FUZZTIME=60s scripts/fuzz.sh   (FUZZTIME: a Go duration or Nx; default 60s)
set -euo pipefail
usage() { echo "usage: FUZZTIME=60s scripts/fuzz.sh (no arguments)"; }
case ${1:-} in -h | --help) usage; exit 0 ;; esac
[ $# -eq 0 ] || { usage >&2; exit 2; }

fuzztime=${FUZZTIME:-60s}
# What go test's -fuzztime takes, above zero (checked here, before the
# build, rather than by the test binary's terse "invalid duration").
if ! [[ $fuzztime =~ ^(([0-9]*\.?[0-9]+(ns|us|ms|s|m|h))+|[0-9]+x)$ && $fuzztime =~ [1-9] ]]; then
  echo "fuzz.sh: FUZZTIME must be a duration above 0 like 60s or 5m, or a count like 10000x, not '$fuzztime'" >&2
  exit 2
fi

cd "$(dirname "$0")/.."
echo "fuzz.sh: go test -run '^\$' -fuzz '^FuzzSelect\$' -fuzztime $fuzztime ./lambda/dump"
go test -run '^$' -fuzz '^FuzzSelect$' -fuzztime "$fuzztime" ./lambda/dump
