#!/usr/bin/env bash
# Stops the local AWS stack that scripts/local-up.sh started. Its data
# (.local/data) stays for the next start; delete .local to start afresh.
set -euo pipefail
[ $# -eq 0 ] || { echo "usage: scripts/local-down.sh (no arguments)" >&2; exit 2; }
cd "$(dirname "$0")/.."
pidfile=.local/local-aws.pid
# The pid file outlives a stack that died (or a reboot), and its pid may now
# be another program's: stop the process only if it is local-aws.
pid=$(cat "$pidfile" 2>/dev/null || true)
case $(cat "/proc/${pid:-0}/comm" 2>/dev/null || ps -p "${pid:-0}" -o comm= 2>/dev/null || true) in
  *local-aws) ;;
  *)
    echo "local-down.sh: the local stack is not running"
    rm -f "$pidfile"
    exit 0
    ;;
esac
echo "local-down.sh: stopping the local stack (pid $pid)"
kill -TERM "$pid"
for _ in $(seq 100); do
  kill -0 "$pid" 2>/dev/null || { rm -f "$pidfile"; echo "local-down.sh: stopped"; exit 0; }
  sleep 0.1
done
echo "local-down.sh: still running after 10 s; killing it" >&2
kill -KILL "$pid" 2>/dev/null || true
rm -f "$pidfile"
