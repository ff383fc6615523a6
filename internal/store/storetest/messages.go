package storetest

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postern/postern/internal/store"
)

func testConcurrentAppendUIDs(t *testing.T, st store.Store) {
	const writers, perWriter = 8, 50
	acc, ss := account(t, st, "alice")
	inbox := mailbox(t, ss, "INBOX")
	var wg sync.WaitGroup
	got := make([][]store.AppendResult, writers)
	errs := make([]error, writers)
	for w := range writers {
		ws := session(t, st, acc.ID)
		wg.Go(func() {
			for i := range perWriter {
				r := store.AppendRequest{Content: strings.NewReader(msg(fmt.Sprintf("writer %d message %d", w, i)))}
				res, err := ws.Append(t.Context(), inbox.ID, r)
				if err != nil {
					errs[w] = err
					return
				}
				got[w] = append(got[w], res[0])
			}
		})
	}
	wg.Wait()
	seen := make(map[store.UID]bool)
	for w, rs := range got {
		if errs[w] != nil {
			t.Fatalf("writer %d: %v", w, errs[w])
		}
		for i, r := range rs {
			if seen[r.UID] {
				t.Errorf("UID %d assigned twice", r.UID)
			}
			seen[r.UID] = true
			if i > 0 && (r.UID <= rs[i-1].UID || r.ModSeq <= rs[i-1].ModSeq) {
				t.Errorf("writer %d: UID/MODSEQ %d/%d after %d/%d", w, r.UID, r.ModSeq, rs[i-1].UID, rs[i-1].ModSeq)
			}
		}
	}
	infos := messages(t, ss, inbox.ID)
	if len(infos) != writers*perWriter {
		t.Fatalf("%d messages, want %d", len(infos), writers*perWriter)
	}
	emailIDs := make(map[store.EmailID]bool)
	for i, mi := range infos {
		if i > 0 && (mi.UID <= infos[i-1].UID || mi.ModSeq <= infos[i-1].ModSeq) {
			t.Errorf("message %d: UID/MODSEQ %d/%d after %d/%d: not strictly ascending", i, mi.UID, mi.ModSeq, infos[i-1].UID, infos[i-1].ModSeq)
		}
		if emailIDs[mi.EmailID] {
			t.Errorf("EmailID %d used twice", mi.EmailID)
		}
		emailIDs[mi.EmailID] = true
	}
	if s := status(t, ss, inbox.ID); s.UIDNext != infos[len(infos)-1].UID+1 || s.HighestModSeq != infos[len(infos)-1].ModSeq {
		t.Errorf("status %+v after last message %+v", s.Mailbox, infos[len(infos)-1])
	}
}

func testModSeq(t *testing.T, st store.Store) {
	ctx := t.Context()
	_, ss := account(t, st, "alice")
	inbox := mailbox(t, ss, "INBOX")
	last := inbox.HighestModSeq
	step := func(what string, ms store.ModSeq) {
		t.Helper()
		if ms <= last {
			t.Errorf("%s: MODSEQ %d, not above %d", what, ms, last)
		}
		if h := status(t, ss, inbox.ID).HighestModSeq; h != ms {
			t.Errorf("%s: HIGHESTMODSEQ %d, want %d", what, h, ms)
		}
		last = ms
	}
	r1 := appendOne(t, ss, inbox.ID, req("one"))
	step("append", r1.ModSeq)
	r2 := appendOne(t, ss, inbox.ID, req("two"))
	step("second append", r2.ModSeq)
	fr, err := ss.StoreFlags(ctx, inbox.ID, []store.UID{r1.UID}, store.FlagRequest{Op: store.FlagsAdd, Flags: store.Flags{store.FlagSeen}})
	if err != nil || len(fr.Changed) != 1 {
		t.Fatalf("StoreFlags = %+v, %v", fr, err)
	}
	step("store flags", fr.Changed[0].ModSeq)
	// A change that changes nothing keeps the MODSEQ, and reports the
	// stored state.
	fr, err = ss.StoreFlags(ctx, inbox.ID, []store.UID{r1.UID}, store.FlagRequest{Op: store.FlagsAdd, Flags: store.Flags{`\SEEN`}})
	if err != nil || len(fr.Changed) != 0 || len(fr.Unchanged) != 1 || fr.Unchanged[0].ModSeq != last {
		t.Errorf("no-op StoreFlags reported %+v, %v; want unchanged at MODSEQ %d", fr, err, last)
	}
	if h := status(t, ss, inbox.ID).HighestModSeq; h != last {
		t.Errorf("no-op StoreFlags moved HIGHESTMODSEQ to %d from %d", h, last)
	}
	infos := messages(t, ss, inbox.ID)
	if infos[0].ModSeq != last || infos[1].ModSeq != r2.ModSeq {
		t.Errorf("message MODSEQs %d, %d; want %d, %d", infos[0].ModSeq, infos[1].ModSeq, last, r2.ModSeq)
	}
	if _, err := ss.Expunge(ctx, inbox.ID, []store.UID{r2.UID}); err != nil {
		t.Fatalf("Expunge: %v", err)
	}
	h := status(t, ss, inbox.ID).HighestModSeq
	if h <= last {
		t.Errorf("expunge: HIGHESTMODSEQ %d, not above %d", h, last)
	}
	last = h
	r3 := appendOne(t, ss, inbox.ID, req("three"))
	step("append after expunge", r3.ModSeq)
	if r3.UID <= r2.UID {
		t.Errorf("UID %d after expunge of %d: reused", r3.UID, r2.UID)
	}
}

