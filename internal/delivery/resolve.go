package delivery

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/postern/postern/internal/mail11"
	"github.com/postern/postern/internal/srs"
	"github.com/postern/postern/internal/store"
)

// Errors of recipient resolution, besides ErrNoSuchUser and ErrNoMail.
var (
	// ErrNotLocal means the address's domain is not one of ours.
	ErrNotLocal = errors.New("domain is not local")
	// ErrAliasLoop means an alias expands into itself or too deeply.
	ErrAliasLoop = errors.New("alias loop")
)

// maxAliasDepth bounds alias expansion, and maxAliasTargets its fan-out.
const (
	maxAliasDepth   = 10
	maxAliasTargets = 1000
)

// Directory is the part of the store the Resolver reads: account lookups.
type Directory interface {
	Account(ctx context.Context, name string) (store.Account, error)
	Accounts(ctx context.Context) ([]store.Account, error)
}

// ResolverOptions configure a Resolver.
type ResolverOptions struct {
	// Directory looks accounts up; a store.Store fits.
	Directory Directory
	// Hostname, SubstituteDomain and Domains are local domains. Hostname
	// is always local.
	Hostname         string
	SubstituteDomain string
	Domains          []string
	// DomainsFile is the Local-Aliases-File: one further local domain per
	// line, "!" starts a comment (hp-system.md §9). Empty means none.
	DomainsFile string
	// ReadDomainsFile reads DomainsFile. app passes the reader of the
	// Mail11 view (mail11.ParseLocalAliases), so that SMTP and the POP3/
	// IMAP address rewriting share one "local host" routine, as the
	// original's SMTP, POP and IMAP servers did. Nil uses a plain reader
	// of the same format.
	ReadDomainsFile func(path string) ([]string, error)
	// AliasesFile holds "alias: target, target" lines (Aliases-File). An
	// alias is a local part (valid in every local domain) or a full
	// address; a target is an account name, a local address or a remote
	// address. "#" and "!" start comment lines. Empty means none.
	AliasesFile string
	// SRS, when set, reverses SRS0 addresses at the local domains (the
	// senders of mail forwarded off-site, package srs): a bounce to one
	// whose hash and age verify resolves to the original sender, as a
	// forward; one that does not verify is an unknown user. Clock gives
	// the time for the age check; nil means time.Now.
	SRS   *srs.Rewriter
	Clock func() time.Time
	// Logger receives reload results; nil discards.
	Logger *slog.Logger
}

// Target is where one recipient's copy goes: a local account or, for an
// alias that points off-site, a remote address to forward to.
type Target struct {
	Account string // canonical account name; "" for a remote target
	Remote  string // remote address; "" for a local target
	// Forward marks a remote target reached through the Aliases-File or
	// an SRS0 address: mail is forwarded to it, and its envelope sender
	// is rewritten by SRS so that SPF at the far end passes.
	Forward bool
}

// Resolver maps envelope recipients to accounts: it knows the local
// domains, the aliases table, plus-addressing (user+tag@), the postmaster
// rule (RFC 5321 §4.5.1) and compares local parts case-insensitively. It is
// safe for concurrent use; Reload swaps the tables atomically.
type Resolver struct {
	opts ResolverOptions

	mu      sync.RWMutex
	domains map[string]bool
	aliases map[string][]string // lower-cased key → targets
}

// NewResolver returns a Resolver with its files loaded. A file that cannot
// be read is an error: startup must not silently accept mail for fewer
// domains than the administrator configured.
func NewResolver(opts ResolverOptions) (*Resolver, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	r := &Resolver{opts: opts}
	if err := r.Reload(); err != nil {
		return nil, err
	}
	return r, nil
}

// Reload re-reads the domains and aliases files (on SIGHUP). On an error
// the previous tables stay in use.
func (r *Resolver) Reload() error {
	domains := map[string]bool{}
	for _, d := range append([]string{r.opts.Hostname, r.opts.SubstituteDomain}, r.opts.Domains...) {
		if d != "" {
			domains[strings.ToLower(strings.TrimSuffix(d, "."))] = true
		}
	}
	if r.opts.DomainsFile != "" {
		read := r.opts.ReadDomainsFile
		if read == nil {
			read = readDomainsFile
		}
		ds, err := read(r.opts.DomainsFile)
		if err != nil {
			return err
		}
		for _, d := range ds {
			domains[strings.ToLower(strings.TrimSuffix(d, "."))] = true
		}
	}
	aliases := map[string][]string{}
	if r.opts.AliasesFile != "" {
		var err error
		if aliases, err = readAliasesFile(r.opts.AliasesFile); err != nil {
			return err
		}
	}
	r.mu.Lock()
	r.domains, r.aliases = domains, aliases
	r.mu.Unlock()
	r.opts.Logger.Info("recipient tables loaded", "domains", len(domains), "aliases", len(aliases))
	return nil
}

