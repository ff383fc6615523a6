package e2e

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestRemoteMailThroughSmartHost: a message to a remote domain reaches the
// test's own SMTP server (the smart host), byte for byte after our
// Received header.
func TestRemoteMailThroughSmartHost(t *testing.T) {
	t.Parallel()
	sink := startSinkServer(t, false)
	e, p := newMailEnv(t, "", "Relay-Host: "+sink.addr+"\nRelay-TLS: NONE\n")
	e.addUser("alice", "alice-pw")
	e.startMail()
	msg := strings.Replace(submitMsg, "bob@e2e.example.org", "friend@remote.example", 1)
	out := python(t, submitScript, "starttls", strconv.Itoa(p.submission), p.cafile, "alice", "alice-pw", "alice@e2e.example.org", msg, "friend@remote.example")
	if !strings.Contains(out, "refused: []") {
		t.Fatalf("submit: %s", out)
	}
	select {
	case <-sink.got:
	case <-time.After(30 * time.Second):
		t.Fatal("the smart host got nothing in 30s")
	}
	sink.mu.Lock()
	got := sink.msgs[0]
	sink.mu.Unlock()
	if !strings.HasPrefix(got, "Received: from ") || !strings.HasSuffix(got, strings.ReplaceAll(msg, "\n", "\r\n")) {
		t.Errorf("smart host got:\n%q", got)
	}
	// Once the smart host has it, the message leaves the queue.
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := e.run("", "ctl", "queue", "list").must(t, 0)
		if strings.Contains(r.stdout, "queue is empty") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("queue not empty after delivery:\n%s", r.stdout)
		}
	}
	if r := e.run("", "ctl", "queue", "flush").must(t, 0); !strings.Contains(r.stdout, "scheduled") {
		t.Errorf("queue flush: %q", r.stdout)
	}
	e.run("", "ctl", "queue", "delete", "no-such-id").must(t, 1)
	e.run("", "ctl", "queue", "remove").must(t, 2)
}

// TestRemoteRefusalBouncesToSender: the smart host refuses permanently and
// the sender finds an RFC 3464 DSN in INBOX.
func TestRemoteRefusalBouncesToSender(t *testing.T) {
	t.Parallel()
	sink := startSinkServer(t, true)
	e, p := newMailEnv(t, "", "Relay-Host: "+sink.addr+"\nRelay-TLS: NONE\n")
	e.addUser("alice", "alice-pw")
	e.startMail()
	msg := strings.Replace(submitMsg, "bob@e2e.example.org", "gone@remote.example", 1)
	out := python(t, submitScript, "ssl", strconv.Itoa(p.submissions), p.cafile, "alice", "alice-pw", "alice@e2e.example.org", msg, "gone@remote.example")
	if !strings.Contains(out, "refused: []") {
		t.Fatalf("submit: %s", out)
	}
	deadline := time.Now().Add(30 * time.Second)
	var inbox []string
	for time.Now().Before(deadline) {
		if inbox = storedMessages(t, e.data, "alice", "INBOX"); len(inbox) > 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(inbox) != 1 {
		t.Fatalf("alice has %d messages, want the DSN", len(inbox))
	}
	for _, want := range []string{"multipart/report; report-type=delivery-status", "Final-Recipient: rfc822; gone@remote.example",
		"Action: failed", "Status: 5.1.1", "Subject: from alice"} {
		if !strings.Contains(inbox[0], want) {
			t.Errorf("DSN lacks %q:\n%s", want, inbox[0])
		}
	}
}

// dsnSubmitScript submits with RFC 3461 parameters through smtplib.
const dsnSubmitScript = `
import smtplib, ssl, sys
port, cafile = int(sys.argv[1]), sys.argv[2]
c = smtplib.SMTP("localhost", port)
c.starttls(context=ssl.create_default_context(cafile=cafile))
c.login("alice", "alice-pw")
print("dsn offered:", c.has_extn("dsn"))
msg = sys.argv[3].replace("\n", "\r\n").encode()
print("refused:", sorted(c.sendmail("alice@e2e.example.org", ["friend@remote.example"], msg,
    mail_options=["RET=HDRS", "ENVID=e2e+2Benv"], rcpt_options=["NOTIFY=SUCCESS,FAILURE", "ORCPT=rfc822;Friend+40remote.example"])))
`

// TestSubmissionDSNSuccessNotice: Python's smtplib asks for a success
// notice (RFC 3461 NOTIFY=SUCCESS) with ENVID and ORCPT; once the smart
// host has the message, the sender finds a "relayed" DSN carrying them.
func TestSubmissionDSNSuccessNotice(t *testing.T) {
	t.Parallel()
	sink := startSinkServer(t, false)
	e, p := newMailEnv(t, "", "Relay-Host: "+sink.addr+"\nRelay-TLS: NONE\n")
	e.addUser("alice", "alice-pw")
	e.startMail()
	msg := strings.Replace(submitMsg, "bob@e2e.example.org", "friend@remote.example", 1)
	out := python(t, dsnSubmitScript, strconv.Itoa(p.submission), p.cafile, msg)
	if !strings.Contains(out, "dsn offered: True") || !strings.Contains(out, "refused: []") {
		t.Fatalf("submit: %s", out)
	}
	deadline := time.Now().Add(30 * time.Second)
	var inbox []string
	for time.Now().Before(deadline) {
		if inbox = storedMessages(t, e.data, "alice", "INBOX"); len(inbox) > 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(inbox) != 1 {
		t.Fatalf("alice has %d messages, want the success notice", len(inbox))
	}
	for _, want := range []string{"Subject: Successful Mail Delivery Report", "Original-Envelope-Id: e2e+env",
		"Original-Recipient: rfc822; Friend@remote.example\r\nFinal-Recipient: rfc822; friend@remote.example\r\nAction: relayed\r\nStatus: 2.0.0"} {
		if !strings.Contains(inbox[0], want) {
			t.Errorf("notice lacks %q:\n%s", want, inbox[0])
		}
	}
}
