#!/usr/bin/env bash
# Promotes the artifact of env <from> to env <to> (dev → stg → prod, one step
# at a time): verifies the object envs/<from>/artifact.auto.tfvars.json names
# byte for byte, copies it to <to>/<sha256 hex>.zip, verifies the copy, and
# rewrites envs/<to>/artifact.auto.tfvars.json (and no other file).
set -euo pipefail

usage() { echo "usage: scripts/promote.sh <from-env> <to-env> [--endpoint-url URL] [--region REGION]   e.g. scripts/promote.sh dev stg"; }
die_usage() { usage >&2; exit 2; }
case ${1:-} in -h | --help) usage; exit 0 ;; esac
[ $# -ge 2 ] || die_usage
case $1 in -* | '') die_usage ;; esac
case $2 in -* | '') die_usage ;; esac
from=$1 to=$2
shift 2

cd "$(dirname "$0")/.."
echo "promote.sh: promoting the $from artifact to $to" >&2
# Built, not `go run`, so that its exit status (2 for usage) reaches the caller.
go build -o .local/bin/artifact ./cmd/artifact
exec .local/bin/artifact promote "$from" "$to" "$@"
