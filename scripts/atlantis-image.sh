#!/usr/bin/env bash
# Builds the Atlantis server image (atlantis/Dockerfile; docs/runbook.md,
# Guardrails) from the repository root and, with --push, pushes it to the
# GitHub container registry as <image>:sha-<commit> and <image>:main and
# prints the pushed digest, which is what a deployment should name.
# .github/workflows/atlantis-image.yml runs it with --push on main.
#
# Usage: scripts/atlantis-image.sh [--push]
# Env:   ATLANTIS_IMAGE  the image name (default ghcr.io/<GITHUB_REPOSITORY>-atlantis,
#                        or request-dump-atlantis outside GitHub Actions)
#        DOCKER          the docker CLI (default docker); BuildKit reads
#                        atlantis/Dockerfile.dockerignore for the context
#        GH_TOKEN, GITHUB_ACTOR  with --push: the registry login
# Exit:  0 built (and pushed), 1 the build or push failed, 2 usage error or
#        no docker.
set -euo pipefail

usage() { echo "usage: scripts/atlantis-image.sh [--push]"; }
die_usage() { usage >&2; exit 2; }
case ${1:-} in -h | --help) usage; exit 0 ;; esac
push=false
for arg in "$@"; do
  case $arg in
    --push) push=true ;;
    *) echo "atlantis-image.sh: unknown argument '$arg'" >&2; die_usage ;;
  esac
done
cd "$(dirname "$0")/.."

docker=${DOCKER:-docker}
command -v "$docker" >/dev/null || { echo "atlantis-image.sh: '$docker' not found: install Docker (with BuildKit) or set DOCKER" >&2; exit 2; }
image=${ATLANTIS_IMAGE:-}
if [ -z "$image" ]; then
  image=request-dump-atlantis
  [ -z "${GITHUB_REPOSITORY:-}" ] || image=ghcr.io/$GITHUB_REPOSITORY-atlantis
fi
# Registry names are lower case; GitHub repository names need not be.
image=$(tr '[:upper:]' '[:lower:]' <<<"$image")
commit=$(git rev-parse --short=12 HEAD)

echo "atlantis-image.sh: building $image:sha-$commit from atlantis/Dockerfile" >&2
DOCKER_BUILDKIT=1 "$docker" build --file atlantis/Dockerfile --tag "$image:sha-$commit" --tag "$image:main" \
  --label "org.opencontainers.image.revision=$(git rev-parse HEAD)" .
$push || exit 0

[[ $image == */* ]] || { echo "atlantis-image.sh: --push needs a registry in the image name (ATLANTIS_IMAGE=ghcr.io/<owner>/<name>), got '$image'" >&2; exit 2; }

if [ -n "${GH_TOKEN:-}" ]; then
  [ -n "${GITHUB_ACTOR:-}" ] || { echo "atlantis-image.sh: GH_TOKEN is set but GITHUB_ACTOR is not: the registry login needs both" >&2; exit 2; }
  printf '%s' "$GH_TOKEN" | "$docker" login "${image%%/*}" --username "$GITHUB_ACTOR" --password-stdin
fi
for tag in "sha-$commit" main; do
  echo "atlantis-image.sh: pushing $image:$tag" >&2
  "$docker" push "$image:$tag"
done
echo "atlantis-image.sh: pushed $("$docker" inspect --format '{{index .RepoDigests 0}}' "$image:sha-$commit")"
