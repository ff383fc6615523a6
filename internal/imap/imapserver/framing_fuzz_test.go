package imapserver

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzLiteralFraming drives the whole server with commands that carry
// literals and fail in every way the fuzzer finds (bad syntax before,
// inside or after a literal, unknown commands, the wrong state, refused
// literals), through a client that follows RFC 9051 §4.3 and RFC 7888: it
// waits for "+" before the data of a synchronising literal and drops the
// rest of the command when the server answers instead, sends {n+} data at
// once, and sends one command at a time. Each literal's data is a pair of
// commands tagged "Z…". The invariant (issue 11, cause 6): the server
// never answers a tag that appeared only inside a literal, since the data
// of a literal is consumed as data or the connection is closed.
//
// In the fuzz input, "\n" separates commands and these bytes stand for a
// literal whose data follows: 0x01 {n+}, 0x02 {n}, 0x03 ~{n+}, 0x04 ~{n}.
// "{", "Z" and CR are removed from the rest, so that literal headers and
// the Z tags come from the harness alone.
func FuzzLiteralFraming(f *testing.F) {
	for _, s := range []string{
		"FROB \x01", "SELECT INBOX (BOGUS \x01)", "LOGIN \x01 \x01", "LOGIN \"abc\x01", "LOGIN \x01 more \x01",
		"APPEND Nowhere \x01", "APPEND INBOX \x01 garbage \x01", "APPEND INBOX \x03", "APPEND INBOX \x04 \x02",
		"APPEND INBOX (\\Seen bad\x01", "APPEND INBOX \x01 \x02 \x01", "EXPUNGE \x01", "FETCH 1 (BODY[] \x01)",
		"SEARCH TEXT \x01 FROB \x01", "SEARCH CHARSET \x02 ALL", "AUTHENTICATE PLAIN \x01", "AUTHENTICATE PLAIN",
		"LIST \x01 \x01 RETURN (BOGUS)", "STATUS \x02 (MESSAGES)", "ID (\x01 NIL)", "SELECT \x02", "IDLE \x01",
		"CREATE \x01\nDELETE \x02\nRENAME \x01 \x01", "UID FROB \x01", "NOOP \x02", "STORE 1 +FLAGS (\x01)",
	} {
		f.Add(s)
	}
	fx := newFixture(f)
	if err := fx.addUser("alice", "secret"); err != nil {
		f.Fatal(err)
	}
	fx.deliver("alice", "INBOX", []byte("From: bob@example.org\r\nSubject: hi\r\n\r\nhello\r\n"))
	addr := fx.start()
	prefixes := [][]string{nil, {"LOGIN alice secret"}, {"LOGIN alice secret", "SELECT INBOX"}}
	f.Fuzz(func(t *testing.T, input string) {
		cmds := strings.Split(input, "\n")
		if len(cmds) > 16 {
			cmds = cmds[:16]
		}
		for _, prefix := range prefixes {
			fc := dialFraming(t, addr)
			for _, p := range prefix {
				fc.command(p)
			}
			for _, c := range cmds {
				fc.command(c)
			}
			fc.command("LOGOUT")
			fc.close()
		}
	})
}

// framingClient is the well-behaved client of FuzzLiteralFraming.
type framingClient struct {
	t      *testing.T
	nc     net.Conn
	br     *bufio.Reader
	n      int  // commands sent
	z      int  // literals sent
	closed bool // the server closed the connection
}

func dialFraming(t *testing.T, addr string) *framingClient {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	fc := &framingClient{t: t, nc: nc, br: bufio.NewReader(nc)}
	fc.readLine() // greeting
	return fc
}

func (fc *framingClient) close() { fc.nc.Close() }

// command sends one command built from fuzz text and reads up to its
// tagged response.
func (fc *framingClient) command(text string) {
	if fc.closed {
		return
	}
	fc.n++
	tag := "c" + strconv.Itoa(fc.n)
	text = strings.Map(func(r rune) rune {
		if r == '{' || r == 'Z' || r == '\r' {
			return -1
		}
		return r
	}, text)
	line := []byte(tag + " ")
	for i := 0; i < len(text); i++ {
		b := text[i]
		if b < 1 || b > 4 {
			line = append(line, b)
			continue
		}
		fc.z++
		data := fmt.Sprintf("Z%d NOOP\r\nZ%db LOGOUT\r\n", fc.z, fc.z)
		nonSync, binary := b == 1 || b == 3, b >= 3
		if binary {
			line = append(line, '~')
		}
		line = fmt.Appendf(line, "{%d%s}\r\n", len(data), map[bool]string{true: "+"}[nonSync])
		if !fc.send(line) {
			return
		}
		line = line[:0]
		if !nonSync && !fc.waitContinuation(tag) {
			return // answered instead: the command is over
		}
		if !fc.send([]byte(data)) {
			return
		}
	}
	if fc.send(append(line, "\r\n"...)) {
		fc.waitTagged(tag)
	}
}

func (fc *framingClient) send(b []byte) bool {
	if _, err := fc.nc.Write(b); err != nil {
		fc.closed = true // the server may close after BYE
		return false
	}
	return true
}

// waitContinuation reads responses until "+" (true) or the command's
// tagged response (false).
func (fc *framingClient) waitContinuation(tag string) bool {
	for !fc.closed {
		line := fc.readLine()
		switch {
		case strings.HasPrefix(line, "+"):
			return true
		case strings.HasPrefix(line, tag+" "):
			return false
		}
	}
	return false
}

// waitTagged reads responses up to the command's tagged response. A "+"
// the client did not ask for (a SASL challenge, IDLE) is answered "DONE",
// which ends either.
func (fc *framingClient) waitTagged(tag string) {
	for !fc.closed {
		line := fc.readLine()
		switch {
		case strings.HasPrefix(line, "+"):
			fc.send([]byte("DONE\r\n"))
		case strings.HasPrefix(line, tag+" "):
			return
		}
	}
}

// readLine reads one response line, with the data of any literals it
// carries, and checks the invariant on it.
func (fc *framingClient) readLine() string {
	var resp []byte
	for {
		line, err := fc.br.ReadBytes('\n')
		resp = append(resp, line...)
		if err == io.EOF || isReset(err) {
			fc.closed = true
			break
		}
		if err != nil {
			fc.t.Fatalf("reading a response: %v (after %q)", err, resp)
		}
		n, ok := responseLiteral(line)
		if !ok {
			break
		}
		data := make([]byte, n)
		if _, err := io.ReadFull(fc.br, data); err != nil {
			fc.t.Fatalf("reading a literal of %d bytes: %v", n, err)
		}
		resp = append(resp, data...)
	}
	if bytes.HasPrefix(resp, []byte("Z")) {
		fc.t.Fatalf("the server answered a tag sent only inside a literal: %q", resp)
	}
	return string(resp)
}

// responseLiteral parses a literal header ("{n}" or "~{n}") at the end of
// a response line.
func responseLiteral(line []byte) (int, bool) {
	line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
	body, ok := bytes.CutSuffix(line, []byte("}"))
	i := bytes.LastIndexByte(body, '{')
	if !ok || i < 0 {
		return 0, false
	}
	n, err := strconv.Atoi(string(body[i+1:]))
	return n, err == nil && n >= 0
}

func isReset(err error) bool {
	return err != nil && strings.Contains(err.Error(), "connection reset")
}
