package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/internal/msgauth/dnstest"
)

// zoneLine matches what `postern dkim new` prints: NAME. IN TXT ( "…" "…" ).
var zoneLine = regexp.MustCompile(`^(\S+)\. IN TXT \( ((?:"[^"]*" ?)+)\)$`)

// publishDKIM runs `postern dkim new` and serves the printed record.
func publishDKIM(t *testing.T, e *env, dns *dnstest.Server, args ...string) {
	t.Helper()
	r := e.run("", append([]string{"dkim", "new"}, args...)...).must(t, 0)
	m := zoneLine.FindStringSubmatch(strings.TrimSpace(r.stdout))
	if m == nil {
		t.Fatalf("dkim new printed %q, want one zone-file TXT line", r.stdout)
	}
	value := strings.NewReplacer(`" "`, "", `"`, "").Replace(strings.TrimSpace(m[2]))
	dns.TXT(m[1], value)
}

// TestDKIMSignedSubmission: keys made by `postern dkim new` (RSA for the
// sender's domain, ed25519 too: two selectors, as in a rotation) sign a
// message submitted by Python's smtplib; what the smart host receives
// verifies with dkimpy (Debian python3-dkim) against the records the
// command printed, served by a DNS server of the test.
func TestDKIMSignedSubmission(t *testing.T) {
	t.Parallel()
	py := requireTool(t, "/usr/bin/python3")
	requireTool(t, "dkimverify") // python3-dkim
	dns := dnstest.Start(t)
	sink := startSinkServer(t, false)
	e, p := newMailEnv(t, "", "Relay-Host: "+sink.addr+"\nRelay-TLS: NONE\n")
	e.addUser("alice", "alice-pw")
	publishDKIM(t, e, dns, "e2e.example.org", "--selector", "old")
	publishDKIM(t, e, dns, "E2E.example.org", "--selector", "new", "--algorithm", "ed25519")
	list := e.run("", "dkim", "list").must(t, 0).stdout
	if !strings.Contains(list, "old") || !strings.Contains(list, "ed25519") {
		t.Errorf("dkim list:\n%s", list)
	}
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
	if n := strings.Count(got, "DKIM-Signature:"); n != 2 {
		t.Fatalf("%d DKIM-Signature fields, want 2:\n%s", n, got)
	}
	path := filepath.Join(t.TempDir(), "signed.eml")
	if err := os.WriteFile(path, []byte(got), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, code := runTool(t, py, "-c", dnstest.DKIMPyVerify, dns.Addr, path); code != 0 {
		t.Errorf("dkimpy does not verify what Postern sent (%d):\n%s\n%s", code, out, got)
	}
	// After the rotation's end the old key is gone: one signature.
	e.run("", "dkim", "del", "e2e.example.org", "old").must(t, 0)
	e.run("", "dkim", "del", "e2e.example.org", "old").must(t, 1)
}