func testExpungeLog(t *testing.T, st store.Store) {
	ctx := t.Context()
	_, ss := account(t, st, "alice")
	el, ok := ss.(store.ExpungeLogger)
	if !ok {
		t.Skip("session does not implement store.ExpungeLogger")
	}
	inbox := mailbox(t, ss, "INBOX")
	uids := appendN(t, ss, inbox.ID, 5)
	base := status(t, ss, inbox.ID).HighestModSeq
	removed, err := ss.Expunge(ctx, inbox.ID, []store.UID{uids[3], uids[1], 999})
	if err != nil || !equalUIDs(removed, []store.UID{uids[1], uids[3]}) {
		t.Fatalf("Expunge = %v, %v; want %v", removed, err, []store.UID{uids[1], uids[3]})
	}
	m1 := status(t, ss, inbox.ID).HighestModSeq
	if _, err := ss.Move(ctx, inbox.ID, []store.UID{uids[0]}, mailbox(t, ss, "Mail").ID); err != nil {
		t.Fatalf("Move: %v", err)
	}
	check := func(since store.ModSeq, want []store.UID) {
		t.Helper()
		got, complete, err := el.ExpungedSince(ctx, inbox.ID, since)
		if err != nil || !complete || !equalUIDs(got, want) {
			t.Errorf("ExpungedSince(%d) = %v, %v, %v; want %v, complete", since, got, complete, err, want)
		}
	}
	check(base, []store.UID{uids[0], uids[1], uids[3]})
	check(m1, []store.UID{uids[0]})
	check(status(t, ss, inbox.ID).HighestModSeq, nil)
	_, _, err = el.ExpungedSince(ctx, store.MailboxID(1<<40), 0)
	wantErr(t, "ExpungedSince of a missing mailbox", err, store.ErrNoSuchMailbox)
}

// testExpungePrune prunes the expunge log (RFC 7162 QRESYNC retention):
// an answer that needs a pruned entry is reported incomplete, never
// silently short; one above the floor stays complete and exact; a prune
// whose cut is older than every entry removes nothing.
func testExpungePrune(t *testing.T, st store.Store) {
	ctx := t.Context()
	pr, ok := st.(store.ExpungePruner)
	_, ss := account(t, st, "alice")
	el, ok2 := ss.(store.ExpungeLogger)
	if !ok || !ok2 {
		t.Skip("store does not implement store.ExpungePruner and store.ExpungeLogger")
	}
	inbox := mailbox(t, ss, "INBOX")
	other := mailbox(t, ss, "Mail")
	uids := appendN(t, ss, inbox.ID, 4)
	base := status(t, ss, inbox.ID).HighestModSeq
	if _, err := ss.Expunge(ctx, inbox.ID, uids[:2]); err != nil {
		t.Fatalf("Expunge: %v", err)
	}
	expunged := status(t, ss, inbox.ID).HighestModSeq
	otherBase := status(t, ss, other.ID).HighestModSeq
	if n, err := pr.PruneExpunged(ctx, time.Unix(0, 0)); err != nil || n != 0 {
		t.Fatalf("PruneExpunged(1970) = %d, %v; want 0", n, err)
	}
	if got, complete, err := el.ExpungedSince(ctx, inbox.ID, base); err != nil || !complete || !equalUIDs(got, uids[:2]) {
		t.Fatalf("before pruning: ExpungedSince = %v, %v, %v; want %v, complete", got, complete, err, uids[:2])
	}
	// A cut far ahead of any clock, real or injected, prunes everything.
	if n, err := pr.PruneExpunged(ctx, time.Now().AddDate(100, 0, 0)); err != nil || n != 2 {
		t.Fatalf("PruneExpunged(all) = %d, %v; want 2", n, err)
	}
	if _, complete, err := el.ExpungedSince(ctx, inbox.ID, base); err != nil || complete {
		t.Errorf("after pruning: ExpungedSince(%d) complete = %v, %v; want incomplete", base, complete, err)
	}
	if got, complete, err := el.ExpungedSince(ctx, inbox.ID, expunged); err != nil || !complete || len(got) != 0 {
		t.Errorf("after pruning: ExpungedSince(%d) = %v, %v, %v; want none, complete", expunged, got, complete, err)
	}
	// Another mailbox lost nothing: its log stays complete from the start.
	if _, complete, err := el.ExpungedSince(ctx, other.ID, otherBase); err != nil || !complete {
		t.Errorf("other mailbox: complete = %v, %v; want complete", complete, err)
	}
	// New expunges after the prune are logged and answered exactly.
	if _, err := ss.Expunge(ctx, inbox.ID, uids[2:3]); err != nil {
		t.Fatalf("Expunge: %v", err)
	}
	if got, complete, err := el.ExpungedSince(ctx, inbox.ID, expunged); err != nil || !complete || !equalUIDs(got, uids[2:3]) {
		t.Errorf("after a new expunge: ExpungedSince = %v, %v, %v; want %v, complete", got, complete, err, uids[2:3])
	}
}

