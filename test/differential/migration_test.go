package differential

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// migrationUser is the account moved from Dovecot to Postern.
const migrationUser = "erin"

// TestMigrateFromDovecot moves a user's mail from a real Dovecot to
// Postern with `postern import --format dovecot` (issue 19): mail
// delivered to Dovecot, flags and keywords set from two sessions, some
// messages expunged, some read by POP3 and left on the server; Dovecot
// stopped; its Maildir imported. An IMAP client then finds every
// mailbox with the UIDVALIDITY, UIDs, flags, keywords, dates and sizes
// it knew, a HIGHESTMODSEQ above Dovecot's, and from the MODSEQ it last
// saw the changes it missed; a POP3 client finds the same UIDL list.
func TestMigrateFromDovecot(t *testing.T) {
	dovecotBin := requireDovecot(t)
	binDir := scratchDir(t, "postern-migrate-bin-")
	built := make(chan error, 1)
	go func() { built <- buildPostern(binDir) }()
	dov := startDovecot(t, dovecotBin, []string{migrationUser})

	seenModSeq := fillDovecot(t, dov)
	before := snapshot(t, "Dovecot", dov, []string{"INBOX", "Work", "Sent"})
	pop3Before := uidlList(t, "Dovecot", dov)
	dov.stop()
	// The comparison below means something only if Dovecot held what the
	// sessions did.
	inbox := strings.Join(before["INBOX"].messages, "\n")
	if len(before["INBOX"].messages) < 5 || !strings.Contains(inbox, "$Forwarded") || !strings.Contains(inbox, "Later") ||
		!strings.Contains(inbox, `\Deleted`) || !strings.Contains(strings.Join(before["Work"].messages, " "), "$Junk") ||
		!slices.Equal(before["INBOX"].subscribed, []string{"INBOX", "Work"}) || len(pop3Before) < 5 {
		t.Fatalf("Dovecot's state is not what the sessions made: %+v, UIDL %q", before, pop3Before)
	}

	if err := <-built; err != nil {
		t.Fatal(err)
	}
	p, ports := newPostern(t, filepath.Join(binDir, "postern"), []string{migrationUser})
	maildir := filepath.Join(dov.home, migrationUser, "Maildir")
	if err := p.run("", "import", migrationUser, maildir, "--format", "dovecot"); err != nil {
		t.Fatal(err)
	}
	pst := p.serve(t, ports)
	after := snapshot(t, "Postern", pst, []string{"INBOX", "Work", "Sent"})
	for _, box := range []string{"INBOX", "Work", "Sent"} {
		b, a := before[box], after[box]
		if a.uidValidity != b.uidValidity || a.uidNext != b.uidNext {
			t.Errorf("%s: UIDVALIDITY %d, UIDNEXT %d on Postern; Dovecot had %d, %d", box, a.uidValidity, a.uidNext, b.uidValidity, b.uidNext)
		}
		if !slices.Equal(a.messages, b.messages) {
			t.Errorf("%s: messages differ\nDovecot: %q\nPostern: %q", box, b.messages, a.messages)
		}
		t.Logf("%s: HIGHESTMODSEQ Dovecot %d, Postern %d", box, b.highestModSeq, a.highestModSeq)
		if a.highestModSeq <= b.highestModSeq {
			t.Errorf("%s: HIGHESTMODSEQ %d on Postern, not above Dovecot's %d", box, a.highestModSeq, b.highestModSeq)
		}
		if !slices.Equal(a.subscribed, b.subscribed) {
			t.Errorf("subscriptions %q on Postern, %q on Dovecot", a.subscribed, b.subscribed)
		}
	}
	if pop3After := uidlList(t, "Postern", pst); !slices.Equal(pop3After, pop3Before) {
		t.Errorf("POP3 UIDL lists differ\nDovecot: %q\nPostern: %q", pop3Before, pop3After)
	}
	// The first session saw MODSEQ seenModSeq; the second changed flags
	// after it. From Postern, CHANGEDSINCE that MODSEQ must report every
	// message whose flags it does not know (here: all of them).
	c := dialIMAP(t, "Postern", pst.imap)
	c.login(migrationUser)
	c.do("ENABLE CONDSTORE")
	c.do("SELECT INBOX")
	r := c.do(fmt.Sprintf("UID FETCH 1:* (FLAGS) (CHANGEDSINCE %d)", seenModSeq))
	if got, want := len(r.untagged), len(before["INBOX"].messages); got != want {
		t.Errorf("UID FETCH CHANGEDSINCE %d: %d messages, want all %d:\n%s", seenModSeq, got, want, r.raw())
	}
	// QRESYNC from what the first session knew (RFC 7162 §3.2.5): the
	// message the second session expunged (UID 5) is reported vanished.
	q := dialIMAP(t, "Postern", pst.imap)
	q.login(migrationUser)
	okDo(t, q, "ENABLE QRESYNC")
	r = okDo(t, q, fmt.Sprintf("SELECT INBOX (QRESYNC (%d %d 1:%d))", before["INBOX"].uidValidity, seenModSeq, before["INBOX"].uidNext-1))
	if !strings.Contains(r.raw(), "* VANISHED (EARLIER) 5\r\n") {
		t.Errorf("SELECT QRESYNC from Dovecot's state: want VANISHED (EARLIER) 5:\n%s", r.raw())
	}
	// A second import finds everything there.
	if err := p.run("", "import", migrationUser, maildir, "--format", "dovecot"); err != nil {
		t.Fatal(err)
	}
	if again := snapshot(t, "Postern", pst, []string{"INBOX"}); !slices.Equal(again["INBOX"].messages, before["INBOX"].messages) {
		t.Errorf("after a second import INBOX holds %q", again["INBOX"].messages)
	}
}

