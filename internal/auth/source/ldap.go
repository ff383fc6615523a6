package source

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/postern/postern/internal/auth"
	"github.com/postern/postern/internal/store"
)

// SourceLDAP is the LDAP source's name in "Accounts:".
const SourceLDAP = "ldap"

// Defaults of the [LDAP] section (docs/configuration.md).
const (
	DefaultUserFilter    = "(&(objectClass=inetOrgPerson)(uid=%u))"
	DefaultMailFilter    = "(&(objectClass=inetOrgPerson)(mail=%a))"
	DefaultNameAttribute = "uid"
	DefaultMailAttribute = "mail"
	DefaultLDAPTimeout   = 5 * time.Second
)

// maxLoginLength bounds a login name or address sent to the directory.
const maxLoginLength = 320

// LDAPOptions configure an LDAP source; app fills them from the [LDAP]
// section.
type LDAPOptions struct {
	URLs       []string    // Server-URL: ldap:// or ldaps://, tried in order
	StartTLS   bool        // Start-TLS on ldap:// URLs
	TLS        *tls.Config // trust (CA-File) and the server name; nil: system roots
	BindDN     string      // Bind-DN; "" searches anonymously
	BindPass   string      // the contents of Bind-Password-File
	BaseDN     string
	UserFilter string // %u, %n, %d
	MailFilter string // %a (and %u, %n, %d of the address)
	NameAttr   string // names the store account, lower-cased
	MailAttr   string
	BindAsUser bool          // verify by binding as the user; else compare userPassword
	Timeout    time.Duration // per directory operation

	Store  auth.AccountStore
	Hasher *auth.Hasher // verifies userPassword when BindAsUser is off
	Logger *slog.Logger
}

// LDAP is a directory as an account source (RFC 4511, 4513, 4515).
type LDAP struct {
	opts LDAPOptions
	link auth.StoreLink
	pool *pool

	// dns remembers the entry of the names Lookup found, for the Verify
	// that follows: the DN to bind as, or the userPassword to compare.
	mu  sync.Mutex
	dns map[string]entry
}

// entry is what a search found of one user.
type entry struct {
	dn    string
	name  string   // the Name-Attribute's value, lower-cased
	hash  string   // userPassword, read only when BindAsUser is off
	mails []string // the Mail-Attribute's values
}

// maxRemembered bounds LDAP.dns; it is emptied when full.
const maxRemembered = 10000

