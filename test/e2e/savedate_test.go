package e2e

import (
	"context"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestIMAPSaveDatePython exercises SAVEDATE (RFC 8514) with Python's
// imaplib against a running server: the capability is advertised; FETCH
// SAVEDATE of a message appended with a date of 2015 is today, not 2015;
// SEARCH SAVEDON today finds it and SAVEDON that old date does not,
// while ON the old date does; SAVEDATESUPPORTED matches every message,
// and a COPY has a save date too.
func TestIMAPSaveDatePython(t *testing.T) {
	t.Parallel()
	e, p := newIMAPEnv(t, "")
	e.startMail()
	e.addUser("alice", "alice-pw")
	e.deliverIMAP("alice", 1)
	py := requireTool(t, "python3")
	script := `
import datetime, imaplib, re, sys, time
M = imaplib.IMAP4("localhost", int(sys.argv[1]))
M.login("alice", "alice-pw")
typ, caps = M.capability(); assert b" SAVEDATE" in caps[0], caps
typ, data = M.append("INBOX", None, '"01-Jan-2015 18:50:53 +0100"', b"Subject: old\r\n\r\nx\r\n"); assert typ == "OK", data
typ, data = M.select("INBOX"); assert typ == "OK", data
typ, data = M.fetch("1:2", "(SAVEDATE INTERNALDATE)"); assert typ == "OK", data
saved = [re.search(rb'SAVEDATE "([^"]+)"', d).group(1) for d in data]
for s in saved:
    d = datetime.datetime.strptime(s.decode().strip(), "%d-%b-%Y %H:%M:%S %z")
    assert d.date() == datetime.date.today(), (s, data)
assert b'INTERNALDATE "01-Jan-2015 18:50:53 +0100"' in data[1], data
day = time.strftime("%d-%b-%Y")
typ, data = M.search(None, "SAVEDON", day); assert data[0] == b"1 2", data
typ, data = M.search(None, "SAVEDON", "01-Jan-2015"); assert data[0] == b"", data
typ, data = M.search(None, "ON", "01-Jan-2015"); assert data[0] == b"2", data
typ, data = M.search(None, "SAVEDATESUPPORTED"); assert data[0] == b"1 2", data
typ, data = M.uid("COPY", "2", "Sent"); assert typ == "OK", data
M.select("Sent", readonly=True)
typ, data = M.fetch("1", "(SAVEDATE)"); assert re.search(rb'SAVEDATE "\d', data[0]), data
M.logout()
print("ok")
`
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, py, "-c", script, strconv.Itoa(p.plain)).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ok") {
		t.Fatalf("imaplib SAVEDATE: %v\n%s", err, out)
	}
}
