package differential

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/postern/postern/internal/tlsconf"
)

// bulkMessages is how many messages the Bulk folder gets: enough that an
// import killed midway has copied some and not all.
const bulkMessages = 300

// startDovecotTLS starts Dovecot with STARTTLS on its IMAP port and an
// implicit-TLS port, under a certificate for localhost; it returns the
// server, the imaps address and the certificate's path.
func startDovecotTLS(t *testing.T, bin string, users []string) (*server, string, string) {
	t.Helper()
	port := freePorts(t, 1)[0]
	var cert string
	dov := startDovecotWith(t, bin, users, func(conf, dir string) string {
		c, k, err := tlsconf.GenerateSelfSigned(filepath.Join(dir, "tls"), "localhost", []string{"127.0.0.1"})
		if err != nil {
			t.Fatal(err)
		}
		cert = c
		conf = strings.Replace(conf, "ssl = no\n", fmt.Sprintf("ssl = yes\nssl_cert = <%s\nssl_key = <%s\n", c, k), 1)
		return strings.Replace(conf, "inet_listener imaps {\n    port = 0\n  }",
			fmt.Sprintf("inet_listener imaps {\n    address = 127.0.0.1\n    port = %d\n  }", port), 1)
	})
	return dov, fmt.Sprintf("localhost:%d", port), cert
}

