package milter

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"strings"
	"testing"
	"time"

	gomilter "github.com/emersion/go-milter"
)

// testFilter is a milter (go-milter's server side) that decides by the
// message's Subject, and records what it was told.
type testFilter struct {
	gomilter.NoOpMilter
	subject string
	from    string
	rcpts   []string
	body    bytes.Buffer
	got     chan string // the body, at the end
}

func (f *testFilter) MailFrom(from string, _ *gomilter.Modifier) (gomilter.Response, error) {
	f.from = from
	return gomilter.RespContinue, nil
}

func (f *testFilter) RcptTo(r string, _ *gomilter.Modifier) (gomilter.Response, error) {
	f.rcpts = append(f.rcpts, r)
	return gomilter.RespContinue, nil
}

func (f *testFilter) Headers(h textproto.MIMEHeader, _ *gomilter.Modifier) (gomilter.Response, error) {
	f.subject = h.Get("Subject")
	return gomilter.RespContinue, nil
}

func (f *testFilter) BodyChunk(c []byte, _ *gomilter.Modifier) (gomilter.Response, error) {
	f.body.Write(c)
	return gomilter.RespContinue, nil
}

func (f *testFilter) Body(m *gomilter.Modifier) (gomilter.Response, error) {
	if f.got != nil {
		f.got <- f.from + " " + strings.Join(f.rcpts, ",") + " " + f.body.String()
	}
	switch f.subject {
	case "reject":
		return gomilter.RespReject, nil
	case "tempfail":
		return gomilter.RespTempFail, nil
	case "discard":
		return gomilter.RespDiscard, nil
	case "reply":
		return gomilter.NewResponseStr('y', "554 5.7.1 Gtube pattern"), nil
	case "mark":
		m.AddHeader("X-Spam", "yes\nscore=9")
		m.ChangeHeader(1, "Subject", "[SPAM] mark")
		m.ChangeHeader(2, "X-Remove", "")
		m.AddHeader("Bad:Name", "x")
	}
	return gomilter.RespAccept, nil
}

func startFilter(t *testing.T, got chan string) Address {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &gomilter.Server{NewMilter: func() gomilter.Milter { return &testFilter{got: got} },
		Actions: gomilter.OptAddHeader | gomilter.OptChangeHeader}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return Address{"tcp", ln.Addr().String()}
}

func msg(subject string) string {
	return "From: a@example.org\r\nSubject: " + subject + "\r\nX-Remove: 1\r\nX-Remove: 2\r\n\r\nbody line\r\n"
}

func check(t *testing.T, c *Client, m string) Result {
	t.Helper()
	return c.Check(t.Context(), Input{Remote: &net.TCPAddr{IP: net.ParseIP("192.0.2.1"), Port: 2525}, Helo: "c.example",
		MailFrom: "a@example.org", Rcpts: []string{"b@example.net", "c@example.net"},
		Open: func() io.Reader { return strings.NewReader(m) }})
}

// TestVerdicts: accept, reject, tempfail, discard (answered as a reject)
// and the filter's own reply code are honoured; the filter sees the
// envelope and the body.
func TestVerdicts(t *testing.T) {
	got := make(chan string, 10)
	c := &Client{Addr: startFilter(t, got), Default: DefaultTempfail}
	if r := check(t, c, msg("fine")); r.Refuse != nil || r.Prepend != "" || r.Drop != nil {
		t.Errorf("accept: %+v", r)
	}
	if s := <-got; s != "a@example.org b@example.net,c@example.net body line\r\n" {
		t.Errorf("the filter saw %q", s)
	}
	for subject, want := range map[string]string{"reject": "550 5.7.1", "tempfail": "451 4.7.1", "discard": "550 5.7.1", "reply": "554 5.7.1 Gtube pattern"} {
		r := check(t, c, msg(subject))
		if r.Refuse == nil {
			t.Errorf("%s: accepted", subject)
			continue
		}
		e := r.Refuse
		line := fmt.Sprintf("%d %d.%d.%d", e.Code, e.EnhancedCode[0], e.EnhancedCode[1], e.EnhancedCode[2])
		if subject == "reply" {
			line += " " + e.Message
		}
		if line != want {
			t.Errorf("%s: %q, want %q", subject, line, want)
		}
	}
}

// TestModifications: added fields are prepended (line breaks kept as
// folding), a changed field is replaced, an emptied one removed, by its
// index among fields of its name; an invalid name is ignored.
func TestModifications(t *testing.T) {
	c := &Client{Addr: startFilter(t, nil), Default: DefaultTempfail}
	r := check(t, c, msg("mark"))
	if r.Refuse != nil {
		t.Fatal(r.Refuse)
	}
	if r.Prepend != "X-Spam: yes\r\n\tscore=9\r\nSubject: [SPAM] mark\r\n" {
		t.Errorf("prepend %q", r.Prepend)
	}
	var dropped []string
	for _, f := range []string{"From", "Subject", "X-Remove", "x-remove"} {
		if r.Drop(f, nil) {
			dropped = append(dropped, f)
		}
	}
	if strings.Join(dropped, " ") != "Subject x-remove" {
		t.Errorf("dropped %v, want Subject and the second X-Remove", dropped)
	}
}

// TestUnavailable: a filter that is down, or that never answers, gives
// the default action within bounded time.
func TestUnavailable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := Address{"tcp", ln.Addr().String()}
	ln.Close()
	c := &Client{Addr: dead, Default: DefaultTempfail}
	if r := check(t, c, msg("fine")); r.Refuse == nil || r.Refuse.Code != 451 {
		t.Errorf("down, tempfail: %+v", r)
	}
	c.Default = DefaultAccept
	if r := check(t, c, msg("fine")); r.Refuse != nil {
		t.Errorf("down, accept: %+v", r.Refuse)
	}
	// A filter that accepts the connection and says nothing.
	mute, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer mute.Close()
	go func() {
		for {
			conn, err := mute.Accept()
			if err != nil {
				return
			}
			defer conn.Close()
		}
	}()
	c = &Client{Addr: Address{"tcp", mute.Addr().String()}, Default: DefaultTempfail, Timeout: 2 * time.Second}
	start := time.Now()
	r := c.Check(t.Context(), Input{Helo: "x", Open: func() io.Reader { return strings.NewReader(msg("x")) }})
	if r.Refuse == nil || time.Since(start) > 5*time.Second {
		t.Errorf("mute filter: %+v after %v", r, time.Since(start))
	}
}

func TestParseAddress(t *testing.T) {
	for in, want := range map[string]Address{
		"inet:127.0.0.1:11332": {"tcp", "127.0.0.1:11332"}, "inet6:[::1]:11332": {"tcp", "[::1]:11332"},
		"unix:/run/rspamd/milter.sock": {"unix", "/run/rspamd/milter.sock"},
	} {
		if got, err := ParseAddress(in); err != nil || got != want {
			t.Errorf("ParseAddress(%q) = %v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "127.0.0.1:11332", "inet:host", "unix:relative", "tcp:1.2.3.4:5", "inet::25"} {
		if _, err := ParseAddress(bad); err == nil {
			t.Errorf("ParseAddress(%q) accepted", bad)
		}
	}
}
