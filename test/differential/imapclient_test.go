package differential

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// commandTimeout bounds one command's exchange.
const commandTimeout = 10 * time.Second

// imapConn is a minimal IMAP client that keeps the exact bytes: one
// command at a time, responses read line by line with their literals.
type imapConn struct {
	t    *testing.T
	name string
	c    net.Conn
	r    *bufio.Reader
	n    int
}

// reply is everything one command got back.
type reply struct {
	untagged [][]byte // each a whole response, literals inline
	tagged   []byte
	// cont is a continuation request ("+ ...") that ended the exchange
	// because a synchronising literal was refused.
	cont []byte
}

// raw returns the reply as the server sent it.
func (r reply) raw() string {
	var b strings.Builder
	for _, u := range r.untagged {
		b.Write(u)
	}
	b.Write(r.tagged)
	return b.String()
}

func dialIMAP(t *testing.T, name, addr string) *imapConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, commandTimeout)
	if err != nil {
		t.Fatalf("%s: dial IMAP: %v", name, err)
	}
	t.Cleanup(func() { c.Close() })
	ic := &imapConn{t: t, name: name, c: c, r: bufio.NewReader(c)}
	ic.deadline()
	greeting, err := ic.readResponse()
	if err != nil || !bytes.HasPrefix(greeting, []byte("* OK")) {
		t.Fatalf("%s: greeting %q: %v", name, greeting, err)
	}
	return ic
}

func (ic *imapConn) deadline() {
	_ = ic.c.SetDeadline(time.Now().Add(commandTimeout))
}

// literalRE finds a synchronising literal's announcement at the end of a
// command line.
var literalRE = regexp.MustCompile(`~?\{(\d+)\}\r\n`)

// do sends one command (without tag; CRLF added) and reads to its tagged
// response. Synchronising literals in text ("{n}\r\n" then n bytes) are
// sent only after the server's continuation request.
func (ic *imapConn) do(text string) reply {
	ic.t.Helper()
	ic.n++
	tag := fmt.Sprintf("T%d", ic.n)
	r, err := ic.exchange(tag, tag+" "+text+"\r\n")
	if err != nil {
		ic.t.Fatalf("%s: %s: %v\nso far: %s", ic.name, text, err, r.raw())
	}
	return r
}

func (ic *imapConn) exchange(tag, text string) (reply, error) {
	var r reply
	ic.deadline()
	for {
		loc := literalRE.FindStringSubmatchIndex(text)
		if loc == nil {
			if _, err := io.WriteString(ic.c, text); err != nil {
				return r, err
			}
			break
		}
		if _, err := io.WriteString(ic.c, text[:loc[1]]); err != nil {
			return r, err
		}
		n, _ := strconv.Atoi(text[loc[2]:loc[3]])
		// Wait for the continuation; anything tagged ends the command.
		for {
			line, err := ic.readResponse()
			if err != nil {
				return r, err
			}
			if bytes.HasPrefix(line, []byte("+")) {
				break
			}
			if bytes.HasPrefix(line, []byte(tag+" ")) {
				r.tagged = line
				return r, nil
			}
			r.untagged = append(r.untagged, line)
		}
		text = text[loc[1]:]
		if _, err := io.WriteString(ic.c, text[:n]); err != nil {
			return r, err
		}
		text = text[n:]
	}
	for {
		line, err := ic.readResponse()
		if err != nil {
			return r, err
		}
		switch {
		case bytes.HasPrefix(line, []byte(tag+" ")):
			r.tagged = line
			return r, nil
		case bytes.HasPrefix(line, []byte("+")):
			r.cont = line
			return r, nil
		}
		r.untagged = append(r.untagged, line)
	}
}

// readResponse reads one response line with any literals it announces.
func (ic *imapConn) readResponse() ([]byte, error) {
	var out []byte
	for {
		line, err := ic.r.ReadBytes('\n')
		out = append(out, line...)
		if err != nil {
			return out, err
		}
		m := literalEndRE.FindSubmatch(line)
		if m == nil {
			return out, nil
		}
		n, _ := strconv.Atoi(string(m[1]))
		lit := make([]byte, n)
		if _, err := io.ReadFull(ic.r, lit); err != nil {
			return out, err
		}
		out = append(out, lit...)
	}
}

// literalEndRE matches a line that ends with a literal's announcement.
var literalEndRE = regexp.MustCompile(`~?\{(\d+)\}\r\n$`)

// login logs in with LOGIN and fails the test if the server refuses.
func (ic *imapConn) login(user string) {
	ic.t.Helper()
	r := ic.do("LOGIN " + user + " " + password)
	if !bytes.Contains(r.tagged, []byte(" OK")) {
		ic.t.Fatalf("%s: LOGIN %s: %s", ic.name, user, r.raw())
	}
}

// literal8 returns s as a synchronising literal8 (RFC 3516 §4.1).
func literal8(s string) string {
	return fmt.Sprintf("~{%d}\r\n%s", len(s), s)
}

// literal returns s as a synchronising literal for a command text.
func literal(s string) string {
	return fmt.Sprintf("{%d}\r\n%s", len(s), s)
}
