package imapserver

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postern/postern/internal/store"
)

// The concurrency property test of issue 11: propSessions IMAP4rev1
// sessions with CONDSTORE work on one mailbox at once, each doing
// propOps random UID STORE ±FLAGS, COPY, APPEND, EXPUNGE and FETCH. A
// witness store session records the committed changes in commit order.
// Afterwards:
//
//   - the changes, applied in commit order to a serial model starting
//     from the initial mailbox, give exactly the store's final state;
//   - every flag change the store committed is explained by a STORE (or a
//     FETCH setting \Seen) applied to the state just before it, so no
//     change was computed from a stale copy, and every STORE's answer
//     satisfies its request;
//   - every FLAGS with MODSEQ a session was sent is a committed state;
//   - an expunge removed only messages that carried \Deleted when it
//     committed; a copy got its source's committed flags; an APPEND its own;
//   - no session was sent a MODSEQ lower than one it had for a message, nor
//     a FETCH, EXPUNGE or EXISTS at odds with the sequence numbers it knew;
//   - after a NOOP, every session's view (UIDs in sequence order, flags,
//     MODSEQ) equals the store;
//   - every message is \Recent for exactly one session (RFC 3501 §2.3.2).
//
// The exactness of EXPUNGE (every \Deleted candidate goes) is pinned by
// the transcripts flags-stale-session and condstore-modseq-merge.
const (
	propSessions = 8
	propOps      = 40
	propInitial  = 12
	propDeadline = 2 * time.Minute
)

var propFlags = []string{store.FlagSeen, store.FlagDeleted, store.FlagFlagged, "$A", "$B"}

// propFetch is the state of one message a FETCH response carried.
type propFetch struct {
	uid      store.UID
	modseq   store.ModSeq
	flags    store.Flags // canonical, without \Recent
	hasFlags bool
}

// propOp is one flag change a session asked for, with the state the
// server answered (answered false when it sent none).
type propOp struct {
	uid      store.UID
	op       store.FlagOp
	flags    store.Flags
	got      propFetch
	answered bool
	raw      []string // the untagged responses, for failure messages
}

// propClient is one session: a raw connection and what it learnt.
type propClient struct {
	id   int
	nc   net.Conn
	br   *bufio.Reader
	rng  *rand.Rand
	tag  int
	seqs []store.UID // its sequence numbers: seqs[n-1] is message n's UID, 0 while unknown
	last map[store.UID]store.ModSeq

	ops      []propOp
	states   []propFetch                        // every FETCH with FLAGS and MODSEQ it received
	copies   map[string]map[store.UID]store.UID // destination mailbox → new UID → source UID
	appended map[store.UID]store.Flags
	untagged []string // of the last command
}

var (
	propFetchRE  = regexp.MustCompile(`(?s)^\* (\d+) FETCH \((.*)\)$`)
	propUIDRE    = regexp.MustCompile(`\bUID (\d+)`)
	propModSeqRE = regexp.MustCompile(`\bMODSEQ \((\d+)\)`)
	propFlagsRE  = regexp.MustCompile(`\bFLAGS \(([^)]*)\)`)
	propCountRE  = regexp.MustCompile(`^\* (\d+) (EXISTS|EXPUNGE)$`)
	propLiteral  = regexp.MustCompile(`\{(\d+)\}$`)
	propCopyUID  = regexp.MustCompile(`\[COPYUID \d+ (\d+) (\d+)\]`)
	propAppendUI = regexp.MustCompile(`\[APPENDUID \d+ (\d+)\]`)
)

func dialProp(addr string, id int, seed uint64) (*propClient, error) {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	nc.SetDeadline(time.Now().Add(propDeadline))
	c := &propClient{id: id, nc: nc, br: bufio.NewReader(nc), rng: rand.New(rand.NewPCG(seed, uint64(id))),
		last: map[store.UID]store.ModSeq{}, appended: map[store.UID]store.Flags{},
		copies: map[string]map[store.UID]store.UID{"INBOX": {}, "Other": {}}}
	if _, err := c.readLine(); err != nil {
		return nil, err
	}
	return c, nil
}

