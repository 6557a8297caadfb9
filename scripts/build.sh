#!/usr/bin/env bash
# Builds the Lambda function's deployment package reproducibly: the same
# commit gives the same bytes on any machine, whatever its Go version, path,
# time zone, umask or file times.
#
#   <out>/bootstrap            the function (linux, static, stripped)
#   <out>/function.zip         one entry, bootstrap, mode 0755, fixed time
#   <out>/function.zip.sha256  base64 of the zip's raw SHA-256 (source_code_hash)
#
# Usage: scripts/build.sh [--arch arm64|amd64] [--out DIR]
#   --arch  GOARCH to build for; default $GOARCH if set, else arm64 (what Lambda runs)
#   --out   output folder, relative to the current one; default <repo>/dist
set -euo pipefail

usage() { echo "usage: scripts/build.sh [--arch arm64|amd64] [--out DIR]"; }
die_usage() { usage >&2; exit 2; }
case ${1:-} in -h | --help) usage; exit 0 ;; esac

arch=${GOARCH:-arm64}
out=""
while [ $# -gt 0 ]; do
  case $1 in
    --arch) [ $# -ge 2 ] || die_usage; arch=$2; shift 2 ;;
    --arch=*) arch=${1#*=}; shift ;;
    --out) [ $# -ge 2 ] || die_usage; out=$2; shift 2 ;;
    --out=*) out=${1#*=}; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "build.sh: unknown argument '$1'" >&2; die_usage ;;
  esac
done
case $arch in
  arm64 | amd64) ;;
  *) echo "build.sh: --arch (or \$GOARCH) must be arm64 or amd64, Lambda's architectures, not '$arch'" >&2; exit 2 ;;
esac

root=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "$out" ]; then
  out=$root/dist
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
cd "$root"

# The exact toolchain go.mod names, fetched by the go command if this
# machine has another: compilers of different versions emit different code.
toolchain=$(awk '$1 == "toolchain" { print $2 }' go.mod)
[ -n "$toolchain" ] || { echo "build.sh: go.mod has no toolchain line" >&2; exit 1; }
export GOTOOLCHAIN=$toolchain

# A go.work in a parent folder would make the clone part of a workspace,
# and the user's `go env -w` file fills in every variable left empty below
# (GOFLAGS, GOEXPERIMENT, zipbootstrap's GOOS): both off. Only the file's
# settings of where modules and caches come from are kept; they cannot
# change the bytes.
export GOWORK=off
kept=(GOPATH GOMODCACHE GOCACHE GOPROXY GONOPROXY GOPRIVATE GOSUMDB GONOSUMDB GOINSECURE GOAUTH)
settings=$(go env "${kept[@]}")
mapfile -t values <<<"$settings"
for i in "${!kept[@]}"; do
  export "${kept[$i]}=${values[$i]:-}"
done
export GOENV=off

# Nothing from the caller's environment may change the bytes: no cgo, the
# baseline instruction sets, no experiments, no extra flags.
export CGO_ENABLED=0 GOFLAGS= GOEXPERIMENT= GOAMD64=v1 GOARM64=v8.0

echo "build.sh: building bootstrap for linux/$arch with $toolchain into $out"
GOOS=linux GOARCH=$arch go build -trimpath -buildvcs=false -tags lambda.norpc \
  -ldflags='-s -w -buildid=' -o "$out/bootstrap" ./lambda
echo "build.sh: bootstrap: $(wc -c <"$out/bootstrap" | tr -d ' ') bytes"

echo "build.sh: packing function.zip (one entry, mode 0755, fixed time)"
GOOS= GOARCH= go run ./scripts/zipbootstrap -o "$out/function.zip" "$out/bootstrap"
echo "build.sh: source_code_hash: $(cat "$out/function.zip.sha256")"
