package doclinks

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/request-dump/internal/repo"
)

// TestRepositoryLinks: every relative link in the repository's Markdown
// leads to a file or directory that exists, and every #fragment into a
// Markdown file to one of its headings.
func TestRepositoryLinks(t *testing.T) {
	root, err := repo.Root()
	require.NoError(t, err)
	broken, err := Broken(root)
	require.NoError(t, err)
	assert.Empty(t, broken, "fix the link, or the heading it points at")
}

func TestBroken(t *testing.T) {
	for _, tc := range []struct {
		name string
		doc  string
		want []string
	}{
		{name: "file and directory", doc: "[a](other.md) [b](sub) [c](sub/x.txt) ![d](sub/x.txt)"},
		{name: "from the root", doc: "[a](/sub/x.txt)"},
		{name: "missing file", doc: "see [the runbook](docs/runbook.md)", want: []string{"doc.md:docs/runbook.md: no such file or directory"}},
		{name: "missing image", doc: "![x](sub/none.png)", want: []string{"doc.md:sub/none.png: no such file or directory"}},
		{name: "up and out", doc: "[a](../other.md)", want: []string{"doc.md:../other.md: no such file or directory"}},
		{name: "anchors", doc: "[a](other.md#3-apply-and-roll-out) [b](other.md#what-is-not-emulated) [c](#own-heading) [d](other.md#the-step_name-rule) [e](other.md#watch-it-1)"},
		{name: "missing anchor", doc: "[a](other.md#3-apply)", want: []string{"doc.md:other.md#3-apply: no heading of other.md has the anchor #3-apply"}},
		{name: "missing own anchor", doc: "[a](#nowhere)", want: []string{"doc.md:#nowhere: no heading of doc.md has the anchor #nowhere"}},
		{name: "fragment of a non-Markdown file", doc: "[a](sub/x.txt#L3)"},
		{name: "URLs", doc: "[a](https://example.com/none.md) <https://example.com> [b](mailto:a@example.com)"},
		{name: "code is not a link", doc: "`[a](none.md)`\n\n```\n[b](none.md)\n```\n"},
		{name: "in a table", doc: "| a | b |\n| --- | --- |\n| [x](none.md) | y |\n", want: []string{"doc.md:none.md: no such file or directory"}},
		{name: "reference link", doc: "[a][ref]\n\n[ref]: none.md\n", want: []string{"doc.md:none.md: no such file or directory"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			write(t, root, "other.md", "# Other\n\n## 3. Apply and roll out\n\n## What *is* not emulated\n\n## The `step_name` rule\n\n### Watch it\n\n### Watch it\n")
			write(t, root, "sub/x.txt", "x")
			write(t, root, ".tools/mod/README.md", "[not ours](none.md)")
			write(t, root, "doc.md", "# Own heading\n\n"+tc.doc+"\n")
			broken, err := Broken(root)
			require.NoError(t, err)
			assert.Equal(t, tc.want, broken)
		})
	}
}

func TestSlug(t *testing.T) {
	for _, tc := range []struct{ heading, want string }{
		{"3. Apply and roll out", "3-apply-and-roll-out"},
		{"Connections closed under a large response (found and fixed)", "connections-closed-under-a-large-response-found-and-fixed"},
		{"dev: open", "dev-open"},
		{"stg and prod: an API key", "stg-and-prod-an-api-key"},
		{"The step_name rule", "the-step_name-rule"},
		{"Versions, aliases and the rollout", "versions-aliases-and-the-rollout"},
		{"Zürich → Tokyo", "zürich--tokyo"},
	} {
		assert.Equal(t, tc.want, Slug(tc.heading), tc.heading)
	}
}

func write(t *testing.T, root, rel, content string) {
	t.Helper()
	path := filepath.Join(root, filepath.FromSlash(rel))
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
}
