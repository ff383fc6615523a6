package e2e

import (
	"strconv"
	"strings"
	"testing"
)

// TestIMAPQResyncImaplib resynchronises with QRESYNC (RFC 7162 §3.2) from
// Python imaplib, on the real binary, as a disconnected client does: it
// notes UIDVALIDITY and HIGHESTMODSEQ, disconnects, another session
// expunges and flags, and the client's SELECT (QRESYNC …) gets exactly
// those changes (VANISHED (EARLIER), FETCH with MODSEQ). Then, selected,
// it sees the other session's next expunge as VANISHED, not EXPUNGE, finds
// both with UID FETCH (CHANGEDSINCE … VANISHED), and a session that did
// not ENABLE QRESYNC gets BAD for the parameter. imaplib has no QRESYNC
// calls, so the commands go out raw through its command layer.
func TestIMAPQResyncImaplib(t *testing.T) {
	t.Parallel()
	script := `
A = login()
assert b"QRESYNC" in A.capability()[1][0].split()
typ, data = A.enable("QRESYNC"); assert typ == "OK", data
assert take(A, "ENABLED") == [b"QRESYNC"]
typ, data = A.select("INBOX"); assert data[0] == b"4", data
uv = int(take(A, "UIDVALIDITY")[0]); hms = int(take(A, "HIGHESTMODSEQ")[0])
A.logout()

B = login()
B.select("INBOX")
B.store("2", "+FLAGS", "(\\Deleted)"); B.expunge()
B.store("1", "+FLAGS", "(\\Flagged)")

A = login()
A.enable("QRESYNC")
A.select("INBOX")
for k in list(A.untagged_responses): take(A, k)
typ, data = A._simple_command("SELECT", "INBOX (QRESYNC (%d %d 1:4))" % (uv, hms))
assert typ == "OK", (typ, data)
assert take(A, "VANISHED") == [b"(EARLIER) 2"], A.untagged_responses
f = take(A, "FETCH"); assert len(f) == 1 and b"UID 1" in f[0] and b"\\Flagged" in f[0] and b"MODSEQ" in f[0], f
assert take(A, "EXPUNGE") == []

B.store("2", "+FLAGS", "(\\Deleted)"); B.expunge()
A.noop()
assert take(A, "VANISHED") == [b"3"], A.untagged_responses
assert take(A, "EXPUNGE") == []
typ, data = A.uid("FETCH", "1:*", "(FLAGS)", "(CHANGEDSINCE %d VANISHED)" % hms); assert typ == "OK", data
assert take(A, "VANISHED") == [b"(EARLIER) 2:3"], A.untagged_responses

C = login()
C.select("INBOX")
try:
    C._simple_command("SELECT", "INBOX (QRESYNC (%d %d))" % (uv, hms)); assert False
except imaplib.IMAP4.error as e:
    assert "BAD" in str(e) or "QRESYNC" in str(e), e
typ, data = C.noop(); assert typ == "OK"
for M in (A, B, C): M.logout()
print("ok")
`
	runAliceImaplib(t, 4, script)
}

// aliceImaplibPrelude starts the scripts of runAliceImaplib: the port and
// CA file from the command line, login() for alice over implicit TLS, and
// take(M, name) to pop an untagged response of imaplib's.
const aliceImaplibPrelude = `
import imaplib, ssl, sys
port, ca = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=ca)
def login():
    M = imaplib.IMAP4_SSL("localhost", port, ssl_context=ctx, timeout=20)
    M.login("alice", "alice-pw")
    return M
def take(M, name):
    return M.untagged_responses.pop(name, [])
`

// runAliceImaplib starts a server whose user alice has n delivered
// messages (subjects m0…), runs script after aliceImaplibPrelude with
// Python's imaplib, and fails unless it prints "ok". imaplib has no calls
// for these extensions, so such scripts send their commands raw.
func runAliceImaplib(t *testing.T, n int, script string) {
	t.Helper()
	e, p := newIMAPEnv(t, "")
	e.startMail()
	e.addUser("alice", "alice-pw")
	for i := range n {
		e.run("From: bob@example.org\nSubject: m"+strconv.Itoa(i)+"\n\nbody\n", "deliver", "alice").must(t, 0)
	}
	out := python(t, aliceImaplibPrelude+script, strconv.Itoa(p.secure), p.cafile)
	if !strings.Contains(out, "ok") {
		t.Fatalf("imaplib: %s", out)
	}
}
