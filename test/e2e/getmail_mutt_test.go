package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// getmailEnv is a scratch getmail6 set-up: its state directory, and
// delivery into Postern's own LMTP port (getmail's MDA_lmtp) for the
// recipient "to". LMTP rather than a Maildir: getmail runs every Maildir or
// mbox delivery in a forked child and waits for its SIGCHLD on a condition
// variable, a wake-up that is lost when the child exits first, which on a
// loaded machine hangs getmail for a minute (getmailcore/baseclasses.py
// _wait_for_child). MDA_lmtp delivers in-process.
type getmailEnv struct {
	t    *testing.T
	dir  string // getmail's state: oldmail files
	lmtp int
	to   string
}

func newGetmailEnv(t *testing.T, lmtpPort int, to string) *getmailEnv {
	t.Helper()
	requireTool(t, "getmail")
	return &getmailEnv{t: t, dir: t.TempDir(), lmtp: lmtpPort, to: to}
}

// run writes the rc file with the retriever block and options, runs
// getmail, and returns what it printed. getmail exits 0 even when delivery
// fails, so callers check the recipient's mailbox and the output.
func (g *getmailEnv) run(retriever string, options ...string) string {
	g.t.Helper()
	dest := fmt.Sprintf("[destination]\ntype = MDA_lmtp\nhost = 127.0.0.1\nport = %d\noverride = %s\n", g.lmtp, g.to)
	rc := "[retriever]\n" + retriever + "\n" + dest + "[options]\nverbose = 1\n" + strings.Join(options, "\n") + "\n"
	rcFile := filepath.Join(g.dir, "getmailrc")
	if err := os.WriteFile(rcFile, []byte(rc), 0o600); err != nil {
		g.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "getmail", "--getmaildir", g.dir, "--rcfile", rcFile)
	cmd.Env = append(os.Environ(), "HOME="+g.dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		g.t.Fatalf("getmail: %v\n%s", err, out)
	}
	return string(out)
}

// withReturnPath adds the Return-Path field getmail takes the LMTP
// sender from (without one it sends MAIL FROM:<unknown>, which is no
// address).
func withReturnPath(msg func(subject, body string) string) func(subject, body string) string {
	return func(subject, body string) string { return "Return-Path: <bob@example.org>\n" + msg(subject, body) }
}

// withLMTP turns on LMTP over TCP in a test configuration and returns its
// port.
func withLMTP(t *testing.T, e *env) int {
	t.Helper()
	port := freePort(t)
	conf, err := os.ReadFile(e.conf)
	if err != nil {
		t.Fatal(err)
	}
	c := strings.Replace(string(conf), "[LMTP]\nEnable: off", "[LMTP]\nEnable: on\nSocket: off\nServer-Port: "+strconv.Itoa(port), 1)
	if err := os.WriteFile(e.conf, []byte(c), 0o600); err != nil {
		t.Fatal(err)
	}
	return port
}

// TestPOP3Getmail retrieves over implicit TLS with getmail6, verifying the
// server certificate, and hands each message to bob over LMTP: first
// leaving the mail on the server (getmail remembers what it saw by UIDL and
// takes nothing twice), then deleting it.
func TestPOP3Getmail(t *testing.T) {
	t.Parallel()
	e, p := newPOPEnv(t, "Leave-In-Newmail: on")
	g := newGetmailEnv(t, withLMTP(t, e), "bob@e2e.example.org")
	e.addUser("alice", "alice-pw")
	e.addUser("bob", "bob-pw")
	e.deliverN("alice", 3, withReturnPath(popMessage))
	e.startMail()
	retriever := fmt.Sprintf("type = SimplePOP3SSLRetriever\nserver = localhost\nport = %d\n"+
		"username = alice\npassword = alice-pw\nca_certs = %s", p.secure, p.cafile)
	bob := func() []string { return storedMessages(t, e.data, "bob", "INBOX") }

	out := g.run(retriever, "read_all = false", "delete = false")
	if got := bob(); len(got) != 3 {
		t.Fatalf("first run delivered %d messages, want 3:\n%s", len(got), out)
	}
	e.deliverN("alice", 1, withReturnPath(popMessage)) // a fourth: only it is new to getmail
	out = g.run(retriever, "read_all = false", "delete = false")
	got := bob()
	if len(got) != 4 {
		t.Fatalf("second run left %d messages, want 4 (only the new one fetched):\n%s", len(got), out)
	}
	for _, m := range got {
		if !strings.Contains(m, "Subject: message ") || !strings.Contains(m, "\r\n.dot line\r\n") {
			t.Errorf("message not retrieved whole or byte-stuffing not undone:\n%q", m)
		}
	}
	if c := mailboxCounts(t, e.data, "alice"); c["INBOX"] != 4 {
		t.Errorf("after delete = false: %v, want all 4 in INBOX", c)
	}
	out = g.run(retriever, "read_all = true", "delete = true")
	if got := bob(); len(got) != 8 {
		t.Errorf("the deleting run delivered %d more messages, want 4:\n%s", len(got)-4, out)
	}
	if c := mailboxCounts(t, e.data, "alice"); c["INBOX"] != 0 || c["Mail"] != 0 {
		t.Errorf("after delete = true: %v, want nothing left", c)
	}
}

