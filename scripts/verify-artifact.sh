#!/usr/bin/env bash
# Checks that the object envs/<env>/artifact.auto.tfvars.json names exists in
# S3 with the SHA-256 the pointer gives, by hashing the bytes S3 serves.
set -euo pipefail

usage() { echo "usage: scripts/verify-artifact.sh <env> [--endpoint-url URL] [--region REGION]"; }
die_usage() { usage >&2; exit 2; }
case ${1:-} in -h | --help) usage; exit 0 ;; esac
[ $# -ge 1 ] || die_usage
case $1 in -* | '') die_usage ;; esac
env=$1
shift

cd "$(dirname "$0")/.."
echo "verify-artifact.sh: checking the object envs/$env/artifact.auto.tfvars.json names" >&2
# Built, not `go run`, so that its exit status (2 for usage) reaches the caller.
go build -o .local/bin/artifact ./cmd/artifact
exec .local/bin/artifact verify "$env" "$@"
