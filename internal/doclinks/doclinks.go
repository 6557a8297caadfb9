// Package doclinks finds the relative links of the repository's Markdown
// files that lead nowhere: a file or directory that does not exist, or a
// #fragment that names no heading of the Markdown file it points into.
package doclinks

import (
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/text"
)

// markdown parses as GitHub renders (tables, autolinks), so that a link in
// a table cell or a code span is read as GitHub reads it.
var markdown = goldmark.New(goldmark.WithExtensions(extension.GFM))

// Broken returns one line per broken relative link in the Markdown files
// under root, "<file>:<link>: <why>", with file relative to root. It skips
// directories whose names start with '.' (git's, the pinned tools' module
// sources, the local stack's state) and dist/, none of which is
// documentation.
func Broken(root string) ([]string, error) {
	c := checker{root: root, anchors: map[string][]string{}}
	var broken []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (strings.HasPrefix(d.Name(), ".") || path == filepath.Join(root, "dist")) {
				return filepath.SkipDir
			}
			return nil
		}
		if filepath.Ext(path) != ".md" {
			return nil
		}
		found, err := c.check(path)
		broken = append(broken, found...)
		return err
	})
	return broken, err
}

// checker resolves links under root; anchors keeps each linked Markdown
// file's heading anchors, so that a file many links point into is read and
// parsed once.
type checker struct {
	root    string
	anchors map[string][]string
}

// check returns the broken relative links of one Markdown file.
func (c checker) check(path string) ([]string, error) {
	source, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	rel, err := filepath.Rel(c.root, path)
	if err != nil {
		return nil, err
	}
	var broken []string
	for _, dest := range links(source) {
		if why := c.resolve(path, dest); why != "" {
			broken = append(broken, fmt.Sprintf("%s:%s: %s", filepath.ToSlash(rel), dest, why))
		}
	}
	return broken, nil
}

// links returns the destinations of the document's links and images.
func links(source []byte) []string {
	var dests []string
	doc := markdown.Parser().Parse(text.NewReader(source))
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Link:
			dests = append(dests, string(n.Destination))
		case *ast.Image:
			dests = append(dests, string(n.Destination))
		}
		return ast.WalkContinue, nil
	})
	return dests
}

// resolve says why dest, a link in the file at path, leads nowhere, or ""
// if it leads somewhere or is not relative (a URL with a scheme or a host).
func (c checker) resolve(path, dest string) string {
	u, err := url.Parse(dest)
	if err != nil {
		return fmt.Sprintf("not a URL (%v)", err)
	}
	if u.Scheme != "" || u.Host != "" {
		return ""
	}
	target := path
	if u.Path != "" {
		// GitHub reads a leading '/' from the repository's root.
		if strings.HasPrefix(u.Path, "/") {
			target = filepath.Join(c.root, filepath.FromSlash(u.Path))
		} else {
			target = filepath.Join(filepath.Dir(path), filepath.FromSlash(u.Path))
		}
	}
	if _, err := os.Stat(target); err != nil {
		return "no such file or directory"
	}
	if u.Fragment == "" || filepath.Ext(target) != ".md" {
		return ""
	}
	known, ok := c.anchors[target]
	if !ok {
		source, err := os.ReadFile(target)
		if err != nil {
			return err.Error()
		}
		known = anchors(source)
		c.anchors[target] = known
	}
	for _, a := range known {
		if a == u.Fragment {
			return ""
		}
	}
	return fmt.Sprintf("no heading of %s has the anchor #%s", filepath.Base(target), u.Fragment)
}

// anchors returns the anchors GitHub gives the document's headings, in
// order: each heading's Slug, with "-1", "-2", ... added to repeats.
func anchors(source []byte) []string {
	var out []string
	seen := map[string]int{}
	doc := markdown.Parser().Parse(text.NewReader(source))
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		h, ok := n.(*ast.Heading)
		if !entering || !ok {
			return ast.WalkContinue, nil
		}
		slug := Slug(string(h.Text(source)))
		if k := seen[slug]; k > 0 {
			out = append(out, fmt.Sprintf("%s-%d", slug, k))
		} else {
			out = append(out, slug)
		}
		seen[slug]++
		return ast.WalkSkipChildren, nil
	})
	return out
}

// Slug is the anchor GitHub gives a heading with this text: lower case,
// letters, digits, '-' and '_' kept, each space a '-', everything else
// dropped. Written here because goldmark's own heading ids keep ASCII
// letters only and turn '_' into '-', so they differ from GitHub's, which
// is what readers follow.
func Slug(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}
