#!/usr/bin/env bash
# A production rollout end to end on a local stack of the demo's own (no
# port, no data left behind): envs/stg deployed with traffic on it, a
# healthy change rolled out through the canary and promoted, then a broken
# build sent to the canary and rolled back by the env's alarms, with the
# requests per version printed. Needs only Go; the pinned aws-lambda-rie is
# built on first use.
#
# Usage: scripts/demo-rollout.sh [env] [--interval DURATION]   (default stg, 3s)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/duration.sh
usage() { echo "usage: scripts/demo-rollout.sh [env] [--interval DURATION]   (env with a canary: stg or prod)"; }
die_usage() { usage >&2; exit 2; }
case ${1:-} in -h | --help) usage; exit 0 ;; esac
env=stg
if [ $# -gt 0 ] && [[ $1 != -* ]]; then
  env=$1
  shift
fi
[ -f "envs/$env/main.tf" ] || { echo "demo-rollout.sh: unknown env '$env'" >&2; die_usage; }
args=(--env "$env")
while [ $# -gt 0 ]; do
  case $1 in
    --interval)
      # Checked here: the Go program's own flag error came through go run
      # as its flag dump under a build-cache path and exit status 1.
      if [ $# -lt 2 ] || ! positive_duration "$2"; then
        echo "demo-rollout.sh: --interval '${2:-}' is not a positive duration (want e.g. 3s or 1m: how long each share of the traffic runs)" >&2
        die_usage
      fi
      args+=(--interval "$2"); shift 2 ;;
    *) echo "demo-rollout.sh: unknown argument '$1'" >&2; die_usage ;;
  esac
done
scripts/tools.sh aws-lambda-rie
started=$SECONDS
go run ./scripts/demo-rollout "${args[@]}"
echo "demo-rollout.sh: $((SECONDS - started)) s"
