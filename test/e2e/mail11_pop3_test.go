package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// mail11Extract is a VMS MAIL extract file with one message of each
// sender class the issue names: simple DECnet with a personal name,
// SMTP, quoted DECnet and cluster-forwarding.
const mail11Extract = "\fFrom:\tORDERS::J_SMITH      \"John Smith\"  6-APR-1999 06:02:31.15\nTo:\tALICE\nCC:\tBOB\nSubj:\tQuarterly report\n\nThe figures are in.\n.dot line\n" +
	"\fFrom:\tSMTP%\"jones@example.org\"  7-APR-1999 10:00:00.00\nTo:\tALICE\nCC:\t\nSubj:\tRe: report\n\nThanks.\n" +
	"\fFrom:\tORDERS::\"j_smith@acme.com\"  8-APR-1999 10:00:00.00\nTo:\tALICE\nCC:\t\nSubj:\tquoted\n\nQuoted.\n" +
	"\fFrom:\tABCDEF::SMTP%\"james.jones@federation.gov\"  9-APR-1999 10:00:00.00\nTo:\tALICE\nCC:\t\nSubj:\tcluster\n\nCluster.\n"

// mail11Poplib logs in with Python's poplib and prints, as JSON, STAT
// and for every message LIST's size, the octets RETR put on the wire
// and RETR's lines.
const mail11Poplib = `
import json, poplib, sys
p = poplib.POP3("localhost", int(sys.argv[1]), timeout=20)
p.user(sys.argv[2]); p.pass_(sys.argv[3])
count, total = p.stat()
out = {"count": count, "total": total, "msgs": []}
for l in p.list()[1]:
    n, size = l.split()
    resp, lines, octets = p.retr(int(n))
    out["msgs"].append({"size": int(size), "resp": resp.decode(),
        "wire": sum(len(x) + 2 for x in lines),
        "lines": [x.decode("utf-8", "replace") for x in lines]})
p.quit()
print(json.dumps(out))
`

type mail11Listing struct {
	Count, Total int
	Msgs         []struct {
		Size, Wire int
		Resp       string
		Lines      []string
	}
}

