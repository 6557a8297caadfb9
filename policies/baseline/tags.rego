# Package terraform.tags: every resource that takes tags carries the ones
# cost reports, ownership and drift issues rely on: project, managed_by and
# repository, and in an env root (a root that calls the service module) environment. The roots' provider blocks
# set them as default_tags, which the AWS provider plans into tags_all.
package terraform.tags

import data.lib.tfplan

required := {"project", "managed_by", "repository"} | env_tags

# An env root carries the environment tag whether or not its plan shows
# which env it deploys.
env_tags := {"environment"} if tfplan.env_root

env_tags := set() if not tfplan.env_root

deny contains msg if {
	some rc in tfplan.resources
	tfplan.taggable(rc)
	missing := required - tfplan.tag_keys(rc)
	count(missing) > 0
	msg := sprintf("%s: missing the tags %v; set them in the root's provider default_tags (as envs/*/main.tf and global/main.tf do) or in the resource's tags", [rc.address, sort(missing)])
}
