#!/usr/bin/env bash
# Writes envs/<env>/artifact.auto.tfvars.json without touching S3: for the
# build in dist/function.zip (after `make build`), or with --from <env> for
# the artifact of the env before it (what a promotion pull request commits).
# The bucket stays the one the pointer names unless --bucket is given.
set -euo pipefail

usage() { echo "usage: scripts/set-pointer.sh <env> [--from ENV | --zip PATH] [--bucket NAME]"; }
die_usage() { usage >&2; exit 2; }
case ${1:-} in -h | --help) usage; exit 0 ;; esac
[ $# -ge 1 ] || die_usage
case $1 in -* | '') die_usage ;; esac
env=$1
shift

cd "$(dirname "$0")/.."
echo "set-pointer.sh: writing envs/$env/artifact.auto.tfvars.json ${*:+($*)}" >&2
# Built, not `go run`, so that its exit status (2 for usage) reaches the caller.
go build -o .local/bin/artifact ./cmd/artifact
exec .local/bin/artifact set-pointer "$env" "$@"
