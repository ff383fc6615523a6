package postgres

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postern/postern/internal/store"
	"github.com/postern/postern/internal/store/postgres/pgtest"
)

// twoNodes opens two stores on one database, as two Postern nodes do,
// with an account "alice" and a session on each.
func twoNodes(t *testing.T) (a, b *Store, sa, sb store.Session) {
	t.Helper()
	url := pgtest.New(t)
	a, b = openStore(t, url, Options{}), openStore(t, url, Options{})
	acc, err := a.CreateAccount(t.Context(), "alice", store.AccountUpdate{})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range []struct {
		st *Store
		ss *store.Session
	}{{a, &sa}, {b, &sb}} {
		s, err := x.st.Open(t.Context(), acc.ID)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		*x.ss = s
	}
	return a, b, sa, sb
}

func appendMsg(t *testing.T, ss store.Session, mb store.MailboxID, subject string) store.AppendResult {
	t.Helper()
	res, err := ss.Append(t.Context(), mb, store.AppendRequest{Content: strings.NewReader("Subject: " + subject + "\r\n\r\nbody\r\n")})
	if err != nil {
		t.Fatal(err)
	}
	return res[0]
}

// TestNodesSeeEachOther: a session on node A hears, within a second, an
// append, a flag change and an expunge made on node B, and reads the
// message B stored, octet for octet.
func TestNodesSeeEachOther(t *testing.T) {
	ctx := t.Context()
	_, _, sa, sb := twoNodes(t)
	inbox, err := sb.Mailbox(ctx, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	wait := func(what string, match func(store.Change) bool) {
		t.Helper()
		deadline := time.After(time.Second)
		for {
			for _, c := range sa.Changes().Take() {
				if match(c) {
					return
				}
			}
			select {
			case <-sa.Changes().Ready():
			case <-deadline:
				t.Fatalf("node A did not hear node B's %s within 1 s", what)
			}
		}
	}
	r := appendMsg(t, sb, inbox.ID, "from B")
	wait("append", func(c store.Change) bool { a, ok := c.(store.ChangeAdd); return ok && a.Info.UID == r.UID })
	c, err := sa.OpenContent(ctx, inbox.ID, r.UID)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, c.Size())
	c.ReadAt(buf, 0)
	c.Close()
	if string(buf) != "Subject: from B\r\n\r\nbody\r\n" {
		t.Errorf("node A reads %q", buf)
	}
	if _, err := sb.StoreFlags(ctx, inbox.ID, []store.UID{r.UID}, store.FlagRequest{Op: store.FlagsAdd, Flags: store.Flags{store.FlagSeen}}); err != nil {
		t.Fatal(err)
	}
	wait("flag change", func(c store.Change) bool { f, ok := c.(store.ChangeFlags); return ok && f.UID == r.UID })
	if _, err := sb.Expunge(ctx, inbox.ID, []store.UID{r.UID}); err != nil {
		t.Fatal(err)
	}
	wait("expunge", func(c store.Change) bool {
		e, ok := c.(store.ChangeExpunge)
		return ok && slices.Contains(e.UIDs, r.UID)
	})
}

