package delivery

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/postern/postern/internal/store"
)

// TestResolveDomainAccounts: accounts named NAME@DOMAIN (issue 22) take
// their address before the bare NAME does; the bare NAME keeps every
// other local domain; aliases may name full addresses.
func TestResolveDomainAccounts(t *testing.T) {
	dir := t.TempDir()
	aliases := filepath.Join(dir, "aliases")
	os.WriteFile(aliases, []byte("sales@example.net: alice@example.net, bob\nteam: alice@example.org, alice@example.net\n"), 0o600)
	r, err := NewResolver(ResolverOptions{
		Directory: fakeDirectory{{Name: "alice"}, {Name: "alice@example.net"}, {Name: "bob", Admin: true},
			{Name: "dora@example.org", NoMail: true}, {Name: "postmaster@example.net"}},
		Hostname: "mail.example.org", Domains: []string{"example.org", "example.net"}, AliasesFile: aliases,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tests := []struct {
		addr string
		want []Target
		err  error
	}{
		{"alice@example.net", []Target{{Account: "alice@example.net"}}, nil},
		{"Alice+tag@EXAMPLE.net", []Target{{Account: "alice@example.net"}}, nil},
		{"alice@example.org", []Target{{Account: "alice"}}, nil},
		{"alice@mail.example.org", []Target{{Account: "alice"}}, nil},
		{"sales@example.net", []Target{{Account: "alice@example.net"}, {Account: "bob"}}, nil},
		{"team@example.org", []Target{{Account: "alice"}, {Account: "alice@example.net"}}, nil},
		{"dora@example.org", nil, ErrNoMail},
		{"postmaster@example.net", []Target{{Account: "postmaster@example.net"}}, nil},
		{"postmaster@example.org", []Target{{Account: "bob"}}, nil},
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
	// LMTP: a domain the server is not told about still reaches a full
	// account first, then the bare name, as before.
	a, _ := ParseAddress("alice@virtual.example")
	if got, err := r.ResolveLocal(ctx, a); err != nil || !slices.Equal(got, []Target{{Account: "alice"}}) {
		t.Errorf("ResolveLocal(%s) = %v, %v", a, got, err)
	}

	owns := []struct {
		account, from string
		want          bool
	}{
		{"alice@example.net", "alice@example.net", true},
		{"alice@example.net", "alice+x@example.net", true},
		{"alice", "alice@example.net", false}, // another person's address now
		{"alice", "alice@example.org", true},
		{"alice@example.net", "alice@example.org", false},
		{"alice@example.net", "sales@example.net", false}, // two targets
	}
	for _, tt := range owns {
		if got := r.Owns(ctx, tt.account, tt.from); got != tt.want {
			t.Errorf("Owns(%s, %s) = %v, want %v", tt.account, tt.from, got, tt.want)
		}
	}
}

// storeErrDirectory fails every lookup with a store error, which must not
// read as "no such user".
type storeErrDirectory struct{ fakeDirectory }

func (storeErrDirectory) Account(context.Context, string) (store.Account, error) {
	return store.Account{}, errors.New("disk on fire")
}

func TestResolveDomainStoreError(t *testing.T) {
	r, err := NewResolver(ResolverOptions{Directory: storeErrDirectory{}, Hostname: "example.org"})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := ParseAddress("alice@example.org")
	if _, err := r.Resolve(context.Background(), a); err == nil || errors.Is(err, ErrNoSuchUser) {
		t.Errorf("Resolve with a failing store = %v, want an internal error", err)
	}
}
