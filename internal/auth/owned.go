package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/postern/postern/internal/store"
)

// ErrOwnedElsewhere means the store holds an account of that name that
// another account source owns (store.Account.Source). An outside source
// treats the name as unknown then: a directory user named like a local
// administrator gets neither its mail nor its rights (issue 22).
var ErrOwnedElsewhere = errors.New("name owned by another account source")

// AccountStore is what an outside source needs of the store: reading
// accounts and making the one that holds a user's mail. A store.Store fits.
type AccountStore interface {
	Accounts
	CreateAccount(ctx context.Context, name string, init store.AccountUpdate) (store.Account, error)
}

// An OutsideSource is a [Source] whose users live outside the store (the
// host's passwd files, a directory). The store account that holds such a
// user's mail is made at the first login or the first delivery and records
// the source that owns it.
type OutsideSource interface {
	Source
	// Provision returns the store account of acct, a user this source's
	// Lookup or LookupAddress returned, making it on first use.
	// ErrOwnedElsewhere when another source owns the name.
	Provision(ctx context.Context, acct store.Account) (store.Account, error)
	// LookupAddress finds the user a recipient address names, for
	// delivery; ErrUnknownUser when none.
	LookupAddress(ctx context.Context, addr string) (store.Account, error)
	// Owns reports whether the source knows a name, for `postern user
	// add`, which refuses a name an outside source owns. Errors are those
	// of Lookup.
	Owns(ctx context.Context, name string) (bool, error)
}

// StoreLink ties an outside source's users to their store accounts: it
// finds the account of a name when this source owns it, and makes it.
// Sources embed one.
type StoreLink struct {
	Store  AccountStore
	Source string // the source's name, as recorded in store.Account.Source
}

// Find returns the store account named name when it belongs to this
// source, the zero Account (ID 0) when there is none, and
// ErrOwnedElsewhere when another source owns it.
func (l StoreLink) Find(ctx context.Context, name string) (store.Account, error) {
	acct, err := l.Store.Account(ctx, name)
	switch {
	case errors.Is(err, store.ErrNoSuchAccount):
		return store.Account{}, nil
	case err != nil:
		return store.Account{}, fmt.Errorf("look up account: %w", err)
	case acct.Source != l.Source:
		return store.Account{}, fmt.Errorf("%w: %q belongs to %s", ErrOwnedElsewhere, acct.Name, acct.Source)
	}
	return acct, nil
}

// Attach completes a user an outside source found (its Name, Disabled,
// Expires) with its store account, when there is one, by [Merge]. A name
// another source owns in the store is ErrUnknownUser: for this source the
// name is not its user's, and the next source is asked.
func (l StoreLink) Attach(ctx context.Context, user store.Account) (store.Account, error) {
	user.Source = l.Source
	stored, err := l.Find(ctx, user.Name)
	if errors.Is(err, ErrOwnedElsewhere) {
		return store.Account{}, fmt.Errorf("%w (%v)", ErrUnknownUser, err)
	}
	if err != nil {
		return store.Account{}, err
	}
	return Merge(user, stored), nil
}

// Provision returns the store account of a user Attach completed, made
// on first use, merged as Attach merges it.
func (l StoreLink) Provision(ctx context.Context, user store.Account) (store.Account, error) {
	stored, err := l.Ensure(ctx, user.Name)
	if err != nil {
		return store.Account{}, err
	}
	return Merge(user, stored), nil
}

// Ensure returns the store account of name owned by this source, making
// it (with its default mailboxes) when there is none. Two first logins at
// once make it once: the loser of the race reads the winner's.
func (l StoreLink) Ensure(ctx context.Context, name string) (store.Account, error) {
	acct, err := l.Find(ctx, name)
	if err != nil || acct.ID != 0 {
		return acct, err
	}
	src := l.Source
	acct, err = l.Store.CreateAccount(ctx, name, store.AccountUpdate{Source: &src})
	if errors.Is(err, store.ErrAccountExists) {
		return l.Find(ctx, name)
	}
	if err != nil {
		return store.Account{}, fmt.Errorf("make store account %q for source %s: %w", name, l.Source, err)
	}
	return acct, nil
}

// Merge combines a user as the outside source sees it (its name, its
// DISUSER and expiry) with the store account that holds its mail (id,
// admin right, DISMAIL, quotas, set with `postern user set`). The store
// cannot unlock what the source locks: either one's DISUSER holds, and
// the earlier expiry. No secret is kept: outside sources have no SCRAM
// keys or APOP secret (issue 22), and the password is the source's.
func Merge(outside, stored store.Account) store.Account {
	acct := stored
	if acct.ID == 0 {
		acct.Name = outside.Name
		acct.Source = outside.Source
	}
	acct.PasswordHash, acct.SCRAM, acct.APOPSecret = "", store.SCRAMCredentials{}, ""
	acct.Disabled = outside.Disabled || stored.Disabled
	acct.Expires = earlier(outside.Expires, stored.Expires)
	return acct
}

// earlier returns the earlier of two expiry dates, zero meaning never.
func earlier(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero() || a.Before(b):
		return a
	}
	return b
}

// Directory is the store's account lookup for delivery (a
// delivery.Directory) widened by the outside sources: a recipient that
// names no store account is looked up in each outside source in order
// (an address by LookupAddress, a bare name by Lookup), and the first that
// knows it gets its store account made, so that mail can arrive before the
// user's first login. An account the store holds always answers first,
// whatever its source.
type Directory struct {
	Store   DirectoryStore
	Sources []Source
	// List, when not nil, holds the sources instead of Sources (a
	// server, whose reload replaces them).
	List *SourceList
}

// sources returns the sources in effect.
func (d Directory) sources() []Source {
	if d.List != nil {
		return d.List.Load()
	}
	return d.Sources
}

// DirectoryStore is what [Directory] reads and writes of the store.
type DirectoryStore interface {
	AccountStore
	Accounts(ctx context.Context) ([]store.Account, error)
}

// Account looks name up; store.ErrNoSuchAccount when no one knows it. A
// source that cannot answer gives its error, which delivery reports as a
// temporary failure.
func (d Directory) Account(ctx context.Context, name string) (store.Account, error) {
	acct, err := d.Store.Account(ctx, name)
	if !errors.Is(err, store.ErrNoSuchAccount) {
		return acct, err
	}
	for _, src := range d.sources() {
		out, ok := src.(OutsideSource)
		if !ok {
			continue
		}
		var found store.Account
		var lerr error
		if strings.Contains(name, "@") {
			found, lerr = out.LookupAddress(ctx, name)
		} else {
			found, lerr = out.Lookup(ctx, name)
		}
		switch {
		case errors.Is(lerr, ErrUnknownUser):
			continue
		case lerr != nil:
			return store.Account{}, lerr
		}
		acct, perr := out.Provision(ctx, found)
		if errors.Is(perr, ErrOwnedElsewhere) {
			continue
		}
		return acct, perr
	}
	return store.Account{}, err
}

// Accounts lists the store's accounts (delivery's postmaster rule reads
// it); users of outside sources appear once their store account exists.
func (d Directory) Accounts(ctx context.Context) ([]store.Account, error) {
	return d.Store.Accounts(ctx)
}