func testFlags(t *testing.T, st store.Store) {
	ctx := t.Context()
	_, ss := account(t, st, "alice")
	inbox := mailbox(t, ss, "INBOX")
	r := appendOne(t, ss, inbox.ID, req("flags", `\flagged`, "Work", `\SEEN`, "work", "$Label1"))
	want := store.Flags{"$Label1", `\Flagged`, `\Seen`, "Work"}
	if got := messages(t, ss, inbox.ID)[0].Flags; !slices.Equal(got, want) {
		t.Errorf("initial flags %q, want %q", got, want)
	}
	set := func(op store.FlagOp, flags store.Flags, want store.Flags, wantChanged bool) {
		t.Helper()
		fr, err := ss.StoreFlags(ctx, inbox.ID, []store.UID{r.UID}, store.FlagRequest{Op: op, Flags: flags})
		changed := fr.Changed
		if err != nil || len(fr.Failed) != 0 || len(fr.Changed)+len(fr.Unchanged) != 1 {
			t.Fatalf("StoreFlags(%d, %q) = %+v, %v", op, flags, fr, err)
		}
		if len(fr.Unchanged) == 1 && !slices.Equal(fr.Unchanged[0].Flags, want) {
			t.Errorf("StoreFlags(%d, %q) reported unchanged %q, want %q", op, flags, fr.Unchanged[0].Flags, want)
		}
		if (len(changed) == 1) != wantChanged {
			t.Errorf("StoreFlags(%d, %q) changed %+v, want changed=%v", op, flags, changed, wantChanged)
		}
		if len(changed) == 1 && !slices.Equal(changed[0].Flags, want) {
			t.Errorf("StoreFlags(%d, %q) reported %q, want %q", op, flags, changed[0].Flags, want)
		}
		if got := messages(t, ss, inbox.ID)[0].Flags; !slices.Equal(got, want) {
			t.Errorf("after StoreFlags(%d, %q): %q, want %q", op, flags, got, want)
		}
	}
	set(store.FlagsRemove, store.Flags{`\seen`, "WORK"}, store.Flags{"$Label1", `\Flagged`}, true)
	set(store.FlagsRemove, store.Flags{`\Draft`}, store.Flags{"$Label1", `\Flagged`}, false)
	set(store.FlagsAdd, store.Flags{`\Deleted`, "$label1"}, store.Flags{"$Label1", `\Deleted`, `\Flagged`}, true)
	set(store.FlagsReplace, store.Flags{`\answered`}, store.Flags{`\Answered`}, true)
	set(store.FlagsReplace, store.Flags{`\Answered`}, store.Flags{`\Answered`}, false)
	set(store.FlagsReplace, nil, nil, true)
	for _, bad := range []string{`\Recent`, `\Bogus`, "two words", "", "paren(", `quo"te`} {
		_, err := ss.StoreFlags(ctx, inbox.ID, []store.UID{r.UID}, store.FlagRequest{Op: store.FlagsAdd, Flags: store.Flags{bad}})
		wantErr(t, fmt.Sprintf("StoreFlags(%q)", bad), err, store.ErrInvalidName)
	}
	// Missing UIDs are skipped.
	fr, err := ss.StoreFlags(ctx, inbox.ID, []store.UID{r.UID + 100}, store.FlagRequest{Op: store.FlagsAdd, Flags: store.Flags{`\Seen`}})
	if err != nil || len(fr.Changed)+len(fr.Unchanged)+len(fr.Failed) != 0 {
		t.Errorf("StoreFlags of a missing UID = %+v, %v", fr, err)
	}
}