// readLine reads one response line, with any literals it announces.
func (c *propClient) readLine() (string, error) {
	var b strings.Builder
	for {
		l, err := c.br.ReadString('\n')
		if err != nil {
			return "", err
		}
		l = strings.TrimSuffix(l, "\r\n")
		b.WriteString(l)
		m := propLiteral.FindStringSubmatch(l)
		if m == nil {
			return b.String(), nil
		}
		n, _ := strconv.Atoi(m[1])
		buf := make([]byte, n)
		if _, err := io.ReadFull(c.br, buf); err != nil {
			return "", err
		}
		b.Write(buf)
	}
}

// cmd sends one command (with an optional non-synchronising literal) and
// reads its responses, checking each untagged one. It returns the FETCH
// states in order and the tagged line.
func (c *propClient) cmd(line string, literal string) ([]propFetch, string, error) {
	c.tag++
	tag := fmt.Sprintf("s%d.%d", c.id, c.tag)
	out := tag + " " + line
	if literal != "" {
		out += fmt.Sprintf(" {%d+}\r\n%s", len(literal), literal)
	}
	if _, err := c.nc.Write([]byte(out + "\r\n")); err != nil {
		return nil, "", err
	}
	var fetches []propFetch
	c.untagged = nil
	for {
		l, err := c.readLine()
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", line, err)
		}
		if strings.HasPrefix(l, tag+" ") {
			if !strings.HasPrefix(l, tag+" OK") {
				return fetches, l, fmt.Errorf("%s: %s", line, l)
			}
			return fetches, l, nil
		}
		c.untagged = append(c.untagged, l)
		f, ok, err := c.observe(l)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %s: %w", line, l, err)
		}
		if ok {
			fetches = append(fetches, f)
		}
	}
}

// observe checks one untagged response against what the session knows.
func (c *propClient) observe(l string) (propFetch, bool, error) {
	if m := propCountRE.FindStringSubmatch(l); m != nil {
		n, _ := strconv.Atoi(m[1])
		if m[2] == "EXISTS" {
			if n < len(c.seqs) {
				return propFetch{}, false, fmt.Errorf("EXISTS %d below the %d messages known", n, len(c.seqs))
			}
			c.seqs = append(c.seqs, make([]store.UID, n-len(c.seqs))...)
			return propFetch{}, false, nil
		}
		if n < 1 || n > len(c.seqs) {
			return propFetch{}, false, fmt.Errorf("EXPUNGE %d of %d messages", n, len(c.seqs))
		}
		c.seqs = slices.Delete(c.seqs, n-1, n)
		return propFetch{}, false, nil
	}
	m := propFetchRE.FindStringSubmatch(l)
	if m == nil {
		return propFetch{}, false, nil
	}
	seq, _ := strconv.Atoi(m[1])
	um := propUIDRE.FindStringSubmatch(m[2])
	if seq < 1 || seq > len(c.seqs) || um == nil {
		return propFetch{}, false, fmt.Errorf("FETCH of message %d of %d, or without UID", seq, len(c.seqs))
	}
	u, _ := strconv.ParseUint(um[1], 10, 32)
	f := propFetch{uid: store.UID(u)}
	if known := c.seqs[seq-1]; known != 0 && known != f.uid {
		return f, false, fmt.Errorf("message %d is UID %d, not %d", seq, known, f.uid)
	}
	c.seqs[seq-1] = f.uid
	if mm := propModSeqRE.FindStringSubmatch(m[2]); mm != nil {
		ms, _ := strconv.ParseUint(mm[1], 10, 64)
		f.modseq = store.ModSeq(ms)
		if f.modseq < c.last[f.uid] {
			return f, false, fmt.Errorf("MODSEQ %d of UID %d after %d", f.modseq, f.uid, c.last[f.uid])
		}
		c.last[f.uid] = f.modseq
	}
	if fm := propFlagsRE.FindStringSubmatch(m[2]); fm != nil {
		var fl store.Flags
		for _, x := range strings.Fields(fm[1]) {
			if !strings.EqualFold(x, `\Recent`) {
				fl = append(fl, x)
			}
		}
		f.flags, _ = store.CanonicalFlags(fl)
		f.hasFlags = true
		if f.modseq != 0 {
			c.states = append(c.states, f)
		}
	}
	return f, true, nil
}

// known returns a random UID the session knows, or 0.
func (c *propClient) known() store.UID {
	var uids []store.UID
	for _, u := range c.seqs {
		if u != 0 {
			uids = append(uids, u)
		}
	}
	if len(uids) == 0 {
		return 0
	}
	return uids[c.rng.IntN(len(uids))]
}

