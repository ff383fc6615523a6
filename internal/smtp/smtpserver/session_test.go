package smtpserver

import (
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/xdg-go/scram"
)

const plainMsg = "From: sender@example.net\r\nTo: alice@example.org\r\nSubject: test\r\n\r\nhello\r\n"

// startTx greets and opens a transaction for alice (LMTP or inbound).
func startTx(c *tconn, lmtp bool) {
	c.t.Helper()
	c.expect("220 *")
	if lmtp {
		c.send("LHLO client")
	} else {
		c.send("EHLO client")
	}
	c.reply()
	c.send("MAIL FROM:<sender@example.net>")
	c.expect("250 *")
	c.send("RCPT TO:<alice@example.org>")
	c.expect("250 *")
}

func TestLMTPStoresExactBytesWithReceived(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, parseSetup(t, "mode lmtp\nuser alice pw"))
	c := e.dial()
	startTx(c, true)
	c.send("DATA")
	c.expect("354 *")
	c.writeRaw(dataBlock(plainMsg))
	c.expect("250 2.0.0 <alice@example.org> *")
	msgs := e.messages("alice", "INBOX")
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	want := "Received: from client ([127.0.0.1])\r\n\tby mx.example.org (Postern) with LMTP id *\r\n\tfor <alice@example.org>;\r\n\tWed, 25 Nov 2026 12:00:00 +0000\r\n" + plainMsg
	if !globMatch(want, msgs[0]) {
		t.Errorf("stored:\n%q\nwant:\n%q", msgs[0], want)
	}
}

// TestDataFramingRefusals sends bad DATA: each gets one clear reply after
// the real end marker, nothing is stored, and the session goes on.
func TestDataFramingRefusals(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, data, reply string
	}{
		{"bare LF", "Subject: x\n\nbody\r\n.\r\n", "550 5.6.0 *bare CR or LF*"},
		{"bare CR", "Subject: x\r\n\rbody\r\n.\r\n", "550 5.6.0 *bare CR or LF*"},
		{"NUL", "Subject: x\r\n\r\nbo\x00dy\r\n.\r\n", "550 5.6.0 *NUL*"},
		// SMTP smuggling: <LF>.<LF> and <CR><LF>.<LF> must not end the data,
		// and the "second message" must not be executed as commands.
		{"smuggle LF.LF", "Subject: x\r\n\r\nbody\n.\nMAIL FROM:<evil@example.net>\r\nRCPT TO:<alice@example.org>\r\nDATA\r\nSubject: smuggled\r\n\r\nx\r\n.\r\n", "550 5.6.0 *"},
		{"smuggle CRLF.LF", "Subject: x\r\n\r\nbody\r\n.\nMAIL FROM:<evil@example.net>\r\n.\r\n", "550 5.6.0 *"},
		{"smuggle CR.CR", "Subject: x\r\n\r\nbody\r.\rMAIL FROM:<evil@example.net>\r\n.\r\n", "550 5.6.0 *"},
	}
	for _, mode := range []string{"smtp", "lmtp"} {
		for _, tc := range cases {
			t.Run(mode+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				e := newTestEnv(t, parseSetup(t, "mode "+mode+"\nuser alice pw"))
				c := e.dial()
				startTx(c, mode == "lmtp")
				c.send("DATA")
				c.expect("354 *")
				c.writeRaw(tc.data)
				if mode == "lmtp" {
					c.expect(strings.Replace(tc.reply, " 5.6.0 ", " 5.6.0 <alice@example.org> ", 1))
				} else {
					c.expect(tc.reply)
				}
				c.send("NOOP")
				c.expect("250 *")
				if n := len(e.messages("alice", "INBOX")); n != 0 {
					t.Errorf("%d messages stored", n)
				}
			})
		}
	}
}

func TestOversizedMessage(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"smtp", "lmtp"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t, parseSetup(t, "mode "+mode+"\nuser alice pw\nmax-size 2000"))
			c := e.dial()
			startTx(c, mode == "lmtp")
			c.send("DATA")
			c.expect("354 *")
			c.writeRaw(dataBlock("Subject: big\r\n\r\n" + strings.Repeat("0123456789abcdef\r\n", 500)))
			c.expect("552 5.3.4 *")
			c.send("MAIL FROM:<a@example.net>")
			c.expect("250 *")
			c.send("RCPT TO:<alice@example.org>")
			c.expect("250 *")
			// QUIRK: go-smtp discards a refused chunk under its line-length
			// limit, so a chunk of one 5000-octet line would end the
			// session; real chunks carry CRLF lines.
			chunk := strings.Repeat("0123456789abcdef\r\n", 300)
			c.send(fmt.Sprintf("BDAT %d LAST", len(chunk)))
			c.writeRaw(chunk)
			c.expect("552 5.3.4 *")
			c.send("NOOP")
			c.expect("250 *")
			if n := len(e.messages("alice", "INBOX")); n != 0 {
				t.Errorf("%d messages stored", n)
			}
		})
	}
}

