package delivery

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/internal/srs"
	"github.com/postern/postern/internal/store"
)

// fakeDirectory is a Directory over a fixed account list.
type fakeDirectory []store.Account

func (d fakeDirectory) Account(_ context.Context, name string) (store.Account, error) {
	for _, a := range d {
		if strings.EqualFold(a.Name, name) {
			return a, nil
		}
	}
	return store.Account{}, store.ErrNoSuchAccount
}

func (d fakeDirectory) Accounts(context.Context) ([]store.Account, error) { return d, nil }

func newTestResolver(t *testing.T, aliases, domainsFile string) *Resolver {
	t.Helper()
	dir := t.TempDir()
	opts := ResolverOptions{
		Directory: fakeDirectory{{Name: "alice"}, {Name: "bob", Admin: true}, {Name: "carol", NoMail: true}},
		Hostname:  "mail.example.org", SubstituteDomain: "example.org", Domains: []string{"Other.Example."},
	}
	if aliases != "" {
		opts.AliasesFile = filepath.Join(dir, "aliases")
		os.WriteFile(opts.AliasesFile, []byte(aliases), 0o600)
	}
	if domainsFile != "" {
		opts.DomainsFile = filepath.Join(dir, "domains")
		os.WriteFile(opts.DomainsFile, []byte(domainsFile), 0o600)
	}
	r, err := NewResolver(opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestResolve(t *testing.T) {
	r := newTestResolver(t, `# aliases
sales: alice, bob
info@other.example: alice
ext: someone@remote.example, alice
chain: sales
self: self
`, "! local aliases\nvms.example\n\nOLD.example\n")
	ctx := context.Background()
	tests := []struct {
		addr string
		want []Target
		err  error
	}{
		{"alice@mail.example.org", []Target{{Account: "alice"}}, nil},
		{"ALICE@Example.ORG", []Target{{Account: "alice"}}, nil},
		{"alice+news@other.example", []Target{{Account: "alice"}}, nil},
		{"alice@vms.example", []Target{{Account: "alice"}}, nil},
		{"alice@old.example", []Target{{Account: "alice"}}, nil},
		{"sales@example.org", []Target{{Account: "alice"}, {Account: "bob"}}, nil},
		{"sales+x@example.org", []Target{{Account: "alice"}, {Account: "bob"}}, nil},
		{"chain@example.org", []Target{{Account: "alice"}, {Account: "bob"}}, nil},
		{"info@other.example", []Target{{Account: "alice"}}, nil},
		{"ext@example.org", []Target{{Remote: "someone@remote.example", Forward: true}, {Account: "alice"}}, nil},
		{"postmaster@example.org", []Target{{Account: "bob"}}, nil},
		{"postmaster", []Target{{Account: "bob"}}, nil},
		{"self@example.org", nil, ErrAliasLoop},
		{"info@example.org", nil, ErrNoSuchUser},
		{"nobody@example.org", nil, ErrNoSuchUser},
		{"carol@example.org", nil, ErrNoMail},
		{"alice@elsewhere.example", nil, ErrNotLocal},
	}
	for _, tt := range tests {
		a, err := ParseAddress(tt.addr)
		if err != nil {
			t.Fatal(err)
		}
		got, err := r.Resolve(ctx, a)
		if !errors.Is(err, tt.err) || !slices.Equal(got, tt.want) {
			t.Errorf("Resolve(%s) = %v, %v; want %v, %v", tt.addr, got, err, tt.want, tt.err)
		}
	}
}

// TestResolveSRS: an SRS0 address at a local domain whose hash and age
// verify resolves to the original sender, forwarded when remote and as
// any recipient when local; a forged, stale or malformed one is an
// unknown user; without SRS it is an ordinary local part.
func TestResolveSRS(t *testing.T) {
	r := newTestResolver(t, "", "")
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	rw := &srs.Rewriter{Domain: "mail.example.org", Secrets: [][]byte{[]byte("k")}}
	r.opts.SRS, r.opts.Clock = rw, func() time.Time { return now }
	ctx := context.Background()
	addr := func(sender string, at time.Time) Address {
		s, err := rw.Forward(sender, at)
		if err != nil {
			t.Fatal(err)
		}
		a, err := ParseAddress(s)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	forged := addr("bob@remote.example", now)
	forged.Local = strings.Replace(forged.Local, "=bob", "=eve", 1)
	for _, tc := range []struct {
		a    Address
		want []Target
		err  error
	}{
		{addr("bob@remote.example", now), []Target{{Remote: "bob@remote.example", Forward: true}}, nil},
		{addr("alice@example.org", now), []Target{{Account: "alice"}}, nil},
		{addr("bob@remote.example", now.Add(-30*24*time.Hour)), nil, ErrNoSuchUser},
		{forged, nil, ErrNoSuchUser},
		{Address{Local: "SRS0=xx", Domain: "example.org"}, nil, ErrNoSuchUser},
	} {
		got, err := r.Resolve(ctx, tc.a)
		if !errors.Is(err, tc.err) || !slices.Equal(got, tc.want) {
			t.Errorf("Resolve(%s) = %v, %v; want %v, %v", tc.a, got, err, tc.want, tc.err)
		}
	}
}

func TestResolveLocalIgnoresDomain(t *testing.T) {
	r := newTestResolver(t, "", "")
	got, err := r.ResolveLocal(context.Background(), Address{Local: "Alice", Domain: "virtual.example"})
	if err != nil || !slices.Equal(got, []Target{{Account: "alice"}}) {
		t.Errorf("got %v, %v", got, err)
	}
}

func TestOwns(t *testing.T) {
	r := newTestResolver(t, "boss: alice\nteam: alice, bob\n", "")
	ctx := context.Background()
	for from, want := range map[string]bool{
		"alice@example.org": true, "Alice+x@other.example": true, "boss@example.org": true,
		"team@example.org": false, "bob@example.org": false, "alice@elsewhere.example": false,
		"": false, "postmaster": false,
	} {
		if got := r.Owns(ctx, "alice", from); got != want {
			t.Errorf("Owns(alice, %q) = %v, want %v", from, got, want)
		}
	}
}

func TestReloadKeepsOldTablesOnError(t *testing.T) {
	r := newTestResolver(t, "sales: alice\n", "")
	os.WriteFile(r.opts.AliasesFile, []byte("broken line without colon\n"), 0o600)
	if err := r.Reload(); err == nil {
		t.Fatal("Reload of a broken file succeeded")
	}
	if got, err := r.Resolve(context.Background(), Address{Local: "sales", Domain: "example.org"}); err != nil || len(got) != 1 {
		t.Errorf("old table lost: %v %v", got, err)
	}
	os.WriteFile(r.opts.AliasesFile, []byte("sales: bob\n"), 0o600)
	if err := r.Reload(); err != nil {
		t.Fatal(err)
	}
	if got, _ := r.Resolve(context.Background(), Address{Local: "sales", Domain: "example.org"}); !slices.Equal(got, []Target{{Account: "bob"}}) {
		t.Errorf("after reload: %v", got)
	}
}

func TestParseAliasesErrors(t *testing.T) {
	for _, in := range []string{"nocolon\n", ": alice\n", "a b: alice\n", "empty:\n", "x: , ,\n"} {
		if _, err := ParseAliases(strings.NewReader(in)); err == nil {
			t.Errorf("ParseAliases(%q) succeeded", in)
		}
	}
}