// someFlags returns one or two distinct flags of propFlags.
func (c *propClient) someFlags(maxN int) store.Flags {
	var fl store.Flags
	for range 1 + c.rng.IntN(maxN) {
		fl = append(fl, propFlags[c.rng.IntN(len(propFlags))])
	}
	fl, _ = store.CanonicalFlags(fl)
	return fl
}

// step runs one random operation.
func (c *propClient) step() error {
	switch r := c.rng.IntN(100); {
	case r < 35:
		return c.store()
	case r < 45:
		return c.copy("INBOX")
	case r < 50:
		return c.copy("Other")
	case r < 60:
		return c.append()
	case r < 70:
		return c.expunge()
	case r < 82:
		_, _, err := c.cmd("UID FETCH 1:* (UID FLAGS MODSEQ)", "")
		return err
	case r < 92:
		return c.fetchSeen()
	}
	_, _, err := c.cmd("NOOP", "")
	return err
}

var propModes = []struct {
	op   store.FlagOp
	verb string
}{{store.FlagsAdd, "+FLAGS"}, {store.FlagsAdd, "+FLAGS"}, {store.FlagsRemove, "-FLAGS"}, {store.FlagsRemove, "-FLAGS"}, {store.FlagsReplace, "FLAGS"}}

// store changes a message's flags and records the answer.
func (c *propClient) store() error {
	u := c.known()
	if u == 0 {
		return nil
	}
	mode := propModes[c.rng.IntN(len(propModes))]
	fl := c.someFlags(2)
	fs, _, err := c.cmd(fmt.Sprintf("UID STORE %d %s (%s)", u, mode.verb, strings.Join(fl, " ")), "")
	c.record(propOp{uid: u, op: mode.op, flags: fl}, fs)
	return err
}

// fetchSeen fetches a header without PEEK, which sets \Seen (RFC 9051
// §6.4.5): a flag change too.
func (c *propClient) fetchSeen() error {
	u := c.known()
	if u == 0 {
		return nil
	}
	fs, _, err := c.cmd(fmt.Sprintf("UID FETCH %d (UID FLAGS MODSEQ BODY[HEADER.FIELDS (Subject)])", u), "")
	c.record(propOp{uid: u, op: store.FlagsAdd, flags: store.Flags{store.FlagSeen}}, fs)
	return err
}

// record keeps an op with the first answer about its message: the
// command's own, before any the epilogue adds.
func (c *propClient) record(op propOp, fs []propFetch) {
	op.raw = slices.Clone(c.untagged)
	for _, f := range fs {
		if f.uid == op.uid && f.hasFlags && f.modseq != 0 {
			op.got, op.answered = f, true
			break
		}
	}
	c.ops = append(c.ops, op)
}

func (c *propClient) copy(dest string) error {
	u := c.known()
	if u == 0 {
		return nil
	}
	_, tagged, err := c.cmd(fmt.Sprintf("UID COPY %d %s", u, dest), "")
	if err != nil {
		if strings.Contains(tagged, "NO [EXPUNGEISSUED]") {
			return nil // the message was expunged meanwhile
		}
		return err
	}
	if m := propCopyUID.FindStringSubmatch(tagged); m != nil {
		src, _ := strconv.ParseUint(m[1], 10, 32)
		dst, _ := strconv.ParseUint(m[2], 10, 32)
		c.copies[dest][store.UID(dst)] = store.UID(src)
	}
	return nil
}

func (c *propClient) append() error {
	var fl store.Flags
	if c.rng.IntN(2) == 0 {
		fl = c.someFlags(2)
	}
	msg := fmt.Sprintf("From: s%d@example.org\r\nSubject: prop %d.%d\r\n\r\nbody\r\n", c.id, c.id, c.tag)
	_, tagged, err := c.cmd(fmt.Sprintf("APPEND INBOX (%s)", strings.Join(fl, " ")), msg)
	if err != nil {
		return err
	}
	m := propAppendUI.FindStringSubmatch(tagged)
	if m == nil {
		return fmt.Errorf("APPEND without APPENDUID: %s", tagged)
	}
	u, _ := strconv.ParseUint(m[1], 10, 32)
	c.appended[store.UID(u)] = fl
	return nil
}

