#!/usr/bin/env bash
# Opens the promotion pull request <from> → <to>: points
# envs/<to>/artifact.auto.tfvars.json at the <from> artifact's content
# address in the <to> prefix (offline; scripts/promote.sh copies the object),
# commits only that file on branch promote/<to>-<hash>, pushes it and opens a
# pull request with gh. In CI GH_TOKEN and the push use a GitHub App's
# installation token (promote-pair.yml), so the pull request starts its
# checks like any other; one opened with a workflow's GITHUB_TOKEN would
# start none. Idempotent: a branch without a pull request (an earlier run
# stopped after the push) gets it; an open or closed one is left alone.
# Needs GH_TOKEN (or gh auth) and an origin.
set -euo pipefail

usage() {
  echo "usage: scripts/open-promotion-pr.sh <from-env> <to-env>   e.g. scripts/open-promotion-pr.sh dev stg" >&2
  exit 2
}
[ $# -eq 2 ] || usage
case $1 in -* | '') usage ;; esac
case $2 in -* | '') usage ;; esac
from=$1 to=$2
base=${BASE_BRANCH:-main}

cd "$(dirname "$0")/.."
path=envs/$to/artifact.auto.tfvars.json
if [ -n "$(git status --porcelain)" ]; then
  echo "open-promotion-pr.sh: the working tree has changes; run from a clean checkout of $base" >&2
  git status --short >&2
  exit 1
fi

go build -o .tools/bin/artifact ./cmd/artifact
.tools/bin/artifact set-pointer "$to" --from "$from"
if git diff --quiet -- "$path"; then
  echo "open-promotion-pr.sh: $path already names the $from artifact; no pull request needed" >&2
  exit 0
fi
changed=$(git status --porcelain | sed 's/^...//')
if [ "$changed" != "$path" ]; then
  echo "open-promotion-pr.sh: expected only $path to change, got:" >&2
  echo "$changed" >&2
  exit 1
fi

hex=$(sed -n "s|.*\"key\": *\"$to/\\([0-9a-f]\\{64\\}\\)\\.zip\".*|\\1|p" "$path")
[ -n "$hex" ] || { echo "open-promotion-pr.sh: no content-addressed key in $path" >&2; exit 1; }
branch=promote/$to-${hex:0:12}
if git ls-remote --exit-code --heads origin "$branch" >/dev/null; then
  git checkout -q -- "$path"
  # The branch alone does not mean the pull request exists: a run that
  # pushed it may have stopped before gh opened it.
  prs=$(gh pr list --head "$branch" --base "$base" --state all --json state,url --jq '.[] | .state + " " + .url')
  if [ -n "$prs" ]; then
    echo "open-promotion-pr.sh: $branch already has a pull request: $prs" >&2
    if ! grep -q '^OPEN ' <<<"$prs"; then
      echo "  (a closed one stays closed: reopen it, or delete the branch on origin and run this again)" >&2
    fi
    exit 0
  fi
  echo "open-promotion-pr.sh: branch $branch is on origin without a pull request (an earlier run stopped after pushing it)" >&2
else
  if [ -z "$(git config user.email || true)" ]; then
    [ "${GITHUB_ACTIONS:-}" = true ] ||
      { echo "open-promotion-pr.sh: set git user.name and user.email first" >&2; exit 1; }
    # The App that pushes (APP_SLUG, from create-github-app-token) authors.
    bot="${APP_SLUG:-github-actions}[bot]"
    git config user.name "$bot"
    git config user.email "$bot@users.noreply.github.com"
  fi

  echo "open-promotion-pr.sh: committing $path on $branch" >&2
  git switch -q -c "$branch"
  git commit -q -m "Promote $from → $to: artifact ${hex:0:12}" -- "$path"
  git push -q origin "$branch"
fi

title="Promote $from → $to: artifact ${hex:0:12}"
body="Points \`$path\` at the artifact promoted from $from (\`$to/$hex.zip\`, copied and verified by scripts/promote.sh).

Only this file changes. Read the Atlantis plan, then comment \`atlantis apply -p $to\`; the apply runs the smoke tests for $to. Merging promotes $to to the next env."
echo "open-promotion-pr.sh: opening the pull request $branch → $base" >&2
gh pr create --base "$base" --head "$branch" --title "$title" --body "$body"
