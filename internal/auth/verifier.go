package auth

import (
	"context"
	"net/netip"
	"time"
)

// A Verifier holds what a password login costs and what every process of
// a server should share (docs/supervisor.md): the failed-login throttle,
// the verified-credentials cache and the password-hash queue, whose
// concurrency bounds the memory of argon2id. [LocalVerifier] holds them in
// this process; [VerifierClient] asks the one of another process (the
// supervisor of `postern serve`) over a socket. The Authenticator asks its
// Verifier at the same points whichever it is, so the protocols see no
// difference.
//
// A Verifier never hands out a password or a hash: it answers with waits
// and verdicts.
type Verifier interface {
	// Check says whether an attempt by user from remote may be checked
	// now (see [Throttle.Check]): zero, or how long the client must wait.
	// An error (the verifier cannot be reached) refuses the attempt: the
	// throttle is never bypassed.
	Check(ctx context.Context, remote netip.Addr, user string) (time.Duration, error)
	// Record ends an attempt that Check let through with its outcome.
	Record(remote netip.Addr, user string, o Outcome)
	// Verify reports whether p.Password is the account's: from the cache,
	// or by sharing a verification of the same credentials in flight, or
	// (cached false) in full. A source whose secret is a stored hash sets
	// p.ByHash and p.Hash, and the verifier computes it in its hash
	// queue; for other sources the verifier calls check.
	Verify(ctx context.Context, p PasswordCheck, check func(context.Context) (bool, error)) (ok, cached bool, err error)
	// Dummy spends the time of one verification, for an unknown user.
	Dummy(ctx context.Context, p PasswordCheck)
	// Remember puts a password verified for a whole successful login in
	// the cache, bound to the account name and the source's cache key.
	Remember(account, key, password string)
	// Flush empties the cache (the account sources changed).
	Flush()
}

// Outcome is how an attempt ended, for [Verifier.Record].
type Outcome uint8

// Outcomes: the credentials were wrong, right, or neither was decided (an
// internal error, a cancelled exchange); see [Throttle].
const (
	OutcomeRelease Outcome = iota
	OutcomeFailure
	OutcomeSuccess
)

// PasswordCheck is one password to verify, with what orders it in the hash
// queue.
type PasswordCheck struct {
	Account  string // the account's name, as the cache keys it
	Key      string // the source's CacheKey of the account
	Password string
	// ByHash says the account's secret is Hash, a stored password hash
	// (the local source): the verifier checks it itself. An empty Hash
	// (an account without a password) costs a dummy verification and
	// fails.
	ByHash bool
	Hash   string
	// Remote and Login (the name the client gave) rank the attempt in the
	// hash queue (Throttle.Priority, fairqueue.go).
	Remote netip.Addr
	Login  string
}

// LocalVerifier is a [Verifier] in this process: the hasher, the cache and
// the throttle that a server's Authenticators share.
type LocalVerifier struct {
	Hasher   *Hasher
	Cache    *Cache // nil: no cache
	Throttle *Throttle
}

// NewLocalVerifier returns a LocalVerifier; a nil hasher means one with
// the production costs, a nil throttle one with the default options.
func NewLocalVerifier(h *Hasher, c *Cache, t *Throttle) *LocalVerifier {
	if h == nil {
		h = &Hasher{}
	}
	if t == nil {
		t = NewThrottle(ThrottleOptions{}, nil)
	}
	return &LocalVerifier{Hasher: h, Cache: c, Throttle: t}
}

// Check asks the throttle; it never fails.
func (v *LocalVerifier) Check(_ context.Context, remote netip.Addr, user string) (time.Duration, error) {
	return v.Throttle.Check(remote, user), nil
}

// Record tells the throttle the outcome.
func (v *LocalVerifier) Record(remote netip.Addr, user string, o Outcome) {
	switch o {
	case OutcomeFailure:
		v.Throttle.Failure(remote, user)
	case OutcomeSuccess:
		v.Throttle.Success(remote, user)
	default:
		v.Throttle.Release(remote, user)
	}
}

// Verify answers from the cache, else verifies in the hash queue in the
// attempt's turn.
func (v *LocalVerifier) Verify(ctx context.Context, p PasswordCheck, check func(context.Context) (bool, error)) (ok, cached bool, err error) {
	if v.Cache.hit(p.Account, p.Key, p.Password) {
		return true, true, nil
	}
	ctx = v.ticket(ctx, p)
	if p.ByHash {
		check = func(ctx context.Context) (bool, error) {
			if p.Hash == "" {
				v.Hasher.verifyDummy(ctx, p.Password)
				return false, nil
			}
			return v.Hasher.verify(ctx, p.Hash, p.Password)
		}
	}
	return v.Cache.verify(ctx, p.Account, p.Key, p.Password, func() (bool, error) { return check(ctx) })
}

// Dummy runs a dummy verification in the attempt's turn.
func (v *LocalVerifier) Dummy(ctx context.Context, p PasswordCheck) {
	v.Hasher.verifyDummy(v.ticket(ctx, p), p.Password)
}

// Remember puts the password in the cache.
func (v *LocalVerifier) Remember(account, key, password string) { v.Cache.put(account, key, password) }

// Flush empties the cache.
func (v *LocalVerifier) Flush() { v.Cache.Flush() }

// ticket puts the attempt's place in the hash queue into ctx: its source
// address and its throttle priority (fairqueue.go).
func (v *LocalVerifier) ticket(ctx context.Context, p PasswordCheck) context.Context {
	t := queueTicket{class: v.Throttle.Priority(p.Remote, p.Login)}
	t.addr, _ = throttleKey(p.Remote)
	return withTicket(ctx, t)
}

// Computations returns how many argon2id computations the verifier's
// hasher has started, for tests and `postern ctl stats`.
func (v *LocalVerifier) Computations() uint64 { return v.Hasher.computations() }
