#!/usr/bin/env bash
# Uploads the build (dist/function.zip from `make build`, or --zip PATH) to
# the artifact bucket at <env>/<sha256 hex>.zip. Idempotent: the same bytes
# already there are accepted; other bytes at that key are never overwritten.
# With --write-pointer it also points envs/<env>/artifact.auto.tfvars.json
# at it.
# AWS credentials and region come from the standard chain (CI: the env's
# OIDC role); AWS_ENDPOINT_URL or --endpoint-url selects the local stack.
set -euo pipefail

usage() { echo "usage: scripts/upload.sh <env> [--write-pointer] [--bucket NAME] [--zip PATH] [--endpoint-url URL] [--region REGION]"; }
die_usage() { usage >&2; exit 2; }
case ${1:-} in -h | --help) usage; exit 0 ;; esac
[ $# -ge 1 ] || die_usage
case $1 in -* | '') die_usage ;; esac
env=$1
shift

cd "$(dirname "$0")/.."
echo "upload.sh: uploading the build to the $env/ prefix of the artifact bucket ${*:+($*)}" >&2
# Built, not `go run`, so that its exit status (2 for usage) reaches the caller.
go build -o .local/bin/artifact ./cmd/artifact
exec .local/bin/artifact upload "$env" "$@"