func testUnchangedSince(t *testing.T, st store.Store) {
	ctx := t.Context()
	_, ss := account(t, st, "alice")
	inbox := mailbox(t, ss, "INBOX")
	uids := appendN(t, ss, inbox.ID, 3)
	infos := messages(t, ss, inbox.ID)
	// Touch the second message, so its MODSEQ passes the first's.
	ss.StoreFlags(ctx, inbox.ID, uids[1:2], store.FlagRequest{Op: store.FlagsAdd, Flags: store.Flags{"$x"}})
	req := store.FlagRequest{Op: store.FlagsAdd, Flags: store.Flags{`\Seen`}, UnchangedSince: infos[2].ModSeq}
	fr, err := ss.StoreFlags(ctx, inbox.ID, uids, req)
	if err != nil {
		t.Fatalf("StoreFlags: %v", err)
	}
	if !equalUIDs(fr.Failed, uids[1:2]) || !equalUIDs(uidsOf(fr.Changed), []store.UID{uids[0], uids[2]}) {
		t.Errorf("UNCHANGEDSINCE %d: changed %v, failed %v; want changed %v, failed %v",
			req.UnchangedSince, uidsOf(fr.Changed), fr.Failed, []store.UID{uids[0], uids[2]}, uids[1:2])
	}
}

func testStatus(t *testing.T, st store.Store) {
	ctx := t.Context()
	_, ss := account(t, st, "alice")
	inbox := mailbox(t, ss, "INBOX")
	var size, deletedSize int64
	for _, r := range []store.AppendRequest{req("a", `\Seen`), req("b"), req("c", `\Deleted`, `\Seen`), req("dd", `\Deleted`)} {
		n := appendOne(t, ss, inbox.ID, r).Size
		size += n
		if r.Flags.Has(store.FlagDeleted) {
			deletedSize += n
		}
	}
	s := status(t, ss, inbox.ID)
	if s.Messages != 4 || s.Unseen != 2 || s.Deleted != 2 || s.Size != size || s.UIDNext != 5 || s.Name != "INBOX" ||
		s.DeletedSize != deletedSize {
		t.Errorf("Status = %+v; want 4 messages, 2 unseen, 2 deleted, size %d, deleted size %d, UIDNEXT 5", s, size, deletedSize)
	}
	if e := status(t, ss, mailbox(t, ss, "Trash").ID); e.Messages != 0 || e.Size != 0 {
		t.Errorf("empty Status = %+v", e)
	}
	_, err := ss.Status(ctx, store.MailboxID(1<<40))
	wantErr(t, "Status of a missing mailbox", err, store.ErrNoSuchMailbox)
}

// testInternalDateZone: the zone offset of an appended INTERNALDATE is
// kept with it and by COPY and MOVE (FETCH INTERNALDATE shows it, SEARCH
// BEFORE/ON/SINCE take the date in it); offset 0 comes back as UTC.
func testInternalDateZone(t *testing.T, st store.Store) {
	ctx := t.Context()
	_, ss := account(t, st, "alice")
	inbox, mail := mailbox(t, ss, "INBOX"), mailbox(t, ss, "Mail")
	east := time.Date(2007, 3, 25, 0, 30, 0, 0, time.FixedZone("", 3*3600))
	west := time.Date(2007, 3, 24, 19, 0, 0, 0, time.FixedZone("", -(4*3600+30*60)))
	utc := time.Date(2007, 3, 24, 21, 30, 0, 0, time.UTC)
	for _, d := range []time.Time{east, west, utc} {
		r := req("dated")
		r.InternalDate = d
		appendOne(t, ss, inbox.ID, r)
	}
	check := func(what string, got []store.MessageInfo, want []time.Time) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s: %d messages, want %d", what, len(got), len(want))
		}
		for i, w := range want {
			_, gotOff := got[i].InternalDate.Zone()
			_, wantOff := w.Zone()
			if !got[i].InternalDate.Equal(w) || gotOff != wantOff {
				t.Errorf("%s: message %d InternalDate %v, want %v", what, i+1, got[i].InternalDate, w)
			}
		}
		if got[len(got)-1].InternalDate.Location() != time.UTC {
			t.Errorf("%s: offset 0 comes back in %v, want UTC", what, got[len(got)-1].InternalDate.Location())
		}
	}
	in := messages(t, ss, inbox.ID)
	check("Messages", in, []time.Time{east, west, utc})
	uids := []store.UID{in[0].UID, in[1].UID, in[2].UID}
	if _, err := ss.Copy(ctx, inbox.ID, uids, mail.ID); err != nil {
		t.Fatalf("Copy: %v", err)
	}
	check("copies", messages(t, ss, mail.ID), []time.Time{east, west, utc})
	moved := messages(t, ss, mail.ID)
	if _, err := ss.Move(ctx, mail.ID, []store.UID{moved[0].UID, moved[1].UID, moved[2].UID}, inbox.ID); err != nil {
		t.Fatalf("Move: %v", err)
	}
	check("moved", messages(t, ss, inbox.ID)[3:], []time.Time{east, west, utc})
}

