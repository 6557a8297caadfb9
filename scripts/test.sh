#!/usr/bin/env bash
# Runs every test and check of the repository; `make test` and CI call it.
set -euo pipefail
[ $# -eq 0 ] || { echo "usage: scripts/test.sh (no arguments)" >&2; exit 2; }
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "tools (pinned, built once into .tools/bin)"
scripts/tools.sh

step "go vet"
go vet ./...

step "go vet: build-tagged smoke and aws tests (compiled, not run)"
go vet -tags smoke,aws ./smoke/...

step "go test"
go test -count=1 ./...

step "terraform: fmt, tflint, tfsec (offline)"
scripts/check-terraform.sh
