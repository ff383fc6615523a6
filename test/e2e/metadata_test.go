package e2e

import (
	"context"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestIMAPMetadataPython drives METADATA (RFC 5464) with Python's imaplib,
// raw commands on its socket: SETMETADATA on the server and on INBOX
// (a quoted value and a literal), GETMETADATA with DEPTH and MAXSIZE, and
// the entries kept across a new connection to the same server.
func TestIMAPMetadataPython(t *testing.T) {
	t.Parallel()
	e, p := newIMAPEnv(t, "")
	e.startMail()
	e.addUser("alice", "alice-pw")
	py := requireTool(t, "python3")
	script := `
import imaplib, sys
port = int(sys.argv[1])
def conn():
    M = imaplib.IMAP4("localhost", port)
    M.login("alice", "alice-pw")
    return M
def raw(M, line, lit=None):
    tag = M._new_tag()
    if lit is None:
        M.send(tag + b" " + line + b"\r\n")
    else:
        M.send(tag + b" " + line + b"{%d}\r\n" % len(lit))
        l = M.readline(); assert l.startswith(b"+"), l
        M.send(lit + b")\r\n")
    out = []
    while True:
        l = M.readline()
        if l.startswith(tag):
            return l[len(tag)+1:], out
        out.append(l)
M = conn()
typ, caps = M.capability(); assert b" METADATA" in caps[0], caps
st, out = raw(M, b'SETMETADATA "" (/private/comment "server note")'); assert st.startswith(b"OK"), st
st, out = raw(M, b'SETMETADATA INBOX (/shared/comment ', b"inbox\r\nnote"); assert st.startswith(b"OK"), st
M.logout()
M = conn()
st, out = raw(M, b'GETMETADATA "" /private/comment')
assert out == [b'* METADATA "" (/private/comment "server note")\r\n'], out
st, out = raw(M, b'GETMETADATA (DEPTH infinity) INBOX /shared')
assert out == [b'* METADATA INBOX (/shared/comment {11}\r\n', b'inbox\r\n', b'note)\r\n'], out
st, out = raw(M, b'GETMETADATA (MAXSIZE 4) "" /private/comment')
assert st.startswith(b"OK [METADATA LONGENTRIES 11]") and out == [], (st, out)
st, out = raw(M, b'SETMETADATA INBOX (/nope "x")'); assert st.startswith(b"BAD"), st
M.logout()
print("ok")
`
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, py, "-c", script, strconv.Itoa(p.plain)).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ok") {
		t.Fatalf("imaplib METADATA: %v\n%s", err, out)
	}
}
