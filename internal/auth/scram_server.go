package auth

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/postern/postern/internal/store"
)

// maxSCRAMMessage bounds a SCRAM client message.
const maxSCRAMMessage = 4096

// serverNonceLen is the number of random bytes in the server's part of a
// SCRAM nonce (RFC 5802 §5.1 asks for it to be "sufficiently random").
const serverNonceLen = 18

// Server-error values of the server-final message (RFC 5802 §7). Postern
// never sends "unknown-user": an unknown user fails with "invalid-proof"
// like a wrong password, after a fake exchange.
const (
	scramErrInvalidEncoding = "e=invalid-encoding"
	scramErrChannelBinding  = "e=channel-bindings-dont-match"
	scramErrInvalidProof    = "e=invalid-proof"
	scramErrOther           = "e=other-error"
)

// scramMech is the server side of SCRAM-SHA-256 (RFC 5802, RFC 7677)
// and, with plus, of SCRAM-SHA-256-PLUS with tls-exporter channel binding
// (scram_plus.go).
type scramMech struct {
	exchange
	plus bool
	step int // 0: nothing received; 1: awaiting client-first; 2: awaiting client-final

	first       scramClientFirst
	nonce       string // client nonce + server nonce
	serverFirst string
	creds       store.SCRAMCredentials
	acct        store.Account
	// verdict is the failure decided at client-first (unknown user, no
	// SCRAM keys) and revealed only after client-final, so that the
	// exchange looks the same as for a real account.
	verdict error
}

func (m *scramMech) Next(ctx context.Context, response []byte) ([]byte, bool, error) {
	if m.done {
		return nil, true, ErrExchangeDone
	}
	switch m.step {
	case 0:
		m.step = 1
		if response == nil {
			return []byte{}, false, nil
		}
		return m.clientFirst(ctx, response)
	case 1:
		return m.clientFirst(ctx, response)
	default:
		return m.clientFinal(ctx, response)
	}
}

// clientFirst handles client-first-message and answers server-first-message
// (RFC 5802 §5.1).
func (m *scramMech) clientFirst(ctx context.Context, response []byte) ([]byte, bool, error) {
	cf, err := parseSCRAMClientFirst(response)
	if err != nil {
		return nil, true, m.end(store.Account{}, err)
	}
	if err := m.checkChannelBinding(cf); err != nil {
		return nil, true, m.end(store.Account{}, err)
	}
	if cf.authzid != "" && !strings.EqualFold(cf.authzid, cf.user) {
		return nil, true, m.end(store.Account{}, ErrAuthzidNotAllowed)
	}
	acct, err := m.a.lookup(ctx, cf.user)
	switch {
	case errors.Is(err, ErrUnknownUser):
		m.creds, m.verdict = m.a.fakeSCRAM(cf.user), ErrUnknownUser
	case err != nil:
		return nil, true, m.end(store.Account{}, err)
	case !validSCRAM(acct.SCRAM):
		m.creds, m.verdict = m.a.fakeSCRAM(cf.user), ErrNoSCRAMCredentials
	default:
		m.creds, m.acct = acct.SCRAM, acct
	}
	m.first = cf
	m.nonce = cf.nonce + m.a.serverNonce()
	m.serverFirst = "r=" + m.nonce +
		",s=" + base64.StdEncoding.EncodeToString(m.creds.Salt) +
		",i=" + strconv.Itoa(m.creds.Iterations)
	m.step = 2
	return []byte(m.serverFirst), false, nil
}

