package smtpserver

import (
	"os"
	"strings"
	"testing"

	"github.com/postern/postern/internal/observe"
)

// tapTrace feeds a conversation to a traceTap, client and server bytes in
// turn, and returns the trace file's lines without their timestamps.
func tapTrace(t *testing.T, implicitTLS bool, turns ...string) []string {
	t.Helper()
	dir := t.TempDir()
	tr, err := observe.NewTracer(observe.TraceOptions{Dir: dir, Proto: "smtp", Node: "test"})
	if err != nil {
		t.Fatal(err)
	}
	tap := newTraceTap(tr.Conn(1, "192.0.2.1:1", nil), implicitTLS)
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
	got := tapTrace(t, false,
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

func TestTraceTapStopsAtTLS(t *testing.T) {
	got := tapTrace(t, false, "STARTTLS\r\n", "220 2.0.0 Ready to start TLS\r\n", "\x16\x03\x01binary", "\x16\x03\x03more\n")
	want := "1 -- connect proto=smtp remote=192.0.2.1:1\n1 C: STARTTLS\n1 S: 220 2.0.0 Ready to start TLS\n" +
		"1 -- TLS started: the rest of this connection is encrypted and not traced\n1 -- close"
	if strings.Join(got, "\n") != want {
		t.Errorf("STARTTLS trace:\n%s", strings.Join(got, "\n"))
	}
	got = tapTrace(t, true, "\x16\x03\x01binary\n", "")
	if len(got) != 3 || !strings.Contains(got[1], "TLS started") {
		t.Errorf("implicit TLS trace:\n%s", strings.Join(got, "\n"))
	}
}
