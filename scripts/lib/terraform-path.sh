# Sourced by the scripts that read an env's Terraform outputs on AWS.
#
# terraform_path exports TERRAFORM_PATH, unless it is set already: Atlantis
# runs a project's Terraform as terraform<version> (on the run step's PATH,
# or in its data dir's bin/); elsewhere the pinned .tools/bin/terraform,
# else terraform on PATH. It fails, saying so, when there is none.
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
    else
      echo "$1: no terraform binary: set TERRAFORM_PATH or run scripts/tools.sh terraform" >&2
      return 1
    fi
  fi
  export TERRAFORM_PATH
}
