package e2e

import "testing"

// TestIMAPUIDOnlyImaplib drives UIDONLY (RFC 9586) on the real binary
// from Python imaplib. No client in CLIENTS.md implements UIDONLY (nor
// does go-imap v2's client, which names the capability only), so this is
// the last resort the issue allows: imaplib's raw command layer, whose
// response reader files "* 5 UIDFETCH (…)" under UIDFETCH like any
// numbered response. It checks the capability, ENABLE UIDONLY, UID FETCH
// and UID STORE answered by UIDFETCH (never FETCH), FETCH by number
// refused with BAD [UIDREQUIRED] and the session still usable, and
// another session's expunge and flag change arriving as VANISHED and
// UIDFETCH, never EXPUNGE or FETCH.
func TestIMAPUIDOnlyImaplib(t *testing.T) {
	t.Parallel()
	script := `
A = login()
assert b"UIDONLY" in A.capability()[1][0].split()
typ, data = A.enable("UIDONLY"); assert typ == "OK", data
assert take(A, "ENABLED") == [b"UIDONLY"]
typ, data = A.select("INBOX"); assert data[0] == b"3", data
assert take(A, "UNSEEN") == []
typ, data = A.uid("FETCH", "1:*", "(FLAGS)"); assert typ == "OK", data
f = take(A, "UIDFETCH")
assert [x.split(b" ")[0] for x in f] == [b"1", b"2", b"3"] and all(b"FLAGS (" in x and b"UID" not in x for x in f), f
assert take(A, "FETCH") == []
try:
    A.fetch("1", "(FLAGS)"); assert False
except imaplib.IMAP4.error as e:
    assert "UIDREQUIRED" in str(e), e
typ, data = A.noop(); assert typ == "OK"

B = login()
B.select("INBOX")
B.store("2", "+FLAGS", "(\\Deleted)"); B.expunge()
B.store("1", "+FLAGS", "(\\Flagged)")
A.noop()
assert take(A, "VANISHED") == [b"2"], A.untagged_responses
f = take(A, "UIDFETCH"); assert len(f) == 1 and f[0].startswith(b"1 (FLAGS (") and b"\\Flagged" in f[0], f
assert take(A, "EXPUNGE") == [] and take(A, "FETCH") == []
typ, data = A.uid("STORE", "3", "+FLAGS", "(\\Seen)"); assert typ == "OK", data
f = take(A, "UIDFETCH"); assert len(f) == 1 and f[0].startswith(b"3 (FLAGS (") and b"\\Seen" in f[0], f
for M in (A, B): M.logout()
print("ok")
`
	runAliceImaplib(t, 3, script)
}
