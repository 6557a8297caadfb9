#!/usr/bin/env bash
# Checks a promotion pull request (head branch promote/<env>-<commit>, as
# scripts/open-promotion-pr.sh names it) in the checkout of its merge into
# the base branch: envs/<env>/artifact.auto.tfvars.json must name the
# artifact the env before it names. It fails once that env has moved away
# from the artifact (a rollback, a newer change), so a stale promotion
# cannot merge. Any other branch is not a promotion: nothing to check.
set -euo pipefail

usage() { echo "usage: scripts/check-promotion.sh <head-branch>   e.g. scripts/check-promotion.sh promote/prod-0123456789ab"; }
die_usage() { usage >&2; exit 2; }
case ${1:-} in -h | --help) usage; exit 0 ;; esac
[ $# -eq 1 ] || die_usage
case $1 in -* | '') die_usage ;; esac
branch=$1

cd "$(dirname "$0")/.."
case $branch in
promote/*) ;;
*)
  echo "check-promotion.sh: $branch is not a promotion branch (promote/<env>-<commit>); nothing to check" >&2
  exit 0
  ;;
esac
rest=${branch#promote/}
env=${rest%%-*}
if [ -z "$env" ] || [ "$env" = "$rest" ]; then
  echo "check-promotion.sh: $branch is not promote/<env>-<commit>: a promotion branch names the env it promotes into" >&2
  exit 1
fi
echo "check-promotion.sh: $branch promotes into $env" >&2
go build -o .local/bin/artifact ./cmd/artifact
exec .local/bin/artifact check-promotion "$env"
