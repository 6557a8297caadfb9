#!/usr/bin/env bash
# The whole service, end to end, on the local AWS stack: build the artifact,
# start the stack, upload and deploy, POST sample events (one invalid), read
# the dumps back through the CloudWatch Logs API, run the smoke tests, stop.
# Needs only Go; the pinned tools are built on first use.
#
# Usage: scripts/demo.sh [env]   (default dev)
set -euo pipefail
cd "$(dirname "$0")/.."
usage() { echo "usage: scripts/demo.sh [env]"; }
die_usage() { usage >&2; exit 2; }
case ${1:-} in -h | --help) usage; exit 0 ;; esac
[ $# -le 1 ] || { echo "demo.sh: one env at a time, got $#: $*" >&2; die_usage; }
env=${1:-dev}
case $env in -*) echo "demo.sh: unknown flag '$env' (the env is the only argument)" >&2; die_usage ;; esac
[ -f "envs/$env/main.tf" ] || { echo "demo.sh: unknown env '$env' (envs: $(ls envs | paste -sd ' '))" >&2; die_usage; }

# Each step's wall time is printed when the next starts, and all of them at
# the end, so a slow step shows (date +%s%N: bash's SECONDS is too coarse).
now_ms() { echo $(($(date +%s%N) / 1000000)); }
started=$(now_ms)
step_name="" step_began=$started timings=""
step_done() {
  if [ -n "$step_name" ]; then
    local took=$(($(now_ms) - step_began))
    timings+=$(printf '  %6d ms  %s' "$took" "$step_name")$'\n'
    printf '    (%d ms)\n' "$took"
  fi
}
step() {
  step_done
  step_name=$1 step_began=$(now_ms)
  printf '\n\033[1m==> %s\033[0m\n' "$*"
}

step "1/6 Build the artifact Lambda runs: linux/arm64, reproducible (make build)"
scripts/build.sh
if scripts/check-pointer.sh "$env" >/dev/null 2>&1; then
  echo "envs/$env/artifact.auto.tfvars.json names exactly this build."
else
  echo "envs/$env/artifact.auto.tfvars.json names another build: dev follows the code (scripts/set-pointer.sh dev in the pull request), stg and prod follow promotions."
fi

step "2/6 Start the local AWS stack, upload the function to the $env/ prefix, deploy envs/$env (make local-up)"
source scripts/lib/local-aws-pid.sh
if local_aws_pid >/dev/null; then
  # A stack the user started stays up: the demo only adds to it.
  trap 'step "6/6 Leave the local stack running: it was up before the demo (make local-down stops it)"' EXIT
else
  trap 'step "6/6 Stop the local stack (make local-down)"; scripts/local-down.sh' EXIT
fi
scripts/local-up.sh "$env"

step "3/6 POST the sample events in scripts/demo/events, then 4/6 read their dumps back through CloudWatch Logs"
# Built into .local/bin rather than `go run`: an unchanged binary is not
# linked again.
go build -o .local/bin/demo ./scripts/demo
.local/bin/demo --outputs .local/outputs.json

step "5/6 Smoke tests against the deployed env (scripts/smoke.sh $env --local)"
scripts/smoke.sh "$env" --local

step_done
step_name=""
echo
printf 'demo.sh: step timings\n%s' "$timings"
echo "demo.sh: all steps passed in $(($(now_ms) - started)) ms. Try it yourself: make local-up ENV=$env, then make logs ENV=$env in another terminal."
