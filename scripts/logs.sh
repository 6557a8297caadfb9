#!/usr/bin/env bash
# Prints an env's function log events through the CloudWatch Logs API: the
# local stack's by default, AWS's with --aws (credentials from the usual chain).
#
# Usage: scripts/logs.sh <env> [--aws] [--follow] [--filter PATTERN] [--since 10m]
set -euo pipefail
usage() { echo "usage: scripts/logs.sh <env> [--aws] [--follow] [--filter PATTERN] [--since DURATION]"; }
die_usage() { usage >&2; exit 2; }
case ${1:-} in -h | --help) usage; exit 0 ;; esac
cd "$(dirname "$0")/.."
source scripts/lib/duration.sh
[ $# -ge 1 ] || die_usage
env=$1
shift
case $env in -* | '') die_usage ;; esac
[ -f "envs/$env/main.tf" ] || { echo "logs.sh: unknown env '$env' (envs: $(ls envs | paste -sd ' '))" >&2; die_usage; }

endpoint=${LOCAL_AWS_ENDPOINT:-http://127.0.0.1:4566}
# The flags are checked here, before anything is built: passed on as they
# came, a typo got local-aws's usage for all its commands instead of this one.
args=()
while [ $# -gt 0 ]; do
  case $1 in
    --aws) endpoint=""; shift ;;
    --follow) args+=(--follow); shift ;;
    --filter)
      [ $# -ge 2 ] || { echo "logs.sh: --filter needs a CloudWatch Logs filter pattern, e.g. --filter '{ \$.fields.type = \"signup\" }'" >&2; die_usage; }
      args+=(--filter "$2"); shift 2 ;;
    --since)
      if [ $# -lt 2 ] || ! positive_duration "$2"; then
        echo "logs.sh: --since '${2:-}' is not a positive duration (want e.g. 30s, 10m or 2h)" >&2
        die_usage
      fi
      args+=(--since "$2"); shift 2 ;;
    *) echo "logs.sh: unknown argument '$1'" >&2; die_usage ;;
  esac
done
if [ -n "$endpoint" ]; then
  export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_EC2_METADATA_DISABLED=true
fi
mkdir -p .local/bin
go build -o .local/bin/local-aws ./local/cmd/local-aws
echo "logs.sh: log events of $env's function from ${endpoint:-AWS}" >&2
exec .local/bin/local-aws logs --env "$env" --endpoint "$endpoint" ${args[@]+"${args[@]}"}
