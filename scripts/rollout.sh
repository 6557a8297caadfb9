#!/usr/bin/env bash
# Rolls out to an env the version its last apply published: the smoke test
# against that version alone (the candidate stage), then the env's canary
# or linear shares of the public traffic with its CloudWatch alarms
# watched, then 100 % and the smoke test of the public stage; any failure
# puts the traffic back on the previous version (docs/runbook.md, section
# 3, "Apply and roll out"). Atlantis runs `scripts/rollout.sh <env>` after every apply of
# an env; its output, ending with the verdict, is the apply's comment.
#
# Usage: scripts/rollout.sh <env> [--local] [--status | --abort | --force] [--interval DURATION]
#   <env>        an env root under envs/ (dev, stg, prod)
#   --local      the env on the local stack (make local-up ENV=<env>), from
#                .local/outputs.json (ROLLOUT_OUTPUTS overrides it)
#   --status     show the aliases, a rollout in progress and the alarms
#   --abort      stop the rollout in progress: traffic back on the version it started from
#   --force      no canary and no alarms: all the traffic once the smoke test passed
#   --interval   how long each share runs, instead of envs/<env>'s rollout.interval_seconds
# Without --local: the env on AWS, its outputs from `terraform output -json`
# of envs/<env>, with the AWS credentials of the environment. Under
# Atlantis, with GITHUB_TOKEN set, the verdict is also the pull request's
# head commit status rollout/<env>.
# Exit: 0 promoted (or nothing to roll out), 1 rolled back, refused or
#       failed, 2 usage error or missing prerequisite.
set -euo pipefail

cd "$(dirname "$0")/.."
source scripts/lib/duration.sh
envs=$(for f in envs/*/main.tf; do basename "$(dirname "$f")"; done | tr '\n' ' ')
usage() {
  echo "usage: scripts/rollout.sh <env> [--local] [--status | --abort | --force] [--interval DURATION]   (env: one of ${envs% })"
}
die_usage() { usage >&2; exit 2; }

[ $# -ge 1 ] || { echo "rollout.sh: missing env" >&2; die_usage; }
env=$1
shift
case $env in
  -h | --help) usage; exit 0 ;;
  -*) echo "rollout.sh: the env comes first, then options (got '$env')" >&2; die_usage ;;
esac
if ! [[ $env =~ ^[a-z0-9][a-z0-9_-]*$ ]] || [ ! -f "envs/$env/main.tf" ]; then
  echo "rollout.sh: unknown env '$env'" >&2
  die_usage
fi
args=(--env "$env")
local=false
while [ $# -gt 0 ]; do
  case $1 in
    --local) local=true; args+=(--local --outputs "${ROLLOUT_OUTPUTS:-.local/outputs.json}"); shift ;;
    --status | --abort | --force) args+=("$1"); shift ;;
    --interval)
      [ $# -ge 2 ] || { echo "rollout.sh: --interval needs a duration, e.g. 30s" >&2; die_usage; }
      if ! positive_duration "$2"; then
        echo "rollout.sh: --interval '$2' is not a positive duration (want e.g. 30s or 5m)" >&2
        exit 2
      fi
      args+=(--interval "$2"); shift 2 ;;
    *) echo "rollout.sh: unknown argument '$1'" >&2; die_usage ;;
  esac
done

if $local; then
  outputs=${ROLLOUT_OUTPUTS:-.local/outputs.json}
  if [ ! -f "$outputs" ]; then
    echo "rollout.sh: $outputs not found: start the local stack first with make local-up ENV=$env (scripts/local-up.sh $env)" >&2
    exit 2
  fi
  echo "rollout.sh: $env on the local stack ($outputs)"
else
  source scripts/lib/terraform-path.sh
  terraform_path rollout.sh || exit 2
  echo "rollout.sh: $env on AWS (outputs of envs/$env via $TERRAFORM_PATH)"
fi

# What runs with the env's credentials is compiled from this checkout's
# go.mod and go.sum alone: a go.work or GOFLAGS from the pull request must
# not swap the code (Atlantis's run step sets the same).
export GOWORK=off GOFLAGS=-mod=readonly
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/rollout" ./cmd/rollout
status=0
"$tmp/rollout" "${args[@]}" || status=$?
exit "$status"
