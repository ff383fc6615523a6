package e2e

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestQuotaUserSetAndDeliver: `postern user set --quota-storage/
// --quota-messages` in the config's size syntax, none and default; the
// site default Quota-Messages; `postern deliver` exits 73 (EX_CANTCREAT)
// with one line on stderr for a message that does not fit, and a change of
// limit applies to the next delivery.
func TestQuotaUserSetAndDeliver(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "Quota-Messages: 2")
	e.run("pw\n", "user", "add", "alice", "--password-stdin").must(t, 0)
	r := e.run("", "user", "set", "alice", "--quota-storage", "1K").must(t, 0)
	want := "alice: -\nalice: quota storage 1024 bytes, messages default\n" +
		"alice: in force: storage 1024 bytes (0 bytes used), messages 2 (0 used)\n"
	if r.stdout != want {
		t.Errorf("user set output:\n%s\nwant:\n%s", r.stdout, want)
	}
	big := "Subject: big\n\n" + strings.Repeat("0123456789abcdef\n", 70)
	deliverFull := func(what, msg string) {
		t.Helper()
		r := e.run(msg, "deliver", "alice")
		if r.code != 73 || !strings.Contains(r.stderr, "mailbox full: quota exceeded") ||
			strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("%s: exit %d, stderr %q; want 73 and one line about the full mailbox", what, r.code, r.stderr)
		}
	}
	deliverFull("a message over the storage quota", big)
	e.run(sampleMessage, "deliver", "alice").must(t, 0)
	e.run(sampleMessage, "deliver", "alice").must(t, 0)
	deliverFull("a third message under the site default of 2", sampleMessage)
	e.run("", "user", "set", "alice", "--quota-messages", "none").must(t, 0)
	e.run(sampleMessage, "deliver", "alice").must(t, 0)
	e.run("", "user", "set", "alice", "--quota-messages", "default").must(t, 0)
	deliverFull("back to the site default", sampleMessage)
	r = e.run("", "user", "set", "alice", "--quota-storage", "50M", "--quota-messages", "10").must(t, 0)
	if !strings.Contains(r.stdout, "alice: quota storage 52428800 bytes, messages 10\n") ||
		!strings.Contains(r.stdout, "messages 10 (3 used)") {
		t.Errorf("user set 50M/10:\n%s", r.stdout)
	}
	for _, bad := range [][]string{{"--quota-storage", "10Q"}, {"--quota-messages", "-1"}, {"--quota-messages", "1K"}, {"--quota-storage", "-5"}} {
		r := e.run("", append([]string{"user", "set", "alice"}, bad...)...)
		if r.code != 2 || !strings.Contains(r.stderr, bad[0]) {
			t.Errorf("user set %v: exit %d, stderr %q; want 2 naming the flag", bad, r.code, r.stderr)
		}
	}
	if n := mailboxCounts(t, e.data, "alice")["INBOX"]; n != 3 {
		t.Errorf("alice has %d messages, want 3", n)
	}
	r = e.run("", "help", "user", "set").must(t, 0)
	if !strings.Contains(r.stdout+r.stderr, "--quota-storage SIZE") {
		t.Errorf("help user set lacks --quota-storage:\n%s", r.stdout+r.stderr)
	}
}

// lmtpQuotaScript sends one message over LMTP with smtplib and prints each
// recipient's reply after DATA.
const lmtpQuotaScript = `
import smtplib, sys
c = smtplib.LMTP("127.0.0.1", int(sys.argv[1]))
c.ehlo_or_helo_if_needed()
c.mail("sender@example.net")
for r in sys.argv[3:]:
    print("rcpt", r, c.rcpt(r)[0])
c.putcmd("data")
code, _ = c.getreply()
assert code == 354, code
c.send(sys.argv[2].replace("\n", "\r\n").encode() + b".\r\n")
for r in sys.argv[3:]:
    code, msg = c.getreply()
    print("data", r, code, msg.decode())
c.quit()
`

// smtpQuotaScript drives inbound SMTP with smtplib: RCPT to a full
// mailbox, RCPT with a SIZE= larger than what is left, and a message that
// overflows one of two recipients after DATA.
const smtpQuotaScript = `
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]))
s.ehlo()
s.mail("bob@e2e.example.org")
print("full", *s.rcpt("alice@e2e.example.org"))
print("other", *s.rcpt("dave@e2e.example.org"))
s.rset()
s.mail("bob@e2e.example.org", ["SIZE=5000"])
print("size", *s.rcpt("carol@e2e.example.org"))
s.rset()
# No SIZE= this time (sendmail would declare it): carol's overflow shows
# only after DATA.
s.mail("bob@e2e.example.org")
print("rcpts", s.rcpt("carol@e2e.example.org")[0], s.rcpt("dave@e2e.example.org")[0])
print("data", *s.data(sys.argv[2].replace("\n", "\r\n")))
s.quit()
`