// NewLDAP returns an LDAP source. It does not connect: the first login
// does, so that a directory down at start does not stop the server.
func NewLDAP(opts LDAPOptions) (*LDAP, error) {
	if len(opts.URLs) == 0 {
		return nil, errors.New("ldap: no Server-URL")
	}
	for _, f := range []string{opts.UserFilter, opts.MailFilter} {
		s, err := expandFilter(f, loginVars("x@y"))
		if err == nil {
			_, err = ldap.CompileFilter(s)
		}
		if err != nil {
			return nil, fmt.Errorf("ldap: filter %q: %w", f, err)
		}
	}
	for _, a := range []string{opts.NameAttr, opts.MailAttr} {
		if !validAttribute(a) {
			return nil, fmt.Errorf("ldap: %q is not an attribute description", a)
		}
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultLDAPTimeout
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Hasher == nil {
		opts.Hasher = &auth.Hasher{}
	}
	return &LDAP{
		opts: opts,
		link: auth.StoreLink{Store: opts.Store, Source: SourceLDAP},
		pool: newPool(opts.URLs, opts.StartTLS, opts.TLS, opts.Timeout),
		dns:  map[string]entry{},
	}, nil
}

// Close closes the idle connections to the directory, and each busy one
// when its operation ends (a reload replaced the source).
func (s *LDAP) Close() { s.pool.close() }

// Name returns "ldap".
func (s *LDAP) Name() string { return SourceLDAP }

// CacheKey is a constant: the password is the directory's, so a change
// there applies when the cache entry ends (Auth-Cache-TTL).
func (s *LDAP) CacheKey(store.Account) string { return SourceLDAP }

// Lookup finds the user a login name names with User-Filter.
func (s *LDAP) Lookup(ctx context.Context, login string) (store.Account, error) {
	e, err := s.find(ctx, s.opts.UserFilter, login)
	if err != nil {
		return store.Account{}, err
	}
	return s.link.Attach(ctx, store.Account{Name: e.name})
}

// LookupAddress finds the user a recipient address names with
// Mail-Filter. The entry found must hold the address in its
// Mail-Attribute, so that a Mail-Filter that matches on something else
// (a typo, a wildcard attribute) delivers nothing to the wrong person.
func (s *LDAP) LookupAddress(ctx context.Context, addr string) (store.Account, error) {
	e, err := s.find(ctx, s.opts.MailFilter, addr)
	if err != nil {
		return store.Account{}, err
	}
	if !slices.ContainsFunc(e.mails, func(m string) bool { return strings.EqualFold(m, addr) }) {
		s.opts.Logger.Warn("ldap Mail-Filter matched an entry without the address in its Mail-Attribute",
			"dn", e.dn, "attribute", s.opts.MailAttr)
		return store.Account{}, auth.ErrUnknownUser
	}
	return s.link.Attach(ctx, store.Account{Name: e.name})
}

// Owns reports whether the directory knows the login name.
func (s *LDAP) Owns(ctx context.Context, name string) (bool, error) {
	_, err := s.find(ctx, s.opts.UserFilter, name)
	if errors.Is(err, auth.ErrUnknownUser) {
		return false, nil
	}
	return err == nil, err
}

// Provision makes the store account of a user Lookup found.
func (s *LDAP) Provision(ctx context.Context, acct store.Account) (store.Account, error) {
	return s.link.Provision(ctx, acct)
}

// Verify checks password: by binding as the user's DN (Bind-As-User, the
// default), or by comparing the entry's userPassword. An empty password
// is refused before any bind: RFC 4513 §5.1.2, a simple bind with a name
// and no password is an unauthenticated bind that many servers accept.
func (s *LDAP) Verify(ctx context.Context, acct store.Account, password string) (bool, error) {
	if password == "" {
		return false, nil
	}
	e, ok := s.remembered(acct.Name)
	if !ok {
		// Lookup came too long ago (or for another process): find the
		// entry again by its name attribute.
		var err error
		e, err = s.find(ctx, "("+s.opts.NameAttr+"=%u)", acct.Name)
		if err != nil {
			return false, err
		}
	}
	if !s.opts.BindAsUser {
		if e.hash == "" {
			return false, nil
		}
		return s.opts.Hasher.Verify(e.hash, password)
	}
	var ok2 bool
	err := s.do(ctx, func(pc *pconn) error {
		err := pc.c.Bind(e.dn, password)
		switch {
		case err == nil:
			pc.bound, ok2 = e.dn, true
			return nil
		case ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials):
			// The identity of the connection is now anonymous or
			// undefined: make the next search bind again.
			pc.bound, ok2 = "\x00", false
			return nil
		}
		pc.bound = "\x00"
		return err
	})
	return ok2, err
}

// remembered returns the entry Lookup found for name.
func (s *LDAP) remembered(name string) (entry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.dns[name]
	return e, ok
}

func (s *LDAP) remember(e entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.dns) >= maxRemembered {
		clear(s.dns)
	}
	s.dns[e.name] = e
}

