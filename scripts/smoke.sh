#!/usr/bin/env bash
# Smoke-tests a deployed env (smoke/README.md): posts an event through its
# API, finds the function's dump in CloudWatch Logs, checks it against the
# env's dump settings, and checks that a bad body and an unknown route are
# rejected without a dump. Prints a short report; the exit status is the
# verdict. Atlantis runs `scripts/smoke.sh <env>` after every apply.
#
# Usage: scripts/smoke.sh <env> [--local]
#   <env>     an env root under envs/ (dev, stg, prod)
#   --local   the env on the local stack (make local-up ENV=<env>), from
#             .local/outputs.json; only loopback addresses are contacted
#   without --local: the env on AWS, from `terraform output -json` of
#             envs/<env> (initialised first if needed), with the AWS
#             credentials of the environment
# Env:   SMOKE_TIMEOUT    how long a dump may take to become visible
#                         (Go duration; default 5s local, 2m on AWS)
#        SMOKE_OUTPUTS    with --local: the outputs file (default .local/outputs.json)
#        TERRAFORM_PATH   the terraform binary (default: Atlantis's for the
#                         project, terraform$ATLANTIS_TERRAFORM_VERSION; else
#                         .tools/bin/terraform; else terraform on PATH if it
#                         is ~> 1.5.7, as the roots require)
# Exit:  0 every check passed, 1 a check failed (or the target could not be
#        read), 2 usage error or missing prerequisite.
set -euo pipefail

cd "$(dirname "$0")/.."
source scripts/lib/duration.sh
envs=$(for f in envs/*/main.tf; do basename "$(dirname "$f")"; done | tr '\n' ' ')
usage() {
  echo "usage: scripts/smoke.sh <env> [--local]   (env: one of ${envs% })"
  echo "       --local  smoke-test the env on the local stack (make local-up ENV=<env>) instead of AWS"
}
die_usage() { usage >&2; exit 2; }

[ $# -ge 1 ] || { echo "smoke.sh: missing env" >&2; die_usage; }
env=$1
shift
case $env in
  -h | --help) usage; exit 0 ;;
  -*) echo "smoke.sh: the env comes first, then options (got '$env')" >&2; die_usage ;;
esac
if ! [[ $env =~ ^[a-z0-9][a-z0-9_-]*$ ]] || [ ! -f "envs/$env/main.tf" ]; then
  echo "smoke.sh: unknown env '$env'" >&2
  die_usage
fi
target=aws
for arg in "$@"; do
  case $arg in
    --local) target=local ;;
    *) echo "smoke.sh: unknown argument '$arg'" >&2; die_usage ;;
  esac
done

if [ -n "${SMOKE_TIMEOUT:-}" ] && ! positive_duration "$SMOKE_TIMEOUT"; then
  echo "smoke.sh: SMOKE_TIMEOUT='$SMOKE_TIMEOUT' is not a positive Go duration (want e.g. 10s or 3m)" >&2
  exit 2
fi

export SMOKE_ENV=$env SMOKE_TARGET=$target
if [ "$target" = local ]; then
  outputs=${SMOKE_OUTPUTS:-.local/outputs.json}
  if [ ! -f "$outputs" ]; then
    echo "smoke.sh: $outputs not found: start the local stack first with make local-up ENV=$env (scripts/local-up.sh $env)" >&2
    exit 2
  fi
  SMOKE_OUTPUTS=$(cd "$(dirname "$outputs")" && pwd)/$(basename "$outputs")
  export SMOKE_OUTPUTS
  # The local stack takes any credentials; never let an SDK look further
  # (the EC2 metadata service is not a loopback address).
  export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_SESSION_TOKEN= AWS_PROFILE= AWS_EC2_METADATA_DISABLED=true
  echo "smoke.sh: smoke-testing $env on the local stack ($SMOKE_OUTPUTS)"
else
  unset SMOKE_OUTPUTS
  source scripts/lib/terraform-path.sh
  terraform_path smoke.sh || exit 2
  echo "smoke.sh: smoke-testing $env on AWS (outputs of envs/$env via $TERRAFORM_PATH)"
fi

# The suite is a Go test behind the smoke build tag, so that a plain
# `go test ./...` never reaches for a deployment. It is built into the
# git-ignored .local/bin: an unchanged binary is not linked again (linking
# was most of make demo's smoke step).
mkdir -p .local/bin
go test -c -tags smoke -o .local/bin/smoke.test ./smoke
status=0
.local/bin/smoke.test -test.run '^TestSmoke$' -test.count=1 || status=1
exit "$status"
