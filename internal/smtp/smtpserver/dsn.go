package smtpserver

import (
	"context"
	"errors"
	"io"
	"strings"

	"github.com/emersion/go-smtp"
)

// DSN (RFC 3461) is offered on submission only: its parameters are
// carried through the queue into the notices it sends (docs/smtp.md).

// DSNQueue is a Queue that takes the sender's notice requests.
type DSNQueue interface {
	EnqueueDSN(ctx context.Context, from string, dsn DSNRequest, rcpts []DSNRecipient, content io.Reader) (id string, err error)
}

// DSNRequest is MAIL's RET and ENVID (decoded).
type DSNRequest struct {
	Ret   string // FULL, HDRS or ""
	EnvID string
}

// DSNRecipient is one recipient with RCPT's NOTIFY and ORCPT.
type DSNRecipient struct {
	Addr   string
	Notify []string // NEVER, or some of SUCCESS, FAILURE, DELAY; nil when absent
	ORcpt  string   // "type;address", decoded; "" when absent
}

// Limits of RFC 3461: ENVID at most 100 characters (§4.4), ORCPT's
// address at most 500 (§4.2).
const (
	maxEnvID = 100
	maxORcpt = 500
)

var errXtext = errors.New("malformed xtext")

// decodeXtext decodes RFC 3461 §4 xtext: printable ASCII but "+" and "=",
// and "+XX" (upper-case hex) for any octet.
func decodeXtext(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '+':
			if i+2 >= len(s) || !isUpperHex(s[i+1]) || !isUpperHex(s[i+2]) {
				return "", errXtext
			}
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
		case c < '!' || c > '~' || c == '=':
			return "", errXtext
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

func isUpperHex(c byte) bool { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') }

func unhex(c byte) byte {
	if c >= 'A' {
		return c - 'A' + 10
	}
	return c - '0'
}

// parseNotify parses NOTIFY (§4.1): NEVER alone, or a comma list of
// SUCCESS, FAILURE and DELAY, each once.
func parseNotify(v string) ([]smtp.DSNNotify, error) {
	var out []smtp.DSNNotify
	seen := map[string]bool{}
	for _, p := range strings.Split(strings.ToUpper(v), ",") {
		switch {
		case seen[p]:
			return nil, errSyntax
		case p == "NEVER" || p == "SUCCESS" || p == "FAILURE" || p == "DELAY":
			seen[p] = true
			out = append(out, smtp.DSNNotify(p))
		default:
			return nil, errSyntax
		}
	}
	if seen["NEVER"] && len(out) > 1 {
		return nil, errSyntax
	}
	return out, nil
}

// parseORcpt parses ORCPT (§4.2): addr-type ";" xtext.
func parseORcpt(v string) (typ, addr string, err error) {
	typ, enc, ok := strings.Cut(v, ";")
	if !ok || typ == "" || enc == "" || len(enc) > maxORcpt {
		return "", "", errSyntax
	}
	for i := 0; i < len(typ); i++ {
		if c := typ[i]; !(c == '-' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
			return "", "", errSyntax
		}
	}
	addr, err = decodeXtext(enc)
	if err != nil {
		return "", "", errSyntax
	}
	return strings.ToLower(typ), addr, nil
}

// rcptOptions parses RCPT's parameters: NOTIFY and ORCPT on submission;
// nothing elsewhere (DSN is not offered).
func (c *conn) rcptOptions(params []param) (*smtp.RcptOptions, error) {
	opts := &smtp.RcptOptions{}
	for _, p := range params {
		if c.s.opts.Mode != ModeSubmission {
			return nil, reply(555, 5, 5, 4, "Unsupported RCPT parameter "+p.key)
		}
		switch p.key {
		case "NOTIFY":
			n, err := parseNotify(p.value)
			if err != nil || opts.Notify != nil {
				return nil, reply(501, 5, 5, 4, "NOTIFY must be NEVER or a list of SUCCESS, FAILURE, DELAY")
			}
			opts.Notify = n
		case "ORCPT":
			typ, addr, err := parseORcpt(p.value)
			if err != nil || opts.OriginalRecipient != "" {
				return nil, reply(501, 5, 5, 4, "ORCPT must be addr-type;xtext")
			}
			opts.OriginalRecipientType, opts.OriginalRecipient = smtp.DSNAddressType(typ), addr
		default:
			return nil, reply(555, 5, 5, 4, "Unsupported RCPT parameter "+p.key)
		}
	}
	return opts, nil
}

// mailDSN takes MAIL's RET and ENVID (submission only).
func (c *conn) mailDSN(opts *smtp.MailOptions, p param) error {
	if c.s.opts.Mode != ModeSubmission {
		return reply(555, 5, 5, 4, "Unsupported MAIL parameter "+p.key)
	}
	switch p.key {
	case "RET":
		v := strings.ToUpper(p.value)
		if (v != "FULL" && v != "HDRS") || opts.Return != "" {
			return reply(501, 5, 5, 4, "RET must be FULL or HDRS")
		}
		opts.Return = smtp.DSNReturn(v)
	case "ENVID":
		id, err := decodeXtext(p.value)
		if err != nil || p.value == "" || len(p.value) > maxEnvID || opts.EnvelopeID != "" {
			return reply(501, 5, 5, 4, "ENVID must be xtext of at most 100 characters")
		}
		opts.EnvelopeID = id
	}
	return nil
}
