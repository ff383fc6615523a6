package auth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/postern/postern/internal/store"
)

// Mechanism names of OAuth 2.0 bearer tokens.
const (
	MechOAuthBearer = "OAUTHBEARER" // RFC 7628
	MechXOAuth2     = "XOAUTH2"     // Google's older form, still what many clients send
)

// MaxBearerToken bounds a bearer token, and so the SASL message carrying
// it (issue 22: tokens of identity providers reach several KB).
const MaxBearerToken = 8192

// ErrInvalidToken means a bearer token was refused: malformed, expired or
// not yet valid, for another audience or issuer, badly signed, unsigned
// or signed with a shared secret, or naming no user. It is a wrong
// credential (the throttle counts it). A token verifier that cannot decide
// (its key set or introspection endpoint unreachable) returns another
// error, which protocols answer as a temporary failure.
var ErrInvalidToken = fmt.Errorf("%w: invalid bearer token", ErrBadCredentials)

// A TokenVerifier checks an OAuth 2.0 bearer token (RFC 6750) and returns
// the login name it stands for, mapped to an account as a login name is.
type TokenVerifier interface {
	VerifyToken(ctx context.Context, token string) (user string, err error)
}

// oauthErrorJSON is the RFC 7628 §3.2.2 server error of OAUTHBEARER, and
// the XOAUTH2 equivalent that clients expect.
const (
	oauthBearerError = `{"status":"invalid_token"}`
	xoauth2Error     = `{"status":"401","schemes":"bearer"}`
)

// bearerMech is OAUTHBEARER (RFC 7628 §3) or XOAUTH2.
type bearerMech struct {
	exchange
	name    string
	started bool
	failed  error // sent the error challenge; the next response ends the exchange
}

func (m *bearerMech) Next(ctx context.Context, response []byte) ([]byte, bool, error) {
	if m.done {
		return nil, true, ErrExchangeDone
	}
	if m.failed != nil {
		// RFC 7628 §3.2.3: the client answers the error with %x01 (XOAUTH2
		// clients with an empty response); either way the exchange fails.
		return nil, true, m.end(store.Account{}, m.failed)
	}
	if response == nil && !m.started {
		m.started = true
		return []byte{}, false, nil
	}
	var authzid, token string
	var err error
	if m.name == MechOAuthBearer {
		authzid, token, err = parseOAuthBearer(response)
	} else {
		authzid, token, err = parseXOAuth2(response)
	}
	if err != nil {
		return nil, true, m.end(store.Account{}, err)
	}
	acct, err := m.a.bearerLogin(ctx, m.name, authzid, token, m.conn)
	if errors.Is(err, ErrInvalidToken) {
		m.failed = err
		if m.name == MechOAuthBearer {
			return []byte(oauthBearerError), false, nil
		}
		return []byte(xoauth2Error), false, nil
	}
	return nil, true, m.end(acct, err)
}

// bearerLogin verifies a token and finds its account, with the throttle,
// the account rules and the attempt report of every login.
func (a *Authenticator) bearerLogin(ctx context.Context, mech, authzid, token string, c ConnInfo) (store.Account, error) {
	at := Attempt{Mechanism: mech, User: authzid, Conn: c}
	if err := a.wait(ctx, &at); err != nil {
		return store.Account{}, err
	}
	user, err := a.bearer.VerifyToken(ctx, token)
	var acct store.Account
	switch {
	case err != nil:
	case authzid != "" && !strings.EqualFold(authzid, user):
		// RFC 7628 §3.1: an authorization identity other than the
		// token's user asks to act as someone else.
		err = fmt.Errorf("%w: the token is %s's, not %s's", ErrInvalidToken, user, authzid)
	default:
		at.User = user
		acct, err = a.lookupProvisioned(ctx, user)
		if errors.Is(err, ErrUnknownUser) {
			err = fmt.Errorf("%w: no account for %s", ErrInvalidToken, user)
		}
	}
	return a.finish(ctx, &at, acct, err)
}

// parseOAuthBearer reads an OAUTHBEARER client response (RFC 7628 §3.1):
//
//	gs2-header kvsep *kvpair kvsep, with kvsep %x01 and
//	gs2-header = "n," ["a=" saslname] ","  (no channel binding)
//
// and returns the authorization identity and the token of "auth=Bearer".
func parseOAuthBearer(msg []byte) (authzid, token string, err error) {
	bad := func(why string) (string, string, error) {
		return "", "", fmt.Errorf("%w: OAUTHBEARER: %s", ErrMalformed, why)
	}
	if len(msg) > MaxBearerToken+1024 || !utf8.Valid(msg) {
		return bad("message too long or not UTF-8")
	}
	header, rest, ok := bytes.Cut(msg, []byte{1})
	if !ok {
		return bad("no kvsep after the GS2 header")
	}
	f := strings.Split(string(header), ",")
	if len(f) != 3 || f[2] != "" {
		return bad("bad GS2 header")
	}
	switch f[0] {
	case "n", "y":
	default:
		return bad("channel binding is not supported")
	}
	if f[1] != "" {
		v, ok := strings.CutPrefix(f[1], "a=")
		if !ok || v == "" {
			return bad("bad authzid")
		}
		if authzid, err = decodeSASLName(v); err != nil {
			return bad("bad authzid")
		}
	}
	token, err = bearerFromPairs(rest)
	if err != nil {
		return bad(err.Error())
	}
	return authzid, token, nil
}

// parseXOAuth2 reads "user=" USER %x01 "auth=Bearer " TOKEN %x01 %x01.
func parseXOAuth2(msg []byte) (user, token string, err error) {
	bad := func(why string) (string, string, error) {
		return "", "", fmt.Errorf("%w: XOAUTH2: %s", ErrMalformed, why)
	}
	if len(msg) > MaxBearerToken+1024 || !utf8.Valid(msg) {
		return bad("message too long or not UTF-8")
	}
	first, rest, ok := bytes.Cut(msg, []byte{1})
	u, isUser := strings.CutPrefix(string(first), "user=")
	if !ok || !isUser || u == "" {
		return bad("want user=NAME first")
	}
	if token, err = bearerFromPairs(rest); err != nil {
		return bad(err.Error())
	}
	return u, token, nil
}

// bearerFromPairs reads the key=value pairs ending in an empty one and
// returns the token of "auth=Bearer TOKEN" (RFC 7628 §3.1, RFC 6750 §2.1).
func bearerFromPairs(rest []byte) (string, error) {
	pairs := strings.Split(string(rest), "\x01")
	if len(pairs) < 2 || pairs[len(pairs)-1] != "" || pairs[len(pairs)-2] != "" {
		return "", errors.New("key-value pairs do not end with two kvsep")
	}
	var token string
	for _, p := range pairs[:len(pairs)-2] {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return "", errors.New("bad key-value pair")
		}
		if k != "auth" {
			continue // host, port and extensions
		}
		scheme, t, ok := strings.Cut(v, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || t == "" || token != "" {
			return "", errors.New("want one auth=Bearer TOKEN")
		}
		token = strings.TrimSpace(t)
	}
	if token == "" || len(token) > MaxBearerToken {
		return "", errors.New("no token, or a token too long")
	}
	return token, nil
}
