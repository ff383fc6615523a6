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

// TestPOP3Curl fetches over implicit TLS with curl: the listing, one
// message, and a raw UIDL.
func TestPOP3Curl(t *testing.T) {
	t.Parallel()
	e, p := newPOPEnv(t, "")
	e.addUser("alice", "alice-pw")
	e.deliverPOP("alice", 2)
	e.startMail()
	base := "pop3s://localhost:" + strconv.Itoa(p.secure)
	common := []string{"-sS", "--cacert", p.cafile, "-u", "alice:alice-pw"}

	out, code := runTool(t, "curl", append(common, base+"/")...)
	if code != 0 || !strings.HasPrefix(out, "1 ") || !strings.Contains(out, "\n2 ") {
		t.Fatalf("curl list: exit %d\n%s", code, out)
	}
	out, code = runTool(t, "curl", append(common, base+"/2")...)
	if code != 0 || !strings.Contains(out, "Subject: message 2") || !strings.Contains(out, "\n.dot line") {
		t.Fatalf("curl retr: exit %d\n%s", code, out)
	}
	out, code = runTool(t, "curl", append(common, "-X", "UIDL", base+"/")...)
	if code != 0 || !strings.Contains(out, "1 alice.") {
		t.Fatalf("curl UIDL: exit %d\n%s", code, out)
	}
}

// TestPOP3Fetchmail fetches over implicit TLS with fetchmail, first
// keeping the mail (-k), then without (-a: all of it again): the second run
// deletes what it took. Leave-In-Newmail keeps kept mail in INBOX, where
// fetchmail can see it again.
func TestPOP3Fetchmail(t *testing.T) {
	t.Parallel()
	e, p := newPOPEnv(t, "Leave-In-Newmail: on")
	e.addUser("alice", "alice-pw")
	e.deliverPOP("alice", 3)
	e.startMail()

	home := t.TempDir()
	out := filepath.Join(home, "out.mbox")
	rc := filepath.Join(home, "fetchmailrc")
	conf := "poll localhost protocol pop3 port " + strconv.Itoa(p.secure) +
		` user "alice" password "alice-pw" ssl sslcertck sslcertfile "` + p.cafile +
		`" mda "cat >> ` + out + `"` + "\n"
	if err := os.WriteFile(rc, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	fm := requireTool(t, "fetchmail")
	run := func(keep bool) string {
		args := []string{"-f", rc, "--nosyslog", "-s", "-a"}
		if keep {
			args = append(args, "-k")
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, fm, args...)
		// fetchmail keeps its id file in $HOME.
		cmd.Env = append(os.Environ(), "HOME="+home)
		text, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("fetchmail %v: %v\n%s", args, err, text)
		}
		b, _ := os.ReadFile(out)
		return string(b)
	}

	mbox := run(true)
	if n := strings.Count(mbox, "Subject: message "); n != 3 {
		t.Fatalf("fetchmail -k fetched %d messages:\n%s", n, mbox)
	}
	if !strings.Contains(mbox, "\n.dot line\n") {
		t.Errorf("byte-stuffing not undone:\n%s", mbox)
	}
	if c := mailboxCounts(t, e.data, "alice"); c["INBOX"] != 3 {
		t.Errorf("fetchmail -k: %v, want all 3 still in INBOX", c)
	}
	os.Remove(out)
	mbox = run(false)
	if n := strings.Count(mbox, "Subject: message "); n != 3 {
		t.Errorf("fetchmail fetched %d messages:\n%s", n, mbox)
	}
	if c := mailboxCounts(t, e.data, "alice"); c["INBOX"] != 0 || c["Mail"] != 0 {
		t.Errorf("after fetchmail without -k: %v, want nothing left", c)
	}
}
