package auth

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/postern/postern/internal/store"
)

// Accounts is the part of [store.Store] the Authenticator uses: account
// lookups only. It never writes; see Options.Upgrade.
type Accounts interface {
	// Account looks an account up by name, case-insensitively, and returns
	// store.ErrNoSuchAccount if there is none.
	Account(ctx context.Context, name string) (store.Account, error)
}

// ConnInfo describes the connection an attempt comes from.
type ConnInfo struct {
	// Remote is the client's address, the throttling key. The zero Addr
	// (a non-IP transport) is not throttled.
	Remote netip.Addr
	// Proto is the protocol ("pop3", "imap", "smtp"), for logs.
	Proto string
	// TLS reports whether the connection is encrypted, for logs.
	TLS bool
	// TLSExporter is the connection's tls-exporter channel binding data
	// (RFC 9266; [TLSExporter]), nil without TLS 1.3: SCRAM-SHA-256-PLUS
	// needs it.
	TLSExporter []byte
	// Log is the connection's logger (with its cid); nil means
	// Options.Logger.
	Log *slog.Logger
}

// Attempt describes one finished authentication attempt, for statistics
// such as XTND STATS "Auth Failures" and the auth_attempts_total metric.
type Attempt struct {
	Mechanism string // MechPassword, MechAPOP, MechPlain, MechLogin or MechSCRAMSHA256
	User      string // the name the client gave, never a secret
	Conn      ConnInfo
	// RetryAfter is set when the throttle held the attempt back (Err is
	// then a *ThrottledError): how long the client must wait.
	RetryAfter time.Duration
	Err        error // nil on success; see Result
}

// Mechanism names as they appear in Attempt.Mechanism. The SASL ones are
// the registered names that NewMechanism accepts.
const (
	MechPassword    = "PASSWORD" // Login: USER/PASS, IMAP LOGIN
	MechName        = "USER"     // CheckName: POP3 USER in FRIENDLY mode
	MechAPOP        = "APOP"
	MechPlain       = "PLAIN"
	MechLogin       = "LOGIN"
	MechSCRAMSHA256 = "SCRAM-SHA-256"
)

// Options configure an Authenticator. Only Store is required.
type Options struct {
	// Store looks accounts up. A store.Store fits.
	Store Accounts

	// Sources are where accounts come from, asked in order (the global
	// "Accounts:" option); see [Source]. Nil means the store's accounts
	// alone: NewLocalSource(Store, Hasher, LocalDomain).
	Sources []Source
	// SourceList, when not nil, holds the sources instead of Sources, so
	// that a reload can replace them for every Authenticator at once.
	SourceList *SourceList

	// LocalDomain reports whether a domain is one of the site's own, for
	// the default local source (see [NewLocalSource]). Nil: none.
	LocalDomain func(domain string) bool

	// AdminImpersonation lets an administrator log in as another account
	// with SASL PLAIN's authorization identity (global
	// Admin-Impersonation; impersonate.go). Off: such a login is refused
	// with ErrAuthzidNotAllowed.
	AdminImpersonation bool

	// ChannelBinding offers SCRAM-SHA-256-PLUS on connections with
	// tls-exporter data (global SCRAM-Channel-Binding; scram_plus.go).
	ChannelBinding bool

	// Bearer, if set, verifies OAuth 2.0 bearer tokens: the OAUTHBEARER
	// and XOAUTH2 mechanisms are offered ([OAuth] section; oauth.go).
	Bearer TokenVerifier

	// Hasher verifies passwords and bounds concurrent hashing. Nil means a
	// Hasher with the production costs. Tests pass one with
	// CheapArgon2Params.
	Hasher *Hasher

	// Clock returns the current time, for expiry and throttling. Nil means
	// time.Now.
	Clock func() time.Time

	// Logger receives one Info line per attempt when ConnInfo.Log is nil.
	// Nil discards.
	Logger *slog.Logger

	// Throttle configures failure throttling; tests set Off (STYLE B10:
	// zero anti-abuse delays).
	Throttle ThrottleOptions

	// Cache, if set, remembers recently verified passwords so that a
	// repeated login does not run argon2id again; see [Cache]. Share one
	// among the Authenticators of every protocol. Nil: every password login
	// is verified in full.
	Cache *Cache

	// SharedThrottle, if set, is used instead of a table of this
	// Authenticator's own (Throttle is then ignored), so that the servers
	// of every protocol count an address's failures together: spreading
	// guesses over POP3, IMAP and SMTP gains an attacker nothing.
	SharedThrottle *Throttle

	// Verifier, if set, holds the throttle, the cache and the hash queue
	// instead of Hasher, Cache and SharedThrottle (which then serve only
	// the credential upgrade and SCRAM's iteration count): a worker of
	// `postern serve` asks its supervisor's (VerifierClient). Nil: a
	// LocalVerifier of those.
	Verifier Verifier

	// OnAttempt, if set, is called after every attempt that reached a
	// verdict (not after malformed input), on the caller's goroutine.
	OnAttempt func(Attempt)

	// Upgrade, if set, is called after a successful password login whose
	// stored hash needs rehashing (bcrypt, older argon2 costs) or whose
	// SCRAM keys are missing or weaker than the Hasher's, with fresh
	// credentials computed from the password just verified. It is how
	// migrated accounts move to argon2id and gain SCRAM. A failure is
	// logged and does not fail the login.
	Upgrade func(ctx context.Context, name string, u store.AccountUpdate) error

	// SCRAMNonce, if set, makes the server part of SCRAM nonces. It exists
	// for tests that replay RFC 7677 §3; nil means 18 random bytes in
	// base64.
	SCRAMNonce func() string
}

