package auth

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/postern/postern/internal/store"
)

// Mechanism is the server side of one SASL exchange (RFC 4422). It is
// transport-agnostic: each protocol does its own framing (base64, "*" to
// cancel, "=" for an empty initial response) and passes decoded bytes.
// A Mechanism is used by one goroutine.
type Mechanism interface {
	// Next consumes the client's response and returns the server's next
	// challenge. response is nil when the client sent no initial response
	// (as opposed to an empty one, which is []byte{}).
	//
	// While done is false, the protocol sends challenge and reads another
	// response. When done is true and err is nil, authentication succeeded;
	// a non-nil challenge is then "additional data with success"
	// (RFC 4422 §5: SCRAM's server-final message), which a protocol whose
	// success reply cannot carry data sends as one more challenge and
	// expects an empty response to. When err is non-nil the exchange failed;
	// a non-nil challenge is then SCRAM's "e=" server-final message, which
	// the protocol may send the same way or drop. Errors are those of
	// [Authenticator.Login] plus ErrMalformed, ErrAuthzidNotAllowed,
	// ErrChannelBinding and ErrExchangeDone.
	Next(ctx context.Context, response []byte) (challenge []byte, done bool, err error)

	// Identity returns the authenticated account once Next has succeeded
	// with done, and false before that or after a failure.
	Identity() (store.Account, bool)
}

// maxSASLField bounds a user name or password inside a SASL message.
// RFC 4616 §2 requires accepting 255 octets; passphrases can be longer.
const maxSASLField = 1024

// Mechanisms returns the names of the SASL mechanisms NewMechanism
// accepts, strongest first. Protocols decide which to advertise (PLAIN and
// LOGIN only under TLS, SCRAM-SHA-256-PLUS only where
// Authenticator.ChannelBinding, for instance).
func (a *Authenticator) Mechanisms() []string {
	if a.bearer != nil {
		return []string{MechSCRAMSHA256Plus, MechSCRAMSHA256, MechOAuthBearer, MechXOAuth2, MechPlain, MechLogin}
	}
	return []string{MechSCRAMSHA256Plus, MechSCRAMSHA256, MechPlain, MechLogin}
}

// IsBearerMechanism reports whether a mechanism carries an OAuth bearer
// token, which protocols offer only over TLS or on loopback, like a
// password (issue 22).
func IsBearerMechanism(name string) bool {
	n := strings.ToUpper(name)
	return n == MechOAuthBearer || n == MechXOAuth2
}

// NewMechanism starts a SASL exchange with the named mechanism (matched
// case-insensitively). Unknown names give ErrUnsupportedMechanism.
func (a *Authenticator) NewMechanism(name string, c ConnInfo) (Mechanism, error) {
	switch strings.ToUpper(name) {
	case MechPlain:
		return &plainMech{exchange: exchange{a: a, conn: c}}, nil
	case MechLogin:
		return &loginMech{exchange: exchange{a: a, conn: c}}, nil
	case MechSCRAMSHA256:
		return &scramMech{exchange: exchange{a: a, conn: c}}, nil
	case MechSCRAMSHA256Plus:
		// Only where it is offered (scram_plus.go).
		if a.ChannelBinding(c) {
			return &scramMech{exchange: exchange{a: a, conn: c}, plus: true}, nil
		}
	case MechOAuthBearer, MechXOAuth2:
		if a.bearer != nil {
			return &bearerMech{exchange: exchange{a: a, conn: c}, name: strings.ToUpper(name)}, nil
		}
	}
	return nil, fmt.Errorf("%w: %q", ErrUnsupportedMechanism, name)
}

// exchange holds what every mechanism keeps: its authenticator, connection
// and outcome.
type exchange struct {
	a       *Authenticator
	conn    ConnInfo
	done    bool
	account store.Account
	ok      bool
}

func (e *exchange) Identity() (store.Account, bool) { return e.account, e.ok }

// end records the outcome of the exchange.
func (e *exchange) end(acct store.Account, err error) error {
	e.done = true
	e.account, e.ok = acct, err == nil
	return err
}