func testCopy(t *testing.T, st store.Store) {
	ctx := t.Context()
	_, ss := account(t, st, "alice")
	inbox, mail := mailbox(t, ss, "INBOX"), mailbox(t, ss, "Mail")
	uids := appendN(t, ss, inbox.ID, 3)
	ss.StoreFlags(ctx, inbox.ID, uids[:1], store.FlagRequest{Op: store.FlagsAdd, Flags: store.Flags{`\Flagged`}})
	appendN(t, ss, mail.ID, 1) // the copies get UIDs 2 and 3
	res, err := ss.Copy(ctx, inbox.ID, []store.UID{uids[2], uids[0], 77}, mail.ID)
	if err != nil {
		t.Fatalf("Copy: %v", err)
	}
	if res.UIDValidity != mail.UIDValidity || !equalUIDs(res.Source, []store.UID{uids[0], uids[2]}) || !equalUIDs(res.Dest, []store.UID{2, 3}) {
		t.Errorf("Copy = %+v; want COPYUID %d %v %v", res, mail.UIDValidity, []store.UID{uids[0], uids[2]}, []store.UID{2, 3})
	}
	src, dst := messages(t, ss, inbox.ID), messages(t, ss, mail.ID)
	if len(src) != 3 || len(dst) != 3 {
		t.Fatalf("%d messages in source, %d in destination; want 3, 3", len(src), len(dst))
	}
	if dst[1].EmailID == src[0].EmailID || !slices.Equal(dst[1].Flags, src[0].Flags) || dst[1].Size != src[0].Size ||
		!dst[1].InternalDate.Equal(src[0].InternalDate) {
		t.Errorf("copy %+v of %+v: want a new EmailID and the same flags, size and date", dst[1], src[0])
	}
	if cs, ok := ss.(store.ContentSharer); ok {
		a, err1 := cs.ContentID(ctx, inbox.ID, uids[0])
		b, err2 := cs.ContentID(ctx, mail.ID, res.Dest[0])
		if err1 != nil || err2 != nil || a != b || a == "" {
			t.Errorf("ContentID of original %q (%v) and copy %q (%v): want shared", a, err1, b, err2)
		}
		_, err = cs.ContentID(ctx, inbox.ID, 999)
		wantErr(t, "ContentID of a missing message", err, store.ErrNoSuchMessage)
	}
	if empty, err := ss.Copy(ctx, inbox.ID, []store.UID{500}, mail.ID); err != nil || len(empty.Source) != 0 {
		t.Errorf("Copy of missing UIDs = %+v, %v", empty, err)
	}
}

func testMove(t *testing.T, st store.Store) {
	ctx := t.Context()
	_, ss := account(t, st, "alice")
	inbox, mail := mailbox(t, ss, "INBOX"), mailbox(t, ss, "Mail")
	uids := appendN(t, ss, inbox.ID, 3)
	before := messages(t, ss, inbox.ID)
	res, err := ss.Move(ctx, inbox.ID, uids[:2], mail.ID)
	if err != nil {
		t.Fatalf("Move: %v", err)
	}
	if res.UIDValidity != mail.UIDValidity || !equalUIDs(res.Source, uids[:2]) || !equalUIDs(res.Dest, []store.UID{1, 2}) {
		t.Errorf("Move = %+v", res)
	}
	src, dst := messages(t, ss, inbox.ID), messages(t, ss, mail.ID)
	if len(src) != 1 || src[0].UID != uids[2] || len(dst) != 2 {
		t.Fatalf("after Move: source %+v, destination %+v", src, dst)
	}
	for i := range dst {
		if dst[i].EmailID != before[i].EmailID {
			t.Errorf("moved message %d EmailID %d, want %d", i, dst[i].EmailID, before[i].EmailID)
		}
		if dst[i].ModSeq <= mail.HighestModSeq {
			t.Errorf("moved message MODSEQ %d not above destination's %d", dst[i].ModSeq, mail.HighestModSeq)
		}
	}
	c, err := ss.OpenContent(ctx, mail.ID, 1)
	if err != nil {
		t.Fatalf("OpenContent of a moved message: %v", err)
	}
	if !bytes.Contains(readAll(t, c), []byte("message 1")) {
		t.Errorf("moved message has the wrong content")
	}
	c.Close()
	_, err = ss.OpenContent(ctx, inbox.ID, uids[0])
	wantErr(t, "OpenContent of the moved-away UID", err, store.ErrNoSuchMessage)
}

func testTooBig(t *testing.T, st store.Store) {
	ctx := t.Context()
	_, ss := account(t, st, "alice")
	inbox := mailbox(t, ss, "INBOX")
	body := msg("big") + strings.Repeat("x", 10000) + "\n"
	_, err := ss.Append(ctx, inbox.ID, store.AppendRequest{Content: strings.NewReader(body), MaxSize: 1000})
	wantErr(t, "Append over MaxSize", err, store.ErrTooBig)
	s := status(t, ss, inbox.ID)
	if s.Messages != 0 || s.UIDNext != 1 || s.HighestModSeq != inbox.HighestModSeq {
		t.Errorf("after a refused append: %+v", s)
	}
	// The limit counts the normalised (CRLF) size: exactly at the limit passes.
	exact := "Subject: x\n\nab\n" // 18 octets as CRLF
	if _, err := ss.Append(ctx, inbox.ID, store.AppendRequest{Content: strings.NewReader(exact), MaxSize: 18}); err != nil {
		t.Errorf("Append at exactly MaxSize: %v", err)
	}
	_, err = ss.Append(ctx, inbox.ID, store.AppendRequest{Content: strings.NewReader(exact), MaxSize: 17})
	wantErr(t, "Append one octet over MaxSize", err, store.ErrTooBig)
}

