package auth

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Errors returned by [Authenticator.Login], [Authenticator.APOP] and the
// SASL mechanisms. Protocol servers map them to replies in their own
// errors.go, choosing FRIENDLY or SECURE wording (hp-system.md §1.4).
//
// Every error that means "these credentials did not prove anything" wraps
// [ErrBadCredentials], so a protocol that tests only
// errors.Is(err, ErrBadCredentials) never reveals more than "access
// denied". The finer sentinels ([ErrUnknownUser], [ErrNoAPOPSecret],
// [ErrNoSCRAMCredentials]) exist for logs and for FRIENDLY mode only: a
// server in SECURE mode must not let them change its reply, its timing or
// whether it closes the connection, or it becomes a user-enumeration
// oracle.
//
// The account-state errors ([ErrDisabled], [ErrNoMail], [ErrExpired]) are
// returned only after the credentials were verified, so they tell nothing
// to someone who does not know the password.
var (
	// ErrBadCredentials means the password, digest or proof was wrong.
	ErrBadCredentials = errors.New("invalid credentials")

	// ErrUnknownUser means no account has the name given. It wraps
	// ErrBadCredentials. SECURE mode must report it exactly like
	// ErrBadCredentials.
	ErrUnknownUser = fmt.Errorf("unknown user: %w", ErrBadCredentials)

	// ErrNoAPOPSecret means the account has no APOP shared secret
	// (the original's POP_SECRET.DAT is missing). It wraps ErrBadCredentials.
	ErrNoAPOPSecret = fmt.Errorf("account has no APOP secret: %w", ErrBadCredentials)

	// ErrNoSCRAMCredentials means the account has no stored SCRAM keys
	// (for instance it was migrated with a bcrypt hash and has not logged in
	// with a password since). It wraps ErrBadCredentials.
	ErrNoSCRAMCredentials = fmt.Errorf("account has no SCRAM credentials: %w", ErrBadCredentials)

	// ErrDisabled is the SYSUAF DISUSER flag: the account may not log in.
	ErrDisabled = errors.New("account disabled")

	// ErrNoMail is the SYSUAF DISMAIL flag: the account may not use mail.
	ErrNoMail = errors.New("account mail disabled")

	// ErrExpired means the account is past its expiration date.
	ErrExpired = errors.New("account expired")

	// ErrUnsupportedMechanism is returned by NewMechanism for a SASL
	// mechanism this package does not implement.
	ErrUnsupportedMechanism = errors.New("unsupported SASL mechanism")

	// ErrAuthzidNotAllowed means the client asked to act as another user
	// (an authorization identity different from the authentication
	// identity). Postern has no proxy authorization (hp-system.md §1.4).
	ErrAuthzidNotAllowed = errors.New("authorization identity not allowed")

	// ErrMalformed means a SASL message did not follow its mechanism's
	// grammar. Protocols treat it as a syntax error.
	ErrMalformed = errors.New("malformed SASL message")

	// ErrChannelBinding means a SCRAM exchange broke the channel binding
	// rules of RFC 5802 §6: "p=" with SCRAM-SHA-256, SCRAM-SHA-256-PLUS
	// without "p=tls-exporter", or "y" where the server can bind.
	ErrChannelBinding = errors.New("channel binding not supported")

	// ErrExchangeDone is returned by Mechanism.Next after the exchange has
	// ended.
	ErrExchangeDone = errors.New("SASL exchange already finished")

	// ErrInvalidHash means a stored password hash could not be parsed.
	ErrInvalidHash = errors.New("invalid password hash")

	// ErrEmptyPassword is returned when asked to hash an empty password.
	ErrEmptyPassword = errors.New("empty password")

	// ErrThrottled means the attempt was not checked because its address
	// (or its address and user) failed too often lately; a
	// *ThrottledError wrapping it says for how long. Protocols answer it
	// with a temporary failure and a retry hint (IMAP NO [UNAVAILABLE],
	// POP3 -ERR [SYS/TEMP], SMTP 454 4.7.0). It says nothing about the
	// account, so SECURE mode may report it as such.
	ErrThrottled = errors.New("too many failed logins")

	// ErrUnavailable means an account source could not answer in time (a
	// directory down or slow). It is an internal error for [Result], never
	// "wrong password", and protocols answer it with a temporary failure
	// (IMAP NO [UNAVAILABLE], POP3 -ERR [SYS/TEMP], SMTP 454 4.7.0).
	ErrUnavailable = errors.New("account source unavailable")
)

// ThrottledError is the error of an attempt the throttle held back.
type ThrottledError struct {
	// RetryAfter is how long the client should wait before trying again.
	RetryAfter time.Duration
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("%v; retry after %v", ErrThrottled, e.RetryAfter)
}

// Unwrap makes errors.Is(err, ErrThrottled) true.
func (e *ThrottledError) Unwrap() error { return ErrThrottled }

// RetryHint words the wait of a throttled attempt for a reply: "try again
// in 1 second", "try again in 15 seconds".
func RetryHint(err error) string {
	n := RetryAfter(err)
	if n == 1 {
		return "try again in 1 second"
	}
	return fmt.Sprintf("try again in %d seconds", n)
}

// RetryAfter returns how long a throttled attempt (see ErrThrottled) should
// wait, in whole seconds rounded up, at least 1; 0 if err is not one.
func RetryAfter(err error) int {
	var te *ThrottledError
	if !errors.As(err, &te) {
		return 0
	}
	return max(1, int((te.RetryAfter+time.Second-1)/time.Second))
}

// Result labels for metrics, from [Result]. The set is fixed so that it can
// be used as a Prometheus label value.
const (
	ResultOK             = "ok"
	ResultBadCredentials = "bad_credentials"
	ResultUnknownUser    = "unknown_user"
	ResultDisabled       = "disabled"
	ResultNoMail         = "nomail"
	ResultExpired        = "expired"
	ResultMalformed      = "malformed"
	ResultAborted        = "aborted"
	ResultThrottled      = "throttled"
	ResultError          = "error"
)

// Result classifies an error returned by this package into one of the
// Result* labels. It is meant for metrics and logs, never for a reply to
// the client.
func Result(err error) string {
	switch {
	case err == nil:
		return ResultOK
	case errors.Is(err, ErrUnknownUser):
		return ResultUnknownUser
	case errors.Is(err, ErrBadCredentials):
		return ResultBadCredentials
	case errors.Is(err, ErrDisabled):
		return ResultDisabled
	case errors.Is(err, ErrNoMail):
		return ResultNoMail
	case errors.Is(err, ErrExpired):
		return ResultExpired
	case errors.Is(err, ErrThrottled):
		return ResultThrottled
	case errors.Is(err, ErrMalformed), errors.Is(err, ErrAuthzidNotAllowed),
		errors.Is(err, ErrChannelBinding), errors.Is(err, ErrUnsupportedMechanism),
		errors.Is(err, ErrExchangeDone):
		return ResultMalformed
	case errors.Is(err, ErrUnavailable):
		// Before the context check: a source's own deadline is its
		// failure, not the client's abort.
		return ResultError
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return ResultAborted
	default:
		return ResultError
	}
}
