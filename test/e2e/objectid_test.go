package e2e

import (
	"context"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestIMAPObjectIDPython exercises OBJECTID (RFC 8474) with Python's
// imaplib against a running server: CREATE answers a MAILBOXID that STATUS
// repeats and RENAME keeps; SELECT reports the mailbox's; EMAILID is kept
// by MOVE, is new for a COPY, and SEARCH EMAILID finds the message;
// THREADID is given at delivery, kept by COPY, and SEARCH THREADID finds
// the message.
func TestIMAPObjectIDPython(t *testing.T) {
	t.Parallel()
	e, p := newIMAPEnv(t, "")
	e.startMail()
	e.addUser("alice", "alice-pw")
	e.deliverIMAP("alice", 2)
	py := requireTool(t, "python3")
	script := `
import imaplib, re, sys
M = imaplib.IMAP4("localhost", int(sys.argv[1]))
M.login("alice", "alice-pw")
typ, caps = M.capability(); assert b" OBJECTID" in caps[0], caps
typ, data = M.create("Work"); assert typ == "OK", data
created = re.search(rb"\[MAILBOXID \(([A-Za-z0-9_-]+)\)\]", data[0]).group(1)
typ, data = M.rename("Work", "Jobs"); assert typ == "OK", data
typ, data = M.status("Jobs", "(MAILBOXID)")
assert re.search(rb"MAILBOXID \(" + created + rb"\)", data[0]), (created, data)
typ, data = M.select("INBOX"); assert typ == "OK", data
typ, code = M.response("MAILBOXID"); assert code[0] and code[0] != created, code
typ, data = M.fetch("1:2", "(EMAILID THREADID)"); assert typ == "OK", data
ids = [re.search(rb"EMAILID \(([A-Za-z0-9_-]+)\)", d).group(1) for d in data]
assert len(set(ids)) == 2, data
threads = [re.search(rb"THREADID \(([A-Za-z0-9_-]+)\)", d).group(1) for d in data]
typ, data = M.search(None, "EMAILID", ids[1].decode()); assert data[0] == b"2", data
typ, data = M.search(None, "THREADID", threads[0].decode()); assert b"1" in data[0].split(), data
typ, data = M.uid("COPY", "1", "Jobs"); assert typ == "OK", data
typ, data = M.uid("MOVE", "2", "Jobs"); assert typ == "OK", data
M.select("Jobs", readonly=True)
typ, data = M.fetch("1:2", "(EMAILID THREADID)")
got = [re.search(rb"EMAILID \(([A-Za-z0-9_-]+)\)", d).group(1) for d in data]
assert got[1] == ids[1] and got[0] != ids[0], (got, ids)
assert re.search(rb"THREADID \(([A-Za-z0-9_-]+)\)", data[0]).group(1) == threads[0], (data, threads)
M.logout()
print("ok")
`
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, py, "-c", script, strconv.Itoa(p.plain)).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ok") {
		t.Fatalf("imaplib OBJECTID: %v\n%s", err, out)
	}
}