func TestBDAT(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, parseSetup(t, "mode smtp\nuser alice pw"))
	c := e.dial()
	startTx(c, false)
	half := len(plainMsg) / 2
	c.writeRaw(fmt.Sprintf("BDAT %d\r\n%s", half, plainMsg[:half]))
	c.expect("250 *")
	c.writeRaw(fmt.Sprintf("BDAT %d LAST\r\n%s", len(plainMsg)-half, plainMsg[half:]))
	c.expect("250 2.0.0 *")
	// BDAT with a bare LF is refused like DATA.
	c.send("MAIL FROM:<a@example.net>")
	c.expect("250 *")
	c.send("RCPT TO:<alice@example.org>")
	c.expect("250 *")
	bad := "Subject: x\n\nbody\r\n"
	c.writeRaw(fmt.Sprintf("BDAT %d LAST\r\n%s", len(bad), bad))
	c.expect("550 5.6.0 *")
	msgs := e.messages("alice", "INBOX")
	if len(msgs) != 1 || !strings.HasSuffix(msgs[0], plainMsg) {
		t.Errorf("stored %q", msgs)
	}
}

// TestManyRecipients pipelines 10,000 RCPTs: the first Max-Recipients are
// accepted, the rest get 452 4.5.3, and one copy is delivered.
func TestManyRecipients(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, parseSetup(t, "mode smtp\nuser alice pw\nmax-rcpts 100"))
	c := e.dial()
	c.expect("220 *")
	c.send("EHLO client")
	c.reply()
	var b strings.Builder
	b.WriteString("MAIL FROM:<a@example.net>\r\n")
	for i := 0; i < 10000; i++ {
		b.WriteString("RCPT TO:<alice+" + fmt.Sprint(i) + "@example.org>\r\n")
	}
	go c.c.Write([]byte(b.String())) // pipelined; replies are read meanwhile
	c.expect("250 *")
	for i := 0; i < 10000; i++ {
		l, err := c.readLine()
		if err != nil {
			t.Fatalf("rcpt %d: %v", i, err)
		}
		want := "250 *"
		if i >= 100 {
			want = "452 4.5.3 *"
		}
		if !globMatch(want, l) {
			t.Fatalf("rcpt %d: %q", i, l)
		}
	}
	c.send("DATA")
	c.expect("354 *")
	c.writeRaw(dataBlock(plainMsg))
	c.expect("250 *")
	if n := len(e.messages("alice", "INBOX")); n != 1 {
		t.Errorf("%d copies for 100 addresses of one account", n)
	}
}

// TestStalledData: a client that stops mid-DATA is cut off after the data
// timeout and nothing is stored.
func TestStalledData(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, parseSetup(t, "mode lmtp\nuser alice pw\ndata-timeout 300ms"))
	c := e.dial()
	startTx(c, true)
	c.send("DATA")
	c.expect("354 *")
	c.writeRaw("Subject: half\r\n\r\nhalf a messa")
	for {
		if _, err := c.readLine(); err != nil {
			break // the server gave up and closed the connection
		}
	}
	if n := len(e.messages("alice", "INBOX")); n != 0 {
		t.Errorf("%d messages stored", n)
	}
}

func TestConnectionLimitPerIP(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, parseSetup(t, "mode smtp\nuser alice pw\nper-ip 2"))
	c1, c2 := e.dial(), e.dial()
	c1.expect("220 *")
	c2.expect("220 *")
	c3 := e.dial()
	c3.expect("421 4.7.0 *")
	c1.send("QUIT")
	c1.expect("221 *")
	c1.c.Close()
	// The slot comes back once the server has seen the close.
	for i := 0; ; i++ {
		c4 := e.dial()
		l, _ := c4.readLine()
		if strings.HasPrefix(l, "220 ") {
			break
		}
		if i > 200 {
			t.Fatalf("slot never released: %q", l)
		}
	}
}

