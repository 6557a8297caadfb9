#!/usr/bin/env bash
# Checks the GitOps wiring offline: actionlint (pinned, from .tools/bin) over
# .github/workflows, then the Go tests that parse atlantis.yaml and
# atlantis/repos.yaml with Atlantis's own parser and hold the workflows to
# this repository's rules (actions pinned to commit SHAs, id-token only where
# AWS is reached, steps that call scripts/).
set -euo pipefail

usage() { echo "usage: scripts/check-workflows.sh (no arguments)"; }
case ${1:-} in -h | --help) usage; exit 0 ;; esac
[ $# -eq 0 ] || { usage >&2; exit 2; }
cd "$(dirname "$0")/.."

scripts/tools.sh actionlint
flags=()
if command -v shellcheck >/dev/null; then
  echo "check-workflows.sh: actionlint with shellcheck $(shellcheck --version | sed -n 's/^version: //p') on run: steps" >&2
else
  # actionlint skips its shellcheck rule when the binary is missing; say so.
  echo "check-workflows.sh: shellcheck is not installed, so run: steps are not shellchecked (they only call scripts/)" >&2
  flags+=(-shellcheck=)
fi
echo "check-workflows.sh: actionlint .github/workflows/*.yml" >&2
.tools/bin/actionlint "${flags[@]}" -pyflakes= .github/workflows/*.yml

# actionlint knows the inputs of popular actions by tag (actions/checkout@v5),
# not by commit SHA, so a misspelled `with:` key of a pinned action passes the
# run above. Lint a copy where each pin is replaced by the major tag of its
# version comment; line numbers stay the same.
view=$(mktemp -d)
trap 'rm -rf "$view"' EXIT
mkdir -p "$view/.github/workflows"
git -C "$view" init -q
for f in .github/workflows/*.yml; do
  sed -E 's/@[0-9a-f]{40}( +)# *(v[0-9]+)[.0-9]*/@\2\1# \2/' "$f" >"$view/$f"
done
echo "check-workflows.sh: actionlint on the tags of the pinned actions (inputs of each action)" >&2
(cd "$view" && "$OLDPWD/.tools/bin/actionlint" "${flags[@]}" -pyflakes= .github/workflows/*.yml)

echo "check-workflows.sh: go test ./internal/gitops" >&2
go test -count=1 ./internal/gitops
