// Package milter is Postern's milter client: it hands each message taken
// by an SMTP listener to a mail filter speaking the Sendmail/Postfix
// milter protocol (rspamd, SpamAssassin's spamass-milter, OpenDKIM…),
// through emersion/go-milter, and turns the filter's answer into what the
// listener does: accept, reject, tempfail, a reply of the filter's own,
// header fields added, inserted or changed. docs/mail-auth.md has the
// decisions.
//
// Invariants:
//
//   - A filter that cannot be reached, times out or breaks the protocol
//     gives the configured default (tempfail or accept), logged and
//     counted: the message is never lost for it.
//   - Only header actions are negotiated (add, insert, change); a filter
//     cannot change recipients, the sender or the body. A discard is
//     answered as a reject: no message is silently dropped.
package milter

import (
	"errors"
	"fmt"
	"net"
	"strings"
)

// Address is a milter socket as Postfix writes it: "inet:HOST:PORT" (also
// "inet6:") or "unix:/PATH".
type Address struct {
	Network, Addr string
}

// ParseAddress parses a Milter option value.
func ParseAddress(s string) (Address, error) {
	kind, rest, ok := strings.Cut(strings.TrimSpace(s), ":")
	switch {
	case !ok || rest == "":
	case kind == "unix" && strings.HasPrefix(rest, "/"):
		return Address{"unix", rest}, nil
	case kind == "inet" || kind == "inet6":
		host, port, err := net.SplitHostPort(rest)
		if err == nil && host != "" && port != "" {
			return Address{"tcp", net.JoinHostPort(host, port)}, nil
		}
	}
	return Address{}, fmt.Errorf("milter address %q: want inet:HOST:PORT or unix:/PATH", s)
}

// DefaultAction is what happens when the filter cannot be asked.
type DefaultAction string

// The default actions (Milter-Default-Action).
const (
	DefaultTempfail DefaultAction = "tempfail"
	DefaultAccept   DefaultAction = "accept"
)

// ErrUnavailable wraps every failure to reach or talk to the filter.
var ErrUnavailable = errors.New("milter unavailable")