func TestConnectionRate(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, parseSetup(t, "mode smtp\nuser alice pw\nper-minute 3"))
	for i := 0; i < 3; i++ {
		c := e.dial()
		c.expect("220 *")
		c.c.Close()
	}
	e.dial().expect("421 4.7.0 *")
}

// smtpClient dials e with go-smtp's client and STARTTLS.
func (e *testEnv) smtpClient(t *testing.T) *smtp.Client {
	t.Helper()
	c, err := smtp.DialStartTLS(e.addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Hello("client"); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSubmissionSTARTTLSAuthAndHeaders(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, parseSetup(t, "mode submission\nuser alice secret\nuser bob pw\nremote 192.0.2.9\nsave-sent"))
	c := e.smtpClient(t)
	if ok, mechs := c.Extension("AUTH"); !ok || mechs != "SCRAM-SHA-256 PLAIN LOGIN" {
		t.Errorf("AUTH after TLS: %v %q", ok, mechs)
	}
	if err := c.Auth(sasl.NewPlainClient("", "alice", "secret")); err != nil {
		t.Fatal(err)
	}
	body := "From: alice@example.org\r\nTo: bob@example.org\r\nSubject: no date\r\n\r\nhi\r\n"
	if err := c.SendMail("alice@example.org", []string{"bob@example.org", "friend@remote.example"}, strings.NewReader(body)); err != nil {
		t.Fatal(err)
	}
	got := e.messages("bob", "INBOX")
	if len(got) != 1 {
		t.Fatalf("bob has %d", len(got))
	}
	for _, want := range []string{"with ESMTPSA", "(TLS 1.3 ", "\r\nMessage-ID: <", "@mx.example.org>\r\nDate: Wed, 25 Nov 2026 12:00:00 +0000\r\n" + body} {
		if !strings.Contains(got[0], want) {
			t.Errorf("stored message lacks %q:\n%s", want, got[0])
		}
	}
	q := e.queue.all()
	if len(q) != 1 || q[0].from != "alice@example.org" || len(q[0].to) != 1 || q[0].to[0] != "friend@remote.example" || q[0].content != got[0] {
		t.Errorf("queued %+v", q)
	}
	sent := e.messages("alice", "Sent")
	if len(sent) != 1 || strings.Contains(sent[0], "Received:") || !strings.HasSuffix(sent[0], body) {
		t.Errorf("Sent copy: %q", sent)
	}
}

// scramClient adapts xdg-go/scram to go-sasl's Client; mech is
// SCRAM-SHA-256 when empty.
type scramClient struct {
	conv *scram.ClientConversation
	mech string
}

func (s *scramClient) Start() (string, []byte, error) {
	r, err := s.conv.Step("")
	if s.mech == "" {
		return "SCRAM-SHA-256", []byte(r), err
	}
	return s.mech, []byte(r), err
}

func (s *scramClient) Next(ch []byte) ([]byte, error) {
	if s.conv.Done() {
		return nil, nil
	}
	r, err := s.conv.Step(string(ch))
	return []byte(r), err
}

func TestSubmissionSCRAM(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, parseSetup(t, "mode submission\nuser alice secret\nremote 192.0.2.9"))
	c := e.smtpClient(t)
	client, err := scram.SHA256.NewClient("alice", "secret", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Auth(&scramClient{conv: client.NewConversation()}); err != nil {
		t.Fatalf("SCRAM: %v", err)
	}
	if err := c.Mail("alice@example.org", nil); err != nil {
		t.Fatal(err)
	}
	bad, _ := scram.SHA256.NewClient("alice", "wrong", "")
	c2 := e.smtpClient(t)
	err = c2.Auth(&scramClient{conv: bad.NewConversation()})
	if se, ok := err.(*smtp.SMTPError); !ok || se.Code != 535 {
		t.Errorf("wrong password: %v", err)
	}
}

func TestAliasesAndPostmaster(t *testing.T) {
	t.Parallel()
	su := parseSetup(t, `mode smtp
user alice pw
user bob pw
admin bob
alias sales: alice, bob
alias info@example.org: alice
alias fwd: someone@remote.example, alice
alias loop1: loop2
alias loop2: loop1`)
	e := newTestEnv(t, su)
	c := e.dial()
	c.expect("220 *")
	c.send("EHLO client")
	c.reply()
	c.send("MAIL FROM:<>")
	c.expect("250 *")
	for _, rcpt := range []string{"sales@example.org", "INFO@example.org", "postmaster@example.org", "fwd@example.org"} {
		c.send("RCPT TO:<" + rcpt + ">")
		c.expect("250 *")
	}
	c.send("RCPT TO:<info@mx.example.org>")
	c.expect("550 5.1.1 *") // the full-address alias is for example.org only
	c.send("RCPT TO:<loop1@example.org>")
	c.expect("550 5.4.6 *") // a cycle with no way out is refused, not silently dropped
	c.send("DATA")
	c.expect("354 *")
	c.writeRaw(dataBlock(plainMsg))
	c.expect("250 *")
	if n := len(e.messages("alice", "INBOX")); n != 1 {
		t.Errorf("alice got %d copies", n)
	}
	if n := len(e.messages("bob", "INBOX")); n != 1 {
		t.Errorf("bob (postmaster, sales) got %d copies", n)
	}
	if q := e.queue.all(); len(q) != 1 || q[0].to[0] != "someone@remote.example" {
		t.Errorf("forward: %+v", q)
	}
}

// TestSubmissionAcceptBareLF: with AcceptBareLF, submission stores a
// bare-LF message with CRLF line ends (RFC 6409 §8); a bare CR is still
// refused; without it, and on inbound SMTP and LMTP whatever the option
// says, a bare LF is refused (RFC 5321 §2.3.8). The data is written raw:
// Go's SMTP clients would turn LF into CRLF themselves.
func TestSubmissionAcceptBareLF(t *testing.T) {
	t.Parallel()
	body := "From: alice@example.org\nTo: alice@example.org\nSubject: unix file\n\nline one\nline two\r\nthree"
	want := "From: alice@example.org\r\nTo: alice@example.org\r\nSubject: unix file\r\n\r\nline one\r\nline two\r\nthree\r\n"
	cases := []struct {
		setup, data, reply string
	}{
		{"mode submission\naccept-bare-lf", body + "\r\n.\r\n", "250 *"},
		{"mode submission\naccept-bare-lf", "Subject: x\r\n\rbody\r\n.\r\n", "550 5.6.0 *bare CR or LF*"},
		{"mode submission", body + "\r\n.\r\n", "550 5.6.0 *bare CR or LF*"},
		{"mode smtp\naccept-bare-lf", body + "\r\n.\r\n", "550 5.6.0 *bare CR or LF*"},
		{"mode lmtp\naccept-bare-lf", body + "\r\n.\r\n", "550 5.6.0 <alice@example.org> *bare CR or LF*"},
	}
	for _, tc := range cases {
		e := newTestEnv(t, parseSetup(t, tc.setup+"\nuser alice pw"))
		c := e.dial()
		lmtp := strings.HasPrefix(tc.setup, "mode lmtp")
		if strings.HasPrefix(tc.setup, "mode submission") {
			c.expect("220 *")
			c.send("EHLO client")
			c.reply()
			c.send("AUTH PLAIN " + base64.StdEncoding.EncodeToString([]byte("\x00alice\x00pw")))
			c.expect("235 *")
			c.send("MAIL FROM:<alice@example.org>")
			c.expect("250 *")
			c.send("RCPT TO:<alice@example.org>")
			c.expect("250 *")
		} else {
			startTx(c, lmtp)
		}
		c.send("DATA")
		c.expect("354 *")
		c.writeRaw(tc.data)
		c.expect(tc.reply)
		got := e.messages("alice", "INBOX")
		switch {
		case strings.HasPrefix(tc.reply, "250") && (len(got) != 1 || !strings.HasSuffix(got[0], want)):
			t.Errorf("%q: stored %q, want it to end with %q", tc.setup, got, want)
		case !strings.HasPrefix(tc.reply, "250") && len(got) != 0:
			t.Errorf("%q: refused, yet %d messages stored", tc.setup, len(got))
		}
	}
}

func TestCRLFWriterAcrossWrites(t *testing.T) {
	var b strings.Builder
	w := NewCRLFWriter(&b)
	for _, p := range []string{"a\r", "\nb\n", "\n", "c\r\n"} {
		if n, err := w.Write([]byte(p)); n != len(p) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", p, n, err)
		}
	}
	if b.String() != "a\r\nb\r\n\r\nc\r\n" {
		t.Errorf("got %q", b.String())
	}
}
