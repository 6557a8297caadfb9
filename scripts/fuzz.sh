#!/usr/bin/env bash
# Fuzzes the function's body selector against encoding/json for a while.
# New failing inputs land in lambda/dump/testdata/fuzz/, where `make test`
# replays them; commit them with the fix.
#
# Usage: FUZZTIME=60s scripts/fuzz.sh   (FUZZTIME: a Go duration or Nx; default 60s)
set -euo pipefail
[ $# -eq 0 ] || { echo "usage: FUZZTIME=60s scripts/fuzz.sh (no arguments)" >&2; exit 2; }

fuzztime=${FUZZTIME:-60s}
case $fuzztime in
  *[0-9]s | *[0-9]m | *[0-9]h | *[0-9]x | *[0-9]ms) ;;
  *) echo "fuzz.sh: FUZZTIME must be a duration like 60s or 5m, or a count like 10000x, not '$fuzztime'" >&2; exit 2 ;;
esac

cd "$(dirname "$0")/.."
echo "fuzz.sh: go test -run '^\$' -fuzz '^FuzzSelect\$' -fuzztime $fuzztime ./lambda/dump"
go test -run '^$' -fuzz '^FuzzSelect$' -fuzztime "$fuzztime" ./lambda/dump