// fillDovecot delivers the corpus to INBOX (and some to Work and Sent)
// by APPEND, with dates; changes flags and keywords from two sessions;
// expunges some; reads some by POP3, leaving them on the server. It
// returns the HIGHESTMODSEQ the first session saw last.
func fillDovecot(t *testing.T, dov *server) uint64 {
	t.Helper()
	a := dialIMAP(t, "Dovecot", dov.imap)
	a.login(migrationUser)
	okDo(t, a, "CREATE Work")
	okDo(t, a, "SUBSCRIBE Work")
	okDo(t, a, "SUBSCRIBE INBOX")
	for i, m := range corpus {
		box := "INBOX"
		switch i % 5 {
		case 3:
			box = "Work"
		case 4:
			box = "Sent"
		}
		date := time.Date(2021, 3, 1+i, 9, i, 7, 0, time.FixedZone("", 3600)).Format("02-Jan-2006 15:04:05 -0700")
		okDo(t, a, fmt.Sprintf("APPEND %s %q %s", box, date, literal(crlf(m))))
	}
	okDo(t, a, "ENABLE CONDSTORE")
	okDo(t, a, "SELECT INBOX")
	okDo(t, a, `UID STORE 1:3 +FLAGS (\Seen)`)
	okDo(t, a, `UID STORE 2 +FLAGS ($Forwarded Project)`)
	seen := highestModSeq(t, a.do("NOOP"), a.do("STATUS INBOX (HIGHESTMODSEQ)"))

	b := dialIMAP(t, "Dovecot", dov.imap)
	b.login(migrationUser)
	okDo(t, b, "SELECT INBOX")
	okDo(t, b, `UID STORE 1:* +FLAGS (Later)`)
	okDo(t, b, `UID STORE 4 +FLAGS (\Flagged \Answered)`)
	okDo(t, b, `UID STORE 5 +FLAGS (\Deleted)`)
	okDo(t, b, "UID EXPUNGE 5")
	okDo(t, b, `UID STORE 6 +FLAGS (\Deleted)`) // left for a later EXPUNGE
	okDo(t, b, "SELECT Work")
	okDo(t, b, `UID STORE 1 +FLAGS (\Deleted)`)
	okDo(t, b, "EXPUNGE")
	okDo(t, b, `UID STORE 2 +FLAGS (\Seen $Junk)`)
	b.do("LOGOUT")
	a.do("LOGOUT")

	pc := dialPOP3(t, "Dovecot", dov.pop3)
	pc.do("USER "+migrationUser, false)
	if st, _ := pc.do("PASS "+password, false); !strings.HasPrefix(st, "+OK") {
		t.Fatalf("Dovecot: POP3 login: %s", st)
	}
	pc.do("RETR 1", true)
	pc.do("RETR 2", true)
	pc.do("QUIT", false)
	return seen
}

func okDo(t *testing.T, c *imapConn, cmd string) reply {
	t.Helper()
	r := c.do(cmd)
	if !strings.Contains(string(r.tagged), " OK") {
		t.Fatalf("%s: %s: %s", c.name, cmd, r.raw())
	}
	return r
}