// plainMech is PLAIN (RFC 4616).
type plainMech struct {
	exchange
	started bool
}

func (m *plainMech) Next(ctx context.Context, response []byte) ([]byte, bool, error) {
	if m.done {
		return nil, true, ErrExchangeDone
	}
	if response == nil && !m.started {
		// RFC 4616 §2: no initial response, so send an empty challenge.
		m.started = true
		return []byte{}, false, nil
	}
	authzid, authcid, passwd, err := parsePlain(response)
	if err != nil {
		return nil, true, m.end(store.Account{}, err)
	}
	// RFC 4616 §2: an authzid other than the authcid asks to act as
	// another user, which only an administrator may, and only with
	// Options.AdminImpersonation (impersonate.go). Names compare
	// case-insensitively, as account names do.
	if authzid != "" && !strings.EqualFold(authzid, authcid) {
		acct, err := m.a.impersonate(ctx, authzid, authcid, passwd, m.conn)
		return nil, true, m.end(acct, err)
	}
	acct, err := m.a.login(ctx, MechPlain, authcid, passwd, m.conn)
	return nil, true, m.end(acct, err)
}

// parsePlain splits a PLAIN message (RFC 4616 §2):
//
//	message = [authzid] UTF8NUL authcid UTF8NUL passwd
//
// authcid and passwd must not be empty; all three must be UTF-8 without NUL.
func parsePlain(msg []byte) (authzid, authcid, passwd string, err error) {
	f := bytes.Split(msg, []byte{0})
	if len(f) != 3 {
		return "", "", "", fmt.Errorf("%w: PLAIN message must have three NUL-separated fields", ErrMalformed)
	}
	for i, v := range f {
		switch {
		case i > 0 && len(v) == 0:
			return "", "", "", fmt.Errorf("%w: PLAIN user name or password is empty", ErrMalformed)
		case len(v) > maxSASLField:
			return "", "", "", fmt.Errorf("%w: PLAIN field longer than %d octets", ErrMalformed, maxSASLField)
		case !utf8.Valid(v):
			return "", "", "", fmt.Errorf("%w: PLAIN field is not UTF-8", ErrMalformed)
		}
	}
	return string(f[0]), string(f[1]), string(f[2]), nil
}

// Challenges of the LOGIN mechanism (draft-murchison-sasl-login-00 §2).
const (
	loginUserChallenge     = "Username:"
	loginPasswordChallenge = "Password:"
)

// loginMech is the obsolete but widely used LOGIN mechanism
// (draft-murchison-sasl-login-00). The draft has no initial response, but
// clients send the user name as one (SMTP "AUTH LOGIN dXNlcg=="), so a
// non-nil first response is taken as the user name.
type loginMech struct {
	exchange
	step int // 0: nothing received; 1: awaiting user name; 2: awaiting password
	user string
}

func (m *loginMech) Next(ctx context.Context, response []byte) ([]byte, bool, error) {
	if m.done {
		return nil, true, ErrExchangeDone
	}
	if m.step == 0 {
		m.step = 1
		if response == nil {
			return []byte(loginUserChallenge), false, nil
		}
	}
	v, err := loginField(response)
	if err != nil {
		return nil, true, m.end(store.Account{}, err)
	}
	if m.step == 1 {
		m.user, m.step = v, 2
		return []byte(loginPasswordChallenge), false, nil
	}
	acct, err := m.a.login(ctx, MechLogin, m.user, v, m.conn)
	return nil, true, m.end(acct, err)
}

func loginField(v []byte) (string, error) {
	switch {
	case len(v) == 0:
		return "", fmt.Errorf("%w: LOGIN user name or password is empty", ErrMalformed)
	case len(v) > maxSASLField:
		return "", fmt.Errorf("%w: LOGIN field longer than %d octets", ErrMalformed, maxSASLField)
	case !utf8.Valid(v) || bytes.IndexByte(v, 0) >= 0:
		return "", fmt.Errorf("%w: LOGIN field is not UTF-8 without NUL", ErrMalformed)
	}
	return string(v), nil
}
