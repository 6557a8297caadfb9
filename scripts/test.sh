#!/usr/bin/env bash
# Runs every test and check of the repository; `make test` and CI call it.
set -euo pipefail
usage() { echo "usage: scripts/test.sh (no arguments)"; }
case ${1:-} in -h | --help) usage; exit 0 ;; esac
[ $# -eq 0 ] || { usage >&2; exit 2; }
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "tools (pinned, built once into .tools/bin)"
scripts/tools.sh

step "go vet"
go vet ./...

step "go vet: build-tagged tests (compiled, not run: smoke and aws need an account, awscli the AWS CLI)"
go vet -tags smoke,aws,awscli ./smoke/... ./local/...

step "go test"
# A package's tests get 20 minutes, not go test's default 10: on a shared
# 2-core machine at a load average of 15-20, cmd/artifact's script tests
# (each builds and runs the artifact tool) once passed 10 minutes.
go test -count=1 -timeout 20m ./...

step "terraform: fmt, tflint, tfsec (offline)"
scripts/check-terraform.sh

step "shell scripts: bash -n (shellcheck is not installable here)"
for script in scripts/*.sh scripts/lib/*.sh .ci/run; do
  bash -n "$script"
done

step "workflows and Atlantis config: actionlint, Atlantis's own parser (offline)"
scripts/check-workflows.sh

step "the dev artifact pointer names this commit's reproducible build"
scripts/build.sh
scripts/check-pointer.sh dev

step "make demo: the whole service end to end on the local stack"
scripts/demo.sh dev

step "the exact artifact the dev pointer names (arm64) starts and passes the smoke test, under qemu-user on a non-arm64 host (make demo ARCH=arm64)"
began=$SECONDS
scripts/tools.sh qemu-aarch64
trap 'scripts/local-down.sh' EXIT
LOCAL_ARCH=arm64 scripts/local-up.sh dev
scripts/smoke.sh dev --local
scripts/local-down.sh
trap - EXIT
echo "test.sh: the arm64 smoke took $((SECONDS - began)) s"

step "make demo-rollout: a canary promoted and a broken build rolled back, on a local stack of its own"
scripts/demo-rollout.sh
