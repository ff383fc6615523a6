package e2e

import (
	"strconv"
	"strings"
	"testing"
)

// domainLoginScript logs into POP3 as each USER:PASS given and prints the
// number of messages and the subjects, or the error.
const domainLoginScript = `
import poplib, sys
port = int(sys.argv[1])
for cred in sys.argv[2:]:
    user, pw = cred.split(":", 1)
    p = poplib.POP3("127.0.0.1", port)
    try:
        p.user(user); p.pass_(pw)
        n = p.stat()[0]
        subjects = []
        for i in range(1, n + 1):
            for l in p.top(i, 0)[1]:
                if l.startswith(b"Subject: "):
                    subjects.append(l[9:].decode())
        print(user, "ok", n, sorted(subjects))
        p.quit()
    except poplib.error_proto as e:
        print(user, "refused", e)
`

// TestDomainAccountsLMTP (issue 22): alice@e2e.example.org's bare account
// alice and the account alice@other.example are two people, each
// receiving their own mail over LMTP and logging in over POP3 under
// either form of the name.
func TestDomainAccountsLMTP(t *testing.T) {
	t.Parallel()
	e, p := newMailEnv(t, "Local-Domains: other.example\n", "")
	e.addUser("alice", "bare-pw")
	e.run("net-pw\n", "user", "add", "alice@other.example", "--password-stdin").must(t, 2) // asks: usage error without a terminal
	e.run("net-pw\n", "user", "add", "alice@other.example", "--password-stdin", "--yes").must(t, 0)
	e.startMail()

	msg := func(subj string) string { return "From: sender@example.net\nSubject: " + subj + "\n\nhello\n" }
	out := python(t, lmtpScript, "127.0.0.1", strconv.Itoa(p.lmtp), msg("to-e2e"), "alice@e2e.example.org")
	out += python(t, lmtpScript, "127.0.0.1", strconv.Itoa(p.lmtp), msg("to-other"), "Alice+x@Other.Example")
	if strings.Count(out, "refused: []") != 2 {
		t.Fatalf("LMTP: %s", out)
	}
	if got := storedMessages(t, e.data, "alice", "INBOX"); len(got) != 1 || !strings.Contains(got[0], "Subject: to-e2e") {
		t.Errorf("alice's INBOX: %q", got)
	}
	if got := storedMessages(t, e.data, "alice@other.example", "INBOX"); len(got) != 1 || !strings.Contains(got[0], "Subject: to-other") {
		t.Errorf("alice@other.example's INBOX: %q", got)
	}

	out = python(t, domainLoginScript, strconv.Itoa(p.pop),
		"alice:bare-pw", "alice@e2e.example.org:bare-pw", "ALICE@other.example:net-pw", "alice@other.example:bare-pw")
	for _, want := range []string{
		"alice ok 1 ['to-e2e']",
		"alice@e2e.example.org ok 1 ['to-e2e']",
		"ALICE@other.example ok 1 ['to-other']",
		"alice@other.example refused",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("POP3 logins lack %q:\n%s", want, out)
		}
	}
}