// IsLocalDomain reports whether mail for domain is ours.
func (r *Resolver) IsLocalDomain(domain string) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.domains[strings.ToLower(strings.TrimSuffix(domain, "."))]
}

// Resolve maps one recipient to its targets. A local-domain address that
// names neither an alias nor an account gives ErrNoSuchUser; an address of
// another domain gives ErrNotLocal (the caller decides whether to relay).
func (r *Resolver) Resolve(ctx context.Context, a Address) ([]Target, error) {
	if a.Domain != "" && !r.IsLocalDomain(a.Domain) {
		return nil, fmt.Errorf("%w: %s", ErrNotLocal, a.Domain)
	}
	return r.ResolveLocal(ctx, a)
}

// ResolveLocal is Resolve without the domain check, for LMTP: the MTA in
// front has already decided that the address is local, and may use virtual
// domains this server is not told about.
func (r *Resolver) ResolveLocal(ctx context.Context, a Address) ([]Target, error) {
	var out []Target
	seen := map[string]bool{}
	if err := r.expand(ctx, a, 0, seen, &out); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		// Only aliases that lead back to themselves: refuse rather than
		// accept a message that would go nowhere.
		return nil, fmt.Errorf("%w at %s", ErrAliasLoop, a)
	}
	return out, nil
}

func (r *Resolver) expand(ctx context.Context, a Address, depth int, seen map[string]bool, out *[]Target) error {
	if depth > maxAliasDepth || len(*out) > maxAliasTargets {
		return fmt.Errorf("%w at %s", ErrAliasLoop, a)
	}
	key := strings.ToLower(a.String())
	if seen[key] {
		return nil // a diamond or a cycle: each address once
	}
	seen[key] = true
	if r.opts.SRS != nil && len(a.Local) > 5 && strings.EqualFold(a.Local[:5], "SRS0=") {
		return r.reverseSRS(ctx, a, depth, seen, out)
	}
	if targets, ok := r.lookupAlias(a); ok {
		for _, t := range targets {
			if err := r.expandTarget(ctx, t, depth+1, seen, out); err != nil {
				return err
			}
		}
		return nil
	}
	acct, err := r.addressAccount(ctx, a)
	if err != nil {
		return err
	}
	if !slices.Contains(*out, Target{Account: acct}) {
		*out = append(*out, Target{Account: acct})
	}
	return nil
}

// expandTarget follows one alias target: an account name, a local address
// or a remote address.
func (r *Resolver) expandTarget(ctx context.Context, t string, depth int, seen map[string]bool, out *[]Target) error {
	if !strings.Contains(t, "@") {
		return r.expand(ctx, Address{Local: t}, depth, seen, out)
	}
	ta, err := ParseAddress(t)
	if err != nil {
		return fmt.Errorf("alias target %q: %w", t, err)
	}
	if !r.IsLocalDomain(ta.Domain) {
		if t := (Target{Remote: ta.String(), Forward: true}); !slices.Contains(*out, t) {
			*out = append(*out, t)
		}
		return nil
	}
	return r.expand(ctx, ta, depth, seen, out)
}

// reverseSRS resolves an SRS0 address to the original sender it encodes
// once its hash and age verify: forwarded when remote, expanded as any
// recipient when local. One that does not verify is an unknown user, so a
// forged or stale bounce is refused at RCPT.
func (r *Resolver) reverseSRS(ctx context.Context, a Address, depth int, seen map[string]bool, out *[]Target) error {
	now := time.Now
	if r.opts.Clock != nil {
		now = r.opts.Clock
	}
	orig, err := r.opts.SRS.Reverse(a.Local, now())
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrNoSuchUser, a, err)
	}
	ta, err := ParseAddress(orig)
	if err != nil || ta.Domain == "" {
		return fmt.Errorf("%w: %s: bad SRS original %q", ErrNoSuchUser, a, orig)
	}
	if r.IsLocalDomain(ta.Domain) {
		return r.expand(ctx, ta, depth+1, seen, out)
	}
	if t := (Target{Remote: ta.String(), Forward: true}); !slices.Contains(*out, t) {
		*out = append(*out, t)
	}
	return nil
}

// lookupAlias tries the full address, then the local part alone, each
// first as written and then without its +detail.
func (r *Resolver) lookupAlias(a Address) ([]string, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	local := strings.ToLower(a.Local)
	keys := []string{local + "@" + a.Domain, local, a.Base() + "@" + a.Domain, a.Base()}
	for _, k := range keys {
		if t, ok := r.aliases[k]; ok {
			return t, true
		}
	}
	return nil, false
}

