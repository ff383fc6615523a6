package e2e

import (
	"context"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestIMAPPreviewPython fetches PREVIEW (RFC 8970) with Python's imaplib
// for delivered messages: the capability is offered, each message has a
// preview of its body, and fetching it leaves \Seen off.
func TestIMAPPreviewPython(t *testing.T) {
	t.Parallel()
	e, p := newIMAPEnv(t, "")
	e.startMail()
	e.addUser("alice", "alice-pw")
	e.deliverIMAP("alice", 2)
	py := requireTool(t, "python3")
	script := `
import imaplib, sys
M = imaplib.IMAP4("localhost", int(sys.argv[1]))
M.login("alice", "alice-pw")
typ, caps = M.capability(); assert b" PREVIEW" in caps[0], caps
M.select("INBOX")
typ, data = M.fetch("1:2", "(PREVIEW)")
assert typ == "OK" and len(data) == 2, data
for d in data:
    assert b"PREVIEW" in d and b"body of message" in d, d
typ, data = M.fetch("1:2", "(FLAGS)")
assert all(b"\\Seen" not in d for d in data), data
M.logout()
print("ok")
`
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, py, "-c", script, strconv.Itoa(p.plain)).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ok") {
		t.Fatalf("imaplib PREVIEW: %v\n%s", err, out)
	}
}