// Authenticator verifies credentials against the account store and applies
// the account rules of hp-system.md §1.4 in one place. It is safe for
// concurrent use.
type Authenticator struct {
	sources   *SourceList
	hasher    *Hasher
	verifier  Verifier  // the throttle, the cache and the hash queue
	throttle  *Throttle // the local verifier's; nil with another
	clock     func() time.Time
	logger    *slog.Logger
	onAttempt func(Attempt)
	upgrade   func(context.Context, string, store.AccountUpdate) error
	nonce     func() string

	impersonation bool
	binding       bool // Options.ChannelBinding
	bearer        TokenVerifier

	// secret keys the fake SCRAM salts and APOP secrets of unknown users.
	// It lives as long as the process, so a name gets the same fake salt
	// on every attempt, as a real account would.
	secret []byte
}

// New returns an Authenticator.
func New(opts Options) *Authenticator {
	a := &Authenticator{
		sources:   opts.SourceList,
		hasher:    opts.Hasher,
		verifier:  opts.Verifier,
		clock:     opts.Clock,
		logger:    opts.Logger,
		onAttempt: opts.OnAttempt,
		upgrade:   opts.Upgrade,
		nonce:     opts.SCRAMNonce,

		impersonation: opts.AdminImpersonation,
		binding:       opts.ChannelBinding,
		bearer:        opts.Bearer,
		secret:        make([]byte, 32),
	}
	rand.Read(a.secret)
	if a.hasher == nil {
		a.hasher = &Hasher{}
	}
	if a.clock == nil {
		a.clock = time.Now
	}
	if a.sources == nil {
		srcs := opts.Sources
		if srcs == nil {
			srcs = []Source{NewLocalSource(opts.Store, a.hasher, opts.LocalDomain)}
		}
		a.sources = NewSourceList(srcs)
	}
	if a.logger == nil {
		a.logger = slog.New(slog.DiscardHandler)
	}
	if a.verifier == nil {
		t := opts.SharedThrottle
		if t == nil {
			t = NewThrottle(opts.Throttle, a.clock)
		}
		a.throttle = t
		a.verifier = NewLocalVerifier(a.hasher, opts.Cache, t)
	}
	return a
}

// Throttle returns the failure throttle this Authenticator uses; nil when
// it asks another process's (Options.Verifier).
func (a *Authenticator) Throttle() *Throttle { return a.throttle }

