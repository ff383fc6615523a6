package e2e

import (
	"encoding/json"
	"net/mail"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// mail11IMAPExtract is a VMS MAIL extract with one message of each sender
// class of hp-system.md §3.2: simple DECnet with a personal name, SMTP,
// quoted DECnet, cluster-forwarding, and a simple DECnet address whose
// node is not in the Decnet-Node table (the TRANSFORM fallback of R2 and
// the Gateway-Node example).
const mail11IMAPExtract = "\fFrom:\tORDERS::J_SMITH      \"John Smith\"  6-APR-1999 06:02:31.15\nTo:\tALICE\nCC:\tBOB\nSubj:\tQuarterly report\n\nThe figures are in.\n.dot line\n" +
	"\fFrom:\tSMTP%\"jones@example.org\"  7-APR-1999 10:00:00.00\nTo:\tALICE\nCC:\t\nSubj:\tRe: report\n\nThanks.\n" +
	"\fFrom:\tORDERS::\"j_smith@acme.example\"  8-APR-1999 10:00:00.00\nTo:\tALICE\nCC:\t\nSubj:\tquoted\n\nQuoted.\n" +
	"\fFrom:\tABCDEF::SMTP%\"james.jones@federation.example\"  9-APR-1999 10:00:00.00\nTo:\tALICE\nCC:\t\nSubj:\tcluster\n\nCluster.\n" +
	"\fFrom:\tHOST13::J_JONES  10-APR-1999 10:00:00.00\nTo:\tALICE\nCC:\t\nSubj:\tunknown node\n\nUnknown.\n"

// mail11IMAPDelivered is delivered with `postern deliver` after the import:
// SMTP mail with its own header block (message 6).
const mail11IMAPDelivered = "From: \"Bob Example\" <bob@example.org>\nTo: alice@e2e.example.org\nSubject: by SMTP\nMIME-Version: 1.0\n\nplain\n"

// mail11Imaplib logs in with Python's imaplib over implicit TLS, examines
// INBOX and prints, as JSON, for every message: UID, RFC822.SIZE,
// BODY[HEADER], the ENVELOPE's From, To and CC, and BODY[] with its
// length in octets. The FETCH responses are parsed by a small IMAP
// s-expression reader (literals included), not by regular expressions.
const mail11Imaplib = `
import imaplib, json, ssl, sys
port, ca, user, pw = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context(cafile=ca)
M = imaplib.IMAP4_SSL("localhost", port, ssl_context=ctx, timeout=20)
M.login(user, pw)
typ, data = M.select("INBOX", readonly=True); assert typ == "OK", data
count = int(data[0])

def flatten(data):
    b = b""
    for d in data:
        if isinstance(d, tuple):
            b += d[0] + b"\r\n" + d[1]
        else:
            b += d
    return b

def parse(b):
    pos = 0
    def skip():
        nonlocal pos
        while pos < len(b) and b[pos:pos+1] == b" ":
            pos += 1
    def val():
        nonlocal pos
        skip()
        c = b[pos:pos+1]
        if c == b"(":
            pos += 1
            out = []
            while True:
                skip()
                if b[pos:pos+1] == b")":
                    pos += 1
                    return out
                out.append(val())
        if c == b'"':
            pos += 1
            s = b""
            while b[pos:pos+1] != b'"':
                if b[pos:pos+1] == b"\\":
                    pos += 1
                s += b[pos:pos+1]
                pos += 1
            pos += 1
            return s
        if c == b"{":
            end = b.index(b"}", pos)
            n = int(b[pos+1:end])
            pos = end + 3
            s = b[pos:pos+n]
            pos += n
            return s
        start = pos
        while pos < len(b) and b[pos:pos+1] not in (b" ", b"(", b")"):
            if b[pos:pos+1] == b"[":
                pos = b.index(b"]", pos)
            pos += 1
        a = b[start:pos]
        return None if a.upper() == b"NIL" else a
    seq = val()
    items = val()
    return seq, dict((items[i].decode().upper(), items[i+1]) for i in range(0, len(items), 2))

def s(x):
    return None if x is None else x.decode("utf-8", "replace")

def addrs(l):
    return [[s(f) for f in a] for a in (l or [])]

out = []
for n in range(1, count + 1):
    typ, data = M.fetch(str(n), "(UID RFC822.SIZE BODY.PEEK[HEADER] ENVELOPE)"); assert typ == "OK", data
    seq, a = parse(flatten(data))
    typ, data = M.fetch(str(n), "(BODY.PEEK[])"); assert typ == "OK", data
    seq2, b = parse(flatten(data))
    env = a["ENVELOPE"]
    out.append({"uid": int(a["UID"]), "size": int(a["RFC822.SIZE"]),
        "header": s(a["BODY[HEADER]"]), "body": s(b["BODY[]"]), "bodyLen": len(b["BODY[]"]),
        "envFrom": addrs(env[2]), "envTo": addrs(env[5]), "envCC": addrs(env[6])})
M.logout()
print(json.dumps(out))
`

// mail11IMAPMsg is one message as imaplib saw it.
type mail11IMAPMsg struct {
	UID, Size, BodyLen    int
	Header, Body          string
	EnvFrom, EnvTo, EnvCC [][]*string
}

// lines is the header block, unfolded, one field a line.
func (m mail11IMAPMsg) lines() []string {
	h := strings.TrimSuffix(m.Header, "\r\n\r\n")
	h = strings.ReplaceAll(h, "\r\n ", " ")
	h = strings.ReplaceAll(h, "\r\n\t", "\t")
	return strings.Split(h, "\r\n")
}

// field is the first value of the header field name, or "" without one.
func (m mail11IMAPMsg) field(name string) string {
	for _, l := range m.lines() {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(k, name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// mail11IMAPEnv is a server directory with the extract imported and
// message 6 delivered, and IMAP configured with extra lines.
type mail11IMAPEnv struct {
	e *env
	p imapPorts
}

func newMail11IMAPEnv(t *testing.T) *mail11IMAPEnv {
	t.Helper()
	e, p := newIMAPEnv(t, "")
	setGlobal(t, e, "Decnet-Node: ORDERS=orders.acme.example")
	e.addUser("alice", "alice-pw")
	path := filepath.Join(e.dir, "mail.txt")
	if err := os.WriteFile(path, []byte(mail11IMAPExtract), 0o600); err != nil {
		t.Fatal(err)
	}
	e.run("", "import", "alice", path, "--format", "vms").must(t, 0)
	e.run(mail11IMAPDelivered, "deliver", "alice").must(t, 0)
	return &mail11IMAPEnv{e: e, p: p}
}

// setIMAP adds a line to the [IMAP] section.
func (m *mail11IMAPEnv) setIMAP(t *testing.T, line string) {
	t.Helper()
	conf, err := os.ReadFile(m.e.conf)
	if err != nil {
		t.Fatal(err)
	}
	c := strings.Replace(string(conf), "\n[POP]\n", "\n"+line+"\n[POP]\n", 1)
	if c == string(conf) {
		t.Fatal("no [POP] section after [IMAP] in the test configuration")
	}
	if err := os.WriteFile(m.e.conf, []byte(c), 0o600); err != nil {
		t.Fatal(err)
	}
}

// read fetches every message with imaplib and checks what must hold for
// any configuration: six messages, RFC822.SIZE is the length of BODY[],
// BODY[HEADER] is the start of BODY[], and ENVELOPE's From is the From
// of that header.
func (m *mail11IMAPEnv) read(t *testing.T) []mail11IMAPMsg {
	t.Helper()
	out := python(t, mail11Imaplib, strconv.Itoa(m.p.secure), m.p.cafile, "alice", "alice-pw")
	var msgs []mail11IMAPMsg
	if err := json.Unmarshal([]byte(out), &msgs); err != nil {
		t.Fatalf("imaplib output: %v\n%s", err, out)
	}
	if len(msgs) != 6 {
		t.Fatalf("%d messages, want 6: %s", len(msgs), out)
	}
	for i, msg := range msgs {
		n := i + 1
		if msg.Size != msg.BodyLen {
			t.Errorf("message %d: RFC822.SIZE %d, BODY[] has %d octets", n, msg.Size, msg.BodyLen)
		}
		if !strings.HasSuffix(msg.Header, "\r\n\r\n") || !strings.HasPrefix(msg.Body, msg.Header) {
			t.Errorf("message %d: BODY[HEADER] is not the header of BODY[]:\nHEADER:\n%s\nBODY[]:\n%s", n, msg.Header, msg.Body)
		}
		checkEnvelopeFrom(t, n, msg)
	}
	return msgs
}

// checkEnvelopeFrom checks that ENVELOPE's From is the header's From.
func checkEnvelopeFrom(t *testing.T, n int, msg mail11IMAPMsg) {
	t.Helper()
	from := msg.field("From")
	a, perr := mail.ParseAddress(from)
	if len(msg.EnvFrom) != 1 || len(msg.EnvFrom[0]) != 4 {
		if perr != nil {
			// NONE leaves a DECnet address that is not an RFC 5322
			// address (docs/openvms.md §3): the envelope must still
			// carry it whole, as one address, not as a group named
			// after the DECnet node.
			t.Errorf("message %d: server bug: ENVELOPE From %s for the unchanged DECnet From %q; want one address with mailbox %q",
				n, envAddrs(msg.EnvFrom), from, from)
			return
		}
		t.Errorf("message %d: ENVELOPE From %s for From %q, want one address", n, envAddrs(msg.EnvFrom), from)
		return
	}
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	name, mailbox, host := str(msg.EnvFrom[0][0]), str(msg.EnvFrom[0][2]), str(msg.EnvFrom[0][3])
	if perr != nil {
		if mailbox != from && mailbox+"@"+host != from {
			t.Errorf("message %d: ENVELOPE From %s for the unchanged DECnet From %q: want mailbox %q",
				n, envAddrs(msg.EnvFrom), from, from)
		}
		return
	}
	if got := mailbox + "@" + host; got != a.Address || name != a.Name {
		t.Errorf("message %d: ENVELOPE From (%q, %q@%q), header From %q (name %q, address %q)", n, name, mailbox, host, from, a.Name, a.Address)
	}
}

// envAddrs renders ENVELOPE addresses for messages: (name adl mailbox host).
func envAddrs(l [][]*string) string {
	var b strings.Builder
	for _, a := range l {
		b.WriteString("(")
		for i, f := range a {
			if i > 0 {
				b.WriteString(" ")
			}
			if f == nil {
				b.WriteString("NIL")
			} else {
				b.WriteString(strconv.Quote(*f))
			}
		}
		b.WriteString(")")
	}
	return b.String()
}

// mail11IMAPBaseline is what every message's header holds with the default
// IMAP options (Decnet-Rewrite and Quoted-Decnet-Rewrite TRANSFORM,
// Personal-Name off, no Gateway-Node, Send-ID-Headers off,
// Ignore-Mail11-Headers on) and Decnet-Node: ORDERS=orders.acme.example on
// host e2e.example.org, which is the return host (hp-system.md §3.3).
var mail11IMAPBaseline = [][]string{
	// R2 TRANSFORM; IMAP To/CC are rebuilt, a bare user takes the
	// sender's DECnet route (R3).
	{"From: j_smith@orders.acme.example", "To: alice@orders.acme.example", "CC: bob@orders.acme.example",
		"Subject: Quarterly report", `X-VMS-From: ORDERS::J_SMITH "John Smith"`},
	// R1; the recipient of an SMTP sender is at the return host (R3).
	{"From: jones@example.org", "To: alice@e2e.example.org", "Subject: Re: report", `X-VMS-From: SMTP%"jones@example.org"`},
	// R4 TRANSFORM; a quoted DECnet sender is a DECnet route too.
	{"From: j_smith@acme.example", "To: alice@orders.acme.example", "Subject: quoted", `X-VMS-From: ORDERS::"j_smith@acme.example"`},
	// R5; cluster forwarding gives no route to recipients.
	{"From: james.jones@federation.example", "To: alice@e2e.example.org", "Subject: cluster",
		`X-VMS-From: ABCDEF::SMTP%"james.jones@federation.example"`},
	// R2 TRANSFORM fallback: HOST13 is not translated.
	{`From: "HOST13::J_JONES"@e2e.example.org`, `To: "HOST13::ALICE"@e2e.example.org`, "Subject: unknown node",
		"X-VMS-From: HOST13::J_JONES"},
}

// TestMail11IMAPDefaults imports a VMS extract and reads it with imaplib:
// the IMAP header of hp-system.md §3.1 rebuilt with the default options.
func TestMail11IMAPDefaults(t *testing.T) {
	t.Parallel()
	m := newMail11IMAPEnv(t)
	m.e.startMail()
	msgs := m.read(t)
	for i, want := range mail11IMAPBaseline {
		got := msgs[i].lines()
		if !strings.HasPrefix(got[0], "Date: ") || !strings.Contains(got[0], " Apr 1999 ") {
			t.Errorf("message %d: header does not start with the arrival Date:\n%s", i+1, msgs[i].Header)
		}
		if g := strings.Join(got[1:], "\n"); g != strings.Join(want, "\n") {
			t.Errorf("message %d: header\n%s\nwant (after Date)\n%s", i+1, msgs[i].Header, strings.Join(want, "\n"))
		}
	}
	if d := msgs[0].field("Date"); !strings.HasPrefix(d, "Tue, 06 Apr 1999 06:02:31 ") {
		t.Errorf("message 1: Date %q, want the arrival date Tue, 06 Apr 1999 06:02:31", d)
	}
	if !strings.HasSuffix(msgs[0].Body, "\r\n\r\nThe figures are in.\r\n.dot line\r\n") {
		t.Errorf("message 1: body not served after the rebuilt header:\n%s", msgs[0].Body)
	}
	// R3 inheritance shows in the ENVELOPE too.
	if len(msgs[0].EnvTo) != 1 || msgs[0].EnvTo[0][2] == nil || *msgs[0].EnvTo[0][2] != "alice" ||
		msgs[0].EnvTo[0][3] == nil || *msgs[0].EnvTo[0][3] != "orders.acme.example" {
		t.Errorf("message 1: ENVELOPE To %v, want alice@orders.acme.example", msgs[0].EnvTo)
	}
	// Ignore-Mail11-Headers is on by default: SMTP mail keeps its header.
	own := strings.ReplaceAll(mail11IMAPDelivered, "\n", "\r\n")
	if msgs[5].Body != own {
		t.Errorf("message 6: not served untouched:\n%q\nwant\n%q", msgs[5].Body, own)
	}
}

// TestMail11IMAPOptions flips one IMAP option at a time: each row imports
// the extract, reads it with the default options, stops the server, adds
// the option line to [IMAP], restarts and reads again. The header lines
// that changed must be exactly the row's (hp-system.md §3.3 rules and
// examples, docs/openvms.md §3–§4): every other line of every message
// stays as it was.
func TestMail11IMAPOptions(t *testing.T) {
	t.Parallel()
	const gw = "gw.widgets.example"
	rows := []struct {
		name, option string
		// changed: message number → its header lines that are new after
		// the restart; a line ending in "*" matches by prefix. A line
		// that disappears must be a field that a changed line replaces,
		// unless the message is in whole.
		changed map[int][]string
		// whole: messages whose header block is replaced altogether.
		whole map[int]bool
	}{
		{"DecnetGeneric", "Decnet-Rewrite: GENERIC", map[int][]string{
			// R2 GENERIC: "ORDERS::J_SMITH"@widgets.xyzcorp.com on that
			// host; the recipients take the route, then R2.
			1: {`From: "ORDERS::J_SMITH"@e2e.example.org`, `To: "ORDERS::ALICE"@e2e.example.org`, `CC: "ORDERS::BOB"@e2e.example.org`},
			3: {`To: "ORDERS::ALICE"@e2e.example.org`},
		}, nil},
		{"DecnetNone", "Decnet-Rewrite: NONE", map[int][]string{
			// R2 NONE: ORDERS::J_SMITH unchanged.
			1: {"From: ORDERS::J_SMITH", "To: ORDERS::ALICE", "CC: ORDERS::BOB"},
			3: {"To: ORDERS::ALICE"},
			5: {"From: HOST13::J_JONES", "To: HOST13::ALICE"},
		}, nil},
		{"DecnetTransform", "Decnet-Rewrite: TRANSFORM", nil, nil},
		{"QuotedGeneric", "Quoted-Decnet-Rewrite: GENERIC", map[int][]string{
			// R4 GENERIC: "ORDERS::\"j_smith@acme.com\""@widgets.xyzcorp.com.
			3: {`From: "ORDERS::\"j_smith@acme.example\""@e2e.example.org`},
		}, nil},
		{"QuotedNone", "Quoted-Decnet-Rewrite: NONE", map[int][]string{
			3: {`From: ORDERS::"j_smith@acme.example"`},
		}, nil},
		{"QuotedTransform", "Quoted-Decnet-Rewrite: TRANSFORM", nil, nil},
		{"PersonalName", "Personal-Name: on", map[int][]string{
			// R8: ORDERS::J_SMITH "John Smith" → "John Smith" <j_smith@…>.
			1: {`From: "John Smith" <j_smith@orders.acme.example>`},
		}, nil},
		{"GatewayNode", "Gateway-Node: " + gw, map[int][]string{
			// The return host is now the gateway: R2's example
			// ORDERS::J_SMITH (unmapped) → "ORDERS::J_SMITH"@gateway,
			// here HOST13; R3 recipients at the return host. ORDERS is
			// mapped, so message 1 does not change.
			2: {"To: alice@" + gw},
			4: {"To: alice@" + gw},
			5: {`From: "HOST13::J_JONES"@` + gw, `To: "HOST13::ALICE"@` + gw},
		}, nil},
		{"SendIDHeaders", "Send-ID-Headers: on", map[int][]string{
			1: {"X-IMAP4-Server: e2e.example.org*", "X-IMAP4-ID: {uid}"},
			2: {"X-IMAP4-Server: e2e.example.org*", "X-IMAP4-ID: {uid}"},
			3: {"X-IMAP4-Server: e2e.example.org*", "X-IMAP4-ID: {uid}"},
			4: {"X-IMAP4-Server: e2e.example.org*", "X-IMAP4-ID: {uid}"},
			5: {"X-IMAP4-Server: e2e.example.org*", "X-IMAP4-ID: {uid}"},
			// A message served with its own header gets them in
			// front of it, as docs/openvms.md says for POP.
			6: {"X-IMAP4-Server: e2e.example.org*", "X-IMAP4-ID: {uid}"},
		}, nil},
		{"IgnoreMail11Off", "Ignore-Mail11-Headers: off", map[int][]string{
			// R7 no longer applies: the delivered message gets the
			// rebuilt header from its derived envelope (§3.4). Its To
			// and Subject are rebuilt to exactly the text of the
			// original lines ("To: alice@e2e.example.org", "Subject: by
			// SMTP"), so, compared line by line, they are not changes;
			// the checks on every read still require a From, the
			// header/body split and RFC822.SIZE to agree.
			6: {"Date: *", "From: bob@example.org",
				`X-VMS-From: SMTP%"bob@example.org" "Bob Example"`},
		}, map[int]bool{6: true}},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			t.Parallel()
			m := newMail11IMAPEnv(t)
			srv := startServe(t, m.e.dir, []string{"POSTERN_CONFIG=" + m.e.conf})
			before := m.read(t)
			m.e.run("", "ctl", "shutdown").must(t, 0)
			if code := srv.wait(); code != 0 {
				t.Fatalf("serve exited with %d", code)
			}
			m.setIMAP(t, r.option)
			m.e.startMail()
			after := m.read(t)
			for i := range after {
				n := i + 1
				if after[i].UID != before[i].UID {
					t.Fatalf("message %d: UID %d after the restart, %d before", n, after[i].UID, before[i].UID)
				}
				want := r.changed[n]
				added, removed := lineDiff(before[i].lines(), after[i].lines())
				if !matchLines(added, want, after[i].UID) {
					why := ""
					if r.whole[n] {
						why = " (server bug: the IMAP view never derives an OpenVMS envelope for mail delivered by SMTP/LMTP/deliver, hp-system.md §3.4, docs/openvms.md §1, so Ignore-Mail11-Headers: off does not rebuild its header)"
					}
					t.Errorf("%s, message %d: new header lines %q, want %q%s\nbefore:\n%s\nafter:\n%s",
						r.option, n, added, want, why, before[i].Header, after[i].Header)
				}
				if r.whole[n] {
					continue
				}
				names := map[string]bool{}
				for _, w := range want {
					k, _, _ := strings.Cut(w, ":")
					names[strings.ToLower(k)] = true
				}
				for _, l := range removed {
					k, _, _ := strings.Cut(l, ":")
					if !names[strings.ToLower(k)] {
						t.Errorf("%s, message %d: header line %q is gone\nbefore:\n%s\nafter:\n%s",
							r.option, n, l, before[i].Header, after[i].Header)
					}
				}
			}
			if r.option == "Send-ID-Headers: on" {
				// Field order (internal/mail11 doc): the ID fields come
				// last in a rebuilt header, first before an own one.
				for i, msg := range after {
					l := msg.lines()
					at := len(l) - 2
					if i == 5 {
						at = 0
					}
					if !strings.HasPrefix(l[at], "X-IMAP4-Server: ") || !strings.HasPrefix(l[at+1], "X-IMAP4-ID: ") {
						t.Errorf("message %d: ID fields not at line %d:\n%s", i+1, at+1, msg.Header)
					}
				}
			}
			if r.whole[6] {
				// The real header is the first lines of the body.
				if b := after[5].Body; !strings.Contains(b, "\r\n\r\nFrom: \"Bob Example\" <bob@example.org>\r\n") ||
					!strings.HasSuffix(b, "\r\n\r\nplain\r\n") {
					t.Errorf("%s, message 6: own header not shown at the top of the body:\n%s", r.option, b)
				}
			}
		})
	}
}

// lineDiff returns the lines only in after and those only in before.
func lineDiff(before, after []string) (added, removed []string) {
	in := func(l string, set []string) bool {
		for _, s := range set {
			if s == l {
				return true
			}
		}
		return false
	}
	for _, l := range after {
		if !in(l, before) {
			added = append(added, l)
		}
	}
	for _, l := range before {
		if !in(l, after) {
			removed = append(removed, l)
		}
	}
	return added, removed
}

// matchLines reports whether got and want hold the same lines in any
// order; a wanted line ending in "*" matches by prefix and "{uid}" stands
// for the message's UID.
func matchLines(got, want []string, uid int) bool {
	if len(got) != len(want) {
		return false
	}
	used := make([]bool, len(got))
	for _, w := range want {
		w = strings.ReplaceAll(w, "{uid}", strconv.Itoa(uid))
		found := false
		for i, l := range got {
			if used[i] {
				continue
			}
			if p, ok := strings.CutSuffix(w, "*"); (ok && strings.HasPrefix(l, p)) || l == w {
				used[i], found = true, true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
