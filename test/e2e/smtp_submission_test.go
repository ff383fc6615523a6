package e2e

import (
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-smtp"
)

// submitScript submits a message with smtplib: mode "starttls" (587) or
// "ssl" (465), verifying the server certificate against cafile.
const submitScript = `
import smtplib, ssl, sys
mode, port, cafile, user, pw, sender = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
msg = sys.argv[7].replace("\n", "\r\n").encode()
rcpts = sys.argv[8:]
ctx = ssl.create_default_context(cafile=cafile)
if mode == "ssl":
    c = smtplib.SMTP_SSL("localhost", port, context=ctx)
else:
    c = smtplib.SMTP("localhost", port)
    c.starttls(context=ctx)
c.login(user, pw)
print("refused:", sorted(c.sendmail(sender, rcpts, msg)))
c.quit()
`

// popRetr fetches message 1 of a user over POP3 and prints it raw.
const popRetrScript = `
import poplib, sys
p = poplib.POP3("127.0.0.1", int(sys.argv[1]))
p.user(sys.argv[2]); p.pass_(sys.argv[3])
resp, lines, octets = p.retr(int(sys.argv[4]))
sys.stdout.write("\r\n".join(l.decode("utf-8", "surrogateescape") for l in lines) + "\r\n")
p.quit()
`

const submitMsg = "From: alice@e2e.example.org\nTo: bob@e2e.example.org\nSubject: from alice\nDate: Wed, 25 Nov 2026 10:00:00 +0000\nMessage-ID: <m1@e2e.example.org>\n\nhello bob\n.a dot line\n"

func TestSubmissionPythonToPOP3(t *testing.T) {
	t.Parallel()
	e, p := newMailEnv(t, "", "")
	e.addUser("alice", "alice-pw")
	e.addUser("bob", "bob-pw")
	e.startMail()

	out := python(t, submitScript, "starttls", strconv.Itoa(p.submission), p.cafile, "alice", "alice-pw", "alice@e2e.example.org", submitMsg, "bob@e2e.example.org")
	if !strings.Contains(out, "refused: []") {
		t.Fatalf("587: %s", out)
	}
	out = python(t, submitScript, "ssl", strconv.Itoa(p.submissions), p.cafile, "alice", "alice-pw", "Alice+x@e2e.example.org", submitMsg, "bob@e2e.example.org")
	if !strings.Contains(out, "refused: []") {
		t.Fatalf("465: %s", out)
	}
	stored := storedMessages(t, e.data, "bob", "INBOX")
	if len(stored) != 2 {
		t.Fatalf("bob has %d messages", len(stored))
	}
	want := strings.ReplaceAll(submitMsg, "\n", "\r\n")
	for _, m := range stored {
		// Identical bytes, plus our Received header in front.
		rcvd, rest, ok := strings.Cut(m, "\r\nFrom: alice@e2e.example.org\r\n")
		if !ok || !strings.HasPrefix(rcvd, "Received: from ") || !strings.Contains(rcvd, "with ESMTPSA") ||
			"From: alice@e2e.example.org\r\n"+rest != want {
			t.Errorf("stored message:\n%q", m)
		}
	}
	// Bob reads it over POP3 with the same bytes (POP3 unstuffs the dot).
	got := python(t, popRetrScript, strconv.Itoa(p.pop), "bob", "bob-pw", "1")
	if got != stored[0] {
		t.Errorf("POP3 RETR differs from the store:\n%q\n%q", got, stored[0])
	}
}

