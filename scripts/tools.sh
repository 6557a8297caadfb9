#!/usr/bin/env bash
# Installs the pinned tools this repository needs into .tools/bin, building
# them from the Go module proxy. A tool already built at the pinned version is
# reused, so only the first run on a machine pays for the builds.
#
# Usage: scripts/tools.sh [tool ...]   (default: every tool)
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)
bin="$root/.tools/bin"
stamps="$root/.tools/stamps"

# name | module path to `go install` | version
pins=(
  "terraform|github.com/hashicorp/terraform|v1.5.7"
  "aws-lambda-rie|github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie|v0.0.0-20261030222936-bef5c4ba774d"
  "actionlint|github.com/rhysd/actionlint/cmd/actionlint|v1.7.12"
  "tflint|github.com/terraform-linters/tflint|v0.64.0"
  "tfsec|github.com/aquasecurity/tfsec/cmd/tfsec|v1.26.0"
  "conftest|github.com/open-policy-agent/conftest|v0.71.1"
)

usage() {
  echo "usage: scripts/tools.sh [tool ...]" >&2
  echo "tools: $(for p in "${pins[@]}"; do printf '%s ' "${p%%|*}"; done)" >&2
  exit 2
}

want=("$@")
if [ ${#want[@]} -eq 0 ]; then
  for p in "${pins[@]}"; do want+=("${p%%|*}"); done
fi

mkdir -p "$bin" "$stamps"
for name in "${want[@]}"; do
  pin=""
  for p in "${pins[@]}"; do
    [ "${p%%|*}" = "$name" ] && pin=$p
  done
  [ -n "$pin" ] || { echo "tools.sh: unknown tool '$name'" >&2; usage; }
  IFS='|' read -r _ module version <<<"$pin"
  stamp="$stamps/$name"
  if [ -x "$bin/$name" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$module@$version" ]; then
    continue
  fi
  echo "tools.sh: building $name ($module@$version) into .tools/bin"
  start=$SECONDS
  # Tools are built for the host, whatever GOOS/GOARCH the caller exported
  # for the function build; CGO is off so the binaries are static.
  GOBIN="$bin" GOOS= GOARCH= CGO_ENABLED=0 GOFLAGS=-buildvcs=false \
    go install -trimpath "$module@$version"
  echo "$module@$version" >"$stamp"
  echo "tools.sh: $name ready in $((SECONDS - start)) s"
done