// Login checks a user name and password: POP3 USER/PASS, IMAP LOGIN, and
// the PLAIN and LOGIN mechanisms. It returns the account on success, or an
// error from errors.go: ErrUnknownUser or ErrBadCredentials for wrong
// credentials, then ErrDisabled, ErrExpired or ErrNoMail for an account that
// may not log in; anything else is an internal error.
//
// An attempt from an address (or for a user from an address) with recent
// failures may be held back without being checked: it then returns a
// *ThrottledError (ErrThrottled) saying how long to wait (see [Throttle]).
// The decision comes before the check, never after it, so its timing
// tells nothing about the password.
func (a *Authenticator) Login(ctx context.Context, name, password string, c ConnInfo) (store.Account, error) {
	return a.login(ctx, MechPassword, name, password, c)
}

func (a *Authenticator) login(ctx context.Context, mech, name, password string, c ConnInfo) (store.Account, error) {
	at := Attempt{Mechanism: mech, User: name, Conn: c}
	if err := a.wait(ctx, &at); err != nil {
		return store.Account{}, err
	}
	src, acct, cached, err := a.checkPassword(ctx, name, password, c.Remote)
	if err == nil && a.checkAccount(acct) == nil {
		acct, err = a.provision(ctx, src, acct)
	}
	acct, err = a.finish(ctx, &at, acct, err)
	if err == nil && !cached {
		// Only a whole successful login is remembered: the account flags
		// were checked too. A hit is not re-stored, so an entry expires
		// one TTL after the verification that made it.
		a.verifier.Remember(acct.Name, src.CacheKey(acct), password)
		if _, local := src.(*LocalSource); local {
			a.maybeUpgrade(ctx, acct, password, c)
		}
	}
	return acct, err
}

// CheckName reports whether an account of that name exists (nil) or not
// (ErrUnknownUser), for the original's FRIENDLY POP3 USER reply, which
// tells an unknown name at once (hp-system §2). Asking is an attempt like
// any other: it may be held back by the throttle, and an unknown name
// counts as a failure and is reported, so that probing names is as slow as
// guessing passwords. A known name is not reported: the password that
// follows is.
func (a *Authenticator) CheckName(ctx context.Context, name string, c ConnInfo) error {
	at := Attempt{Mechanism: MechName, User: name, Conn: c}
	if err := a.wait(ctx, &at); err != nil {
		return err
	}
	_, err := a.lookup(ctx, name)
	if errors.Is(err, ErrUnknownUser) {
		a.verifier.Record(c.Remote, name, OutcomeFailure)
		at.Err = err
		a.report(ctx, &at)
		return err
	}
	a.verifier.Record(c.Remote, name, OutcomeRelease)
	return err
}

// checkPassword verifies password, spending the time of one hash whatever
// happens, so that timing does not tell an unknown user from a wrong
// password. The exceptions (cached is then true) are a password the cache
// has seen verified against the account's current stored hash, answered
// at once, which tells the client only what the success reply tells it
// anyway; and an attempt made while the same credentials were being
// verified for another, which shares that verification's verdict. The
// account is always read from the store, so its flags are current; the
// Verifier gets the stored hash to check, never the account.
func (a *Authenticator) checkPassword(ctx context.Context, name, password string, remote netip.Addr) (src Source, acct store.Account, cached bool, err error) {
	p := PasswordCheck{Password: password, Remote: remote, Login: name}
	src, acct, err = a.lookupSource(ctx, name)
	if err != nil {
		if errors.Is(err, ErrUnknownUser) {
			a.verifier.Dummy(ctx, p)
		}
		return nil, store.Account{}, false, err
	}
	p.Account, p.Key = acct.Name, src.CacheKey(acct)
	if _, local := src.(*LocalSource); local {
		p.ByHash, p.Hash = true, acct.PasswordHash
	}
	ok, cached, err := a.verifier.Verify(ctx, p, func(ctx context.Context) (bool, error) {
		return src.Verify(ctx, acct, password)
	})
	if err != nil {
		return nil, store.Account{}, false, fmt.Errorf("verify password of account %q (%s): %w", acct.Name, src.Name(), err)
	}
	if !ok {
		return nil, store.Account{}, false, ErrBadCredentials
	}
	return src, acct, cached, nil
}

// lookup finds an account in the sources; see lookupSource.
func (a *Authenticator) lookup(ctx context.Context, name string) (store.Account, error) {
	_, acct, err := a.lookupSource(ctx, name)
	return acct, err
}

