package smtpserver

import (
	"bytes"
	"crypto/tls"
	"io"
	"strconv"
	"sync"

	"github.com/postern/postern/internal/observe"
)

// traceTap turns the bytes of one connection into trace lines: client
// lines (with AUTH hidden), server replies, message data summarised by
// the ConnTrace. conn reads and writes through it above TLS (reader,
// writer), so a session under STARTTLS or implicit TLS is traced in
// clear like any other; the start of TLS is a note.
//
// Secrets (RFC 4954 §4): the AUTH command line keeps its mechanism only
// ("AUTH PLAIN ***"), and every client line after it is written as "***"
// until the server answers with anything but 334, the continuation reply,
// so the base64 lines of AUTH LOGIN and PLAIN never reach a file.
type traceTap struct {
	ct *observe.ConnTrace

	mu      sync.Mutex
	in, out []byte // partial client and server lines
	inAuth  bool   // inside an AUTH exchange
	armed   bool   // the client sent DATA: a 354 reply starts the data
	data    bool   // reading DATA content, up to the lone "."
	bdat    int64  // octets of a BDAT chunk still to come (RFC 3030 §2)
}

func newTraceTap(ct *observe.ConnTrace, implicitTLS bool) *traceTap {
	if ct == nil {
		return nil
	}
	if implicitTLS {
		ct.Note("implicit TLS")
	}
	return &traceTap{ct: ct}
}

// reader returns r, traced as client input.
func (t *traceTap) reader(r io.Reader) io.Reader {
	if t == nil {
		return r
	}
	return tapReader{r: r, t: t}
}

// writer returns w, traced as server output.
func (t *traceTap) writer(w io.Writer) io.Writer {
	if t == nil {
		return w
	}
	return tapWriter{w: w, t: t}
}

type tapReader struct {
	r io.Reader
	t *traceTap
}

func (r tapReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.t.client(p[:n])
	return n, err
}

type tapWriter struct {
	w io.Writer
	t *traceTap
}

func (w tapWriter) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	w.t.server(p[:n])
	return n, err
}

// startTLS notes the TLS handshake after STARTTLS (RFC 3207). A partial
// line read in clear before it was dropped with the old buffer, as the
// server dropped it.
func (t *traceTap) startTLS(st tls.ConnectionState) {
	if t == nil {
		return
	}
	t.mu.Lock()
	t.in = nil
	t.mu.Unlock()
	t.ct.Note("TLS started: " + tls.VersionName(st.Version) + " " + tls.CipherSuiteName(st.CipherSuite))
}

// client takes bytes read from the client.
func (t *traceTap) client(p []byte) {
	if t == nil || len(p) == 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for len(p) > 0 {
		if t.bdat > 0 {
			n := min(int64(len(p)), t.bdat)
			t.ct.ClientData(p[:n])
			t.bdat -= n
			p = p[n:]
			continue
		}
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			t.in = append(t.in, p...)
			return
		}
		line := append(t.in, p[:i+1]...)
		t.in, p = nil, p[i+1:]
		t.clientLine(line)
	}
}

// clientLine traces one complete client line (with its LF).
func (t *traceTap) clientLine(line []byte) {
	if t.data {
		if string(bytes.TrimRight(line, "\r\n")) == "." { // RFC 5321 §4.1.1.4
			t.data = false
			t.ct.Client([]byte("."))
			return
		}
		t.ct.ClientData(line)
		return
	}
	if t.inAuth {
		t.ct.ClientAuth(line, observe.RedactedText)
		return
	}
	word, rest, _ := bytes.Cut(bytes.TrimRight(line, "\r\n"), []byte(" "))
	switch string(bytes.ToUpper(word)) {
	case "AUTH":
		mech, _, _ := bytes.Cut(rest, []byte(" "))
		t.ct.ClientAuth(line, "AUTH "+string(mech)+" "+observe.RedactedText)
		t.inAuth = true
		return
	case "DATA":
		t.armed = true
	case "BDAT":
		size, _, _ := bytes.Cut(rest, []byte(" "))
		if n, err := strconv.ParseInt(string(size), 10, 64); err == nil && n > 0 {
			t.bdat = n
		}
	}
	t.ct.Client(line)
}

// server takes bytes written to the client.
func (t *traceTap) server(p []byte) {
	if t == nil || len(p) == 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			t.out = append(t.out, p...)
			return
		}
		line := append(t.out, p[:i+1]...)
		t.out, p = nil, p[i+1:]
		t.serverLine(line)
	}
}

// serverLine traces one reply line and follows the exchange it ends.
func (t *traceTap) serverLine(line []byte) {
	t.ct.Server(line)
	if len(line) < 4 || line[3] == '-' { // a multiline reply goes on (RFC 5321 §4.2.1)
		return
	}
	code := string(line[:3])
	if t.inAuth && code != "334" {
		t.inAuth = false
	}
	if t.armed {
		t.armed, t.data = false, code == "354"
	}
}

// close ends the trace.
func (t *traceTap) close() {
	if t == nil {
		return
	}
	t.ct.Close()
}
