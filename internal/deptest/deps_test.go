// Package deptest enforces the dependency direction of STYLE.md B1:
// cmd → cli → app → protocol servers → {wire, store, auth, delivery, mail11,
// observe}. It reads the import lists of every package of the module and
// fails on any import that breaks a rule, in the manner of tailscale's
// tstest/deptest.
package deptest

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/postern/postern"

// rule restricts what the packages matching pkg may import from the module.
// allow lists the module packages they may import (prefix match on a
// trailing "/..."); stdOnly forbids every import outside the standard
// library.
type rule struct {
	pkg     string
	allow   []string
	stdOnly bool
}

var rules = []rule{
	{pkg: "internal/config", allow: nil},
	{pkg: "internal/message", allow: nil},
	{pkg: "internal/observe", allow: nil},
	{pkg: "internal/admission", allow: nil},
	{pkg: "internal/drain", allow: []string{"internal/admission"}},
	{pkg: "internal/tlsconf", allow: nil},
	{pkg: "internal/store", allow: []string{"internal/message"}},
	{pkg: "internal/store/sqlite", allow: []string{"internal/store", "internal/store/body", "internal/store/sqlrow", "internal/message", "internal/search"}},
	// The append pipeline and the body seam every backend shares.
	{pkg: "internal/store/sqlrow", allow: []string{"internal/store"}},
	{pkg: "internal/store/body", allow: []string{"internal/store", "internal/message", "internal/search"}},
	{pkg: "internal/store/postgres", allow: []string{"internal/store", "internal/store/body", "internal/store/sqlrow", "internal/message", "internal/search"}},
	// A private PostgreSQL cluster for tests.
	{pkg: "internal/store/postgres/pgtest", allow: []string{"internal/testport"}},
	// SEARCH's semantics and text extraction, shared by the scan and the
	// stores' indexes: over message alone.
	{pkg: "internal/search", allow: []string{"internal/message"}},
	{pkg: "internal/store/storetest", allow: []string{"internal/store", "internal/message", "internal/search"}},
	// Copies one store into another through the seam (postern store copy).
	{pkg: "internal/storecopy", allow: []string{"internal/store"}},
	{pkg: "internal/mailimport", allow: []string{"internal/store", "internal/imap/imapwire"}},
	{pkg: "internal/mailexport", allow: []string{"internal/store", "internal/imap/imapwire", "internal/mailimport"}},
	{pkg: "internal/auth", allow: []string{"internal/store"}},
	// Account sources outside the store (LDAP), behind auth's seam.
	{pkg: "internal/auth/source", allow: []string{"internal/auth", "internal/store", "internal/auth/source/ldaptest", "internal/testport"}},
	// A private slapd for tests.
	{pkg: "internal/auth/source/ldaptest", allow: []string{"internal/testport"}},
	{pkg: "internal/delivery", allow: []string{"internal/store", "internal/message", "internal/observe", "internal/mail11", "internal/srs", "internal/sieve"}},
	// Sieve (RFC 5228): pure, script + message + envelope in, actions out.
	{pkg: "internal/sieve", stdOnly: true},
	{pkg: "internal/mail11", allow: []string{"internal/store", "internal/message"}},
	{pkg: "internal/server", allow: []string{"internal/observe", "internal/tlsconf"}},
	{pkg: "internal/imap/imapwire", stdOnly: true},
	// Pure: RFC 5256/5051 over strings and dates (x/text, go-message's
	// charset tables for RFC 2047); message IDs are read by
	// message.MessageIDs, which the stores' thread ids share.
	{pkg: "internal/imap/thread", allow: []string{"internal/message"}},
	// Go's DEFLATE decoder, returning data at every block end (COMPRESS).
	{pkg: "internal/inflate", stdOnly: true},
	{pkg: "internal/srs", stdOnly: true},
	{pkg: "internal/msgauth", allow: []string{"internal/store", "internal/observe"}},
	{pkg: "internal/msgauth/dnstest", allow: nil},
	{pkg: "internal/milter", allow: nil},
	{pkg: "internal/mtasts", allow: nil},
	{pkg: "internal/imap/imapserver", allow: protocolAllow},
	{pkg: "internal/pop3/pop3server", allow: protocolAllow},
	{pkg: "internal/smtp/smtpserver", allow: protocolAllow},
	{pkg: "internal/smtp/queue", allow: protocolAllow},
	{pkg: "internal/managesieve", allow: protocolAllow},
	{pkg: "internal/app", allow: []string{"internal/..."}},
	{pkg: "internal/cli", allow: []string{"internal/..."}},
	{pkg: "internal/prototest", allow: []string{"internal/store", "internal/message"}},
	{pkg: "cmd/postern", allow: []string{"internal/cli"}},
	{pkg: "internal/testport", stdOnly: true},
	// The harness drives servers through their binaries; it runs the
	// private PostgreSQL of the postern-pg kinds with pgtest.
	{pkg: "bench", allow: []string{"internal/store/postgres/pgtest"}},
}