// TestNodesConcurrentAppend: appends on both nodes at once get distinct
// UIDs, each session hears every message the other node added in
// ascending UID order, and MODSEQs never repeat.
func TestNodesConcurrentAppend(t *testing.T) {
	ctx := t.Context()
	_, _, sa, sb := twoNodes(t)
	inbox, err := sa.Mailbox(ctx, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	var mu sync.Mutex
	uids := map[store.UID]bool{}
	modseqs := map[store.ModSeq]bool{}
	var wg sync.WaitGroup
	for _, ss := range []store.Session{sa, sb} {
		for w := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range n {
					res, err := ss.Append(ctx, inbox.ID, store.AppendRequest{Content: strings.NewReader(fmt.Sprintf("Subject: %d %d\r\n\r\nx\r\n", w, i))})
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					if uids[res[0].UID] || modseqs[res[0].ModSeq] {
						t.Errorf("UID %d or MODSEQ %d handed out twice", res[0].UID, res[0].ModSeq)
					}
					uids[res[0].UID], modseqs[res[0].ModSeq] = true, true
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	if len(uids) != 4*n {
		t.Fatalf("%d distinct UIDs, want %d", len(uids), 4*n)
	}
	// Each session hears the other node's 2n additions, in UID order.
	for _, ss := range []store.Session{sa, sb} {
		var heard []store.UID
		deadline := time.After(5 * time.Second)
		for len(heard) < 2*n {
			for _, c := range ss.Changes().Take() {
				if a, ok := c.(store.ChangeAdd); ok {
					heard = append(heard, a.Info.UID)
				}
			}
			if len(heard) >= 2*n {
				break
			}
			select {
			case <-ss.Changes().Ready():
			case <-deadline:
				t.Fatalf("heard %d of %d additions", len(heard), 2*n)
			}
		}
		if !slices.IsSorted(heard) {
			t.Errorf("additions heard out of UID order: %v", heard)
		}
	}
}

// TestNodesMaildropLock: the POP3 maildrop lock taken on one node is
// in use on the other, and free there once released.
func TestNodesMaildropLock(t *testing.T) {
	ctx := t.Context()
	_, _, sa, sb := twoNodes(t)
	release, err := sa.LockMaildrop(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sb.LockMaildrop(ctx); !errors.Is(err, store.ErrInUse) {
		t.Fatalf("second node's lock: %v; want ErrInUse", err)
	}
	release()
	r2, err := sb.LockMaildrop(ctx)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	r2()
}

// TestNodesUIDValidity: mailboxes created on both nodes at once never
// share a UIDVALIDITY.
func TestNodesUIDValidity(t *testing.T) {
	ctx := t.Context()
	_, _, sa, sb := twoNodes(t)
	var mu sync.Mutex
	seen := map[uint32]string{}
	var wg sync.WaitGroup
	for i, ss := range []store.Session{sa, sb} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 10 {
				name := fmt.Sprintf("n%d-%d", i, j)
				mb, err := ss.CreateMailbox(ctx, name, "")
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if other, dup := seen[mb.UIDValidity]; dup {
					t.Errorf("%s and %s share UIDVALIDITY %d", name, other, mb.UIDValidity)
				}
				seen[mb.UIDValidity] = name
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

// TestListenerResync: node A's listening connection is killed, and node
// B appends, flags and expunges before A reconnects: once A is back, its
// session hears all of it, from the resync.
func TestListenerResync(t *testing.T) {
	ctx := t.Context()
	a, b, sa, sb := twoNodes(t)
	inbox, err := sb.Mailbox(ctx, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	old := appendMsg(t, sb, inbox.ID, "before")
	var added store.AppendResult
	done := make(chan struct{})
	lost := func() {
		defer close(done)
		added = appendMsg(t, sb, inbox.ID, "while A was away")
		if _, err := sb.StoreFlags(ctx, inbox.ID, []store.UID{added.UID}, store.FlagRequest{Op: store.FlagsAdd, Flags: store.Flags{`\Flagged`}}); err != nil {
			t.Error(err)
		}
		if _, err := sb.Expunge(ctx, inbox.ID, []store.UID{old.UID}); err != nil {
			t.Error(err)
		}
		if _, err := sb.CreateMailbox(ctx, "New", ""); err != nil {
			t.Error(err)
		}
	}
	a.listen.lost.Store(&lost)
	// Let A hear the first append, then cut its listener.
	time.Sleep(300 * time.Millisecond)
	sa.Changes().Take()
	if _, err := b.pool.Exec(ctx, `SELECT pg_terminate_backend($1)`, int32(a.listen.pid.Load())); err != nil {
		t.Fatal(err)
	}
	<-done
	var gotAdd, gotExpunge, gotMailbox bool
	deadline := time.After(10 * time.Second)
	for !(gotAdd && gotExpunge && gotMailbox) {
		for _, c := range sa.Changes().Take() {
			switch c := c.(type) {
			case store.ChangeAdd:
				gotAdd = gotAdd || (c.Info.UID == added.UID && slices.Contains(c.Info.Flags, `\Flagged`))
			case store.ChangeExpunge:
				gotExpunge = gotExpunge || slices.Contains(c.UIDs, old.UID)
			case store.ChangeMailbox:
				gotMailbox = gotMailbox || (c.Kind == store.MailboxCreated && c.Name == "New")
			}
		}
		if gotAdd && gotExpunge && gotMailbox {
			break
		}
		select {
		case <-sa.Changes().Ready():
		case <-deadline:
			t.Fatalf("after the reconnect: add %v, expunge %v, mailbox %v", gotAdd, gotExpunge, gotMailbox)
		}
	}
}

// TestMaildropLocksOutsidePool: POP3 maildrop locks held by more sessions
// than the pool has connections leave the pool free for other work.
func TestMaildropLocksOutsidePool(t *testing.T) {
	ctx := t.Context()
	s := openStore(t, pgtest.New(t), Options{MaxConns: 2})
	var sessions []store.Session
	for i := range 5 {
		acc, err := s.CreateAccount(ctx, fmt.Sprintf("user%d", i), store.AccountUpdate{})
		if err != nil {
			t.Fatal(err)
		}
		ss, err := s.Open(ctx, acc.ID)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ss.Close() })
		if _, err := ss.LockMaildrop(ctx); err != nil {
			t.Fatal(err)
		}
		sessions = append(sessions, ss)
	}
	done := make(chan error, 1)
	go func() {
		inbox, err := sessions[0].Mailbox(ctx, "INBOX")
		if err == nil {
			_, err = sessions[0].Append(ctx, inbox.ID, store.AppendRequest{Content: strings.NewReader("Subject: x\r\n\r\ny\r\n")})
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("an append waited on a pool drained by maildrop locks")
	}
}

// TestNodesQueueClaims: two nodes claiming the outbound queue at once
// (FOR UPDATE SKIP LOCKED) take every message exactly once between them.
func TestNodesQueueClaims(t *testing.T) {
	a, b, _, _ := twoNodes(t)
	t0 := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	const n = 40
	for i := range n {
		m := store.QueuedMessage{ID: fmt.Sprintf("q%02d", i), Created: t0, NextAttempt: t0, Envelope: []byte("{}")}
		if err := a.QueueAdd(t.Context(), m, strings.NewReader("x\r\n")); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	claimed := map[string]string{}
	var wg sync.WaitGroup
	for i, st := range []*Store{a, b, a, b} {
		owner := fmt.Sprintf("node%d", i)
		wg.Go(func() {
			for {
				m, err := st.QueueClaim(t.Context(), owner, t0, time.Minute)
				if err != nil || m == nil {
					if err != nil {
						t.Error(err)
					}
					return
				}
				mu.Lock()
				if prev, dup := claimed[m.ID]; dup {
					t.Errorf("%s claimed by %s and %s", m.ID, prev, owner)
				}
				claimed[m.ID] = owner
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(claimed) != n {
		t.Errorf("claimed %d of %d", len(claimed), n)
	}
}

// TestNodesQueueWake: a message queued on node A, and a flush on node B,
// wake the queue runners of both nodes (store.QueueWaker).
func TestNodesQueueWake(t *testing.T) {
	a, b, _, _ := twoNodes(t)
	wait := func(what string, st *Store) {
		t.Helper()
		select {
		case <-st.QueueWake():
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: no queue wake within 5 s", what)
		}
	}
	now := time.Now()
	if err := a.QueueAdd(t.Context(), store.QueuedMessage{ID: "w1", Created: now, NextAttempt: now, Envelope: []byte("{}")}, strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	wait("add on A, node B", b)
	wait("add on A, node A", a)
	if _, err := b.QueueFlush(t.Context(), now); err != nil {
		t.Fatal(err)
	}
	wait("flush on B, node A", a)
	select {
	case <-a.QueueWake():
		t.Error("a second signal without a second change")
	case <-time.After(300 * time.Millisecond):
	}
}
