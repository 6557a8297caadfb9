#!/usr/bin/env bash
# Checks that envs/<env>/artifact.auto.tfvars.json names exactly the zip this
# commit builds (dist/function.zip from `make build`; builds are reproducible,
# so the same source gives the same SHA-256). Offline. On a mismatch it says
# which command fixes the pointer.
set -euo pipefail

usage() { echo "usage: scripts/check-pointer.sh <env>   (run make build first)"; }
die_usage() { usage >&2; exit 2; }
case ${1:-} in -h | --help) usage; exit 0 ;; esac
[ $# -eq 1 ] || die_usage
case $1 in -* | '') die_usage ;; esac
env=$1

cd "$(dirname "$0")/.."
echo "check-pointer.sh: comparing envs/$env/artifact.auto.tfvars.json with dist/function.zip" >&2
# Built, not `go run`, so that its exit status (2 for usage) reaches the caller.
go build -o .local/bin/artifact ./cmd/artifact
exec .local/bin/artifact check-pointer "$env"