func testImportKey(t *testing.T, st store.Store) {
	ctx := t.Context()
	_, ss := account(t, st, "alice")
	inbox, mail := mailbox(t, ss, "INBOX"), mailbox(t, ss, "Mail")
	r := func() store.AppendRequest {
		x := req("imported")
		x.ImportKey = "mbox:/var/mail/alice:1234"
		return x
	}
	appendOne(t, ss, inbox.ID, r())
	_, err := ss.Append(ctx, inbox.ID, r())
	wantErr(t, "second import of a key", err, store.ErrDuplicate)
	if n := len(messages(t, ss, inbox.ID)); n != 1 {
		t.Errorf("%d messages after a duplicate import, want 1", n)
	}
	appendOne(t, ss, mail.ID, r()) // keys are per mailbox
}

func testAtomicMultiAppend(t *testing.T, st store.Store) {
	ctx := t.Context()
	_, ss := account(t, st, "alice")
	inbox := mailbox(t, ss, "INBOX")
	res, err := ss.Append(ctx, inbox.ID, req("one"), req("two", `\Seen`), req("three"))
	if err != nil || len(res) != 3 {
		t.Fatalf("Append of 3 = %+v, %v", res, err)
	}
	for i, r := range res {
		if r.UID != store.UID(i+1) || r.UIDValidity != inbox.UIDValidity || r.Size == 0 {
			t.Errorf("result %d = %+v", i, r)
		}
	}
	tooBig := req("too big")
	tooBig.MaxSize = 10
	dupKey := func() store.AppendRequest { x := req("dup"); x.ImportKey = "k"; return x }
	failing := map[string][]store.AppendRequest{
		"too big":              {req("four"), tooBig},
		"duplicate in request": {dupKey(), req("five"), dupKey()},
		"not a message":        {req("six"), {Content: strings.NewReader("")}},
	}
	for name, reqs := range failing {
		if _, err := ss.Append(ctx, inbox.ID, reqs...); err == nil {
			t.Errorf("%s: multi-append succeeded", name)
		}
		if n := len(messages(t, ss, inbox.ID)); n != 3 {
			t.Errorf("%s: %d messages after a failed multi-append, want 3", name, n)
		}
	}
	if s := status(t, ss, inbox.ID); s.UIDNext != 4 {
		t.Errorf("UIDNEXT %d after failed appends, want 4", s.UIDNext)
	}
}

func testMaildropLock(t *testing.T, st store.Store) {
	ctx := t.Context()
	acc, s1 := account(t, st, "alice")
	s2 := session(t, st, acc.ID)
	_, other := account(t, st, "bob")
	release, err := s1.LockMaildrop(ctx)
	if err != nil {
		t.Fatalf("LockMaildrop: %v", err)
	}
	_, err = s2.LockMaildrop(ctx)
	wantErr(t, "second session's lock", err, store.ErrInUse)
	_, err = s1.LockMaildrop(ctx)
	wantErr(t, "same session's second lock", err, store.ErrInUse)
	relOther, err := other.LockMaildrop(ctx)
	if err != nil {
		t.Errorf("another account's lock: %v", err)
	} else {
		relOther()
	}
	release()
	release() // idempotent
	release2, err := s2.LockMaildrop(ctx)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	_ = release2
	s2.Close() // releases
	release3, err := s1.LockMaildrop(ctx)
	if err != nil {
		t.Fatalf("lock after the holder's Close: %v", err)
	}
	release3()
}

func testOpenContent(t *testing.T, st store.Store) {
	ctx := t.Context()
	_, ss := account(t, st, "alice")
	inbox := mailbox(t, ss, "INBOX")
	raw := "Subject: lines\nFrom: a@example.org\r\n\nbare LF\nbare CR\rCRLF\r\nlast"
	want := "Subject: lines\r\nFrom: a@example.org\r\n\r\nbare LF\r\nbare CR\r\nCRLF\r\nlast"
	r := appendOne(t, ss, inbox.ID, store.AppendRequest{Content: strings.NewReader(raw)})
	if r.Size != int64(len(want)) || messages(t, ss, inbox.ID)[0].Size != r.Size {
		t.Errorf("size %d, want %d", r.Size, len(want))
	}
	c, err := ss.OpenContent(ctx, inbox.ID, r.UID)
	if err != nil {
		t.Fatalf("OpenContent: %v", err)
	}
	defer c.Close()
	if c.Size() != int64(len(want)) {
		t.Errorf("Content.Size %d, want %d", c.Size(), len(want))
	}
	if got := readAll(t, c); string(got) != want {
		t.Errorf("content %q, want %q", got, want)
	}
	part := make([]byte, 5)
	if _, err := c.ReadAt(part, 9); err != nil || string(part) != "lines" {
		t.Errorf("ReadAt(9) = %q, %v", part, err)
	}
	_, err = ss.OpenContent(ctx, inbox.ID, r.UID+1)
	wantErr(t, "OpenContent of a missing UID", err, store.ErrNoSuchMessage)
}

