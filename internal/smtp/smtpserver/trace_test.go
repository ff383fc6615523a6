package smtpserver

import (
	"bytes"
	"crypto/tls"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/postern/postern/internal/observe"
)

// tapTrace feeds a conversation to a traceTap, client and server bytes in
// turn, and returns the trace file's lines without their timestamps.
func tapTrace(t *testing.T, turns ...string) []string {
	t.Helper()
	dir := t.TempDir()
	tr, err := observe.NewTracer(observe.TraceOptions{Dir: dir, Proto: "smtp", Node: "test"})
	if err != nil {
		t.Fatal(err)
	}
	tap := newTraceTap(tr.Conn(1, "192.0.2.1:1", nil), false)
	for i, s := range turns {
		if i%2 == 0 {
			tap.client([]byte(s))
		} else {
			tap.server([]byte(s))
		}
	}
	tap.close()
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(tr.Path())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		_, rest, _ := strings.Cut(l, " ")
		out = append(out, rest)
	}
	return out
}

func TestTraceTapHidesAuthAndData(t *testing.T) {
	got := tapTrace(t,
		"EHLO c\r\n", "250 OK\r\n",
		"AUTH LOGIN\r\n", "334 VXNlcm5hbWU6\r\n",
		"YWxpY2U=\r\n", "334 UGFzc3dvcmQ6\r\n",
		"c2VjcmV0\r\n", "235 2.7.0 OK\r\n",
		"AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n", "503 5.5.1 Already authenticated\r\n",
		"BDAT 5 LAST\r\nab", "",
		"c\r\n", "250 OK\r\n",
		"DATA\r\n", "354 go\r\n",
		"Subject: x\r\n\r\nbo", "",
		"dy\r\n.\r\nQUIT\r\n", "250 OK\r\n221 Bye\r\n",
	)
	want := []string{
		"1 -- connect proto=smtp remote=192.0.2.1:1",
		"1 C: EHLO c", "1 S: 250 OK",
		"1 C: AUTH LOGIN ***", "1 S: 334 VXNlcm5hbWU6",
		"1 C: ***", "1 S: 334 UGFzc3dvcmQ6",
		"1 C: ***", "1 S: 235 2.7.0 OK",
		"1 C: AUTH PLAIN ***", "1 S: 503 5.5.1 Already authenticated",
		"1 C: BDAT 5 LAST", "1 C: [5 bytes of message data]", "1 S: 250 OK",
		"1 C: DATA", "1 S: 354 go",
		"1 C: [20 bytes of message data]", "1 C: .", "1 C: QUIT",
		"1 S: 250 OK", "1 S: 221 Bye",
		"1 -- close",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("trace:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestTraceTapGoesOnUnderTLS: the tap sits above TLS, so after STARTTLS
// the trace has a note and then the session in clear; a partial line read
// before the handshake is dropped, as the server drops it (RFC 3207 §4.2).
func TestTraceTapGoesOnUnderTLS(t *testing.T) {
	dir := t.TempDir()
	tr, err := observe.NewTracer(observe.TraceOptions{Dir: dir, Proto: "smtp", Node: "test"})
	if err != nil {
		t.Fatal(err)
	}
	tap := newTraceTap(tr.Conn(1, "192.0.2.1:1", nil), false)
	var in, out bytes.Buffer
	r, w := tap.reader(&in), tap.writer(&out)
	in.WriteString("STARTTLS\r\nEHLO pipelined")
	io.ReadAll(r)
	io.WriteString(w, "220 2.0.0 Ready to start TLS\r\n")
	tap.startTLS(tls.ConnectionState{Version: tls.VersionTLS13, CipherSuite: tls.TLS_AES_128_GCM_SHA256})
	in.WriteString("EHLO c\r\nAUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n")
	io.ReadAll(r)
	io.WriteString(w, "235 2.7.0 OK\r\n")
	tap.close()
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(tr.Path())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		_, rest, _ := strings.Cut(l, " ")
		got = append(got, rest)
	}
	want := []string{
		"1 -- connect proto=smtp remote=192.0.2.1:1",
		"1 C: STARTTLS", "1 S: 220 2.0.0 Ready to start TLS",
		"1 -- TLS started: TLS 1.3 TLS_AES_128_GCM_SHA256",
		"1 C: EHLO c", "1 C: AUTH PLAIN ***", "1 S: 235 2.7.0 OK",
		"1 -- close",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("trace:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