func (c *propClient) expunge() error {
	if c.rng.IntN(2) == 0 {
		_, _, err := c.cmd("EXPUNGE", "")
		return err
	}
	a, b := c.known(), c.known()
	if a == 0 {
		return nil
	}
	_, _, err := c.cmd(fmt.Sprintf("UID EXPUNGE %d,%d", a, b), "")
	return err
}

// applyOp is the serial model of a flag change.
func applyOp(cur store.Flags, op store.FlagOp, fl store.Flags) store.Flags {
	var out store.Flags
	switch op {
	case store.FlagsReplace:
		out = slices.Clone(fl)
	case store.FlagsAdd:
		out = append(slices.Clone(cur), fl...)
	case store.FlagsRemove:
		for _, f := range cur {
			if !fl.Has(f) {
				out = append(out, f)
			}
		}
	}
	out, _ = store.CanonicalFlags(out)
	return out
}

// propModel is the serial model: the mailboxes as the committed changes,
// applied in commit order, leave them. hist keeps every state of every
// message, oldest first.
type propModel struct {
	names   map[store.MailboxID]string
	hist    map[store.MailboxID]map[store.UID][]store.MessageInfo
	live    map[store.MailboxID]map[store.UID]bool
	lastAdd map[store.MailboxID]store.UID
	lastMod map[store.MailboxID]store.ModSeq
	flagged []propFlagChange // INBOX's flag changes, in commit order
}

// propFlagChange is one committed flag change with the state before it.
type propFlagChange struct{ before, after store.MessageInfo }

func newPropModel(initial map[store.MailboxID][]store.MessageInfo, names map[store.MailboxID]string) *propModel {
	m := &propModel{names: names, hist: map[store.MailboxID]map[store.UID][]store.MessageInfo{},
		live: map[store.MailboxID]map[store.UID]bool{}, lastAdd: map[store.MailboxID]store.UID{}, lastMod: map[store.MailboxID]store.ModSeq{}}
	for mb, infos := range initial {
		m.hist[mb], m.live[mb] = map[store.UID][]store.MessageInfo{}, map[store.UID]bool{}
		for _, in := range infos {
			m.hist[mb][in.UID] = []store.MessageInfo{in}
			m.live[mb][in.UID] = true
			m.lastAdd[mb], m.lastMod[mb] = in.UID, max(m.lastMod[mb], in.ModSeq)
		}
	}
	return m
}

func (m *propModel) latest(mb store.MailboxID, u store.UID) store.MessageInfo {
	h := m.hist[mb][u]
	return h[len(h)-1]
}

// apply applies one committed change, checking it against the model.
func (m *propModel) apply(ch store.Change, clients []*propClient, inbox store.MailboxID) error {
	switch ch := ch.(type) {
	case store.ChangeAdd:
		mb, in := ch.Mailbox, ch.Info
		if m.live[mb][in.UID] || in.UID <= m.lastAdd[mb] || in.ModSeq < m.lastMod[mb] {
			return fmt.Errorf("add of UID %d MODSEQ %d after UID %d MODSEQ %d: out of order", in.UID, in.ModSeq, m.lastAdd[mb], m.lastMod[mb])
		}
		for _, c := range clients {
			if src, ok := c.copies[m.names[mb]][in.UID]; ok && !slices.Equal(in.Flags, m.latest(inbox, src).Flags) {
				return fmt.Errorf("copy %d of %d got %q; the source had %q", in.UID, src, in.Flags, m.latest(inbox, src).Flags)
			}
			if fl, ok := c.appended[in.UID]; ok && mb == inbox && !slices.Equal(in.Flags, fl) {
				return fmt.Errorf("APPEND of %q stored %q", fl, in.Flags)
			}
		}
		m.hist[mb][in.UID] = []store.MessageInfo{in}
		m.live[mb][in.UID] = true
		m.lastAdd[mb], m.lastMod[mb] = in.UID, in.ModSeq
	case store.ChangeFlags:
		if !m.live[ch.Mailbox][ch.UID] || ch.ModSeq <= m.latest(ch.Mailbox, ch.UID).ModSeq || ch.ModSeq < m.lastMod[ch.Mailbox] {
			return fmt.Errorf("flag change %+v of a message not there or out of order", ch)
		}
		before := m.latest(ch.Mailbox, ch.UID)
		after := before
		after.Flags, after.ModSeq = ch.Flags, ch.ModSeq
		m.hist[ch.Mailbox][ch.UID] = append(m.hist[ch.Mailbox][ch.UID], after)
		m.lastMod[ch.Mailbox] = ch.ModSeq
		if ch.Mailbox == inbox {
			m.flagged = append(m.flagged, propFlagChange{before, after})
		}
	case store.ChangeExpunge:
		for _, u := range ch.UIDs {
			// RFC 9051 §6.4.3: only what carries \Deleted when it commits.
			if !m.live[ch.Mailbox][u] || !m.latest(ch.Mailbox, u).Flags.Has(store.FlagDeleted) {
				return fmt.Errorf("expunge of UID %d, which is not there or not \\Deleted", u)
			}
			delete(m.live[ch.Mailbox], u)
		}
		m.lastMod[ch.Mailbox] = max(m.lastMod[ch.Mailbox], ch.ModSeq)
	}
	return nil
}