// testExactContent: AppendRequest.Exact keeps every octet, bare LF, bare
// CR and NUL included (a literal8 upload, RFC 3516 §4.4), and sizes and
// the parsed structure refer to those octets.
func testExactContent(t *testing.T, st store.Store) {
	ctx := t.Context()
	_, ss := account(t, st, "alice")
	inbox := mailbox(t, ss, "INBOX")
	raw := "Subject: bin\nContent-Type: application/octet-stream\n\nNUL\x00 bare CR\r LF\n\xff\n"
	r := appendOne(t, ss, inbox.ID, store.AppendRequest{Content: strings.NewReader(raw), Exact: true})
	if r.Size != int64(len(raw)) || messages(t, ss, inbox.ID)[0].Size != r.Size {
		t.Errorf("size %d, want %d", r.Size, len(raw))
	}
	c, err := ss.OpenContent(ctx, inbox.ID, r.UID)
	if err != nil {
		t.Fatalf("OpenContent: %v", err)
	}
	defer c.Close()
	if got := readAll(t, c); string(got) != raw {
		t.Errorf("content %q, want %q", got, raw)
	}
	err = ss.MessageData(ctx, inbox.ID, []store.UID{r.UID}, func(d store.MessageData) error {
		if p := d.Part; p.BodyStart != int64(strings.Index(raw, "NUL")) || p.End != int64(len(raw)) {
			t.Errorf("body [%d, %d), want [%d, %d)", p.BodyStart, p.End, strings.Index(raw, "NUL"), len(raw))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func testMessageData(t *testing.T, st store.Store) {
	ctx := t.Context()
	_, ss := account(t, st, "alice")
	inbox := mailbox(t, ss, "INBOX")
	vms := &store.VMSEnvelope{From: "NODE::SMITH", PersonalName: "John Smith", To: "JONES", CC: "", Subject: "Budget",
		Date: time.Date(1994, 3, 1, 12, 30, 0, 0, time.UTC), OwnHeader: true}
	date := time.Date(2020, 5, 6, 7, 8, 9, 0, time.UTC)
	appendOne(t, ss, inbox.ID, req("first"))
	r2 := req("second", `\Seen`)
	r2.VMS, r2.InternalDate = vms, date
	appendOne(t, ss, inbox.ID, r2)
	appendOne(t, ss, inbox.ID, req("third"))

	var got []store.MessageData
	err := ss.MessageData(ctx, inbox.ID, []store.UID{3, 42, 2, 1, 2}, func(md store.MessageData) error {
		got = append(got, md)
		return nil
	})
	if err != nil {
		t.Fatalf("MessageData: %v", err)
	}
	if len(got) != 3 {
		t.Fatalf("MessageData returned %d messages, want 3", len(got))
	}
	for i, md := range got {
		wantSubject := []string{"first", "second", "third"}[i]
		if md.Info.UID != store.UID(i+1) || md.Part == nil || md.Part.Envelope == nil || md.Part.Envelope.Subject != wantSubject {
			t.Errorf("MessageData %d: UID %d, part %+v; want UID %d, subject %q", i, md.Info.UID, md.Part, i+1, wantSubject)
		}
	}
	if got[0].VMS != nil {
		t.Errorf("message without VMS envelope has %+v", got[0].VMS)
	}
	v := got[1].VMS
	if v == nil || v.From != vms.From || v.PersonalName != vms.PersonalName || v.To != vms.To || v.Subject != vms.Subject ||
		!v.Date.Equal(vms.Date) || !v.OwnHeader {
		t.Errorf("VMS envelope %+v, want %+v", v, vms)
	}
	if !got[1].Info.InternalDate.Equal(date) || !slices.Equal(got[1].Info.Flags, store.Flags{`\Seen`}) {
		t.Errorf("info %+v: want INTERNALDATE %v and \\Seen", got[1].Info, date)
	}
	// An error from fn stops the iteration and is returned.
	stop := fmt.Errorf("stop")
	n := 0
	err = ss.MessageData(ctx, inbox.ID, []store.UID{1, 2, 3}, func(store.MessageData) error { n++; return stop })
	if err != stop || n != 1 {
		t.Errorf("MessageData with a failing fn: %v after %d calls", err, n)
	}
}

func testReclaim(t *testing.T, st store.Store) {
	ctx := t.Context()
	_, ss := account(t, st, "alice")
	inbox, mail := mailbox(t, ss, "INBOX"), mailbox(t, ss, "Mail")
	r := appendOne(t, ss, inbox.ID, req("shared"))
	res, err := ss.Copy(ctx, inbox.ID, []store.UID{r.UID}, mail.ID)
	if err != nil {
		t.Fatalf("Copy: %v", err)
	}
	reclaim := func(want int) {
		t.Helper()
		n, err := st.Reclaim(ctx)
		if err != nil || n != want {
			t.Errorf("Reclaim = %d, %v; want %d", n, err, want)
		}
	}
	reclaim(0)
	ss.Expunge(ctx, inbox.ID, []store.UID{r.UID})
	reclaim(0)
	c, err := ss.OpenContent(ctx, mail.ID, res.Dest[0])
	if err != nil {
		t.Fatalf("OpenContent of the remaining copy: %v", err)
	}
	if !bytes.Contains(readAll(t, c), []byte("Hello, shared.")) {
		t.Errorf("remaining copy lost its content")
	}
	c.Close()
	ss.Expunge(ctx, mail.ID, res.Dest)
	reclaim(1)
	reclaim(0)
}

func testClosedSession(t *testing.T, st store.Store) {
	ctx := t.Context()
	acc, _ := account(t, st, "alice")
	ss := session(t, st, acc.ID)
	inbox := mailbox(t, ss, "INBOX")
	if err := ss.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	_, err := ss.Messages(ctx, inbox.ID)
	wantErr(t, "Messages after Close", err, store.ErrClosed)
	_, err = ss.Append(ctx, inbox.ID, req("late"))
	wantErr(t, "Append after Close", err, store.ErrClosed)
}

// testForeign: a message is foreign when its request says so or when its
// content holds a NUL octet (store.AppendRequest.Foreign); text is not;
// COPY and MOVE keep the mark, and every read path reports it.
func testForeign(t *testing.T, st store.Store) {
	ctx := t.Context()
	_, ss := account(t, st, "alice")
	inbox, mail := mailbox(t, ss, "INBOX"), mailbox(t, ss, "Mail")
	appendOne(t, ss, inbox.ID, req("text"))
	marked := req("marked")
	marked.Foreign = true
	appendOne(t, ss, inbox.ID, marked)
	appendOne(t, ss, inbox.ID, store.AppendRequest{Content: strings.NewReader("Subject: nul\r\n\r\n%PDF-1.4\r\n\x00\x01\x02\r\n")})
	appendOne(t, ss, inbox.ID, store.AppendRequest{Content: strings.NewReader("Subject: exact\r\n\r\nPK\x03\x04\x00"), Exact: true})
	want := []bool{false, true, true, true}
	wantHead := []string{"", "Hello, marked.\r\n", "%PDF-1.4\r\n\x00\x01\x02\r\n", "PK\x03\x04\x00"}

	check := func(what string, mb store.MailboxID, uids []store.UID, want []bool) {
		t.Helper()
		var got []bool
		read := func(md store.MessageData) error {
			got = append(got, md.Foreign)
			if i := int(md.Info.UID) - 1; i >= 0 && i < len(wantHead) && string(md.ForeignHead) != wantHead[i] {
				t.Errorf("%s: UID %d ForeignHead %q, want %q", what, md.Info.UID, md.ForeignHead, wantHead[i])
			}
			return nil
		}
		if err := ss.MessageData(ctx, mb, uids, read); err != nil {
			t.Fatalf("%s: MessageData: %v", what, err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: MessageData Foreign = %v, want %v", what, got, want)
		}
		if len(uids) == 1 { // the single-message path
			return
		}
		if top, ok := ss.(store.TopDataLoader); ok {
			got = nil
			if err := top.MessageDataTop(ctx, mb, uids, read); err != nil || !slices.Equal(got, want) {
				t.Errorf("%s: MessageDataTop Foreign = %v (%v), want %v", what, got, err, want)
			}
		}
		if dr, ok := ss.(store.ContentLocator); ok {
			got = nil
			err := dr.MessageDataRefs(ctx, mb, uids, func(md store.MessageData, _ store.ContentRef) error { return read(md) })
			if err != nil || !slices.Equal(got, want) {
				t.Errorf("%s: MessageDataRefs Foreign = %v (%v), want %v", what, got, err, want)
			}
		}
	}
	check("appended", inbox.ID, []store.UID{1, 2, 3, 4}, want)
	for uid := store.UID(1); uid <= 4; uid++ {
		check(fmt.Sprintf("UID %d alone", uid), inbox.ID, []store.UID{uid}, want[uid-1:uid])
	}
	if _, err := ss.Copy(ctx, inbox.ID, []store.UID{1, 2}, mail.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := ss.Move(ctx, inbox.ID, []store.UID{3, 4}, mail.ID); err != nil {
		t.Fatal(err)
	}
	check("copied and moved", mail.ID, []store.UID{1, 2, 3, 4}, want)
}
