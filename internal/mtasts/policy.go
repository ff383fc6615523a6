// Package mtasts is MTA-STS (RFC 8461): the policy a receiving domain
// publishes over HTTPS, which tells a sending MTA to deliver only to the
// listed MX hosts and only over TLS with a valid certificate. It parses
// policies, matches MX names, and fetches and caches policies; the
// outbound queue enforces them (docs/smtp.md).
package mtasts

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Modes (RFC 8461 §5).
const (
	ModeEnforce = "enforce"
	ModeTesting = "testing"
	ModeNone    = "none"
)

// maxMaxAge is the largest max_age (§3.2: 31557600, about a year).
const maxMaxAge = 31557600

// Policy is a parsed policy (§3.2).
type Policy struct {
	Mode   string
	MX     []string // patterns: a host name or "*." + a domain
	MaxAge time.Duration
}

var errPolicy = errors.New("malformed MTA-STS policy")

// Parse parses a policy body: "key: value" lines ended by CRLF or LF
// (§3.2). version must be STSv1; mode and max_age are required; mx at
// least once unless the mode is none. Unknown keys are ignored.
func Parse(body []byte) (*Policy, error) {
	p := &Policy{MaxAge: -1}
	version := ""
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("%w: line %q", errPolicy, line)
		}
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		switch key {
		case "version":
			version = value
		case "mode":
			p.Mode = value
		case "mx":
			p.MX = append(p.MX, strings.ToLower(strings.TrimSuffix(value, ".")))
		case "max_age":
			n, err := strconv.ParseInt(value, 10, 64)
			if err != nil || n < 0 || n > maxMaxAge || strings.Trim(value, "0123456789") != "" {
				return nil, fmt.Errorf("%w: max_age %q", errPolicy, value)
			}
			p.MaxAge = time.Duration(n) * time.Second
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", errPolicy, err)
	}
	switch {
	case version != "STSv1":
		return nil, fmt.Errorf("%w: version %q", errPolicy, version)
	case p.Mode != ModeEnforce && p.Mode != ModeTesting && p.Mode != ModeNone:
		return nil, fmt.Errorf("%w: mode %q", errPolicy, p.Mode)
	case p.MaxAge < 0:
		return nil, fmt.Errorf("%w: no max_age", errPolicy)
	case len(p.MX) == 0 && p.Mode != ModeNone:
		return nil, fmt.Errorf("%w: no mx", errPolicy)
	}
	return p, nil
}

// Match reports whether an MX host name is allowed by the policy (§4.1):
// equal to a pattern, or, for "*.example.com", one label more than
// example.com.
func (p *Policy) Match(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, m := range p.MX {
		if rest, ok := strings.CutPrefix(m, "*."); ok {
			label, parent, found := strings.Cut(host, ".")
			if found && label != "" && parent == rest {
				return true
			}
			continue
		}
		if host == m {
			return true
		}
	}
	return false
}

// parseRecord parses the _mta-sts TXT record (§3.1): "v=STSv1; id=…".
// It returns the id.
func parseRecord(txt string) (string, bool) {
	fields := strings.Split(txt, ";")
	if strings.TrimSpace(fields[0]) != "v=STSv1" {
		return "", false
	}
	for _, f := range fields[1:] {
		k, v, _ := strings.Cut(strings.TrimSpace(f), "=")
		if k == "id" && v != "" && len(v) <= 32 {
			return v, true
		}
	}
	return "", false
}