// clientFinal handles client-final-message and answers server-final-message
// (RFC 5802 §3, §5.1).
func (m *scramMech) clientFinal(ctx context.Context, response []byte) ([]byte, bool, error) {
	at := Attempt{Mechanism: m.mechName(), User: m.first.user, Conn: m.conn}
	if err := m.a.wait(ctx, &at); err != nil {
		return nil, true, m.end(store.Account{}, err)
	}
	cf, err := parseSCRAMClientFinal(response)
	if err != nil {
		m.a.verifier.Record(at.Conn.Remote, at.User, OutcomeRelease)
		return []byte(scramErrInvalidEncoding), true, m.end(store.Account{}, err)
	}
	// RFC 5802 §5.1 "c": the GS2 header, and with channel binding the
	// tls-exporter data (RFC 9266 §2), compared in constant time.
	if subtle.ConstantTimeCompare(cf.channelBinding, m.cbindInput()) != 1 {
		// A PLUS client bound to another TLS channel: a failed login
		// (a relay in the middle), not a syntax error.
		kind := ErrMalformed
		if m.plus {
			kind = ErrChannelBinding
		}
		err := fmt.Errorf("%w: SCRAM channel binding does not match", kind)
		m.a.verifier.Record(at.Conn.Remote, at.User, OutcomeRelease)
		return []byte(scramErrChannelBinding), true, m.end(store.Account{}, err)
	}
	if cf.nonce != m.nonce {
		err := fmt.Errorf("%w: SCRAM nonce does not match", ErrMalformed)
		m.a.verifier.Record(at.Conn.Remote, at.User, OutcomeRelease)
		return []byte(scramErrOther), true, m.end(store.Account{}, err)
	}

	authMessage := []byte(m.first.bare + "," + m.serverFirst + "," + cf.withoutProof)
	clientKey := hmacSHA256(m.creds.StoredKey, authMessage) // ClientSignature
	subtle.XORBytes(clientKey, clientKey, cf.proof)         // ClientKey = proof XOR ClientSignature
	storedKey := sha256.Sum256(clientKey)
	ok := subtle.ConstantTimeCompare(storedKey[:], m.creds.StoredKey) == 1
	switch {
	case m.verdict != nil:
		err = m.verdict
	case !ok:
		err = ErrBadCredentials
	}
	acct, err := m.a.finish(ctx, &at, m.acct, err)
	switch {
	case errors.Is(err, ErrBadCredentials):
		return []byte(scramErrInvalidProof), true, m.end(store.Account{}, err)
	case err != nil:
		return nil, true, m.end(store.Account{}, err)
	}
	serverSignature := hmacSHA256(m.creds.ServerKey, authMessage)
	return []byte("v=" + base64.StdEncoding.EncodeToString(serverSignature)), true, m.end(acct, nil)
}

func validSCRAM(c store.SCRAMCredentials) bool {
	return len(c.Salt) > 0 && c.Iterations > 0 && len(c.StoredKey) == sha256.Size && len(c.ServerKey) == sha256.Size
}

// fakeSCRAM returns credentials for a name without real ones. The salt is
// derived from the name with the per-process secret, so repeated attempts
// see the same salt, as for a real account, and the iteration count is the
// default that new accounts get. No password matches the keys.
func (a *Authenticator) fakeSCRAM(name string) store.SCRAMCredentials {
	name = strings.ToLower(name)
	return store.SCRAMCredentials{
		Salt:       hmacSHA256(a.secret, []byte("scram-salt\x00"+name))[:scramSaltLen],
		Iterations: a.hasher.scramIterations(),
		StoredKey:  hmacSHA256(a.secret, []byte("scram-stored-key\x00"+name)),
		ServerKey:  hmacSHA256(a.secret, []byte("scram-server-key\x00"+name)),
	}
}

