// Package docs checks the repository's documentation for references that
// lead nowhere: a Markdown link to a file that is not there, or a
// document named (STYLE.md, CLIENTS.md, …) in a comment or a page that the
// repository does not hold; and the checklist of docs/openvms.md against
// hp-system.md §10 and the tests it names (checklist_test.go).
package docs

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// root is the repository, two levels up from this package.
const root = "../.."

var (
	mdLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	mdName = regexp.MustCompile(`[A-Za-z0-9_-]+\.md\b`)
)

// files returns the repository's Markdown and Go files and scripts, by
// path relative to root.
func files(t *testing.T) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != root && (strings.HasPrefix(d.Name(), ".") && d.Name() != ".ci" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if !d.IsDir() && (strings.HasSuffix(p, ".md") || strings.HasSuffix(p, ".go") || strings.HasSuffix(p, ".sh") ||
			strings.HasPrefix(p, filepath.Join(root, ".ci")) || strings.HasPrefix(p, filepath.Join(root, "contrib"))) {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestMarkdownLinks: every relative link of a Markdown page names a file
// or directory that exists.
func TestMarkdownLinks(t *testing.T) {
	n := 0
	for _, p := range files(t) {
		if !strings.HasSuffix(p, ".md") {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range mdLink.FindAllStringSubmatch(string(b), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "#") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			target, _, _ = strings.Cut(target, "#")
			n++
			if _, err := os.Stat(filepath.Join(filepath.Dir(p), target)); err != nil {
				t.Errorf("%s: link to %s, which does not exist", rel(p), m[1])
			}
		}
	}
	if n < 10 {
		t.Fatalf("only %d relative links found; is the walk broken?", n)
	}
}

// TestNamedDocuments: every Markdown document named anywhere (in a page,
// a script, a Go comment) is a document of the repository.
func TestNamedDocuments(t *testing.T) {
	have := map[string]bool{}
	all := files(t)
	for _, p := range all {
		if strings.HasSuffix(p, ".md") {
			have[filepath.Base(p)] = true
		}
	}
	for _, want := range []string{"README.md", "STYLE.md", "CLIENTS.md", "hp-system.md", "configuration.md"} {
		if !have[want] {
			t.Errorf("%s is not in the repository", want)
		}
	}
	for _, p := range all {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			if strings.HasSuffix(p, ".go") {
				_, comment, ok := strings.Cut(line, "//")
				if !ok {
					continue // code: a selector ending in .md is a field, not a document
				}
				line = comment
			}
			for _, name := range mdName.FindAllString(line, -1) {
				if !have[name] {
					t.Errorf("%s:%d: names %s, which the repository does not hold", rel(p), i+1, name)
				}
			}
		}
	}
}

func rel(p string) string {
	r, err := filepath.Rel(root, p)
	if err != nil {
		return p
	}
	return r
}