// TestIMAPGetmail retrieves INBOX over implicit TLS with getmail6's IMAP
// retriever, handing each message to bob over LMTP, then again with
// deletion: getmail marks \Deleted and expunges.
func TestIMAPGetmail(t *testing.T) {
	t.Parallel()
	e, p := newIMAPEnv(t, "")
	g := newGetmailEnv(t, withLMTP(t, e), "bob@e2e.example.org")
	e.startMail()
	e.addUser("alice", "alice-pw")
	e.addUser("bob", "bob-pw")
	e.deliverN("alice", 5, withReturnPath(imapMessage))
	retriever := fmt.Sprintf("type = SimpleIMAPSSLRetriever\nserver = localhost\nport = %d\n"+
		"username = alice\npassword = alice-pw\nca_certs = %s\nmailboxes = (\"INBOX\",)", p.secure, p.cafile)
	bob := func() []string { return storedMessages(t, e.data, "bob", "INBOX") }

	out := g.run(retriever, "read_all = false", "delete = false")
	got := bob()
	if len(got) != 5 {
		t.Fatalf("first run delivered %d messages, want 5:\n%s", len(got), out)
	}
	stored := storedMessages(t, e.data, "alice", "INBOX")
	if len(stored) != 5 {
		t.Errorf("alice's INBOX has %d messages after delete = false, want 5", len(stored))
	}
	if !containsBody(got, stored[0]) {
		t.Errorf("no delivered message has the stored bytes of message 1:\n%q\ngot %q", stored[0], got)
	}
	out = g.run(retriever, "read_all = true", "delete = true")
	if got := bob(); len(got) != 10 {
		t.Errorf("the deleting run delivered %d more messages, want 5:\n%s", len(got)-5, out)
	}
	if n := len(storedMessages(t, e.data, "alice", "INBOX")); n != 0 {
		t.Errorf("alice's INBOX has %d messages after delete = true, want 0", n)
	}
}

// containsBody reports whether one of bob's messages is the stored
// message, after the fields getmail and our LMTP server add in front
// (getmail's Return-Path, Delivered-To and Received; our Received) and
// the X-getmail-retrieved-from-mailbox field getmail adds at the end of
// the header are taken away.
func containsBody(delivered []string, stored string) bool {
	for _, m := range delivered {
		m = strings.Replace(m, "X-getmail-retrieved-from-mailbox: INBOX\r\n", "", 1)
		if strings.HasSuffix(m, "\r\n"+stored) {
			return true
		}
	}
	return false
}

// TestSubmissionMutt sends with mutt in batch mode through submission on
// the STARTTLS port, with AUTH, verifying the certificate; the recipient
// reads it over POP3.
func TestSubmissionMutt(t *testing.T) {
	t.Parallel()
	mutt := requireTool(t, "mutt")
	e, p := newMailEnv(t, "", "")
	e.addUser("alice", "alice-pw")
	e.addUser("bob", "bob-pw")
	e.startMail()
	home := t.TempDir()
	rc := filepath.Join(home, "muttrc")
	conf := fmt.Sprintf(`set smtp_url = "smtp://alice@localhost:%d/"
set smtp_pass = "alice-pw"
set ssl_starttls = yes
set ssl_force_tls = yes
set certificate_file = "%s"
set from = "alice@e2e.example.org"
set realname = "Alice Example"
set use_from = yes
set record = ""
set copy = no
set hostname = "e2e.example.org"
`, p.submission, p.cafile)
	if err := os.WriteFile(rc, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, mutt, "-n", "-F", rc, "-s", "sent by mutt", "bob@e2e.example.org")
	cmd.Env = append(os.Environ(), "HOME="+home, "TERM=dumb")
	cmd.Stdin = strings.NewReader("hello bob, from mutt\n")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("mutt: %v\n%s", err, out)
	}
	stored := storedMessages(t, e.data, "bob", "INBOX")
	if len(stored) != 1 {
		t.Fatalf("bob has %d messages, want 1 (mutt said %q)", len(stored), out)
	}
	m := stored[0]
	for _, want := range []string{"Received: from ", "with ESMTPSA", "From: Alice Example <alice@e2e.example.org>\r\n",
		"Subject: sent by mutt\r\n", "\r\n\r\nhello bob, from mutt\r\n"} {
		if !strings.Contains(m, want) {
			t.Errorf("stored message lacks %q:\n%s", want, m)
		}
	}
	got := python(t, popRetrScript, strconv.Itoa(p.pop), "bob", "bob-pw", "1")
	if got != m {
		t.Errorf("POP3 RETR differs from the store:\n%q\n%q", got, m)
	}
}