// committed reports whether a message of INBOX had the state f.
func (m *propModel) committed(mb store.MailboxID, f propFetch) bool {
	for _, in := range m.hist[mb][f.uid] {
		if in.ModSeq == f.modseq {
			return slices.Equal(in.Flags, f.flags)
		}
	}
	return false
}

// checkOps checks the sessions' flag changes against the model: every
// committed change is some request applied to the state before it, every
// answer is a committed state that satisfies its request, and every FLAGS
// with MODSEQ a session got is a committed state.
func (m *propModel) checkOps(t *testing.T, clients []*propClient, inbox store.MailboxID) {
	for _, ch := range m.flagged {
		explained := false
		for _, c := range clients {
			for _, o := range c.ops {
				if o.uid == ch.after.UID && (!o.answered || o.got.modseq == ch.after.ModSeq) &&
					slices.Equal(applyOp(ch.before.Flags, o.op, o.flags), ch.after.Flags) {
					explained = true
				}
			}
		}
		if !explained {
			t.Errorf("UID %d went from %q to %q (MODSEQ %d): no request applied to the committed state gives that (a lost update)",
				ch.after.UID, ch.before.Flags, ch.after.Flags, ch.after.ModSeq)
		}
	}
	for _, c := range clients {
		for _, o := range c.ops {
			if o.answered && !slices.Equal(applyOp(o.got.flags, o.op, o.flags), o.got.flags) {
				t.Errorf("session %d: %v %q on UID %d answered %q:\n%s", c.id, o.op, o.flags, o.uid, o.got.flags, strings.Join(o.raw, "\n"))
			}
		}
		for _, f := range c.states {
			if !m.committed(inbox, f) {
				t.Errorf("session %d was sent UID %d FLAGS %q MODSEQ %d, never a committed state", c.id, f.uid, f.flags, f.modseq)
			}
		}
	}
}

