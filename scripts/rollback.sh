#!/usr/bin/env bash
# Points env <env> (stg or prod; dev follows the code, so revert the code
# change instead) back at the artifact it ran at git revision <rev>: checks
# that the object envs/<env>/artifact.auto.tfvars.json named at that
# revision is still in S3 with those bytes, then restores the file. On any
# failure, or when interrupted, the pointer is left as it was. Commit the file and open a pull request; Atlantis plans
# the rollback like any other change.
set -euo pipefail

usage() { echo "usage: scripts/rollback.sh <env> <git-rev> [--endpoint-url URL] [--region REGION]   e.g. scripts/rollback.sh prod HEAD~1"; }
die_usage() { usage >&2; exit 2; }
case ${1:-} in -h | --help) usage; exit 0 ;; esac
[ $# -ge 2 ] || die_usage
case $1 in -* | '') die_usage ;; esac
case $2 in -* | '') die_usage ;; esac
env=$1 rev=$2
shift 2

cd "$(dirname "$0")/.."
path=envs/$env/artifact.auto.tfvars.json
# The name is checked before it is used in a path: envs/.. is a directory.
if ! [[ $env =~ ^[a-z0-9][a-z0-9_-]*$ ]] || [ ! -d "envs/$env" ]; then
  echo "rollback.sh: unknown env '$env': there is no envs/$env directory" >&2
  exit 2
fi
# CI requires dev's pointer to name the zip the commit builds
# (scripts/check-pointer.sh dev), so an older dev pointer could never merge.
if [ "$env" = dev ]; then
  echo "rollback.sh: dev runs the zip its commit builds, so roll dev back by reverting the code change (git revert <commit>) and pointing dev at that build (docs/runbook.md, section 5, Roll back)" >&2
  exit 2
fi
git rev-parse --verify --quiet "$rev^{commit}" >/dev/null ||
  { echo "rollback.sh: '$rev' is not a git revision here (try a commit hash, a tag or HEAD~1)" >&2; exit 1; }
git cat-file -e "$rev:$path" 2>/dev/null ||
  { echo "rollback.sh: $path does not exist at $rev" >&2; exit 1; }

# The earlier pointer is checked where it is, outside envs/; only once the
# object it names is verified does `artifact restore` write it, in one
# rename. A failed build, a failed check or an interruption (Ctrl-C, a
# cancelled job) before that leaves the pointer as it was.
earlier=$(mktemp)
trap 'rm -f "$earlier"' EXIT
git show "$rev:$path" >"$earlier"
if cmp -s "$earlier" "$path"; then
  echo "rollback.sh: $path already names the artifact it named at $rev; nothing to do" >&2
  exit 0
fi
echo "rollback.sh: checking the artifact $path named at $rev" >&2
if ! go build -o .local/bin/artifact ./cmd/artifact || ! .local/bin/artifact restore "$env" "$earlier" "$@"; then
  echo "rollback.sh: the artifact at $rev cannot be deployed; $path is unchanged" >&2
  exit 1
fi
echo "rollback.sh: done; commit $path and open a pull request (docs/runbook.md, section 5, Roll back)" >&2
