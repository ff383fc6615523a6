// Package differential sends the same IMAP and POP3 sessions to Postern
// and to a private Dovecot, both holding the same mail, and compares the
// answers where the RFCs leave no room for a difference. What may differ
// (greetings, human texts, capabilities, UIDVALIDITY) is normalised away
// in canon_test.go, each with the RFC section that allows it.
//
// Known Postern bugs are listed in knownBugs: their cases are reported
// with t.Log instead of failing, until they are fixed.
package differential

import (
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// users are the accounts on both servers: alice for read-only IMAP
// sessions, bob for IMAP sessions that change things, carol for POP3,
// dave for SORT and THREAD (with its own mail, sortCorpus).
var users = []string{"alice", "bob", "carol", "dave"}

// corpusOf is the mail user receives.
func corpusOf(user string) []string {
	if user == "dave" {
		return sortCorpus
	}
	return corpus
}

// pair is one logged-in connection to each server, driven in lockstep.
type pair struct {
	t        *testing.T
	dov, pst *imapConn
}

func TestDifferential(t *testing.T) {
	dovecotBin := requireDovecot(t)
	begin := time.Now()
	// Build Postern while Dovecot starts: the build is the slow part.
	binDir := scratchDir(t, "postern-diff-bin-")
	built := make(chan error, 1)
	go func() { built <- buildPostern(binDir) }()
	dov := startDovecot(t, dovecotBin, users)
	if err := <-built; err != nil {
		t.Fatal(err)
	}
	// The budget starts after the build, whose time depends on the cache.
	start := time.Now()
	t.Logf("postern built and Dovecot started after %v", start.Sub(begin).Round(time.Millisecond))
	p, ports := newPostern(t, filepath.Join(binDir, "postern"), users)
	// One goroutine per user: each user's mail arrives in corpus order.
	errs := make(chan error, len(users))
	for _, u := range users {
		go func() {
			for _, m := range corpusOf(u) {
				if err := p.run(m, "deliver", u); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range users {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	pst := p.serve(t, ports)
	for _, u := range users {
		mirror(t, pst, dov, u)
	}
	t.Logf("servers ready with mail after %v", time.Since(start).Round(time.Millisecond))

	t.Run("IMAPRead", func(t *testing.T) { runIMAP(t, pst, dov, "alice", readSteps) })
	t.Run("IMAPWrite", func(t *testing.T) { runIMAP(t, pst, dov, "bob", writeSteps) })
	t.Run("POP3", func(t *testing.T) { runPOP3(t, pst, dov, "carol") })
	t.Run("SortThread", func(t *testing.T) { runIMAP(t, pst, dov, "dave", sortSteps) })
	// Timing is reported, never asserted: on a loaded machine a wall-clock
	// budget fails a correct run; speed is measured in bench/.
	t.Logf("the comparison took %v", time.Since(start).Round(time.Millisecond))
}

// mirror gives Dovecot user's mail exactly as Postern holds it: the same
// bytes (in CRLF form, as Postern stores them), in the same order, with
// the INTERNALDATE Postern gave each message at delivery, through APPEND.
func mirror(t *testing.T, pst, dov *server, user string) {
	t.Helper()
	pc := dialIMAP(t, "Postern", pst.imap)
	pc.login(user)
	pc.do("EXAMINE INBOX")
	r := pc.do("FETCH 1:* INTERNALDATE")
	dates := map[int]string{}
	for _, u := range r.untagged {
		resp, err := parseResponse(u)
		if err != nil || len(resp.fields) != 3 || resp.fields[2].kind != 'l' || len(resp.fields[2].l) != 2 {
			t.Fatalf("Postern: unexpected %q (%v)", u, err)
		}
		dates[atoi(resp.fields[0].s)] = resp.fields[2].l[1].s
	}
	mail := corpusOf(user)
	if len(dates) != len(mail) {
		t.Fatalf("Postern: %d messages delivered to %s, want %d:\n%s", len(dates), user, len(mail), r.raw())
	}
	pc.do("LOGOUT")
	dc := dialIMAP(t, "Dovecot", dov.imap)
	dc.login(user)
	for i, m := range mail {
		r := dc.do(fmt.Sprintf("APPEND INBOX %q %s", dates[i+1], literal(crlf(m))))
		if !strings.Contains(string(r.tagged), " OK") {
			t.Fatalf("Dovecot: APPEND: %s", r.raw())
		}
	}
	dc.do("LOGOUT")
}

// step is one command sent to both servers.
type step struct {
	name string // the case name, unique; the key of knownBugs
	cmd  string // the command without its tag
}

// runIMAP logs user in on both servers and runs steps in lockstep.
func runIMAP(t *testing.T, pst, dov *server, user string, steps []step) {
	p := &pair{t: t, dov: dialIMAP(t, "Dovecot", dov.imap), pst: dialIMAP(t, "Postern", pst.imap)}
	p.dov.login(user)
	p.pst.login(user)
	seen := map[string]bool{}
	for _, s := range steps {
		if seen[s.name] {
			t.Fatalf("duplicate case name %q", s.name)
		}
		seen[s.name] = true
		p.compare(s)
	}
	p.dov.do("LOGOUT")
	p.pst.do("LOGOUT")
}

// compare runs one step on both servers and reports a difference.
func (p *pair) compare(s step) {
	t := p.t
	t.Helper()
	dr := p.dov.do(s.cmd)
	pr := p.pst.do(s.cmd)
	dc, err := canonicalize(dr)
	if err != nil {
		t.Errorf("%s: Dovecot's reply: %v", s.name, err)
		return
	}
	pc, err := canonicalize(pr)
	if err != nil {
		t.Errorf("%s: Postern's reply: %v", s.name, err)
		return
	}
	if !isSelect(s.cmd) {
		dc.lines = dropUnsolicitedFlags(dc.lines)
		pc.lines = dropUnsolicitedFlags(pc.lines)
	}
	if isSelect(s.cmd) {
		dc = p.requireHighestModSeq(s, dc)
	}
	if d, ok := dovecotDeviations[s.name]; ok {
		// Dovecot is wrong here: compare Postern with the RFC's answer.
		want := canon{lines: d.want, opt: map[string]string{}}
		if diff := diffCanon(dc, want); diff != "" {
			t.Logf("Dovecot deviates in %s (%s)\nC: %s\n%s", s.name, d.why, shorten(s.cmd),
				strings.ReplaceAll(strings.ReplaceAll(diff, "Postern:", "RFC:"), "Postern ", "RFC "))
		}
		dc = want
	}
	diff := diffCanon(dc, pc)
	report(t, s.name, "C: "+shorten(s.cmd), diff, dr.raw(), pr.raw())
}

// highestModSeqLine is the canonical HIGHESTMODSEQ response (canonUntagged).
const highestModSeqLine = "* OK [HIGHESTMODSEQ <n>]"

// requireHighestModSeq adds the HIGHESTMODSEQ that RFC 7162 §3.1.2.1
// requires in every successful SELECT/EXAMINE of a mailbox with
// mod-sequences, CONDSTORE enabled or not, to a Dovecot answer that lacks
// it. Dovecot starts keeping mod-sequences for a mailbox only once a client
// uses CONDSTORE, and until then sends neither HIGHESTMODSEQ nor the
// NOMODSEQ the RFC asks for in that case; Postern keeps them always.
func (p *pair) requireHighestModSeq(s step, dc canon) canon {
	if len(dc.lines) == 0 || !strings.HasPrefix(dc.lines[0], "TAGGED OK") || slices.Contains(dc.lines, highestModSeqLine) {
		return dc
	}
	p.t.Logf("Dovecot deviates in %s (RFC 7162 §3.1.2.1: HIGHESTMODSEQ in every SELECT/EXAMINE; Dovecot sent none)", s.name)
	rest := append(slices.Clone(dc.lines[1:]), highestModSeqLine)
	sort.Strings(rest) // as canonicalize orders untagged lines
	dc.lines = append(dc.lines[:1:1], rest...)
	return dc
}

// isSelect reports whether cmd opens a mailbox.
func isSelect(cmd string) bool {
	verb, _, _ := strings.Cut(strings.ToUpper(cmd), " ")
	return verb == "SELECT" || verb == "EXAMINE"
}

// dropUnsolicitedFlags removes FLAGS and PERMANENTFLAGS from answers to
// commands other than SELECT and EXAMINE. A server may send them whenever
// the mailbox's set changes (RFC 9051 §7.3.5, §7.1): Dovecot does when a
// STORE, APPEND or even a SEARCH names a new keyword, and sends
// PERMANENTFLAGS with it; Postern sends FLAGS alone.
func dropUnsolicitedFlags(lines []string) []string {
	var out []string
	for _, l := range lines {
		if strings.HasPrefix(l, "FLAGS ") || strings.HasPrefix(l, "* OK [PERMANENTFLAGS ") {
			continue
		}
		out = append(out, l)
	}
	return out
}

// report fails the test on a difference, or logs it if it is a known bug.
func report(t *testing.T, name, cmd, diff, dovRaw, pstRaw string) {
	t.Helper()
	bug, known := knownBugs[name]
	if why, ok := allowed[name]; ok && diff != "" {
		t.Logf("allowed difference %s (%s)\n%s\n%s", name, why, cmd, diff)
		return
	}
	switch {
	case diff == "" && known:
		t.Logf("%s: listed as a known bug (%s) but the servers now agree; remove it from knownBugs", name, bug)
	case diff == "":
	case known:
		t.Logf("known Postern bug %s (%s)\n%s\n%s--- Dovecot raw:\n%s--- Postern raw:\n%s",
			name, bug, cmd, diff, shorten(dovRaw), shorten(pstRaw))
	default:
		t.Errorf("%s: the servers differ\n%s\n%s\n--- Dovecot raw:\n%s--- Postern raw:\n%s",
			name, cmd, diff, shorten(dovRaw), shorten(pstRaw))
	}
}

// diffCanon describes how two canonical replies differ ("" if they agree).
func diffCanon(d, p canon) string {
	var b strings.Builder
	dl, pl := d.lines, p.lines
	common := 0
	for common < len(dl) && common < len(pl) && dl[common] == pl[common] {
		common++
	}
	if common < len(dl) || common < len(pl) {
		// Long lines that differ late: show where.
		for i := common; i < len(dl) && i < len(pl); i++ {
			if len(dl[i]) > 200 && dl[i] != pl[i] {
				fmt.Fprintf(&b, "  line %q... first differs at byte %d: Dovecot %s, Postern %s\n",
					dl[i][:40], firstDiff(dl[i], pl[i]), around(dl[i], firstDiff(dl[i], pl[i])), around(pl[i], firstDiff(dl[i], pl[i])))
			}
		}
		b.WriteString("  Dovecot:\n")
		for _, l := range dl[common:] {
			b.WriteString("    " + shorten(l) + "\n")
		}
		b.WriteString("  Postern:\n")
		for _, l := range pl[common:] {
			b.WriteString("    " + shorten(l) + "\n")
		}
	}
	for k, dv := range d.opt {
		if pv, ok := p.opt[k]; ok && pv != dv {
			fmt.Fprintf(&b, "  %s: Dovecot %s, Postern %s\n", k, shorten(dv), shorten(pv))
		}
	}
	return b.String()
}

func firstDiff(a, b string) int {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return i
}

func around(s string, i int) string {
	return fmt.Sprintf("%q", s[max(0, i-40):min(len(s), i+40)])
}

// shorten keeps failure messages readable.
func shorten(s string) string {
	const limit = 1500
	if len(s) <= limit {
		return s
	}
	return s[:limit] + fmt.Sprintf("... (%d more bytes)", len(s)-limit)
}