// find searches Base-DN with a filter template expanded for login, and
// returns the one entry it matches. No entry, several entries, or an
// entry without a usable name is ErrUnknownUser (logged when it is the
// directory's doing); a directory that does not answer is ErrUnavailable.
func (s *LDAP) find(ctx context.Context, tmpl, login string) (entry, error) {
	if login == "" || len(login) > maxLoginLength {
		return entry{}, auth.ErrUnknownUser
	}
	filter, err := expandFilter(tmpl, loginVars(login))
	if err != nil {
		return entry{}, err
	}
	attrs := []string{s.opts.NameAttr, s.opts.MailAttr}
	if !s.opts.BindAsUser {
		attrs = append(attrs, "userPassword")
	}
	// Two entries are enough to know the filter is ambiguous; the
	// directory stops there (sizeLimitExceeded), so a filter that
	// matches thousands costs nothing. Referrals are not followed.
	req := ldap.NewSearchRequest(s.opts.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
		2, int(s.opts.Timeout/time.Second)+1, false, filter, attrs, nil)
	var res *ldap.SearchResult
	err = s.do(ctx, func(pc *pconn) error {
		if err := s.bindService(pc); err != nil {
			return err
		}
		var err error
		res, err = pc.c.Search(req)
		if ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded) {
			return nil // res holds the entries returned
		}
		return err
	})
	if err != nil {
		return entry{}, err
	}
	return s.entryOf(res, filter)
}

// entryOf picks the one entry of a search.
func (s *LDAP) entryOf(res *ldap.SearchResult, filter string) (entry, error) {
	switch {
	case res == nil || len(res.Entries) == 0:
		return entry{}, auth.ErrUnknownUser
	case len(res.Entries) > 1:
		s.opts.Logger.Warn("ldap filter matches several entries; login refused", "filter", filter)
		return entry{}, auth.ErrUnknownUser
	}
	le := res.Entries[0]
	e := entry{dn: le.DN, name: strings.ToLower(le.GetAttributeValue(s.opts.NameAttr)), hash: le.GetAttributeValue("userPassword"),
		mails: le.GetAttributeValues(s.opts.MailAttr)}
	if err := store.ValidateAccountName(e.name); err != nil {
		s.opts.Logger.Warn("ldap entry's name attribute is not an account name", "dn", le.DN, "attribute", s.opts.NameAttr, "err", err)
		return entry{}, auth.ErrUnknownUser
	}
	s.remember(e)
	return e, nil
}

// bindService binds a connection as Bind-DN when it is bound as anything
// else (a user whose password was checked on it).
func (s *LDAP) bindService(pc *pconn) error {
	if pc.bound == s.opts.BindDN {
		return nil
	}
	var err error
	if s.opts.BindDN == "" {
		err = pc.c.UnauthenticatedBind("")
	} else {
		err = pc.c.Bind(s.opts.BindDN, s.opts.BindPass)
	}
	if err != nil {
		pc.bound = "\x00"
		if ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) {
			// A wrong Bind-DN or password is the operator's to fix;
			// to a client it is a temporary failure.
			s.opts.Logger.Error("ldap: bind as Bind-DN refused; check Bind-DN and Bind-Password-File", "bind_dn", s.opts.BindDN)
			return fmt.Errorf("%w: bind as %s refused", auth.ErrUnavailable, s.opts.BindDN)
		}
		return err
	}
	pc.bound = s.opts.BindDN
	return nil
}

// do runs fn on a pooled connection, within Timeout, closing the
// connection if fn has not returned by then. A network failure is retried
// once on a new connection (the next server, when the first is down); a
// second one is ErrUnavailable. The whole is bounded by about twice
// Timeout, never a hang.
func (s *LDAP) do(ctx context.Context, fn func(*pconn) error) error {
	var err error
	for try := 0; try < 2; try++ {
		gctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
		var pc *pconn
		pc, err = s.pool.get(gctx)
		cancel()
		if err != nil {
			continue
		}
		err = s.pool.guarded(pc.c, func() error { return fn(pc) })
		broken := err != nil && isNetworkError(err)
		s.pool.put(pc, broken)
		if !broken {
			return err
		}
		if ctx.Err() != nil {
			break
		}
	}
	if errors.Is(err, auth.ErrUnavailable) {
		return err
	}
	return fmt.Errorf("%w: %w", auth.ErrUnavailable, err)
}

// validAttribute reports whether a is an attribute description's
// descriptor or numeric OID (RFC 4512 §1.4), so that it can stand in a
// filter as it is.
func validAttribute(a string) bool {
	if a == "" {
		return false
	}
	for i, c := range a {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case c >= '0' && c <= '9', c == '-' && i > 0, c == '.' && i > 0:
		default:
			return false
		}
	}
	return true
}
