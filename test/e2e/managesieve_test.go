package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// sieveConnect runs Debian's sieve-connect against the server with
// alice's password on descriptor 3 and returns its output.
func sieveConnect(t *testing.T, port int, args ...string) string {
	t.Helper()
	bin := requireTool(t, "sieve-connect")
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	pw.WriteString("alice-pw\n")
	pw.Close()
	defer pr.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	base := []string{"--server", "127.0.0.1", "--port", strconv.Itoa(port), "--user", "alice",
		"--passwordfd", "3", "--notlsverify"}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	cmd.ExtraFiles = []*os.File{pr}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sieve-connect %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// flagged lists a mailbox's messages as "flags|subject" from the store.
func flagged(t *testing.T, dataDir, user, mailbox string) []string {
	t.Helper()
	ctx := context.Background()
	sess, done := userSession(t, dataDir, user)
	defer done()
	mb, err := sess.Mailbox(ctx, mailbox)
	if err != nil {
		return nil
	}
	infos, err := sess.Messages(ctx, mb.ID)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i, m := range storedMessages(t, dataDir, user, mailbox) {
		subject := ""
		for _, l := range strings.Split(m, "\r\n") {
			if s, ok := strings.CutPrefix(l, "Subject: "); ok {
				subject = s
				break
			}
		}
		out = append(out, strings.Join(infos[i].Flags, " ")+"|"+subject)
	}
	return out
}

// createMailbox creates a mailbox through the store.
func createMailbox(t *testing.T, dataDir, user, name string) {
	t.Helper()
	ctx := context.Background()
	sess, done := userSession(t, dataDir, user)
	defer done()
	if _, err := sess.CreateMailbox(ctx, name, ""); err != nil {
		t.Fatal(err)
	}
}

const e2eScript = `require ["fileinto", "imap4flags", "vacation", "envelope"];
if header :contains "subject" "[list]" {
    addflag "\\Flagged";
    fileinto "Lists";
    stop;
}
if header :contains "subject" "away?" {
    vacation :days 1 :subject "Out of office" "I am away until Monday.";
}
`

// TestManageSieveSieveConnect: a user uploads and activates a script
// with Debian's sieve-connect (STARTTLS, SASL PLAIN) against the real
// binary; LMTP deliveries are then filed, flagged and answered as the
// script says, the vacation answer once per sender.
func TestManageSieveSieveConnect(t *testing.T) {
	t.Parallel()
	e, p := newMailEnv(t, "", "")
	msPort := freePort(t)
	conf, err := os.ReadFile(e.conf)
	if err != nil {
		t.Fatal(err)
	}
	conf = append(conf, []byte("[ManageSieve]\nEnable: on\nServer-Port: "+strconv.Itoa(msPort)+"\n")...)
	if err := os.WriteFile(e.conf, conf, 0o600); err != nil {
		t.Fatal(err)
	}
	e.addUser("alice", "alice-pw")
	e.addUser("bob", "bob-pw")
	createMailbox(t, e.data, "alice", "Lists")
	e.startMail()

	script := filepath.Join(e.dir, "rules.sieve")
	if err := os.WriteFile(script, []byte(e2eScript), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(e.dir, "bad.sieve")
	if err := os.WriteFile(bad, []byte("require \"fileinto\";\nfileinto;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sieveConnect(t, msPort, "--upload", "--localsieve", script, "--remotesieve", "rules")
	sieveConnect(t, msPort, "--activate", "--remotesieve", "rules")
	if out := sieveConnect(t, msPort, "--list"); !strings.Contains(out, `"rules" ACTIVE`) {
		t.Errorf("--list: %q", out)
	}
	if out := runSieveConnectFail(t, msPort, "--upload", "--localsieve", bad, "--remotesieve", "bad"); !strings.Contains(out, "line 2") {
		t.Errorf("bad script: %q, want the compile error's line", out)
	}

	send := func(from, subject string) {
		t.Helper()
		msg := "From: " + from + "\nTo: alice@e2e.example.org\nSubject: " + subject + "\n\nbody\n"
		out := python(t, lmtpFromScript, "127.0.0.1", strconv.Itoa(p.lmtp), from, msg, "alice@e2e.example.org")
		if !strings.Contains(out, "refused: []") {
			t.Fatalf("lmtp: %s", out)
		}
	}
	send("bob@e2e.example.org", "[list] weekly digest")
	send("bob@e2e.example.org", "are you away?")
	send("bob@e2e.example.org", "still away?")
	send("carol@example.net", "plain")

	if got := flagged(t, e.data, "alice", "Lists"); len(got) != 1 || got[0] != `\Flagged|[list] weekly digest` {
		t.Errorf("Lists = %q", got)
	}
	if got := flagged(t, e.data, "alice", "INBOX"); len(got) != 3 {
		t.Errorf("INBOX = %q", got)
	}
	// The vacation answer goes through the queue to bob, once.
	var answers []string
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		answers = storedMessages(t, e.data, "bob", "INBOX")
		if len(answers) > 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(answers) != 1 || !strings.Contains(answers[0], "Subject: Out of office\r\n") ||
		!strings.Contains(answers[0], "Auto-Submitted: auto-replied") || !strings.Contains(answers[0], "I am away until Monday.") {
		t.Fatalf("bob's INBOX: %q", answers)
	}
}

func runSieveConnectFail(t *testing.T, port int, args ...string) string {
	t.Helper()
	bin := requireTool(t, "sieve-connect")
	pr, pw, _ := os.Pipe()
	pw.WriteString("alice-pw\n")
	pw.Close()
	defer pr.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"--server", "127.0.0.1", "--port", strconv.Itoa(port),
		"--user", "alice", "--passwordfd", "3", "--notlsverify"}, args...)...)
	cmd.ExtraFiles = []*os.File{pr}
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Errorf("sieve-connect %v succeeded", args)
	}
	return string(out)
}

// lmtpFromScript delivers one message over LMTP with a given sender.
const lmtpFromScript = `
import smtplib, sys
c = smtplib.LMTP(sys.argv[1], int(sys.argv[2]))
refused = c.sendmail(sys.argv[3], sys.argv[5:], sys.argv[4].replace("\n", "\r\n").encode())
print("refused:", sorted(refused))
c.quit()
`