// TestQuotaLMTPAndSMTP: delivery over quota through LMTP answers 552 5.2.2
// for that recipient only, after DATA (the other gets its 250); inbound
// SMTP refuses a full mailbox, or a declared SIZE larger than what is
// left, at RCPT with 552 5.2.2, and a recipient that overflows after DATA
// gets the sender a DSN with status 5.2.2 while the other recipient gets
// the message. A real IMAP client (imaplib) sees the quota.
func TestQuotaLMTPAndSMTP(t *testing.T) {
	t.Parallel()
	requireTool(t, "python3")
	e, p := newMailEnv(t, "", "")
	imapPort := freePort(t)
	conf, err := os.ReadFile(e.conf)
	if err != nil {
		t.Fatal(err)
	}
	c := strings.Replace(string(conf), "[IMAP]\nEnable: off", "[IMAP]\nEnable: on\nServer-Port: "+strconv.Itoa(imapPort)+"\nSecure-Port: 0", 1)
	if err := os.WriteFile(e.conf, []byte(c), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"alice", "bob", "carol", "dave"} {
		e.addUser(u, u+"-pw")
	}
	e.run("", "user", "set", "alice", "--quota-messages", "0").must(t, 0)
	e.run("", "user", "set", "carol", "--quota-storage", "1K").must(t, 0)
	e.startMail()

	msg := "From: sender@example.net\nSubject: quota\n\n" + strings.Repeat("a line of the body of the message\n", 40)
	out := python(t, lmtpQuotaScript, strconv.Itoa(p.lmtp), msg, "alice@e2e.example.org", "dave@e2e.example.org")
	for _, want := range []string{"rcpt alice@e2e.example.org 250", "rcpt dave@e2e.example.org 250",
		"data alice@e2e.example.org 552 5.2.2 <alice@e2e.example.org> Mailbox full: quota exceeded", "data dave@e2e.example.org 250 "} {
		if !strings.Contains(out, want) {
			t.Errorf("LMTP: %q missing in:\n%s", want, out)
		}
	}

	out = python(t, smtpQuotaScript, strconv.Itoa(p.smtp), msg)
	for _, want := range []string{"full 552 b'5.2.2 Mailbox full: quota exceeded'", "other 250 ",
		"size 552 b'5.2.2 Mailbox full: quota exceeded'", "rcpts 250 250", "data 250 "} {
		if !strings.Contains(out, want) {
			t.Errorf("SMTP: %q missing in:\n%s", want, out)
		}
	}
	// dave got the LMTP and the SMTP message; alice and carol nothing.
	if n := len(storedMessages(t, e.data, "dave", "INBOX")); n != 2 {
		t.Errorf("dave has %d messages, want 2", n)
	}
	for _, u := range []string{"alice", "carol"} {
		if n := len(storedMessages(t, e.data, u, "INBOX")); n != 0 {
			t.Errorf("%s has %d messages, want 0", u, n)
		}
	}
	// The queue retries carol once, finds her still full and bounces.
	var dsn string
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline) && dsn == ""; time.Sleep(100 * time.Millisecond) {
		for _, m := range storedMessages(t, e.data, "bob", "INBOX") {
			if strings.Contains(m, "report-type=delivery-status") {
				dsn = m
			}
		}
	}
	if !strings.Contains(dsn, "Final-Recipient: rfc822; carol@e2e.example.org") || !strings.Contains(dsn, "Status: 5.2.2") ||
		strings.Contains(dsn, "dave@") {
		t.Errorf("no DSN with status 5.2.2 for carol alone:\n%s", dsn)
	}

	// A real IMAP client reads the quota (RFC 9208 §4.2).
	script := `
import imaplib, sys
M = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
M.login("carol", "carol-pw")
typ, caps = M.capability(); assert b"QUOTA=RES-STORAGE" in caps[0], caps
print(M.getquotaroot("INBOX"))
print(M.getquota('""'))
print(M.setquota('""', "(STORAGE 10)"))
M.logout()
`
	out = python(t, script, strconv.Itoa(imapPort))
	for _, want := range []string{`('OK', [[b'INBOX ""'], [b'"" (STORAGE 0 1)']])`, `('OK', [b'"" (STORAGE 0 1)'])`,
		`('NO', [b'[NOPERM] Only an administrator may set quotas'])`} {
		if !strings.Contains(out, want) {
			t.Errorf("imaplib: %q missing in:\n%s", want, out)
		}
	}
}
