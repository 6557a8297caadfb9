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
[ $# -ge 1 ] || die_usage
env=$1
shift
case $env in -* | '') die_usage ;; esac
[ -f "envs/$env/main.tf" ] || { echo "logs.sh: unknown env '$env' (envs: $(ls envs | paste -sd ' '))" >&2; exit 2; }

endpoint=${LOCAL_AWS_ENDPOINT:-http://127.0.0.1:4566}
args=()
for a in "$@"; do
  if [ "$a" = "--aws" ]; then endpoint=""; else args+=("$a"); fi
done
if [ -n "$endpoint" ]; then
  export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_EC2_METADATA_DISABLED=true
fi
mkdir -p .local/bin
go build -o .local/bin/local-aws ./local/cmd/local-aws
echo "logs.sh: log events of $env's function from ${endpoint:-AWS}" >&2
exec .local/bin/local-aws logs --env "$env" --endpoint "$endpoint" ${args[@]+"${args[@]}"}
