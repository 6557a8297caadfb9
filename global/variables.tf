# The global root takes no variables: every setting is a literal in main.tf,
# reviewed in the pull request that changes it.
