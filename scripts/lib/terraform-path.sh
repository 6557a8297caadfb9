# Sourced by the scripts that read an env's Terraform outputs on AWS.
#
# terraform_path exports TERRAFORM_PATH, unless it is set already: Atlantis
# runs a project's Terraform as terraform<version> (on the run step's PATH,
# or in its data dir's bin/); elsewhere the pinned .tools/bin/terraform,
# else terraform on PATH, if it is a version the roots accept. It fails,
# saying so, when there is none.
terraform_path() {
  if [ -z "${TERRAFORM_PATH:-}" ]; then
    local version=${ATLANTIS_TERRAFORM_VERSION:-}
    if [ -n "$version" ] && command -v "terraform$version" >/dev/null; then
      TERRAFORM_PATH=$(command -v "terraform$version")
    elif [ -n "$version" ] && [ -x "${ATLANTIS_DATA_DIR:-}/bin/terraform$version" ]; then
      TERRAFORM_PATH=$ATLANTIS_DATA_DIR/bin/terraform$version
    elif [ -x .tools/bin/terraform ]; then
      TERRAFORM_PATH=$PWD/.tools/bin/terraform
    elif command -v terraform >/dev/null; then
      TERRAFORM_PATH=$(command -v terraform)
      # The roots require ~> 1.5.7 (envs/*/versions.tf). Another version
      # would start init, write .terraform and stop at a long constraint
      # error, so it is refused here with the fix. CHECKPOINT_DISABLE: no
      # update check goes out for this.
      local found
      found=$(CHECKPOINT_DISABLE=1 "$TERRAFORM_PATH" version 2>/dev/null | sed -n '1s/^Terraform v//p')
      if ! [[ $found =~ ^1\.5\.([7-9]|[1-9][0-9]+)$ ]]; then
        echo "$1: $TERRAFORM_PATH is Terraform ${found:-of an unknown version}, but the roots require ~> 1.5.7: run scripts/tools.sh terraform (it builds the pinned 1.5.7 into .tools/bin, which is used first), or set TERRAFORM_PATH" >&2
        return 1
      fi
    else
      echo "$1: no terraform binary: set TERRAFORM_PATH or run scripts/tools.sh terraform" >&2
      return 1
    fi
  fi
  export TERRAFORM_PATH
}
