package e2e

import (
	"strconv"
	"strings"
	"testing"
)

// impersonationScript logs in over IMAP and submission with SASL PLAIN
// as "alice" authorised by admin's password, as imapsync --authuser1 does,
// and prints what each protocol answered.
const impersonationScript = `
import imaplib, smtplib, sys, base64
imap, sub = int(sys.argv[1]), int(sys.argv[2])
msg = b"alice\x00admin\x00admin-pw"
m = imaplib.IMAP4("127.0.0.1", imap)
try:
    m.authenticate("PLAIN", lambda _: msg)
    typ, data = m.select("INBOX", readonly=True)
    print("imap ok", int(data[0]))
    m.logout()
except imaplib.IMAP4.error as e:
    print("imap refused", e)
s = smtplib.SMTP("127.0.0.1", sub); s.ehlo()
code, resp = s.docmd("AUTH", "PLAIN " + base64.b64encode(msg).decode())
print("smtp", code)
`

// TestAdminImpersonation (issue 22): an administrator's PLAIN login with
// another account's name as authorization identity is refused by default
// and allowed with Admin-Impersonation: on, where it opens that account's
// mailbox.
func TestAdminImpersonation(t *testing.T) {
	t.Parallel()
	for _, on := range []bool{false, true} {
		global := "Trusted-Networks: 127.0.0.1\n"
		if on {
			global += "Admin-Impersonation: on\n"
		}
		e, p, imap := newAllEnv(t, global)
		e.addUser("alice", "alice-pw")
		e.run("admin-pw\n", "user", "add", "admin", "--password-stdin", "--admin").must(t, 0)
		e.startMail()
		python(t, lmtpScript, "127.0.0.1", strconv.Itoa(p.lmtp), "Subject: hi\n\nhello\n", "alice@e2e.example.org")
		out := python(t, impersonationScript, strconv.Itoa(imap), strconv.Itoa(p.submission))
		want := []string{"imap refused", "smtp 535"}
		if on {
			want = []string{"imap ok 1", "smtp 235"}
		}
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("Admin-Impersonation %v: want %q in:\n%s", on, w, out)
			}
		}
		if on && !strings.Contains(readLog(t, e.logs, "postern-run.log"), "admin impersonation") {
			t.Error("the impersonation is not in the run log")
		}
	}
}
