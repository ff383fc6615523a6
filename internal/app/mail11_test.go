package app

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/internal/config"
	"github.com/postern/postern/internal/mail11"
	"github.com/postern/postern/internal/store"
)

// TestBuildMail11 checks that the view's settings come from the config:
// local hosts from Hostname, Substitute-Domain, Local-Domains and the
// Local-Aliases-File (a bad line is skipped with a warning), the
// Decnet-Node map, and the section's rewrite modes and Personal-Name.
func TestBuildMail11(t *testing.T) {
	dir := t.TempDir()
	aliases := filepath.Join(dir, "aliases.txt")
	if err := os.WriteFile(aliases, []byte("! local aliases\nwidgets.example ! trailing\nnot a domain\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := config.Defaults()
	cfg.Hostname = "pop.acme.example"
	cfg.SubstituteDomain = "acme.example"
	cfg.LocalDomains = []string{"other.example"}
	cfg.LocalAliasesFile = aliases
	cfg.DecnetNodes = []config.DecnetNode{{Node: "ORDERS", Host: "pop.acme.example"}, {Node: "HOST12", Host: "host12.elsewhere.example"}}
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))

	o, err := buildMail11(cfg, logger, config.RewriteTransform, config.RewriteGeneric, true)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "line=3") || !strings.Contains(logs.String(), "not a domain") {
		t.Errorf("no warning for the bad line: %s", logs.String())
	}
	for _, h := range []string{"pop.acme.example", "acme.example", "other.example", "WIDGETS.example"} {
		if !o.Local.IsLocal(h) {
			t.Errorf("%s is not local", h)
		}
	}
	if o.LookupNode != nil {
		t.Error("LookupNode set with Decnet-Node-Lookup off")
	}
	for in, want := range map[string]string{
		"ORDERS::J_SMITH":            "j_smith@acme.example", // local: the substitute domain (R2)
		"HOST12::J_JONES":            "j_jones@host12.elsewhere.example",
		"HOST13::J_JONES":            `"HOST13::J_JONES"@acme.example`,
		`ORDERS::"j_smith@acme.com"`: `"ORDERS::\"j_smith@acme.com\""@acme.example`, // GENERIC (R4)
	} {
		if got := o.Rewrite(in); got != want {
			t.Errorf("Rewrite(%q) = %q, want %q", in, got, want)
		}
	}
	hdr := mail11.POPHeader(&store.VMSEnvelope{From: "ORDERS::J_SMITH", PersonalName: "John Smith"}, mail11.POPOptions{Options: *o})
	if !bytes.Contains(hdr, []byte(`From: "John Smith" <j_smith@acme.example>`)) {
		t.Errorf("Personal-Name not applied: %s", hdr)
	}

	cfg.LocalAliasesFile = filepath.Join(dir, "missing")
	if _, err := buildMail11(cfg, logger, "", "", false); err == nil {
		t.Error("a missing Local-Aliases-File does not fail")
	}
}

// TestNodeLookup checks Decnet-Node-Lookup: node.domain in each local
// domain in turn, answers cached (found or not) until they expire, names
// that cannot be DNS labels never asked.
func TestNodeLookup(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	var asked []string
	resolve := func(ctx context.Context, host string) ([]string, error) {
		if _, ok := ctx.Deadline(); !ok {
			t.Error("lookup without a timeout")
		}
		asked = append(asked, host)
		if host == "host12.acme.example" {
			return []string{"192.0.2.12"}, nil
		}
		return nil, errors.New("no such host")
	}
	l := newNodeLookup([]string{"sub.example", "acme.example"}, resolve, func() time.Time { return now })
	if h, ok := l.lookup("HOST12"); !ok || h != "host12.acme.example" {
		t.Errorf("lookup(HOST12) = %q, %v", h, ok)
	}
	if _, ok := l.lookup("HOST13"); ok {
		t.Error("lookup(HOST13) found")
	}
	l.lookup("host12")
	l.lookup("HOST13")
	if _, ok := l.lookup("BAD$NODE"); ok {
		t.Error("BAD$NODE found")
	}
	want := "host12.sub.example host12.acme.example host13.sub.example host13.acme.example"
	if got := strings.Join(asked, " "); got != want {
		t.Errorf("asked %q, want %q", got, want)
	}
	now = now.Add(nodeLookupTTL + time.Second)
	asked = nil
	l.lookup("HOST13")
	if len(asked) != 2 {
		t.Errorf("expired answer not asked again: %q", asked)
	}

	cfg := config.Defaults()
	cfg.Hostname = "pop.acme.example"
	cfg.SubstituteDomain = "Acme.Example."
	if got := strings.Join(localDomains(cfg), " "); got != "acme.example" {
		t.Errorf("localDomains = %q", got)
	}
}

// TestLoadMagic: the Magic-File's records come before the built-in ones;
// a file with bad lines refuses the start with each line as FILE:LINE; a
// missing file names the option.
func TestLoadMagic(t *testing.T) {
	dir := t.TempDir()
	cfg := config.Defaults()
	m, err := loadMagic(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if typ, sub := m.Type([]byte("%PDF-1.4")); typ+"/"+sub != "application/pdf" {
		t.Errorf("built-in: %s/%s", typ, sub)
	}

	cfg.IMAP.MagicFile = filepath.Join(dir, "magic.txt")
	if err := os.WriteFile(cfg.IMAP.MagicFile, []byte("0 string %PDF- application/x-site-pdf\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if m, err = loadMagic(cfg); err != nil {
		t.Fatal(err)
	}
	if typ, sub := m.Type([]byte("%PDF-1.4")); typ+"/"+sub != "application/x-site-pdf" {
		t.Errorf("site first: %s/%s", typ, sub)
	}
	if typ, sub := m.Type([]byte("GIF89a")); typ+"/"+sub != "image/gif" {
		t.Errorf("built-in after the site's: %s/%s", typ, sub)
	}

	if err := os.WriteFile(cfg.IMAP.MagicFile, []byte("0 string\n! ok\n0 byte 300 a/b\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got := checkMagic(cfg)
	want := []string{
		cfg.IMAP.MagicFile + ":1: a record has four fields (offset type test type/subtype), found 2",
		cfg.IMAP.MagicFile + `:3: test "300" is not a number that fits in 8 bits`,
	}
	if len(got) != len(want) {
		t.Fatalf("checkMagic: %v", got)
	}
	for i := range want {
		if got[i].Error() != want[i] {
			t.Errorf("problem %d: %q, want %q", i, got[i], want[i])
		}
	}

	cfg.IMAP.MagicFile = filepath.Join(dir, "missing.txt")
	if _, err := loadMagic(cfg); err == nil || !strings.Contains(err.Error(), "Magic-File: cannot read "+cfg.IMAP.MagicFile+": no such file") {
		t.Errorf("missing file: %v", err)
	}
}