// TestMail11POP3 imports a VMS extract with "postern import --format vms"
// and reads it with Python's poplib: the headers are rebuilt by the
// original's rules (hp-system §3), every size agrees with what RETR sends,
// and changing an option in the config and restarting changes exactly
// what the manual says.
func TestMail11POP3(t *testing.T) {
	t.Parallel()
	e, p := newPOPEnv(t, "Leave-In-Newmail: on")
	setGlobal(t, e, "Decnet-Node: ORDERS=orders.acme.example")
	e.addUser("alice", "alice-pw")
	path := filepath.Join(e.dir, "mail.txt")
	if err := os.WriteFile(path, []byte(mail11Extract), 0o600); err != nil {
		t.Fatal(err)
	}
	e.run("", "import", "alice", path, "--format", "vms").must(t, 0)
	e.run("From: \"Bob Example\" <bob@example.org>\nTo: alice@e2e.example.org\nSubject: by SMTP\nMIME-Version: 1.0\n\nplain\n", "deliver", "alice").must(t, 0)

	read := func() mail11Listing {
		t.Helper()
		var l mail11Listing
		out := python(t, mail11Poplib, strconv.Itoa(p.plain), "alice", "alice-pw")
		if err := json.Unmarshal([]byte(out), &l); err != nil {
			t.Fatalf("poplib output: %v\n%s", err, out)
		}
		if len(l.Msgs) != 5 || l.Count != 5 {
			t.Fatalf("%d messages, want 5: %s", len(l.Msgs), out)
		}
		sum := 0
		for i, m := range l.Msgs {
			sum += m.Size
			if m.Wire != m.Size || m.Resp != "+OK "+strconv.Itoa(m.Size)+" octets" {
				t.Errorf("message %d: LIST %d, RETR %q with %d octets on the wire", i+1, m.Size, m.Resp, m.Wire)
			}
		}
		if sum != l.Total {
			t.Errorf("STAT %d octets, LIST sums to %d", l.Total, sum)
		}
		return l
	}
	header := func(m []string) string {
		for i, l := range m {
			if l == "" {
				return strings.Join(m[:i], "\n")
			}
		}
		return strings.Join(m, "\n")
	}
	has := func(l mail11Listing, n int, want ...string) {
		t.Helper()
		h := header(l.Msgs[n-1].Lines)
		for _, w := range want {
			if !strings.Contains(h+"\n", w+"\n") {
				t.Errorf("message %d: header lacks %q:\n%s", n, w, h)
			}
		}
	}

	// The first server is stopped by hand (startMail's cleanup would wait
	// for it a second time).
	srv := startServe(t, e.dir, []string{"POSTERN_CONFIG=" + e.conf})
	l := read()
	has(l, 1, "From: j_smith@orders.acme.example", "To: ALICE", "CC: BOB", "Subject: Quarterly report",
		`X-VMS-From: ORDERS::J_SMITH "John Smith"`)
	if h := header(l.Msgs[0].Lines); !strings.HasPrefix(h, "Date: ") || !strings.Contains(h, " Apr 1999 ") {
		t.Errorf("message 1: no arrival Date first:\n%s", h)
	}
	if body := strings.Join(l.Msgs[0].Lines, "\n"); !strings.HasSuffix(body, "\n\nThe figures are in.\n.dot line") {
		t.Errorf("message 1: body not served after the rebuilt header:\n%s", body)
	}
	has(l, 2, "From: jones@example.org", `X-VMS-From: SMTP%"jones@example.org"`)
	has(l, 3, "From: j_smith@acme.com")
	has(l, 4, "From: james.jones@federation.gov")
	// Ignore-Mail11-Headers is on by default: SMTP mail keeps its header.
	if h := header(l.Msgs[4].Lines); h != "From: \"Bob Example\" <bob@example.org>\nTo: alice@e2e.example.org\nSubject: by SMTP\nMIME-Version: 1.0" {
		t.Errorf("message 5: own header not served untouched:\n%s", h)
	}

	// Flip options, restart: GENERIC for both DECnet classes, the
	// personal name, Ignore-Mail11-Headers off, and a Substitute-Domain.
	e.run("", "ctl", "shutdown").must(t, 0)
	if code := srv.wait(); code != 0 {
		t.Fatalf("serve exited with %d", code)
	}
	conf, err := os.ReadFile(e.conf)
	if err != nil {
		t.Fatal(err)
	}
	c := strings.Replace(string(conf), "Leave-In-Newmail: on", "Leave-In-Newmail: on\nDecnet-Rewrite: GENERIC\n"+
		"Quoted-Decnet-Rewrite: GENERIC\nPersonal-Name: on\nIgnore-Mail11-Headers: off", 1)
	if err := os.WriteFile(e.conf, []byte(c), 0o600); err != nil {
		t.Fatal(err)
	}
	setGlobal(t, e, "Substitute-Domain: acme.example")
	e.startMail()
	l = read()
	has(l, 1, `From: "John Smith" <"ORDERS::J_SMITH"@acme.example>`)
	has(l, 2, "From: jones@example.org")
	has(l, 3, `From: "ORDERS::\"j_smith@acme.com\""@acme.example`)
	has(l, 4, "From: james.jones@federation.gov")
	has(l, 5, "From: \"Bob Example\" <bob@example.org>", `To: SMTP%"alice@e2e.example.org"`, "Subject: by SMTP",
		`X-VMS-From: SMTP%"bob@example.org" "Bob Example"`)
	if body := strings.Join(l.Msgs[4].Lines, "\n"); !strings.Contains(body, "\n\nFrom: \"Bob Example\" <bob@example.org>\n") {
		t.Errorf("message 5: own header not shown at the top of the body:\n%s", body)
	}
}

// setGlobal adds a line to the global section of the env's configuration.
func setGlobal(t *testing.T, e *env, line string) {
	t.Helper()
	conf, err := os.ReadFile(e.conf)
	if err != nil {
		t.Fatal(err)
	}
	c := strings.Replace(string(conf), "Listen-Address: 127.0.0.1\n", "Listen-Address: 127.0.0.1\n"+line+"\n", 1)
	if err := os.WriteFile(e.conf, []byte(c), 0o600); err != nil {
		t.Fatal(err)
	}
}