// protocolAllow is what protocol servers may use: never config, app, cli,
// a concrete store, or one another.
var protocolAllow = []string{
	"internal/store", "internal/auth", "internal/delivery", "internal/mail11",
	"internal/observe", "internal/message", "internal/imap/imapwire", "internal/imap/thread", "internal/prototest",
	"internal/search",
	"internal/drain", "internal/admission", "internal/inflate", "internal/srs", "internal/sieve",
}

// forbiddenEverywhere may not be imported by any package but the ones that
// wire the program together.
var forbiddenEverywhere = []string{"internal/app", "internal/cli", "internal/config"}

func TestDependencyDirection(t *testing.T) {
	root := moduleRoot(t)
	imports := packageImports(t, root)
	if len(imports) < 5 {
		t.Fatalf("found only %d packages under %s; is the walk broken?", len(imports), root)
	}
	for pkg, imps := range imports {
		if _, ok := ruleFor(pkg); !ok {
			t.Errorf("package %s has no dependency rule: add one to rules", pkg)
		}
		for _, imp := range imps {
			if msg := violation(pkg, imp); msg != "" {
				t.Error(msg)
			}
		}
	}
}

// TestViolationsAreCaught proves the checker can fail.
func TestViolationsAreCaught(t *testing.T) {
	bad := [][2]string{
		{"internal/pop3/pop3server", module + "/internal/imap/imapserver"},
		{"internal/pop3/pop3server", module + "/internal/config"},
		{"internal/imap/imapserver", module + "/internal/store/sqlite"},
		{"internal/imap/imapwire", "github.com/emersion/go-message"},
		{"internal/store", module + "/internal/app"},
		{"internal/message", module + "/internal/store"},
	}
	for _, b := range bad {
		if violation(b[0], b[1]) == "" {
			t.Errorf("%s importing %s was not caught", b[0], b[1])
		}
	}
	if msg := violation("internal/app", module+"/internal/store/sqlite"); msg != "" {
		t.Errorf("app may import the concrete store: %s", msg)
	}
}

// violation returns why pkg may not import imp, or "".
func violation(pkg, imp string) string {
	r, hasRule := ruleFor(pkg)
	internal, inModule := strings.CutPrefix(imp, module+"/")
	if hasRule && r.stdOnly && (inModule || strings.Contains(strings.SplitN(imp, "/", 2)[0], ".")) {
		return pkg + " imports " + imp + ": a wire package may import only the standard library"
	}
	if !inModule {
		return ""
	}
	wiring := pkg == "internal/app" || pkg == "internal/cli" || pkg == "cmd/postern"
	for _, f := range forbiddenEverywhere {
		if internal == f && !wiring {
			return pkg + " imports " + imp + ": only app and cli may (STYLE.md B1)"
		}
	}
	if !hasRule {
		return ""
	}
	for _, a := range r.allow {
		if internal == a || (strings.HasSuffix(a, "/...") && strings.HasPrefix(internal, strings.TrimSuffix(a, "..."))) {
			return ""
		}
	}
	return pkg + " imports " + imp + ", which its rule does not allow"
}

func ruleFor(pkg string) (rule, bool) {
	for _, r := range rules {
		if r.pkg == pkg {
			return r, true
		}
	}
	return rule{}, false
}

// packageImports maps each package directory (relative to root) to the
// module imports of its non-test files.
func packageImports(t *testing.T, root string) map[string][]string {
	t.Helper()
	out := make(map[string][]string)
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && p != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(p))
		pkg := filepath.ToSlash(rel)
		for _, is := range f.Imports {
			imp, _ := strconv.Unquote(is.Path.Value)
			out[pkg] = append(out[pkg], imp)
		}
		if _, ok := out[pkg]; !ok {
			out[pkg] = nil
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for k := range out {
		sort.Strings(out[k])
	}
	return out
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found")
		}
		dir = parent
	}
}
