package docs

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// openChecklistItems are the items of hp-system.md §10 that are not yet
// done, with the issue that owns each. They must not appear in the
// checklist table of docs/openvms.md; when one is done, its row goes into
// the table and its line comes out of this list. Keep it as short as the
// truth allows.
var openChecklistItems = map[string]string{}

var (
	// specItem matches a checklist line of hp-system.md §10:
	// "- [ ] **A1** [M] …".
	specItem = regexp.MustCompile(`^- \[[ x]\] \*\*([A-K][0-9]+)\*\*`)
	// tableRow matches a row of the checklist table: | A1 | DONE | … |.
	tableRow = regexp.MustCompile(`^\| *([A-K][0-9]+) *\| *([^|]*?) *\| *(.*?) *\|$`)
	// testRef matches one test of a row's Test cell: `TestName`, optionally
	// followed by the file that holds it (a _test.go file, or a transcript
	// under a package's testdata/).
	testRef = regexp.MustCompile("`((?:Test|Fuzz)[A-Za-z0-9_]+)`(?: \\(`([^`]+)`\\))?")
)

// specItems returns the item names of hp-system.md §10, in order.
func specItems(t *testing.T) []string {
	t.Helper()
	f, err := os.Open(filepath.Join(root, "docs", "hp-system.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var items []string
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "## ") {
			in = strings.HasPrefix(line, "## 10.")
			continue
		}
		if m := specItem.FindStringSubmatch(line); in && m != nil {
			items = append(items, m[1])
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(items) < 60 {
		t.Fatalf("found only %d items in hp-system.md §10; has its format changed?", len(items))
	}
	return items
}

type checklistRow struct {
	line   int
	status string
	cell   string
}

// checklistTable returns the rows of the checklist table of openvms.md
// (its section "The checklist"), by item.
func checklistTable(t *testing.T) map[string]checklistRow {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "docs", "openvms.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]checklistRow{}
	in := false
	for i, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "## ") {
			in = strings.Contains(line, "The checklist")
			continue
		}
		m := tableRow.FindStringSubmatch(line)
		if !in || m == nil {
			continue
		}
		if _, dup := rows[m[1]]; dup {
			t.Errorf("openvms.md:%d: item %s listed twice", i+1, m[1])
		}
		rows[m[1]] = checklistRow{line: i + 1, status: m[2], cell: m[3]}
	}
	if len(rows) == 0 {
		t.Fatal("openvms.md has no checklist table (section \"The checklist\", rows | Item | Status | Test |)")
	}
	return rows
}

// testFuncs maps each test and fuzz function of the repository to the
// _test.go files that declare it (paths relative to root, slash-separated).
func testFuncs(t *testing.T) map[string][]string {
	t.Helper()
	decl := regexp.MustCompile(`(?m)^func ((?:Test|Fuzz)[A-Za-z0-9_]+)\(`)
	out := map[string][]string{}
	for _, p := range files(t) {
		if !strings.HasSuffix(p, "_test.go") {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range decl.FindAllStringSubmatch(string(b), -1) {
			out[m[1]] = append(out[m[1]], rel(p))
		}
	}
	return out
}

// TestChecklist: docs/openvms.md carries every item of hp-system.md §10
// (except the open ones listed above) as DONE or DIFFERENCE with at least
// one test, and every test it names exists where it says.
func TestChecklist(t *testing.T) {
	items := specItems(t)
	rows := checklistTable(t)
	funcs := testFuncs(t)

	known := map[string]bool{}
	for _, it := range items {
		known[it] = true
		row, ok := rows[it]
		if issue, open := openChecklistItems[it]; open {
			if ok {
				t.Errorf("openvms.md:%d: %s is in the table but still listed as open (%s) in openChecklistItems; remove it there", row.line, it, issue)
			}
			continue
		}
		if !ok {
			t.Errorf("openvms.md: checklist item %s of hp-system.md §10 is missing from the table", it)
			continue
		}
		if row.status != "DONE" && row.status != "DIFFERENCE" {
			t.Errorf("openvms.md:%d: %s has status %q, want DONE or DIFFERENCE", row.line, it, row.status)
		}
		refs := testRef.FindAllStringSubmatch(row.cell, -1)
		if len(refs) == 0 {
			t.Errorf("openvms.md:%d: %s names no test", row.line, it)
		}
		for _, ref := range refs {
			checkTestRef(t, row.line, it, ref[1], ref[2], funcs)
		}
	}
	for it, row := range rows {
		if !known[it] {
			t.Errorf("openvms.md:%d: %s is not an item of hp-system.md §10", row.line, it)
		}
	}
	for it := range openChecklistItems {
		if !known[it] {
			t.Errorf("openChecklistItems lists %s, which is not an item of hp-system.md §10", it)
		}
	}
}

// checkTestRef fails unless the test name is declared in the repository
// and, when a file is given, in that file (a _test.go file) or in the
// package whose testdata holds that file (a transcript), which must exist.
func checkTestRef(t *testing.T, line int, item, name, file string, funcs map[string][]string) {
	t.Helper()
	decls := funcs[name]
	if len(decls) == 0 {
		t.Errorf("openvms.md:%d: %s names %s, which no _test.go file declares", line, item, name)
		return
	}
	if file == "" {
		return
	}
	if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(file))); err != nil {
		t.Errorf("openvms.md:%d: %s names %s, which does not exist", line, item, file)
		return
	}
	want := func(p string) bool { return p == file }
	if pkg, _, ok := strings.Cut(file, "/testdata/"); ok {
		want = func(p string) bool { return filepath.ToSlash(filepath.Dir(p)) == pkg }
	}
	for _, p := range decls {
		if want(filepath.ToSlash(p)) {
			return
		}
	}
	sort.Strings(decls)
	t.Errorf("openvms.md:%d: %s names %s in %s, but it is declared in %s", line, item, name, file, strings.Join(decls, ", "))
}