// checkStore compares the store's final state with the model's.
func (m *propModel) checkStore(t *testing.T, ss store.Session) {
	for mb, name := range m.names {
		infos, err := ss.Messages(t.Context(), mb)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for u := range m.live[mb] {
			in := m.latest(mb, u)
			want = append(want, fmt.Sprintf("%d %q %d", in.UID, in.Flags, in.ModSeq))
		}
		slices.Sort(want)
		var got []string
		for _, in := range infos {
			got = append(got, fmt.Sprintf("%d %q %d", in.UID, in.Flags, in.ModSeq))
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s: the store holds\n%s\nthe serial model\n%s", name, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}

// TestConcurrentSessionsProperty is the property test described at the
// top of this file. It runs under -race in CI; its size is fixed
// (propSessions × propOps commands) and every read has a deadline.
func TestConcurrentSessionsProperty(t *testing.T) {
	f := newFixture(t)
	if err := f.addUser("alice", "pw"); err != nil {
		t.Fatal(err)
	}
	for i := range propInitial {
		var fl []string
		if i%3 == 0 {
			fl = append(fl, store.FlagSeen)
		}
		if i%4 == 0 {
			fl = append(fl, store.FlagDeleted)
		}
		msg := fmt.Sprintf("From: bob@example.org\r\nSubject: initial %d\r\n\r\nhello\r\n", i)
		if err := f.deliver("alice", "INBOX", []byte(msg), fl...); err != nil {
			t.Fatal(err)
		}
	}
	ctx := t.Context()
	acct, err := f.st.Account(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	witness, err := f.st.Open(ctx, acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer witness.Close()
	other, err := witness.CreateMailbox(ctx, "Other", "")
	if err != nil {
		t.Fatal(err)
	}
	inbox, err := witness.Mailbox(ctx, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	initial := map[store.MailboxID][]store.MessageInfo{}
	for _, mb := range []store.Mailbox{inbox, other} {
		if initial[mb.ID], err = witness.Messages(ctx, mb.ID); err != nil {
			t.Fatal(err)
		}
	}
	witness.Changes().Take()
	clients := propStart(t, f.start())
	propRun(t, clients)

	model := newPropModel(initial, map[store.MailboxID]string{inbox.ID: "INBOX", other.ID: "Other"})
	for _, ch := range witness.Changes().Take() {
		if err := model.apply(ch, clients, inbox.ID); err != nil {
			t.Fatalf("commit order: %v", err)
		}
	}
	model.checkStore(t, witness)
	model.checkOps(t, clients, inbox.ID)
	propCheckViews(t, clients, witness, inbox.ID)
}

// propStart connects the sessions and selects INBOX in each, with
// CONDSTORE so that every flag change carries its MODSEQ.
func propStart(t *testing.T, addr string) []*propClient {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	clients := make([]*propClient, propSessions)
	for i := range clients {
		c, err := dialProp(addr, i, seed)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.nc.Close() })
		for _, cmd := range []string{"LOGIN alice pw", "SELECT INBOX (CONDSTORE)"} {
			if _, _, err := c.cmd(cmd, ""); err != nil {
				t.Fatalf("session %d: %v", i, err)
			}
		}
		clients[i] = c
	}
	return clients
}

// propRun runs the sessions' random operations at once.
func propRun(t *testing.T, clients []*propClient) {
	var wg sync.WaitGroup
	errs := make([]error, len(clients))
	for i, c := range clients {
		wg.Go(func() {
			for range propOps {
				if errs[i] = c.step(); errs[i] != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("session %d: %v", i, err)
		}
	}
}

// propCheckViews has every session NOOP, then compares its view with the
// store, and checks that each message is \Recent for exactly one session.
func propCheckViews(t *testing.T, clients []*propClient, ss store.Session, inbox store.MailboxID) {
	infos, err := ss.Messages(t.Context(), inbox)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, in := range infos {
		want = append(want, fmt.Sprintf("%d %q %d", in.UID, in.Flags, in.ModSeq))
	}
	recent := map[store.UID]int{}
	for _, c := range clients {
		if _, _, err := c.cmd("NOOP", ""); err != nil {
			t.Fatalf("session %d: %v", c.id, err)
		}
	}
	for _, c := range clients {
		fs, _, err := c.cmd("UID FETCH 1:* (UID FLAGS MODSEQ)", "")
		if err != nil {
			t.Fatalf("session %d: %v", c.id, err)
		}
		var got []string
		for i, f := range fs {
			got = append(got, fmt.Sprintf("%d %q %d", f.uid, f.flags, f.modseq))
			if i >= len(c.seqs) || c.seqs[i] != f.uid {
				t.Errorf("session %d: FETCH %d is UID %d; its sequence numbers say %v", c.id, i+1, f.uid, c.seqs)
			}
		}
		if !slices.Equal(got, want) || len(c.seqs) != len(infos) {
			t.Errorf("session %d sees (%d messages)\n%s\nthe store holds\n%s", c.id, len(c.seqs), strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if _, _, err := c.cmd("UID SEARCH RECENT", ""); err != nil {
			t.Fatalf("session %d: %v", c.id, err)
		}
		for _, l := range c.untagged {
			if rest, ok := strings.CutPrefix(l, "* SEARCH"); ok {
				for _, w := range strings.Fields(rest) {
					u, _ := strconv.ParseUint(w, 10, 32)
					recent[store.UID(u)]++
				}
			}
		}
	}
	for _, in := range infos {
		if recent[in.UID] != 1 {
			t.Errorf("UID %d is \\Recent for %d sessions, want 1 (RFC 3501 §2.3.2)", in.UID, recent[in.UID])
		}
	}
	if len(recent) != len(infos) {
		t.Errorf("%d messages recent, %d in the mailbox", len(recent), len(infos))
	}
}
