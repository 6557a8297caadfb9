#!/usr/bin/env bash
# Installs the pinned tools this repository needs into .tools/bin, building
# them from the Go module proxy. A tool already built at the pinned version is
# reused, so only the first run on a machine pays for the builds.
#
# Usage: scripts/tools.sh [tool ...]   (default: every Go tool)
#   qemu-aarch64, asked for by name, is Debian's qemu-user (the arm64 mode
#   of the local stack, make demo ARCH=arm64): installed with apt-get when
#   missing on a non-arm64 host.
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
  echo "usage: scripts/tools.sh [tool ...]"
  echo "tools: $(for p in "${pins[@]}"; do printf '%s ' "${p%%|*}"; done)qemu-aarch64"
}
die_usage() { usage >&2; exit 2; }
case ${1:-} in -h | --help) usage; exit 0 ;; esac

# qemu_aarch64 makes sure qemu-aarch64 is on PATH: a Debian package, not a
# Go module, so apt-get installs it (as root, or through sudo).
qemu_aarch64() {
  if [ "$(uname -m)" = aarch64 ] || command -v qemu-aarch64 >/dev/null; then
    return 0
  fi
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  if ! command -v apt-get >/dev/null || { [ -n "$sudo" ] && ! sudo -n true 2>/dev/null; }; then
    echo "tools.sh: qemu-aarch64 is missing and cannot be installed here (it needs apt-get as root or password-less sudo): install qemu-user (Debian/Ubuntu) or your system's qemu-user package, then retry" >&2
    return 1
  fi
  echo "tools.sh: installing Debian's qemu-user (qemu-aarch64) with apt-get"
  local start=$SECONDS
  if ! $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends qemu-user >/dev/null 2>&1; then
    $sudo apt-get update >/dev/null
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends qemu-user >/dev/null
  fi
  command -v qemu-aarch64 >/dev/null || { echo "tools.sh: apt-get installed qemu-user but qemu-aarch64 is not on PATH" >&2; return 1; }
  echo "tools.sh: qemu-aarch64 ready in $((SECONDS - start)) s"
}

want=()
for name in "$@"; do
  if [ "$name" = qemu-aarch64 ]; then
    qemu_aarch64
  else
    want+=("$name")
  fi
done
[ $# -eq 0 ] || [ ${#want[@]} -gt 0 ] || exit 0
if [ ${#want[@]} -eq 0 ]; then
  for p in "${pins[@]}"; do want+=("${p%%|*}"); done
fi

mkdir -p "$bin" "$stamps"
for name in "${want[@]}"; do
  pin=""
  for p in "${pins[@]}"; do
    [ "${p%%|*}" = "$name" ] && pin=$p
  done
  [ -n "$pin" ] || { echo "tools.sh: unknown tool '$name'" >&2; die_usage; }
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