// TestMigrateFromIMAP copies a user's mail from a running Dovecot with
// `postern import U imaps://…` (issue 19): an import killed with SIGKILL
// midway and run again holds every message exactly once, with the
// source's UIDVALIDITY, UIDs, UIDNEXT, flags, keywords, internal dates
// and sizes; a third run copies nothing and carries a flag changed on
// the source meanwhile; imap:// goes through STARTTLS.
func TestMigrateFromIMAP(t *testing.T) {
	dovecotBin := requireDovecot(t)
	binDir := scratchDir(t, "postern-migrate-bin-")
	built := make(chan error, 1)
	go func() { built <- buildPostern(binDir) }()
	dov, imapsAddr, cert := startDovecotTLS(t, dovecotBin, []string{migrationUser})
	fillDovecot(t, dov)
	fillBulk(t, dov)
	boxes := []string{"INBOX", "Work", "Sent", "Bulk"}
	before := snapshot(t, "Dovecot", dov, boxes)
	if err := <-built; err != nil {
		t.Fatal(err)
	}
	p, ports := newPostern(t, filepath.Join(binDir, "postern"), []string{migrationUser})
	pwFile := filepath.Join(p.dir, "source-password")
	if err := os.WriteFile(pwFile, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	source := "imaps://" + migrationUser + "@" + imapsAddr
	args := []string{"import", migrationUser, source, "--password-file", pwFile, "--ca-file", cert}

	// A site-wide dry run logs in, plans every mailbox and changes nothing.
	usersFile := filepath.Join(p.dir, "users")
	if err := os.WriteFile(usersFile, []byte(migrationUser+" "+migrationUser+" "+pwFile+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := runOut(p, "import", "--all-users", "--users-file", usersFile, "--dry-run", "--ca-file", cert, "imaps://%u@"+imapsAddr)
	if err != nil || !strings.Contains(out, "would import 8 mailbox(es)") || !strings.Contains(out, "Bulk: would keep the source's UIDs") ||
		!strings.Contains(out, "checked 1 user(s): 1 ok, 0 failed") || countFiles(filepath.Join(p.dir, "data", "msg")) != 0 {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	killMidway(t, p, args)
	if err := p.run("", args...); err != nil {
		t.Fatal(err)
	}
	pst := p.serve(t, ports)
	after := snapshot(t, "Postern", pst, boxes)
	for _, box := range boxes {
		b, a := before[box], after[box]
		if a.uidValidity != b.uidValidity || a.uidNext != b.uidNext || !slices.Equal(a.messages, b.messages) {
			t.Errorf("%s differs after the resumed import\nDovecot: %d %d %q\nPostern: %d %d %q", box,
				b.uidValidity, b.uidNext, b.messages, a.uidValidity, a.uidNext, a.messages)
		}
	}
	if len(before["Bulk"].messages) != bulkMessages {
		t.Fatalf("Dovecot's Bulk holds %d messages, want %d", len(before["Bulk"].messages), bulkMessages)
	}

	// A flag changed on the source; the next run (over STARTTLS) copies
	// no message and carries the flag.
	c := dialIMAP(t, "Dovecot", dov.imap)
	c.login(migrationUser)
	okDo(t, c, "SELECT INBOX")
	okDo(t, c, `UID STORE 1 +FLAGS (\Flagged Moved)`)
	c.do("LOGOUT")
	want := snapshot(t, "Dovecot", dov, []string{"INBOX"})["INBOX"].messages
	starttls := "imap://" + migrationUser + "@localhost:" + strings.Split(dov.imap, ":")[1]
	out, err = runOut(p, "import", migrationUser, starttls, "--password-file", pwFile, "--ca-file", cert)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "imported 0 message(s)") {
		t.Errorf("a third run copied mail:\n%s", out)
	}
	if got := snapshot(t, "Postern", pst, []string{"INBOX"})["INBOX"].messages; !slices.Equal(got, want) {
		t.Errorf("after the third run INBOX is\n%q\nwant\n%q", got, want)
	}
}

// fillBulk appends bulkMessages messages of a few KB to a Bulk folder.
func fillBulk(t *testing.T, dov *server) {
	t.Helper()
	c := dialIMAP(t, "Dovecot", dov.imap)
	c.login(migrationUser)
	okDo(t, c, "CREATE Bulk")
	body := strings.Repeat("All work and no play makes Jack a dull boy.\r\n", 60)
	for i := range bulkMessages {
		m := fmt.Sprintf("From: bulk@example.org\r\nSubject: bulk %d\r\nMessage-ID: <bulk%d@example.org>\r\n\r\n%s", i, i, body)
		date := time.Date(2022, 1, 1, 0, 0, i%60, 0, time.UTC).Add(time.Duration(i) * time.Hour).Format("02-Jan-2006 15:04:05 -0700")
		okDo(t, c, fmt.Sprintf("APPEND Bulk (%s) %q %s", []string{"", `\Seen`, "$Label1"}[i%3], date, literal(m)))
	}
	c.do("LOGOUT")
}

// killMidway starts the import and kills it with SIGKILL once it has
// stored some mail: content files appear in the data directory as each
// message is made durable.
func killMidway(t *testing.T, p *postern, args []string) {
	t.Helper()
	cmd := exec.Command(p.bin, args...)
	cmd.Dir = p.dir
	cmd.Env = append(os.Environ(), "POSTERN_CONFIG="+p.conf)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		if countFiles(filepath.Join(p.dir, "data", "msg")) >= 60 {
			_ = cmd.Process.Signal(syscall.SIGKILL)
			<-done
			t.Logf("import killed after %d stored messages", countFiles(filepath.Join(p.dir, "data", "msg")))
			return
		}
		select {
		case err := <-done:
			t.Fatalf("the import ended before it could be killed (%v): make the corpus larger\n%s", err, out)
		case <-time.After(5 * time.Millisecond):
		}
	}
	_ = cmd.Process.Kill()
	<-done
	t.Fatalf("the import stored too little to be killed midway in %v\n%s", startTimeout, out)
}

// countFiles counts the regular files under dir.
func countFiles(dir string) int {
	n := 0
	subs, _ := os.ReadDir(dir)
	for _, s := range subs {
		if s.IsDir() {
			files, _ := os.ReadDir(filepath.Join(dir, s.Name()))
			n += len(files)
		}
	}
	return n
}

// runOut runs a postern subcommand and returns its output.
func runOut(p *postern, args ...string) (string, error) {
	cmd := exec.Command(p.bin, args...)
	cmd.Dir = p.dir
	cmd.Env = append(os.Environ(), "POSTERN_CONFIG="+p.conf)
	b, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("postern %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	return string(b), nil
}
