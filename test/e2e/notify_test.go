package e2e

import (
	"strconv"
	"strings"
	"testing"
)

// TestIMAPNotifyPython drives NOTIFY (RFC 5465) with Python's imaplib,
// raw commands on its socket: NOTIFY SET with the STATUS indicator, then,
// which reports every other mailbox and not the selected one, then,
// with no command in progress (no IDLE), it reads what the server pushes:
// a delivery by another process (postern deliver) to the selected INBOX
// as EXISTS with the MessageNew fetch attributes, and a second imaplib
// connection's CREATE and APPEND in another mailbox as LIST and STATUS.
func TestIMAPNotifyPython(t *testing.T) {
	t.Parallel()
	e, p := newIMAPEnv(t, "")
	e.startMail()
	e.addUser("alice", "alice-pw")
	e.deliverIMAP("alice", 1)
	script := `
import imaplib, sys
port = int(sys.argv[1])
M = imaplib.IMAP4("localhost", port)
M.login("alice", "alice-pw")
typ, caps = M.capability(); assert b" NOTIFY" in caps[0], caps
typ, data = M.select("INBOX"); assert typ == "OK" and data[0] == b"1", data
def raw(line):
    tag = M._new_tag()
    M.send(tag + b" " + line + b"\r\n")
    out = []
    while True:
        l = M.readline()
        if l.startswith(tag):
            assert l.startswith(tag + b" OK"), l
            return out
        out.append(l)
out = raw(b"NOTIFY SET STATUS (selected (MessageNew (UID FLAGS) MessageExpunge)) (personal (MessageNew MessageExpunge MailboxName))")
assert out and all(l.startswith(b"* STATUS ") for l in out), out
assert any(l.startswith(b"* STATUS Sent (MESSAGES 0 UIDNEXT 1 UIDVALIDITY ") for l in out), out
assert not any(b"INBOX" in l for l in out), out  # the selected mailbox is left out
print("idling", flush=True)
sys.stdin.readline()
l = M.readline(); assert l == b"* 2 EXISTS\r\n", l
l = M.readline(); assert l == b"* 2 RECENT\r\n", l
l = M.readline(); assert l == b"* 2 FETCH (UID 2 FLAGS (\\Recent))\r\n", l
N = imaplib.IMAP4("localhost", port)
N.login("alice", "alice-pw")
typ, data = N.create("Work"); assert typ == "OK", data
l = M.readline(); assert l == b'* LIST () "/" Work\r\n', l
typ, data = N.append("Work", None, None, b"Subject: w\r\n\r\nwork\r\n"); assert typ == "OK", data
l = M.readline(); assert l == b"* STATUS Work (MESSAGES 1 UIDNEXT 2 UNSEEN 1)\r\n", l
N.logout()
raw(b"NOTIFY NONE")
M.logout()
print("ok")
`
	out := pythonIdle(t, script, func() { e.deliverIMAP("alice", 1) }, strconv.Itoa(p.plain))
	if !strings.Contains(out, "ok") {
		t.Fatalf("imaplib NOTIFY: %s", out)
	}
}