// lookupProvisioned finds an account in the sources and, for a user of an
// outside source, the store account that holds its mail, made on first
// use: for identities already proven (a bearer token, an impersonation).
func (a *Authenticator) lookupProvisioned(ctx context.Context, name string) (store.Account, error) {
	src, acct, err := a.lookupSource(ctx, name)
	if err != nil {
		return store.Account{}, err
	}
	return a.provision(ctx, src, acct)
}

// provision returns the store account of a user of an outside source,
// made at its first login (OutsideSource.Provision); a store account
// passes through. A name another source owns in the store is refused as
// an unknown user, so its owner's mail and rights stay its owner's.
func (a *Authenticator) provision(ctx context.Context, src Source, acct store.Account) (store.Account, error) {
	out, ok := src.(OutsideSource)
	if !ok {
		return acct, nil
	}
	p, err := out.Provision(ctx, acct)
	if errors.Is(err, ErrOwnedElsewhere) {
		a.logger.LogAttrs(ctx, slog.LevelWarn, "login refused: name owned by another account source",
			slog.String("user", acct.Name), slog.String("source", src.Name()), slog.Any("err", err))
		return store.Account{}, fmt.Errorf("%w (%v)", ErrUnknownUser, err)
	}
	if err != nil {
		return store.Account{}, fmt.Errorf("store account of %q (%s): %w", acct.Name, src.Name(), err)
	}
	return p, nil
}

// lookupSource asks the sources in order; the first that knows the name
// decides. ErrUnknownUser when none does.
func (a *Authenticator) lookupSource(ctx context.Context, name string) (Source, store.Account, error) {
	for _, src := range a.sources.Load() {
		acct, err := src.Lookup(ctx, name)
		if errors.Is(err, ErrUnknownUser) {
			continue
		}
		if err != nil {
			return nil, store.Account{}, err
		}
		return src, acct, nil
	}
	return nil, store.Account{}, ErrUnknownUser
}

// checkAccount applies the SYSUAF restrictions of hp-system.md §1.4. It
// runs only after the credentials were verified, so that the flags are not
// revealed to someone without the password. DISUSER comes first because it
// makes the account unusable for everything; DISMAIL last because it is
// specific to mail.
func (a *Authenticator) checkAccount(acct store.Account) error {
	switch {
	case acct.Disabled:
		return ErrDisabled
	case acct.Expired(a.clock()):
		return ErrExpired
	case acct.NoMail:
		return ErrNoMail
	}
	return nil
}

// APOP checks an APOP command (RFC 1939 §7): digest must be the lower-case
// hex MD5 of timestamp (the greeting's "<...>" banner, brackets included)
// followed by the account's shared secret. Upper-case hex is accepted too.
// An account without a secret gives ErrNoAPOPSecret. Errors are as for
// Login.
func (a *Authenticator) APOP(ctx context.Context, name, timestamp, digest string, c ConnInfo) (store.Account, error) {
	if timestamp == "" {
		return store.Account{}, errors.New("APOP without a greeting timestamp")
	}
	at := Attempt{Mechanism: MechAPOP, User: name, Conn: c}
	if err := a.wait(ctx, &at); err != nil {
		return store.Account{}, err
	}
	acct, err := a.checkAPOP(ctx, name, timestamp, digest)
	return a.finish(ctx, &at, acct, err)
}

func (a *Authenticator) checkAPOP(ctx context.Context, name, timestamp, digest string) (store.Account, error) {
	acct, err := a.lookup(ctx, name)
	if err != nil && !errors.Is(err, ErrUnknownUser) {
		return store.Account{}, err
	}
	unknown := err != nil
	secret := acct.APOPSecret
	if unknown || secret == "" {
		// Compute against a fake secret anyway: cheap, but keeps the code
		// path, and so the timing, of a real check.
		secret = hex.EncodeToString(hmacSHA256(a.secret, []byte("apop\x00"+name)))
	}
	sum := md5.Sum([]byte(timestamp + secret))
	want := hex.EncodeToString(sum[:])
	match := subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(digest))) == 1
	switch {
	case unknown:
		return store.Account{}, ErrUnknownUser
	case acct.APOPSecret == "":
		return store.Account{}, ErrNoAPOPSecret
	case !match:
		return store.Account{}, ErrBadCredentials
	}
	return acct, nil
}