// addressAccount finds the account an address names: the account named
// by the whole address (NAME@DOMAIN, issue 22) first, then the bare NAME,
// which is how every address of the site's domains reached its account
// before accounts had domains.
func (r *Resolver) addressAccount(ctx context.Context, a Address) (string, error) {
	if a.Domain != "" {
		acct, err := r.opts.Directory.Account(ctx, a.Base()+"@"+a.Domain)
		switch {
		case err == nil && acct.NoMail:
			return "", fmt.Errorf("%w: %s", ErrNoMail, acct.Name)
		case err == nil:
			return acct.Name, nil
		case !errors.Is(err, store.ErrNoSuchAccount) && !errors.Is(err, store.ErrInvalidName):
			return "", fmt.Errorf("look up account %q: %w", a.Base()+"@"+a.Domain, err)
		}
	}
	return r.account(ctx, a.Base())
}

// account finds the account a local part names. postmaster always
// resolves: to an account of that name, else to the first administrator
// (RFC 5321 §4.5.1).
func (r *Resolver) account(ctx context.Context, name string) (string, error) {
	acct, err := r.opts.Directory.Account(ctx, name)
	switch {
	case errors.Is(err, store.ErrNoSuchAccount) && name == "postmaster":
		return r.postmaster(ctx)
	case errors.Is(err, store.ErrNoSuchAccount):
		return "", fmt.Errorf("%w: %s", ErrNoSuchUser, name)
	case err != nil:
		return "", fmt.Errorf("look up account %q: %w", name, err)
	case acct.NoMail:
		return "", fmt.Errorf("%w: %s", ErrNoMail, acct.Name)
	}
	return acct.Name, nil
}

func (r *Resolver) postmaster(ctx context.Context) (string, error) {
	accts, err := r.opts.Directory.Accounts(ctx)
	if err != nil {
		return "", fmt.Errorf("list accounts: %w", err)
	}
	for _, a := range accts {
		if a.Admin && !a.NoMail {
			return a.Name, nil
		}
	}
	r.opts.Logger.Warn("mail for postmaster but no administrator account receives mail; make one with postern user set NAME --admin")
	return "", fmt.Errorf("%w: postmaster (no administrator account)", ErrNoSuchUser)
}

// Owns reports whether account may use from as its envelope sender: from
// must be in a local domain and resolve to account alone, either directly
// (NAME@domain, NAME+tag@domain) or through an alias the administrator
// made for it. An account named NAME@DOMAIN owns that address; the bare
// NAME owns NAME@ of every local domain where no NAME@DOMAIN account
// exists.
func (r *Resolver) Owns(ctx context.Context, account, from string) bool {
	a, err := ParseAddress(from)
	if err != nil || a.Domain == "" || !r.IsLocalDomain(a.Domain) {
		return false
	}
	full := a.Base() + "@" + a.Domain
	if strings.EqualFold(full, account) {
		return true
	}
	if strings.EqualFold(a.Base(), account) {
		_, err := r.opts.Directory.Account(ctx, full)
		return errors.Is(err, store.ErrNoSuchAccount)
	}
	ts, err := r.Resolve(ctx, a)
	return err == nil && len(ts) == 1 && strings.EqualFold(ts[0].Account, account)
}

// readDomainsFile reads a Local-Aliases-File with the Mail11 view's
// parser. Lines it cannot read are skipped (app's reader also logs them).
func readDomainsFile(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read local aliases file: %w", err)
	}
	defer f.Close()
	names, err := mail11.ParseLocalAliases(f)
	var lineErr *mail11.AliasLineError
	if err != nil && !errors.As(err, &lineErr) {
		return nil, fmt.Errorf("read local aliases file %s: %w", path, err)
	}
	return names, nil
}

// readAliasesFile reads an Aliases-File.
func readAliasesFile(path string) (map[string][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read aliases file: %w", err)
	}
	defer f.Close()
	m, err := ParseAliases(f)
	if err != nil {
		return nil, fmt.Errorf("aliases file %s: %w", path, err)
	}
	return m, nil
}

// ParseAliases parses the aliases format: "alias: target, target" per line,
// "#" or "!" comment lines, blank lines ignored. Keys are lower-cased.
func ParseAliases(r io.Reader) (map[string][]string, error) {
	m := map[string][]string{}
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		l := strings.TrimSpace(sc.Text())
		if l == "" || l[0] == '!' || l[0] == '#' {
			continue
		}
		key, val, ok := strings.Cut(l, ":")
		key = strings.ToLower(strings.TrimSpace(key))
		if !ok || key == "" || strings.ContainsAny(key, " \t,") {
			return nil, fmt.Errorf("line %d: want \"alias: address, address\"", n)
		}
		var targets []string
		for _, t := range strings.Split(val, ",") {
			if t = strings.TrimSpace(t); t != "" {
				targets = append(targets, t)
			}
		}
		if len(targets) == 0 {
			return nil, fmt.Errorf("line %d: alias %q has no target", n, key)
		}
		m[key] = append(m[key], targets...)
	}
	return m, sc.Err()
}
