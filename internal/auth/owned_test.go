package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/postern/postern/internal/store"
)

// CreateAccount and Accounts make fakeAccounts a DirectoryStore.
func (f *fakeAccounts) CreateAccount(ctx context.Context, name string, init store.AccountUpdate) (store.Account, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	name = strings.ToLower(name)
	if _, ok := f.accounts[name]; ok {
		return store.Account{}, fmt.Errorf("create %q: %w", name, store.ErrAccountExists)
	}
	a := store.Account{ID: store.AccountID(len(f.accounts) + 100), Name: name, Source: store.SourceLocal}
	if init.Source != nil {
		a.Source = *init.Source
	}
	f.accounts[name] = a
	return a, nil
}

func (f *fakeAccounts) Accounts(ctx context.Context) ([]store.Account, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []store.Account
	for _, a := range f.accounts {
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b store.Account) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// fakeOutside is fakeSource made an OutsideSource over a StoreLink;
// addresses map to user names.
type fakeOutside struct {
	*fakeSource
	link  StoreLink
	addrs map[string]string
}

func (f *fakeOutside) Lookup(ctx context.Context, name string) (store.Account, error) {
	a, err := f.fakeSource.Lookup(ctx, name)
	if err != nil {
		return a, err
	}
	return f.link.Attach(ctx, a)
}

func (f *fakeOutside) Provision(ctx context.Context, acct store.Account) (store.Account, error) {
	return f.link.Provision(ctx, acct)
}

func (f *fakeOutside) LookupAddress(ctx context.Context, addr string) (store.Account, error) {
	name, ok := f.addrs[strings.ToLower(addr)]
	if !ok {
		return store.Account{}, ErrUnknownUser
	}
	return f.Lookup(ctx, name)
}

func (f *fakeOutside) Owns(ctx context.Context, name string) (bool, error) {
	_, err := f.fakeSource.Lookup(ctx, name)
	return err == nil, nil
}

// TestOutsideOwnership: a user of an outside source gets a store account
// recording the source at its first login; a name the store holds for
// another source is never taken over — a directory user named like a
// local administrator gets neither its mail nor its rights, whichever
// order the sources are in — and the local source does not answer for
// names an outside source owns.
func TestOutsideOwnership(t *testing.T) {
	var outside *fakeOutside
	e := newTestEnv(t, func(o *Options) {
		fs := &fakeSource{name: "ldap", users: map[string]string{"admin": "dir-pw", "bob": "bob-pw"}}
		outside = &fakeOutside{fakeSource: fs, link: StoreLink{Store: o.Store.(*fakeAccounts), Source: "ldap"}}
		o.Sources = []Source{outside, NewLocalSource(o.Store, o.Hasher, nil)}
	})
	e.addUser(t, "admin", "local-pw", func(a *store.Account) { a.Admin = true; a.Source = store.SourceLocal })
	ctx := context.Background()
	login := func(user, pw string) (store.Account, error) {
		defer e.auth.Throttle().Success(addrA, user)
		return e.auth.Login(ctx, user, pw, connFrom(addrA))
	}

	if _, err := login("admin", "dir-pw"); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("directory admin's password for the local admin: %v, want a refusal", err)
	}
	if a, err := login("admin", "local-pw"); err != nil || !a.Admin || a.Source != store.SourceLocal {
		t.Errorf("local admin: %+v, %v", a, err)
	}

	a, err := login("bob", "bob-pw")
	if err != nil || a.ID == 0 || a.Source != "ldap" || a.PasswordHash != "" {
		t.Fatalf("first login of bob: %+v, %v; want a store account of source ldap", a, err)
	}
	if stored, _ := e.accounts.Account(ctx, "bob"); stored.ID != a.ID || stored.Source != "ldap" {
		t.Errorf("bob in the store: %+v", stored)
	}
	if again, err := login("bob", "bob-pw"); err != nil || again.ID != a.ID {
		t.Errorf("second login of bob: %+v, %v; want the same account", again, err)
	}

	// Local first: the store account of bob is ldap's, not a local one.
	local := New(Options{Store: e.accounts, Hasher: e.hasher, Sources: []Source{NewLocalSource(e.accounts, e.hasher, nil), outside}})
	if got, err := local.Login(ctx, "bob", "bob-pw", connFrom(addrB)); err != nil || got.ID != a.ID {
		t.Errorf("local, ldap: bob = %+v, %v; want ldap's bob", got, err)
	}
	if _, err := local.Login(ctx, "admin", "dir-pw", connFrom(addrB)); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("local, ldap: directory admin's password: %v, want a refusal", err)
	}
}

// TestDirectoryProvisions: delivery to a user of an outside source that
// has never logged in makes its store account; the store's own accounts
// answer first; a name owned elsewhere is not taken; a source that cannot
// answer is an error, not "no such user".
func TestDirectoryProvisions(t *testing.T) {
	accts := &fakeAccounts{accounts: map[string]store.Account{}}
	accts.add(store.Account{ID: 1, Name: "admin", Source: store.SourceLocal, Admin: true})
	fs := &fakeSource{name: "ldap", users: map[string]string{"admin": "x", "carol": "x"}}
	outside := &fakeOutside{fakeSource: fs, link: StoreLink{Store: accts, Source: "ldap"},
		addrs: map[string]string{"c.jones@example.org": "carol", "admin@example.org": "admin"}}
	d := Directory{Store: accts, Sources: []Source{NewLocalSource(accts, nil, nil), outside}}
	ctx := context.Background()

	got, err := d.Account(ctx, "c.jones@example.org")
	if err != nil || got.Name != "carol" || got.Source != "ldap" || got.ID == 0 {
		t.Fatalf("Account(c.jones@example.org) = %+v, %v; want ldap's carol made in the store", got, err)
	}
	if got, err := d.Account(ctx, "admin"); err != nil || got.ID != 1 {
		t.Errorf("Account(admin) = %+v, %v; want the local admin", got, err)
	}
	if _, err := d.Account(ctx, "admin@example.org"); !errors.Is(err, store.ErrNoSuchAccount) {
		t.Errorf("Account(admin@example.org) = %v; want no such account (admin is local's)", err)
	}
	if _, err := d.Account(ctx, "nobody"); !errors.Is(err, store.ErrNoSuchAccount) {
		t.Errorf("Account(nobody) = %v; want no such account", err)
	}
	outside.addrs["down@example.org"] = "down"
	fs.users["down"] = "x"
	bad := &fakeOutside{fakeSource: fs, link: StoreLink{Store: failingStore{accts}, Source: "ldap"}, addrs: outside.addrs}
	d.Sources = []Source{bad}
	if _, err := d.Account(ctx, "down@example.org"); err == nil || errors.Is(err, store.ErrNoSuchAccount) {
		t.Errorf("Account with the store failing to create = %v; want an error", err)
	}
}

// failingStore fails every CreateAccount.
type failingStore struct{ *fakeAccounts }

func (failingStore) CreateAccount(context.Context, string, store.AccountUpdate) (store.Account, error) {
	return store.Account{}, errors.New("disk full")
}