// wait asks the throttle whether the attempt may be checked now; if not,
// it reports the attempt and returns the *ThrottledError.
func (a *Authenticator) wait(ctx context.Context, at *Attempt) error {
	d, err := a.verifier.Check(ctx, at.Conn.Remote, at.User)
	if err != nil {
		// The shared throttle cannot be asked: refuse, as a temporary
		// failure (ErrUnavailable), rather than let the attempt through.
		at.Err = err
		a.report(ctx, at)
		return err
	}
	if d <= 0 {
		return nil
	}
	at.RetryAfter = d
	at.Err = &ThrottledError{RetryAfter: d}
	a.report(ctx, at)
	return at.Err
}

// finish is the single epilogue of every attempt that was checked:
// account checks, throttle bookkeeping, the log line and the OnAttempt
// callback.
func (a *Authenticator) finish(ctx context.Context, at *Attempt, acct store.Account, err error) (store.Account, error) {
	if err == nil {
		err = a.checkAccount(acct)
	}
	switch {
	case errors.Is(err, ErrBadCredentials):
		a.verifier.Record(at.Conn.Remote, at.User, OutcomeFailure)
	case acct.Name != "" && !errors.Is(err, ErrMalformed):
		// The credentials were right (the account may still be
		// disabled or expired: not a guess either way).
		a.verifier.Record(at.Conn.Remote, at.User, OutcomeSuccess)
	default:
		a.verifier.Record(at.Conn.Remote, at.User, OutcomeRelease)
	}
	at.Err = err
	a.report(ctx, at)
	if err != nil {
		return store.Account{}, err
	}
	return acct, nil
}

func (a *Authenticator) report(ctx context.Context, at *Attempt) {
	log := at.Conn.Log
	if log == nil {
		log = a.logger
	}
	attrs := []slog.Attr{
		slog.String("mech", at.Mechanism),
		slog.String("user", at.User),
		slog.String("result", Result(at.Err)),
	}
	if at.Conn.Proto != "" {
		attrs = append(attrs, slog.String("proto", at.Conn.Proto))
	}
	if at.Conn.Remote.IsValid() {
		attrs = append(attrs, slog.String("remote", at.Conn.Remote.String()))
	}
	if at.RetryAfter > 0 {
		attrs = append(attrs, slog.Duration("retry_after", at.RetryAfter.Round(time.Second)))
	}
	switch Result(at.Err) {
	case ResultOK:
		log.LogAttrs(ctx, slog.LevelInfo, "authentication succeeded", attrs...)
	case ResultThrottled:
		log.LogAttrs(ctx, slog.LevelInfo, "authentication throttled", attrs...)
	case ResultError:
		log.LogAttrs(ctx, slog.LevelError, "authentication error", append(attrs, slog.Any("err", at.Err))...)
	default:
		log.LogAttrs(ctx, slog.LevelInfo, "authentication failed", attrs...)
	}
	if a.onAttempt != nil {
		a.onAttempt(*at)
	}
}

// maybeUpgrade replaces an outdated password hash or missing/weak SCRAM
// keys after a successful password login; see Options.Upgrade.
func (a *Authenticator) maybeUpgrade(ctx context.Context, acct store.Account, password string, c ConnInfo) {
	if a.upgrade == nil {
		return
	}
	stale := a.hasher.NeedsRehash(acct.PasswordHash) ||
		len(acct.SCRAM.StoredKey) == 0 || acct.SCRAM.Iterations < a.hasher.scramIterations()
	if !stale {
		return
	}
	log := c.Log
	if log == nil {
		log = a.logger
	}
	u, err := a.hasher.Credentials(password)
	if err == nil {
		err = a.upgrade(ctx, acct.Name, u)
	}
	if err != nil {
		log.LogAttrs(ctx, slog.LevelWarn, "credential upgrade failed", slog.String("user", acct.Name), slog.Any("err", err))
		return
	}
	// The stored hash changed: remember the password against the new one,
	// or the next login would miss.
	a.verifier.Remember(acct.Name, *u.PasswordHash, password)
	log.LogAttrs(ctx, slog.LevelInfo, "credentials upgraded", slog.String("user", acct.Name))
}
