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

// getmailEnv is a scratch getmail6 set-up: its state directory and a
// Maildir destination. getmail refuses to deliver as root, so when the test
// runs as root the rc file names `user = nobody` and the Maildir is made
// writable by everyone (CLIENTS.md).
type getmailEnv struct {
	t       *testing.T
	dir     string // getmail's state: oldmail files, log
	maildir string
}

func newGetmailEnv(t *testing.T) *getmailEnv {
	t.Helper()
	requireTool(t, "getmail")
	// Outside t.TempDir, whose 0700 directories nobody cannot enter.
	root, err := os.MkdirTemp("", "getmail")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	g := &getmailEnv{t: t, dir: filepath.Join(root, "state"), maildir: filepath.Join(root, "Maildir")}
	for _, d := range []string{g.dir, g.maildir + "/cur", g.maildir + "/new", g.maildir + "/tmp"} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if os.Geteuid() == 0 {
		for _, d := range []string{root, g.maildir, g.maildir + "/cur", g.maildir + "/new", g.maildir + "/tmp"} {
			if err := os.Chmod(d, 0o777); err != nil {
				t.Fatal(err)
			}
		}
	}
	return g
}

// run writes the rc file with the retriever block and options, runs
// getmail, and returns what it printed. getmail exits 0 even when delivery
// fails, so callers check the Maildir and the output.
func (g *getmailEnv) run(retriever string, options ...string) string {
	g.t.Helper()
	dest := "[destination]\ntype = Maildir\npath = " + g.maildir + "/\n"
	if os.Geteuid() == 0 {
		dest += "user = nobody\n"
	}
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

// messages returns the contents of the Maildir's messages.
func (g *getmailEnv) messages() []string {
	g.t.Helper()
	var out []string
	for _, sub := range []string{"new", "cur"} {
		ents, _ := os.ReadDir(filepath.Join(g.maildir, sub))
		for _, ent := range ents {
			b, err := os.ReadFile(filepath.Join(g.maildir, sub, ent.Name()))
			if err != nil {
				g.t.Fatal(err)
			}
			out = append(out, string(b))
		}
	}
	return out
}

// TestPOP3Getmail retrieves over implicit TLS with getmail6, verifying the
// server certificate: first leaving the mail on the server (getmail
// remembers what it saw by UIDL and takes nothing twice), then deleting it.
func TestPOP3Getmail(t *testing.T) {
	t.Parallel()
	g := newGetmailEnv(t)
	e, p := newPOPEnv(t, "Leave-In-Newmail: on")
	e.addUser("alice", "alice-pw")
	e.deliverPOP("alice", 3)
	e.startMail()
	retriever := fmt.Sprintf("type = SimplePOP3SSLRetriever\nserver = localhost\nport = %d\n"+
		"username = alice\npassword = alice-pw\nca_certs = %s", p.secure, p.cafile)

	out := g.run(retriever, "read_all = false", "delete = false")
	if got := g.messages(); len(got) != 3 {
		t.Fatalf("first run delivered %d messages, want 3:\n%s", len(got), out)
	}
	e.deliverPOP("alice", 1) // a fourth: only it is new to getmail
	out = g.run(retriever, "read_all = false", "delete = false")
	got := g.messages()
	if len(got) != 4 {
		t.Fatalf("second run left %d messages, want 4 (only the new one fetched):\n%s", len(got), out)
	}
	for _, m := range got {
		if !strings.Contains(m, "Subject: message ") || !strings.Contains(m, "\n.dot line\n") {
			t.Errorf("message not retrieved whole or byte-stuffing not undone:\n%q", m)
		}
	}
	if c := mailboxCounts(t, e.data, "alice"); c["INBOX"] != 4 {
		t.Errorf("after delete = false: %v, want all 4 in INBOX", c)
	}
	out = g.run(retriever, "read_all = true", "delete = true")
	if got := g.messages(); len(got) != 8 {
		t.Errorf("the deleting run delivered %d more messages, want 4:\n%s", len(got)-4, out)
	}
	if c := mailboxCounts(t, e.data, "alice"); c["INBOX"] != 0 || c["Mail"] != 0 {
		t.Errorf("after delete = true: %v, want nothing left", c)
	}
}

// TestIMAPGetmail retrieves INBOX over implicit TLS with getmail6's IMAP
// retriever, then again with deletion: getmail marks \Deleted and expunges.
func TestIMAPGetmail(t *testing.T) {
	t.Parallel()
	g := newGetmailEnv(t)
	e, p := newIMAPEnv(t, "")
	e.startMail()
	e.addUser("alice", "alice-pw")
	e.deliverIMAP("alice", 5)
	retriever := fmt.Sprintf("type = SimpleIMAPSSLRetriever\nserver = localhost\nport = %d\n"+
		"username = alice\npassword = alice-pw\nca_certs = %s\nmailboxes = (\"INBOX\",)", p.secure, p.cafile)

	out := g.run(retriever, "read_all = false", "delete = false")
	got := g.messages()
	if len(got) != 5 {
		t.Fatalf("first run delivered %d messages, want 5:\n%s", len(got), out)
	}
	if n := len(storedMessages(t, e.data, "alice", "INBOX")); n != 5 {
		t.Errorf("the server's INBOX has %d messages after delete = false, want 5", n)
	}
	stored := storedMessages(t, e.data, "alice", "INBOX")
	if !containsBody(got, stored[0]) {
		t.Errorf("no retrieved message has the stored bytes of message 1:\n%q\ngot %q", stored[0], got)
	}
	out = g.run(retriever, "read_all = true", "delete = true")
	if got := g.messages(); len(got) != 10 {
		t.Errorf("the deleting run delivered %d more messages, want 5:\n%s", len(got)-5, out)
	}
	if n := len(storedMessages(t, e.data, "alice", "INBOX")); n != 0 {
		t.Errorf("the server's INBOX has %d messages after delete = true, want 0", n)
	}
}

// containsBody reports whether one of the Maildir messages is the stored
// message: LF line ends, with the fields getmail adds (Return-Path,
// Delivered-To and Received in front, X-getmail-retrieved-from-mailbox at
// the end of the header) taken away.
func containsBody(maildir []string, stored string) bool {
	want := strings.ReplaceAll(stored, "\r\n", "\n")
	for _, m := range maildir {
		m = strings.Replace(m, "X-getmail-retrieved-from-mailbox: INBOX\n", "", 1)
		if strings.HasSuffix(m, "\n"+want) {
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
