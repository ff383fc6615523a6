package e2e

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// TestIMAPPythonImaplib drives the server with Python's imaplib over
// implicit TLS and STARTTLS: every command it offers that Postern
// implements, IDLE by hand.
func TestIMAPPythonImaplib(t *testing.T) {
	t.Parallel()
	e, p := newIMAPEnv(t, "Server-Trace: on\nTrace-Synch: 1")
	e.startMail()
	e.addUser("alice", "alice-pw")
	e.deliverIMAP("alice", 3)
	script := `
import imaplib, ssl, sys, time
port, plain, ca = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
ctx = ssl.create_default_context(cafile=ca)
M = imaplib.IMAP4_SSL("localhost", port, ssl_context=ctx)
try:
    M.login("alice", "wrong-pw"); assert False
except imaplib.IMAP4.error:
    pass
M.login("alice", "alice-pw")
typ, caps = M.capability(); assert b"IDLE" in caps[0], caps
typ, data = M.select("INBOX"); assert typ == "OK" and data[0] == b"3", data
typ, data = M.fetch("1:3", "(UID FLAGS RFC822.SIZE BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
assert typ == "OK" and b"message 2" in data[2][1], data
typ, data = M.fetch("2", "(RFC822)"); assert b"body of message 2" in data[0][1], data
typ, data = M.store("1", "+FLAGS", "(\\Flagged)"); assert b"\\Flagged" in data[0], data
typ, data = M.search(None, "FLAGGED"); assert data[0] == b"1", data
typ, data = M.uid("SEARCH", "BODY", "message 3"); assert data[0] == b"3", data
typ, data = M.search(None, "SUBJECT", "message"); assert data[0] == b"1 2 3", data
typ, data = M.append("INBOX", "(\\Seen)", None, b"From: a@b.c\r\nSubject: appended\r\n\r\nhi\r\n"); assert typ == "OK", data
assert b"APPENDUID" in data[0], data
typ, data = M.create("Archive"); assert typ == "OK", data
typ, data = M.list(); assert any(b"Archive" in l for l in data), data
typ, data = M.copy("1", "Archive"); assert typ == "OK" and b"COPYUID" in data[0], data
typ, data = M.uid("MOVE", "2", "Archive"); assert typ == "OK", data
typ, data = M.status("Archive", "(MESSAGES UIDNEXT UNSEEN)"); assert b"MESSAGES 2" in data[0], data
typ, data = M.store("1", "+FLAGS", "(\\Deleted)")
typ, data = M.expunge(); assert typ == "OK" and data[-1] == b"1", data
typ, data = M.select("INBOX"); assert data[0] == b"2", data
tag = M._new_tag(); M.send(tag + b" IDLE\r\n"); line = M.readline(); assert line.startswith(b"+"), line
M.send(b"DONE\r\n")
while True:
    l = M.readline()
    if l.startswith(tag): assert b"OK" in l, l; break
typ, data = M.namespace(); assert typ == "OK", data
typ, data = M.subscribe("Archive"); assert typ == "OK"
typ, data = M.lsub(); assert any(b"Archive" in l for l in data), data
typ, data = M.rename("Archive", "Old"); assert typ == "OK", data
typ, data = M.check(); assert typ == "OK"
typ, data = M.close(); assert typ == "OK"
typ, data = M.delete("Old"); assert typ == "OK", data
M.logout()
S = imaplib.IMAP4("localhost", plain)
S.starttls(ssl_context=ctx)
S.login("alice", "alice-pw")
typ, data = S.select("INBOX", readonly=True); assert typ == "OK"
S.logout()
print("ok")
`
	out := python(t, script, strconv.Itoa(p.secure), strconv.Itoa(p.plain), p.cafile)
	if !strings.Contains(out, "ok") {
		t.Fatalf("imaplib: %s", out)
	}
	// The event log has the failed login; the trace has the session but
	// no password (hp-system.md §8).
	if ev := readLog(t, e.logs, "postern-event-*.log"); !strings.Contains(ev, "AUTHFAIL proto=imap remote=127.0.0.1 user=alice") {
		t.Errorf("event log lacks the failed login:\n%s", ev)
	}
	trace := readLog(t, e.logs, "postern-imap-*-trace.log")
	if strings.Contains(trace, "alice-pw") || strings.Contains(trace, "wrong-pw") {
		t.Errorf("the trace holds a password")
	}
	if !strings.Contains(trace, "LOGIN alice ***") || !strings.Contains(trace, "UID MOVE") {
		t.Errorf("trace lacks the session:\n%.2000s", trace)
	}
}

