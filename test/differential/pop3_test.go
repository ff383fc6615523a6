package differential

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// pop3Conn is a minimal POP3 client that keeps the exact bytes.
type pop3Conn struct {
	t    *testing.T
	name string
	c    net.Conn
	r    *bufio.Reader
}

func dialPOP3(t *testing.T, name, addr string) *pop3Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, commandTimeout)
	if err != nil {
		t.Fatalf("%s: dial POP3: %v", name, err)
	}
	t.Cleanup(func() { c.Close() })
	pc := &pop3Conn{t: t, name: name, c: c, r: bufio.NewReader(c)}
	_ = c.SetDeadline(time.Now().Add(commandTimeout))
	if l := pc.line(); !strings.HasPrefix(l, "+OK") {
		t.Fatalf("%s: POP3 greeting %q", name, l)
	}
	return pc
}

func (pc *pop3Conn) line() string {
	pc.t.Helper()
	l, err := pc.r.ReadString('\n')
	if err != nil {
		pc.t.Fatalf("%s: read: %v (got %q)", pc.name, err, l)
	}
	return l
}

// do sends cmd and returns the status line and, for a multi-line answer
// that succeeded, its lines without the terminating "." and dot-unstuffed
// (RFC 1939 §3), each with its CRLF.
func (pc *pop3Conn) do(cmd string, multi bool) (status string, body []string) {
	pc.t.Helper()
	_ = pc.c.SetDeadline(time.Now().Add(commandTimeout))
	if _, err := fmt.Fprintf(pc.c, "%s\r\n", cmd); err != nil {
		pc.t.Fatalf("%s: %s: %v", pc.name, cmd, err)
	}
	status = pc.line()
	if !multi || !strings.HasPrefix(status, "+OK") {
		return status, nil
	}
	for {
		l := pc.line()
		if l == ".\r\n" {
			return status, body
		}
		body = append(body, strings.TrimPrefix(l, "."))
	}
}

// pop3Step is one POP3 command and what of its answer is compared.
type pop3Step struct {
	name  string
	cmd   string
	multi bool
	// what: "kind" compares +OK/-ERR only; "status" the whole status line
	// after +OK (STAT, LIST n: RFC 1939 §5 fixes their form); "body" the
	// kind and the lines of a multi-line answer; "uidl" the kind and the
	// message numbers of a UIDL answer (the unique-ids are each server's
	// own, RFC 1939 §7).
	what string
}

// pop3Steps run on carol's maildrop; the second session sees the result
// of the first one's QUIT.
var pop3Steps = [][]pop3Step{{
	{"pop3-stat", "STAT", false, "status"},
	{"pop3-list", "LIST", true, "body"},
	{"pop3-list-one", "LIST 3", false, "status"},
	{"pop3-list-missing", "LIST 99", false, "kind"},
	{"pop3-list-zero", "LIST 0", false, "kind"},
	{"pop3-uidl", "UIDL", true, "uidl"},
	{"pop3-uidl-one", "UIDL 2", false, "uidl"},
	{"pop3-uidl-missing", "UIDL 99", false, "kind"},
	{"pop3-top-0", "TOP 1 0", true, "body"},
	{"pop3-top-2", "TOP 4 2", true, "body"},
	{"pop3-top-many", "TOP 12 1000", true, "body"},
	{"pop3-top-multipart", "TOP 11 5", true, "body"},
	{"pop3-top-missing", "TOP 99 0", true, "kind"},
	{"pop3-top-negative", "TOP 2 -1", true, "kind"},
	{"pop3-retr-group", "RETR 9", true, "body"},
	{"pop3-retr-multipart", "RETR 11", true, "body"},
	{"pop3-top-no-count", "TOP 1", true, "kind"},
	{"pop3-retr-plain", "RETR 1", true, "body"},
	{"pop3-retr-latin1", "RETR 5", true, "body"},
	{"pop3-retr-long-headers", "RETR 6", true, "body"},
	{"pop3-retr-big", "RETR 12", true, "body"},
	{"pop3-retr-missing", "RETR 13", true, "kind"},
	{"pop3-dele", "DELE 2", false, "kind"},
	{"pop3-dele-again", "DELE 2", false, "kind"},
	{"pop3-retr-deleted", "RETR 2", true, "kind"},
	{"pop3-list-deleted", "LIST 2", false, "kind"},
	{"pop3-stat-after-dele", "STAT", false, "status"},
	{"pop3-list-after-dele", "LIST", true, "body"},
	{"pop3-rset", "RSET", false, "kind"},
	{"pop3-stat-after-rset", "STAT", false, "status"},
	{"pop3-dele-two", "DELE 1", false, "kind"},
	{"pop3-dele-three", "DELE 3", false, "kind"},
	{"pop3-noop", "NOOP", false, "kind"},
	{"pop3-unknown", "FROBNICATE", false, "kind"},
	{"pop3-quit", "QUIT", false, "kind"},
}, {
	{"pop3-stat-after-quit", "STAT", false, "status"},
	{"pop3-list-after-quit", "LIST", true, "body"},
	{"pop3-uidl-after-quit", "UIDL", true, "uidl"},
	{"pop3-retr-first-after-quit", "RETR 1", true, "body"},
	{"pop3-quit-2", "QUIT", false, "kind"},
}}

func runPOP3(t *testing.T, pst, dov *server, user string) {
	for _, session := range pop3Steps {
		d := dialPOP3(t, "Dovecot", dov.pop3)
		p := dialPOP3(t, "Postern", pst.pop3)
		for _, c := range []*pop3Conn{d, p} {
			c.do("USER "+user, false)
			if st, _ := c.do("PASS "+password, false); !strings.HasPrefix(st, "+OK") {
				t.Fatalf("%s: POP3 login: %s", c.name, st)
			}
		}
		for _, s := range session {
			ds, db := d.do(s.cmd, s.multi)
			ps, pb := p.do(s.cmd, s.multi)
			dc, pc := pop3Canon(s.what, ds, db), pop3Canon(s.what, ps, pb)
			diff := diffCanon(canon{lines: dc}, canon{lines: pc})
			report(t, s.name, "C: "+s.cmd, diff, ds+strings.Join(db, ""), ps+strings.Join(pb, ""))
		}
	}
}

// pop3Canon reduces a POP3 answer to what step.what compares.
func pop3Canon(what, status string, body []string) []string {
	kind, rest, _ := strings.Cut(strings.TrimRight(status, "\r\n"), " ")
	out := []string{kind}
	if kind != "+OK" {
		return out
	}
	switch what {
	case "status":
		out[0] = kind + " " + rest
	case "body":
		out = append(out, body...)
	case "uidl":
		seen := map[string]bool{}
		lines := body
		if len(body) == 0 {
			lines = []string{rest}
		}
		for _, l := range lines {
			n, id, _ := strings.Cut(strings.TrimRight(l, "\r\n"), " ")
			if seen[id] || id == "" {
				out = append(out, "invalid or repeated unique-id in "+l)
			}
			seen[id] = true
			out = append(out, n)
		}
	}
	return out
}
