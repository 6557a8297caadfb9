#!/usr/bin/env bash
# Starts the local AWS stack in the background (S3, CloudWatch Logs, Lambda
# under aws-lambda-rie, API Gateway on one edge endpoint), uploads the
# function to the env's prefix of the artifact bucket, deploys the env from
# its envs/<env> files, and writes .local/outputs.json in the shape of
# `terraform output -json`. A stack already running is reused.
#
# Usage: scripts/local-up.sh [env]        (default dev)
# Env:   LOCAL_AWS_ENDPOINT  the edge endpoint (default http://127.0.0.1:4566; loopback
#        only), the variable every local-aws command and scripts/logs.sh read
#        LOCAL_ARCH  "" (default): the function built for this machine;
#        arm64: the exact artifact the pointer names (the arm64 zip Lambda
#        runs), rebuilt reproducibly and checked against the pointer,
#        uploaded, and deployed from the local S3 by the pointer; on a
#        non-arm64 host its bootstrap runs under qemu-user (RIE stays native)
set -euo pipefail

usage() { echo "usage: scripts/local-up.sh [env]   (env: one of $(ls envs | paste -sd ' '))"; }
die_usage() { usage >&2; exit 2; }
cd "$(dirname "$0")/.."
case ${1:-} in -h | --help) usage; exit 0 ;; esac
[ $# -le 1 ] || { echo "local-up.sh: one env at a time, got $#: $*" >&2; die_usage; }
env=${1:-dev}
case $env in -*) echo "local-up.sh: unknown flag '$env' (the env is the only argument)" >&2; die_usage ;; esac
[ -f "envs/$env/main.tf" ] || { echo "local-up.sh: unknown env '$env'" >&2; die_usage; }

export LOCAL_AWS_ENDPOINT=${LOCAL_AWS_ENDPOINT:-http://127.0.0.1:4566}
endpoint=$LOCAL_AWS_ENDPOINT
case $endpoint in
  http://*) addr=${endpoint#http://} ;;
  *) echo "local-up.sh: LOCAL_AWS_ENDPOINT=$endpoint: want http://host:port" >&2; exit 2 ;;
esac
# The local services' region (local-aws serve's default, the env roots' region).
export AWS_REGION=${AWS_REGION:-ap-northeast-1}
# The local stack takes any credentials; never let an SDK look further
# (the EC2 metadata service is not a loopback address).
export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_SESSION_TOKEN= AWS_PROFILE= AWS_EC2_METADATA_DISABLED=true
mkdir -p .local
bin=.local/bin/local-aws
pidfile=.local/local-aws.pid

host=$(go env GOHOSTARCH)
serve_args=()
case ${LOCAL_ARCH:-} in
  "" | "$host") ;;
  arm64)
    scripts/tools.sh qemu-aarch64
    serve_args=(--emulator qemu-aarch64) ;;
  *) echo "local-up.sh: LOCAL_ARCH=$LOCAL_ARCH: want arm64 (the artifact Lambda runs) or empty (a build for this machine)" >&2; exit 2 ;;
esac
scripts/tools.sh aws-lambda-rie
echo "local-up.sh: building the local stack into $bin"
go build -o "$bin" ./local/cmd/local-aws
# The pointer is read as strictly as everywhere else, by the artifact tool.
go build -o .local/bin/artifact ./cmd/artifact

source scripts/lib/local-aws-pid.sh
if pid=$(local_aws_pid) && "$bin" wait --endpoint "$endpoint" --timeout 1s 2>/dev/null; then
  echo "local-up.sh: the local stack is already running on $endpoint (pid $pid)"
else
  # The artifact bucket is the account-level root's (global/); create it as
  # that root would.
  bucket=$(.local/bin/artifact bucket "$env")
  echo "local-up.sh: starting the local stack on $endpoint (data in .local/data, log in .local/local-aws.log)"
  nohup "$bin" serve --addr "$addr" --region "$AWS_REGION" --data-dir .local/data --bucket "$bucket" ${serve_args[@]+"${serve_args[@]}"} >.local/local-aws.log 2>&1 &
  pid=$!
  echo "$pid" >"$pidfile"
  if ! "$bin" wait --endpoint "$endpoint" --timeout 10s --pid "$pid"; then
    echo "local-up.sh: the local stack did not start; its log:" >&2
    cat .local/local-aws.log >&2
    rm -f "$pidfile"
    exit 1
  fi
  cat .local/local-aws.log
fi

if [ "${LOCAL_ARCH:-$host}" = "$host" ]; then
  # Lambda runs the arm64 build the pointer names; the local stack runs the
  # same source built for this machine, uploaded to the same env prefix.
  echo "local-up.sh: building the function for this machine (linux/$host) into .local/dist"
  scripts/build.sh --arch "$host" --out .local/dist
  scripts/upload.sh "$env" --zip .local/dist/function.zip --endpoint-url "$endpoint"
  "$bin" deploy --env "$env" --endpoint "$endpoint" --zip .local/dist/function.zip --outputs .local/outputs.json
  exit 0
fi
# The exact bytes the pointer names: the reproducible build gives them back
# offline, and the pointer's SHA-256 proves it before they are uploaded.
echo "local-up.sh: building the artifact Lambda runs (linux/arm64) into .local/dist-arm64"
scripts/build.sh --arch arm64 --out .local/dist-arm64
if ! .local/bin/artifact check-pointer "$env" --zip .local/dist-arm64/function.zip; then
  echo "local-up.sh: the arm64 mode runs only the bytes envs/$env/artifact.auto.tfvars.json names (dev: scripts/set-pointer.sh dev; stg/prod: check out the commit that built them)" >&2
  exit 1
fi
echo "local-up.sh: the build is the pointer's artifact"
scripts/upload.sh "$env" --zip .local/dist-arm64/function.zip --endpoint-url "$endpoint"
"$bin" deploy --env "$env" --endpoint "$endpoint" --outputs .local/outputs.json