// TestIMAPGoIMAPClient uses the go-imap v2 client, an independent
// implementation: login, select, fetch with body sections, search, store,
// append, and IDLE push of a delivery within a second.
func TestIMAPGoIMAPClient(t *testing.T) {
	t.Parallel()
	e, p := newIMAPEnv(t, "")
	e.startMail()
	e.addUser("alice", "alice-pw")
	e.deliverIMAP("alice", 2)
	pem, err := os.ReadFile(p.cafile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	exists := make(chan uint32, 10)
	c, err := imapclient.DialTLS("localhost:"+strconv.Itoa(p.secure), &imapclient.Options{
		TLSConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"},
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(d *imapclient.UnilateralDataMailbox) {
				if d.NumMessages != nil {
					exists <- *d.NumMessages
				}
			},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login("alice", "alice-pw").Wait(); err != nil {
		t.Fatal(err)
	}
	sel, err := c.Select("INBOX", nil).Wait()
	if err != nil || sel.NumMessages != 2 {
		t.Fatalf("select: %v %+v", err, sel)
	}
	section := &imap.FetchItemBodySection{Peek: true}
	msgs, err := c.Fetch(imap.SeqSetNum(1, 2), &imap.FetchOptions{
		UID: true, Flags: true, Envelope: true, BodyStructure: &imap.FetchItemBodyStructure{Extended: true},
		RFC822Size: true, BodySection: []*imap.FetchItemBodySection{section},
	}).Collect()
	if err != nil || len(msgs) != 2 {
		t.Fatalf("fetch: %v %d", err, len(msgs))
	}
	if msgs[1].Envelope.Subject != "message 2" || !strings.Contains(string(msgs[1].FindBodySection(section)), "body of message 2") {
		t.Errorf("fetch 2: %+v", msgs[1].Envelope)
	}
	if int64(len(msgs[0].FindBodySection(section))) != msgs[0].RFC822Size {
		t.Errorf("BODY[] is %d bytes, RFC822.SIZE %d", len(msgs[0].FindBodySection(section)), msgs[0].RFC822Size)
	}
	data, err := c.UIDSearch(&imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Subject", Value: "MESSAGE 1"}}}, nil).Wait()
	if err != nil || len(data.AllUIDs()) != 1 || data.AllUIDs()[0] != 1 {
		t.Fatalf("search: %v %+v", err, data)
	}
	if err := c.Store(imap.SeqSetNum(2), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagSeen}, Silent: true}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	body := []byte("Subject: x\r\n\r\nhello\r\n")
	ad := c.Append("INBOX", int64(len(body)), nil)
	ad.Write(body)
	ad.Close()
	if res, err := ad.Wait(); err != nil || res.UID == 0 {
		t.Fatalf("append: %v %+v", err, res)
	}
	select {
	case n := <-exists: // the EXISTS that announced our own APPEND
		if n != 3 {
			t.Errorf("EXISTS %d after APPEND, want 3", n)
		}
	case <-time.After(3 * time.Second):
		t.Error("no EXISTS after APPEND to the selected mailbox")
	}
	idle, err := c.Idle()
	if err != nil {
		t.Fatal(err)
	}
	e.deliverIMAP("alice", 1)
	select {
	case n := <-exists:
		if n != 4 {
			t.Errorf("EXISTS %d during IDLE, want 4", n)
		}
	case <-time.After(3 * time.Second):
		t.Error("no EXISTS pushed during IDLE")
	}
	if err := idle.Close(); err != nil {
		t.Fatal(err)
	}
	if err := idle.Wait(); err != nil {
		t.Fatal(err)
	}
	if err := c.Logout().Wait(); err != nil {
		t.Fatal(err)
	}
}

// TestIMAPCurl appends and fetches with curl over imaps:// and sends a
// raw UID FETCH.
func TestIMAPCurl(t *testing.T) {
	t.Parallel()
	e, p := newIMAPEnv(t, "")
	e.startMail()
	e.addUser("alice", "alice-pw")
	e.deliverIMAP("alice", 1)
	base := "imaps://localhost:" + strconv.Itoa(p.secure)
	out, code := runTool(t, "curl", "-sS", "--cacert", p.cafile, "-u", "alice:alice-pw", base+"/INBOX;UID=1")
	if code != 0 || !strings.Contains(out, "body of message 1") {
		t.Fatalf("curl fetch: %d %s", code, out)
	}
	msg := filepath.Join(t.TempDir(), "m.eml")
	os.WriteFile(msg, []byte(imapMessage("from curl", "curl body")), 0o600)
	out, code = runTool(t, "curl", "-sS", "--cacert", p.cafile, "-u", "alice:alice-pw", "-T", msg, base+"/INBOX")
	if code != 0 {
		t.Fatalf("curl append: %d %s", code, out)
	}
	out, code = runTool(t, "curl", "-sS", "--cacert", p.cafile, "-u", "alice:alice-pw", base+"/INBOX", "-X", "UID FETCH 1:* (FLAGS)")
	if code != 0 || !strings.Contains(out, "UID 2") {
		t.Fatalf("curl uid fetch: %d %s", code, out)
	}
}

// TestIMAPMbsync runs a full two-way sync of a few hundred messages with
// mbsync, then changes both sides and checks that a second sync moves
// only the changes.
func TestIMAPMbsync(t *testing.T) {
	t.Parallel()
	e, p := newIMAPEnv(t, "Server-Trace: on\nTrace-Synch: 1")
	e.startMail()
	e.addUser("alice", "alice-pw")
	const n = 300
	e.deliverIMAP("alice", n)
	dir := t.TempDir()
	maildir := filepath.Join(dir, "mail")
	os.MkdirAll(maildir, 0o700)
	rc := filepath.Join(dir, "mbsyncrc")
	os.WriteFile(rc, []byte(fmt.Sprintf(`IMAPAccount postern
Host localhost
Port %d
User alice
Pass alice-pw
SSLType IMAPS
CertificateFile %s
SystemCertificates no

IMAPStore remote
Account postern

MaildirStore local
Path %s/
Inbox %s/INBOX
SubFolders Verbatim

Channel sync
Far :remote:
Near :local:
Patterns *
Create Both
Expunge Both
SyncState *
`, p.secure, p.cafile, maildir, maildir)), 0o600)
	out, code := runTool(t, "mbsync", "-c", rc, "-a")
	if code != 0 {
		t.Fatalf("first mbsync: %d\n%s", code, out)
	}
	inbox := filepath.Join(maildir, "INBOX")
	if got := countMaildir(t, inbox); got != n {
		t.Fatalf("after the first sync the INBOX has %d messages, want %d\n%s", got, n, out)
	}
	traceAt := len(readLog(t, e.logs, "postern-imap-*-trace.log"))
	// Changes on both sides: one delivery on the server, one new local
	// message.
	e.deliverIMAP("alice", 1)
	local := filepath.Join(inbox, "new", "1764000000.local.host")
	os.WriteFile(local, []byte("From: me@example.org\nSubject: local\n\nlocal body\n"), 0o600)
	out, code = runTool(t, "mbsync", "-V", "-c", rc, "-a")
	if code != 0 {
		t.Fatalf("second mbsync: %d\n%s", code, out)
	}
	if got := countMaildir(t, inbox); got != n+2 {
		t.Fatalf("after the second sync the INBOX has %d messages, want %d\n%s", got, n+2, out)
	}
	// Only the changes moved: one message body fetched, one appended.
	second := readLog(t, e.logs, "postern-imap-*-trace.log")[traceAt:]
	if got := strings.Count(second, "BODY[] {"); got != 1 {
		t.Errorf("second sync fetched %d message bodies, want 1", got)
	}
	if got := strings.Count(second, "APPEND completed"); got != 1 {
		t.Errorf("second sync appended %d messages, want 1:\n%s", got, second)
	}
	if got := len(storedMessages(t, e.data, "alice", "INBOX")); got != n+2 {
		t.Fatalf("the server's INBOX has %d messages, want %d", got, n+2)
	}
	// isync 1.4 built with zlib (Debian's is) compresses whenever the
	// server offers COMPRESS=DEFLATE (RFC 4978): both syncs ran over
	// DEFLATE inside TLS, and the trace shows them in clear.
	trace := readLog(t, e.logs, "postern-imap-*-trace.log")
	if got := strings.Count(trace, "OK DEFLATE active"); got != 2 {
		t.Errorf("%d mbsync sessions compressed, want 2", got)
	}
}

func countMaildir(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	for _, sub := range []string{"new", "cur"} {
		ents, _ := os.ReadDir(filepath.Join(dir, sub))
		n += len(ents)
	}
	return n
}
