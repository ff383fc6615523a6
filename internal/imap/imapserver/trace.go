package imapserver

import (
	"bytes"
	"io"

	"github.com/postern/postern/internal/imap/imapwire"
	"github.com/postern/postern/internal/observe"
)

// traceReader sits between the network and the buffered reader and traces
// what the client sends, line by line, with credentials redacted
// (hp-system.md §8: every line except passwords):
//   - "tag LOGIN user password": everything after the user name; when the
//     command continues in literals, every later line and literal of it;
//   - "tag AUTHENTICATE mech initial-response": the initial response;
//   - every line of a SASL exchange (authExchange, set by AUTHENTICATE);
//   - APPEND literals are message data, summarised unless data tracing is
//     on.
//
// It runs on whichever goroutine reads (the connection's, or the IDLE
// reader while the connection's waits), never on two at once.
type traceReader struct {
	r  io.Reader
	ct *observe.ConnTrace

	line      []byte // the current line, capped at imapwire.MaxTracedLine
	tail      []byte // its last bytes, for the literal header
	litLeft   int64  // literal data still to come
	secretLit bool   // the literal being read carries a credential
	loginCont bool   // a LOGIN command continues after a literal

	// authExchange is set while AUTHENTICATE reads SASL responses.
	authExchange bool
}

func (t *traceReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if n > 0 && t.ct != nil {
		t.process(p[:n])
	}
	return n, err
}

func (t *traceReader) process(b []byte) {
	for len(b) > 0 {
		if t.litLeft > 0 {
			k := int(min(t.litLeft, int64(len(b))))
			if !t.secretLit {
				t.ct.ClientData(b[:k])
			}
			t.litLeft -= int64(k)
			if t.litLeft == 0 && t.secretLit {
				t.ct.ClientSecret(observe.RedactedText)
			}
			b = b[k:]
			continue
		}
		i := bytes.IndexByte(b, '\n')
		chunk := b
		if i >= 0 {
			chunk = b[:i+1]
		}
		if room := imapwire.MaxTracedLine - len(t.line); room > 0 {
			t.line = append(t.line, chunk[:min(room, len(chunk))]...)
		}
		t.tail = append(t.tail, chunk...)
		if len(t.tail) > 32 {
			t.tail = append(t.tail[:0], t.tail[len(t.tail)-32:]...)
		}
		b = b[len(chunk):]
		if i >= 0 {
			t.endLine()
		}
	}
}

// endLine traces a complete line and notes a literal that follows it.
func (t *traceReader) endLine() {
	line := bytes.TrimRight(t.line, "\r\n")
	lit, ok := imapwire.LiteralAtLineEnd(t.tail)
	switch {
	case t.authExchange || t.loginCont:
		t.ct.ClientAuth(line, observe.RedactedText)
	default:
		switch verbOf(line) {
		case "LOGIN":
			t.ct.ClientAuth(line, string(observe.RedactAfter(line, 3)))
			t.loginCont = ok
		case "AUTHENTICATE":
			t.ct.ClientAuth(line, string(observe.RedactAfter(line, 3)))
		default:
			t.ct.Client(line)
		}
	}
	if ok {
		t.litLeft = lit.Size
		t.secretLit = t.loginCont
	} else {
		t.loginCont = false
	}
	t.line = t.line[:0]
	t.tail = t.tail[:0]
}

// verbOf returns the upper-cased second word of a command line.
func verbOf(line []byte) string {
	_, rest, ok := bytes.Cut(line, []byte(" "))
	if !ok {
		return ""
	}
	verb, _, _ := bytes.Cut(rest, []byte(" "))
	return string(bytes.ToUpper(verb))
}