func TestSubmissionRefusals(t *testing.T) {
	t.Parallel()
	e, p := newMailEnv(t, "", "")
	e.addUser("alice", "alice-pw")
	e.addUser("bob", "bob-pw")
	e.startMail()
	script := `
import smtplib, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
c = smtplib.SMTP("localhost", int(sys.argv[1]))
c.starttls(context=ctx)
try:
    c.login("alice", "wrong")
except smtplib.SMTPAuthenticationError as e:
    print("badpw", e.smtp_code)
c.login("alice", "alice-pw")
code, _ = c.mail("bob@e2e.example.org")
print("spoof", code)
c.rset()
c.mail("alice@e2e.example.org")
code, _ = c.rcpt("nobody@e2e.example.org")
print("unknown", code)
c.quit()
`
	out := python(t, script, strconv.Itoa(p.submission), p.cafile)
	for _, want := range []string{"badpw 535", "spoof 553", "unknown 550"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
}

func TestSubmissionSwaksAndCurl(t *testing.T) {
	t.Parallel()
	requireTool(t, "swaks")
	requireTool(t, "curl")
	e, p := newMailEnv(t, "", "")
	e.addUser("alice", "alice-pw")
	e.addUser("bob", "bob-pw")
	e.startMail()
	out, code := runTool(t, "swaks", "--server", "127.0.0.1", "--port", strconv.Itoa(p.submission), "--tls",
		"--auth", "PLAIN", "--auth-user", "alice", "--auth-password", "alice-pw",
		"--from", "alice@e2e.example.org", "--to", "bob@e2e.example.org", "--silent", "1")
	if code != 0 {
		t.Fatalf("swaks: exit %d\n%s", code, out)
	}
	out, code = runTool(t, "swaks", "--server", "127.0.0.1", "--port", strconv.Itoa(p.submission), "--tls",
		"--auth", "LOGIN", "--auth-user", "alice", "--auth-password", "alice-pw",
		"--from", "alice@e2e.example.org", "--to", "bob@e2e.example.org", "--silent", "1")
	if code != 0 {
		t.Fatalf("swaks AUTH LOGIN: exit %d\n%s", code, out)
	}
	msgFile := t.TempDir() + "/m.eml"
	writeFile(t, msgFile, "From: alice@e2e.example.org\r\nTo: bob@e2e.example.org\r\nSubject: curl\r\n\r\nvia curl\r\n")
	out, code = runTool(t, "curl", "-sS", "--ssl-reqd", "--cacert", p.cafile, "smtps://localhost:"+strconv.Itoa(p.submissions),
		"-u", "alice:alice-pw", "--mail-from", "alice@e2e.example.org", "--mail-rcpt", "bob@e2e.example.org", "-T", msgFile)
	if code != 0 {
		t.Fatalf("curl: exit %d\n%s", code, out)
	}
	if n := len(storedMessages(t, e.data, "bob", "INBOX")); n != 3 {
		t.Errorf("bob has %d messages, want 3", n)
	}
}

// TestSubmissionCurlUnixFile sends an ordinary Unix file (LF line ends)
// with the curl example of docs/smtp.md: `Defaults: modern` accepts it and
// stores CRLF; the OpenVMS defaults refuse it with 550 5.6.0.
func TestSubmissionCurlUnixFile(t *testing.T) {
	t.Parallel()
	requireTool(t, "curl")
	msgFile := t.TempDir() + "/m.eml"
	writeFile(t, msgFile, "From: alice@e2e.example.org\nTo: bob@e2e.example.org\nSubject: unix\n\nline one\nline two\n")
	for _, profile := range []string{"modern", "openvms"} {
		e, p := newMailEnv(t, "Defaults: "+profile, "")
		e.addUser("alice", "alice-pw")
		e.addUser("bob", "bob-pw")
		e.startMail()
		out, code := runTool(t, "curl", "-sS", "--ssl-reqd", "--cacert", p.cafile, "smtps://localhost:"+strconv.Itoa(p.submissions),
			"-u", "alice:alice-pw", "--mail-from", "alice@e2e.example.org", "--mail-rcpt", "bob@e2e.example.org", "-T", msgFile)
		got := storedMessages(t, e.data, "bob", "INBOX")
		if profile == "openvms" {
			if code == 0 || len(got) != 0 {
				t.Errorf("openvms: curl exit %d, %d messages stored; want a refusal\n%s", code, len(got), out)
			}
			continue
		}
		if code != 0 {
			t.Fatalf("modern: curl exit %d\n%s", code, out)
		}
		if len(got) != 1 || !strings.Contains(got[0], "Subject: unix\r\n\r\nline one\r\nline two\r\n") || strings.Contains(strings.ReplaceAll(got[0], "\r\n", ""), "\n") {
			t.Errorf("modern: stored %q, want CRLF line ends", got)
		}
	}
}

func TestInboundSMTPIsNotAnOpenRelay(t *testing.T) {
	t.Parallel()
	requireTool(t, "swaks")
	e, p := newMailEnv(t, "", "")
	e.addUser("alice", "alice-pw")
	e.startMail()
	out, code := runTool(t, "swaks", "--server", "127.0.0.1", "--port", strconv.Itoa(p.smtp),
		"--from", "alice@e2e.example.org", "--to", "victim@elsewhere.example", "--silent", "1")
	if code == 0 || !strings.Contains(out, "550 5.7.1") {
		t.Errorf("relay attempt: exit %d\n%s", code, out)
	}
	out, code = runTool(t, "swaks", "--server", "127.0.0.1", "--port", strconv.Itoa(p.smtp),
		"--from", "someone@elsewhere.example", "--to", "alice@e2e.example.org", "--silent", "1")
	if code != 0 {
		t.Errorf("inbound to a local user: exit %d\n%s", code, out)
	}
	if n := len(storedMessages(t, e.data, "alice", "INBOX")); n != 1 {
		t.Errorf("alice has %d messages", n)
	}
}

// sinkServer is the test's own SMTP server on loopback, the smart host.
type sinkServer struct {
	addr   string
	mu     sync.Mutex
	msgs   []string
	refuse bool
	got    chan struct{}
}

type sinkSess struct{ s *sinkServer }

func (ss *sinkSess) Mail(string, *smtp.MailOptions) error { return nil }
func (ss *sinkSess) Rcpt(to string, _ *smtp.RcptOptions) error {
	if ss.s.refuse {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "mailbox unavailable"}
	}
	return nil
}
func (ss *sinkSess) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.s.mu.Lock()
	ss.s.msgs = append(ss.s.msgs, string(b))
	ss.s.mu.Unlock()
	ss.s.got <- struct{}{}
	return nil
}
func (ss *sinkSess) Reset()        {}
func (ss *sinkSess) Logout() error { return nil }

func startSinkServer(t *testing.T, refuse bool) *sinkServer {
	t.Helper()
	s := &sinkServer{refuse: refuse, got: make(chan struct{}, 10)}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &sinkSess{s}, nil }))
	srv.Domain = "sink.test"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, net.ErrClosed) {
			t.Log(err)
		}
	}()
	t.Cleanup(func() { srv.Close() })
	return s
}
