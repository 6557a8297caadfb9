#!/usr/bin/env bash
# Stops the local AWS stack that scripts/local-up.sh started. Its data
# (.local/data) stays for the next start; delete .local to start afresh.
# The outputs it wrote (.local/outputs.json) go: they name an endpoint that
# no longer answers, so smoke.sh, rollout.sh and demo.sh say to start the
# stack instead of failing on refused connections.
set -euo pipefail
usage() { echo "usage: scripts/local-down.sh (no arguments)"; }
case ${1:-} in -h | --help) usage; exit 0 ;; esac
[ $# -eq 0 ] || { usage >&2; exit 2; }
cd "$(dirname "$0")/.."
pidfile=.local/local-aws.pid
outputs=.local/outputs.json
source scripts/lib/local-aws-pid.sh
if ! pid=$(local_aws_pid); then
  echo "local-down.sh: the local stack is not running"
  rm -f "$pidfile" "$outputs"
  exit 0
fi
echo "local-down.sh: stopping the local stack (pid $pid)"
kill -TERM "$pid"
for _ in $(seq 100); do
  kill -0 "$pid" 2>/dev/null || { rm -f "$pidfile" "$outputs"; echo "local-down.sh: stopped"; exit 0; }
  sleep 0.1
done
echo "local-down.sh: still running after 10 s; killing it" >&2
kill -KILL "$pid" 2>/dev/null || true
rm -f "$pidfile" "$outputs"
