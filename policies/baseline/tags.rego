# Package terraform.tags: every resource that takes tags carries the ones
# cost reports, ownership and drift issues rely on: project, managed_by and
# repository, and in an env root environment. The roots' provider blocks
# set them as default_tags, which the AWS provider plans into tags_all.
package terraform.tags

import data.lib.tfplan

required := {"project", "managed_by", "repository"} | env_tags

env_tags := {"environment"} if tfplan.environment

env_tags := set() if not tfplan.environment

deny contains msg if {
	some rc in tfplan.resources
	tfplan.taggable(rc)
	missing := required - tfplan.tag_keys(rc)
	count(missing) > 0
	msg := sprintf("%s: missing the tags %v; set them in the root's provider default_tags (as envs/*/main.tf and global/main.tf do) or in the resource's tags", [rc.address, sort(missing)])
}
