package mail11

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// LocalHosts is the "local host" test that the rewriting rules and SMTP
// share (hp-system §3.2, §9): a host is local when it is the server's own
// name, the substitute domain, one of the Local-Domains, or a line of the
// Local-Aliases-File. Names compare case-insensitively and a trailing dot
// is ignored. The zero value and nil hold no names. A LocalHosts is not
// changed after NewLocalHosts and is safe for concurrent use.
type LocalHosts struct {
	names map[string]struct{}
}

// NewLocalHosts returns the local-host test for the given names: the host's
// own name, the substitute domain, the Local-Domains and the names read by
// ParseLocalAliases, in any order. Empty names are ignored.
func NewLocalHosts(names ...string) *LocalHosts {
	l := &LocalHosts{names: make(map[string]struct{}, len(names))}
	for _, n := range names {
		if n = normHost(n); n != "" {
			l.names[n] = struct{}{}
		}
	}
	return l
}

// IsLocal reports whether host is one of the local names.
func (l *LocalHosts) IsLocal(host string) bool {
	if l == nil {
		return false
	}
	_, ok := l.names[normHost(host)]
	return ok
}

// Names returns the local names, lower-cased, in no particular order.
func (l *LocalHosts) Names() []string {
	if l == nil {
		return nil
	}
	out := make([]string, 0, len(l.names))
	for n := range l.names {
		out = append(out, n)
	}
	return out
}

func normHost(h string) string {
	return strings.ToLower(strings.TrimSuffix(strings.TrimSpace(h), "."))
}

// maxAliasLine bounds one line of a local-aliases file.
const maxAliasLine = 4096

// An AliasLineError reports a line of a local-aliases file that is not one
// domain name.
type AliasLineError struct {
	Line int    // 1-based line number
	Text string // the line, trimmed
}

// Error implements error.
func (e *AliasLineError) Error() string {
	return fmt.Sprintf("local aliases line %d: %q is not one domain name", e.Line, e.Text)
}

// ParseLocalAliases reads a local-aliases file in the format of
// TCPIP$SMTP_LOCAL_ALIASES.TXT (hp-system §9): one domain name a line,
// blank lines ignored, and "!" starting a comment. The original documents
// "!" only at the start of a line; a "!" later in a line is taken as the
// start of a trailing comment too, since no domain name contains one.
// Names are returned as written (IsLocal compares them case-insensitively).
//
// A line that is not a single domain name is skipped and reported as an
// *AliasLineError; all of them are joined into the returned error, along
// with any read error, and the good names are returned anyway, so a caller
// may warn and go on as the original would.
func ParseLocalAliases(r io.Reader) ([]string, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 256), maxAliasLine)
	var names []string
	var errs []error
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if i := strings.IndexByte(line, '!'); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if !isDomain(strings.TrimSuffix(line, ".")) {
			errs = append(errs, &AliasLineError{Line: n, Text: line})
			continue
		}
		names = append(names, line)
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, fmt.Errorf("read local aliases: %w", err))
	}
	return names, errors.Join(errs...)
}