var modSeqRE = regexp.MustCompile(`HIGHESTMODSEQ[ \]]*(\d+)`)

// highestModSeq finds the last HIGHESTMODSEQ in the replies.
func highestModSeq(t *testing.T, rs ...reply) uint64 {
	t.Helper()
	var n uint64
	for _, r := range rs {
		for _, m := range modSeqRE.FindAllStringSubmatch(r.raw(), -1) {
			n, _ = strconv.ParseUint(m[1], 10, 64)
		}
	}
	if n == 0 {
		t.Fatalf("no HIGHESTMODSEQ in %v", rs)
	}
	return n
}

// boxState is what a client caches of a mailbox.
type boxState struct {
	uidValidity, uidNext uint64
	highestModSeq        uint64
	messages             []string // "UID flags date size", flags sorted
	subscribed           []string
}

var statusRE = regexp.MustCompile(`(UIDVALIDITY|UIDNEXT|HIGHESTMODSEQ) (\d+)`)

// snapshot reads, for each mailbox, its STATUS and every message's UID,
// flags (without \Recent), INTERNALDATE (as an instant) and size.
func snapshot(t *testing.T, name string, s *server, boxes []string) map[string]boxState {
	t.Helper()
	c := dialIMAP(t, name, s.imap)
	c.login(migrationUser)
	out := map[string]boxState{}
	var subscribed []string
	for _, u := range okDo(t, c, `LSUB "" "*"`).untagged {
		resp, err := parseResponse(u)
		if err == nil && len(resp.fields) == 4 {
			subscribed = append(subscribed, resp.fields[3].s)
		}
	}
	slices.Sort(subscribed)
	for _, box := range boxes {
		var st boxState
		for _, m := range statusRE.FindAllStringSubmatch(okDo(t, c, "STATUS "+box+" (UIDVALIDITY UIDNEXT HIGHESTMODSEQ)").raw(), -1) {
			v, _ := strconv.ParseUint(m[2], 10, 64)
			switch m[1] {
			case "UIDVALIDITY":
				st.uidValidity = v
			case "UIDNEXT":
				st.uidNext = v
			case "HIGHESTMODSEQ":
				st.highestModSeq = v
			}
		}
		okDo(t, c, "EXAMINE "+box)
		for _, u := range okDo(t, c, "UID FETCH 1:* (UID FLAGS INTERNALDATE RFC822.SIZE)").untagged {
			st.messages = append(st.messages, fetchLine(t, u))
		}
		st.subscribed = subscribed
		out[box] = st
	}
	c.do("LOGOUT")
	return out
}

// fetchLine renders one FETCH response as "UID flags date size".
func fetchLine(t *testing.T, u []byte) string {
	t.Helper()
	resp, err := parseResponse(u)
	if err != nil || len(resp.fields) != 3 || resp.fields[2].kind != 'l' {
		t.Fatalf("unexpected %q (%v)", u, err)
	}
	items := map[string]node{}
	l := resp.fields[2].l
	for i := 0; i+1 < len(l); i += 2 {
		items[strings.ToUpper(l[i].s)] = l[i+1]
	}
	var flags []string
	for _, f := range items["FLAGS"].l {
		if !strings.EqualFold(f.s, `\Recent`) {
			flags = append(flags, f.s)
		}
	}
	slices.Sort(flags)
	date, err := time.Parse("02-Jan-2006 15:04:05 -0700", items["INTERNALDATE"].s)
	if err != nil {
		t.Fatalf("INTERNALDATE in %q: %v", u, err)
	}
	return fmt.Sprintf("%s (%s) %s %s", items["UID"].s, strings.Join(flags, " "), date.UTC().Format(time.RFC3339), items["RFC822.SIZE"].s)
}

// uidlList is a POP3 client's view: UIDL's answer.
func uidlList(t *testing.T, name string, s *server) []string {
	t.Helper()
	pc := dialPOP3(t, name, s.pop3)
	pc.do("USER "+migrationUser, false)
	if st, _ := pc.do("PASS "+password, false); !strings.HasPrefix(st, "+OK") {
		t.Fatalf("%s: POP3 login: %s", name, st)
	}
	st, lines := pc.do("UIDL", true)
	if !strings.HasPrefix(st, "+OK") || len(lines) == 0 {
		t.Fatalf("%s: UIDL: %s %q", name, st, lines)
	}
	pc.do("QUIT", false)
	return lines
}
