#!/usr/bin/env bash
# Measures the local stack as users run it (a separate local-aws process on
# loopback) with the vegeta load generator: start to ready, cold start, warm
# latency, throughput, and that every accepted request's dump is found
# exactly once through FilterLogEvents. See local/cmd/local-bench.
#
# Usage: scripts/bench-local.sh [local-bench flags]   e.g. --requests 50000 --workers 32
set -euo pipefail
cd "$(dirname "$0")/.."
case ${1:-} in -h | --help) echo "usage: scripts/bench-local.sh [local-bench flags]   (the flags: go run ./local/cmd/local-bench -h; what each phase measures: go doc ./local/cmd/local-bench)"; exit 0 ;; esac

scripts/tools.sh aws-lambda-rie
echo "bench-local.sh: building local-aws, local-bench and the function for this machine"
mkdir -p .local/bin
go build -o .local/bin/local-aws ./local/cmd/local-aws
go build -o .local/bin/local-bench ./local/cmd/local-bench
scripts/build.sh --arch "$(go env GOHOSTARCH)" --out .local/dist >/dev/null
echo "bench-local.sh: $(nproc) cores, $(go env GOHOSTOS)/$(go env GOHOSTARCH)"
exec .local/bin/local-bench --bin .local/bin/local-aws --zip .local/dist/function.zip "$@"
