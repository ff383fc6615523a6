package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/postern/postern/internal/store"
)

// SourceLocal is the name of the store's own accounts as a [Source], the
// value of the global "Accounts:" option that is the default.
const SourceLocal = store.SourceLocal

// A Source is one place accounts come from (issue 22): the store's own
// accounts ([NewLocalSource]), and outside ones such as the host's passwd
// and shadow files or a directory. The Authenticator asks its sources in
// order; the first whose Lookup knows a name decides, so a wrong password
// there is a failure, never a fall-through to the next source. Everything
// around the check — the throttle, the verified-credentials cache, the
// attempt log and the account flags (DISUSER, DISMAIL, expiry) — is the
// Authenticator's, and so the same for every source.
type Source interface {
	// Name is the source's name as "Accounts:" spells it, for logs.
	Name() string
	// Lookup returns the account a login name names, with its flags.
	// ErrUnknownUser means this source does not know the name (the next
	// source is asked); any other error stops the login.
	Lookup(ctx context.Context, name string) (store.Account, error)
	// Verify reports whether password is acct's, for an account this
	// source's Lookup returned. A temporary failure of the source is an
	// error, never false.
	Verify(ctx context.Context, acct store.Account, password string) (bool, error)
	// CacheKey is what the verified-credentials cache binds a password
	// to besides the account name: a value that changes when the secret
	// changes (the stored hash), or for a source that shows no secret a
	// constant, so that a change at the source applies within
	// Auth-Cache-TTL.
	CacheKey(acct store.Account) string
}

// LocalSource is the store's accounts as a [Source]. Their credentials are
// the store's: the password hash (argon2id, or an imported scheme that the
// next login replaces), the SCRAM keys and the APOP secret.
type LocalSource struct {
	accounts    Accounts
	hasher      *Hasher
	localDomain func(string) bool
}

// NewLocalSource returns the store's accounts as a source. hasher verifies
// passwords (nil: one with the production costs). localDomain reports
// whether a domain is one of the site's own; a login as NAME@DOMAIN for
// such a domain finds the account NAME@DOMAIN first, then the bare NAME,
// as delivery does (internal/delivery Resolver). Nil means no domain is
// the site's own, so only the full name matches.
func NewLocalSource(accounts Accounts, hasher *Hasher, localDomain func(string) bool) *LocalSource {
	if hasher == nil {
		hasher = &Hasher{}
	}
	return &LocalSource{accounts: accounts, hasher: hasher, localDomain: localDomain}
}

// Name returns "local".
func (s *LocalSource) Name() string { return SourceLocal }

// Lookup finds a store account: the name as given, then, for NAME@DOMAIN
// at one of the site's domains, the bare NAME.
func (s *LocalSource) Lookup(ctx context.Context, name string) (store.Account, error) {
	acct, err := s.account(ctx, name)
	local, domain := store.SplitAccountName(name)
	if errors.Is(err, ErrUnknownUser) && domain != "" && s.localDomain != nil && s.localDomain(strings.ToLower(domain)) {
		acct, err = s.account(ctx, local)
	}
	return acct, err
}

// account looks one name up, turning "no such account" (and names that
// cannot be accounts) into ErrUnknownUser. A store account that an outside
// source owns is not a local account: it has no password here, and its
// name is that source's to answer for (issue 22).
func (s *LocalSource) account(ctx context.Context, name string) (store.Account, error) {
	acct, err := s.accounts.Account(ctx, name)
	switch {
	case errors.Is(err, store.ErrNoSuchAccount), errors.Is(err, store.ErrInvalidName):
		return store.Account{}, ErrUnknownUser
	case err != nil:
		return store.Account{}, fmt.Errorf("look up account: %w", err)
	case acct.Source != "" && acct.Source != SourceLocal:
		return store.Account{}, ErrUnknownUser
	}
	return acct, nil
}

// Verify checks password against the stored hash.
// An account without a password takes the time of a wrong one.
func (s *LocalSource) Verify(ctx context.Context, acct store.Account, password string) (bool, error) {
	if acct.PasswordHash == "" {
		s.hasher.verifyDummy(ctx, password)
		return false, nil
	}
	return s.hasher.verify(ctx, acct.PasswordHash, password)
}

// CacheKey is the stored hash: a password change misses at once.
func (s *LocalSource) CacheKey(acct store.Account) string { return acct.PasswordHash }