func (a *Authenticator) serverNonce() string {
	if a.nonce != nil {
		return a.nonce()
	}
	b := make([]byte, serverNonceLen)
	rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// scramClientFirst is a parsed client-first-message (RFC 5802 §7).
type scramClientFirst struct {
	gs2Header string // "n,,", "y,,", "p=tls-exporter,,", "n,a=user," …, including the final comma
	cbFlag    byte   // 'n', 'y' or 'p' (RFC 5802 §7 gs2-cbind-flag)
	cbName    string // with 'p': the channel binding type (cb-name)
	authzid   string
	user      string // decoded saslname
	nonce     string
	bare      string // client-first-message-bare, for AuthMessage
}

// parseSCRAMClientFirst parses
//
//	client-first-message = gs2-header client-first-message-bare
//	gs2-header = gs2-cbind-flag "," [ authzid ] ","
//	gs2-cbind-flag = ("p=" cb-name) / "n" / "y"
//	client-first-message-bare = [reserved-mext ","] username "," nonce ["," extensions]
func parseSCRAMClientFirst(msg []byte) (scramClientFirst, error) {
	var cf scramClientFirst
	if err := checkSCRAMMessage(msg); err != nil {
		return cf, err
	}
	s := string(msg)
	var rest string
	switch {
	case strings.HasPrefix(s, "n,"), strings.HasPrefix(s, "y,"):
		cf.cbFlag, rest = s[0], s[2:]
	case strings.HasPrefix(s, "p="):
		name, r, ok := strings.Cut(s[2:], ",")
		if !ok || !validCBName(name) {
			return cf, scramMalformed("bad channel binding name")
		}
		cf.cbFlag, cf.cbName, rest = 'p', name, r
	default:
		return cf, scramMalformed("bad GS2 channel binding flag")
	}
	switch {
	case strings.HasPrefix(rest, ","):
		rest = rest[1:]
	case strings.HasPrefix(rest, "a="):
		v, r, ok := strings.Cut(rest[2:], ",")
		if !ok {
			return cf, scramMalformed("unterminated GS2 header")
		}
		var err error
		if cf.authzid, err = decodeSASLName(v); err != nil {
			return cf, err
		}
		rest = r
	default:
		return cf, scramMalformed("bad GS2 header")
	}
	cf.gs2Header, cf.bare = s[:len(s)-len(rest)], rest

	attrs := strings.Split(rest, ",")
	if strings.HasPrefix(attrs[0], "m=") {
		// RFC 5802 §5.1: a server that does not understand a mandatory
		// extension must fail the exchange.
		return cf, scramMalformed("mandatory extension not supported")
	}
	if len(attrs) < 2 || !strings.HasPrefix(attrs[0], "n=") || !strings.HasPrefix(attrs[1], "r=") {
		return cf, scramMalformed("client-first must be n=user,r=nonce")
	}
	var err error
	if cf.user, err = decodeSASLName(attrs[0][2:]); err != nil {
		return cf, err
	}
	if len(cf.user) > maxSASLField {
		return cf, scramMalformed("user name too long")
	}
	cf.nonce = attrs[1][2:]
	if !validNonce(cf.nonce) {
		return cf, scramMalformed("bad nonce")
	}
	if err := checkExtensions(attrs[2:]); err != nil {
		return cf, err
	}
	return cf, nil
}

// scramClientFinal is a parsed client-final-message (RFC 5802 §7).
type scramClientFinal struct {
	channelBinding []byte // decoded "c="
	nonce          string
	proof          []byte
	withoutProof   string // client-final-message-without-proof, for AuthMessage
}

// parseSCRAMClientFinal parses
//
//	client-final-message = channel-binding "," nonce ["," extensions] "," proof
func parseSCRAMClientFinal(msg []byte) (scramClientFinal, error) {
	var cf scramClientFinal
	if err := checkSCRAMMessage(msg); err != nil {
		return cf, err
	}
	s := string(msg)
	attrs := strings.Split(s, ",")
	if len(attrs) < 3 || !strings.HasPrefix(attrs[0], "c=") || !strings.HasPrefix(attrs[1], "r=") {
		return cf, scramMalformed("client-final must be c=…,r=…,p=…")
	}
	last := attrs[len(attrs)-1]
	if !strings.HasPrefix(last, "p=") {
		return cf, scramMalformed("client-final must end with the proof")
	}
	var err error
	if cf.channelBinding, err = base64.StdEncoding.DecodeString(attrs[0][2:]); err != nil {
		return cf, scramMalformed("channel binding is not base64")
	}
	cf.nonce = attrs[1][2:]
	if !validNonce(cf.nonce) {
		return cf, scramMalformed("bad nonce")
	}
	if err := checkExtensions(attrs[2 : len(attrs)-1]); err != nil {
		return cf, err
	}
	if cf.proof, err = base64.StdEncoding.DecodeString(last[2:]); err != nil || len(cf.proof) != sha256.Size {
		return cf, scramMalformed("proof is not a base64 SHA-256 value")
	}
	cf.withoutProof = s[:len(s)-len(last)-1]
	return cf, nil
}

func scramMalformed(why string) error {
	return fmt.Errorf("%w: SCRAM: %s", ErrMalformed, why)
}

func checkSCRAMMessage(msg []byte) error {
	switch {
	case len(msg) > maxSCRAMMessage:
		return scramMalformed("message too long")
	case !utf8.Valid(msg) || bytes.IndexByte(msg, 0) >= 0:
		return scramMalformed("message is not UTF-8 without NUL")
	}
	return nil
}

// decodeSASLName decodes a saslname (RFC 5802 §5.1): "=2C" is ',' and
// "=3D" is '='; any other '=' is an error. It must not be empty.
func decodeSASLName(s string) (string, error) {
	if s == "" {
		return "", scramMalformed("empty name")
	}
	if !strings.Contains(s, "=") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '=' {
			b.WriteByte(s[i])
			continue
		}
		switch {
		case strings.HasPrefix(s[i:], "=2C"):
			b.WriteByte(',')
		case strings.HasPrefix(s[i:], "=3D"):
			b.WriteByte('=')
		default:
			return "", scramMalformed("bad '=' escape in name")
		}
		i += 2
	}
	return b.String(), nil
}

// validCBName checks a cb-name: 1*(ALPHA / DIGIT / "." / "-") (RFC 5802
// §7).
func validCBName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// validNonce checks a nonce: printable ASCII except ',' (RFC 5802 §7).
func validNonce(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7e || c == ',' {
			return false
		}
	}
	return true
}

// checkExtensions checks optional extensions, which are ignored:
// attr-val = ALPHA "=" value (RFC 5802 §7).
func checkExtensions(attrs []string) error {
	for _, a := range attrs {
		if len(a) < 2 || a[1] != '=' || !(a[0] >= 'a' && a[0] <= 'z' || a[0] >= 'A' && a[0] <= 'Z') {
			return scramMalformed("bad extension attribute")
		}
	}
	return nil
}
