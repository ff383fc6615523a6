package storetest

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postern/postern/internal/store"
)

// queueT0 is the clock of the queue tests.
var queueT0 = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

func outboundQueue(t *testing.T, st store.Store) store.OutboundQueue {
	t.Helper()
	q, ok := st.(store.OutboundQueue)
	if !ok {
		t.Skip("store does not implement store.OutboundQueue")
	}
	return q
}

func queueAdd(t *testing.T, q store.OutboundQueue, id string, created, next time.Time, body string) {
	t.Helper()
	m := store.QueuedMessage{ID: id, Created: created, NextAttempt: next, Envelope: []byte("env-" + id)}
	if err := q.QueueAdd(t.Context(), m, strings.NewReader(body)); err != nil {
		t.Fatalf("QueueAdd(%s): %v", id, err)
	}
}

// testQueueLease: messages are claimed oldest due first, one owner at a
// time; a lease is renewed, released with the attempt's envelope, and
// once run out claimed by another owner, after which the first owner can
// neither release nor remove the message.
func testQueueLease(t *testing.T, st store.Store) {
	ctx, q := t.Context(), outboundQueue(t, st)
	big := strings.Repeat("0123456789abcdef", 40000) // several chunks
	queueAdd(t, q, "b", queueT0.Add(time.Second), queueT0, big)
	queueAdd(t, q, "a", queueT0, queueT0, "body a\r\n")
	queueAdd(t, q, "c", queueT0.Add(2*time.Second), queueT0.Add(time.Hour), "body c\r\n")
	list, err := q.QueueList(ctx)
	if err != nil || len(list) != 3 || list[0].ID != "a" || list[1].ID != "b" || list[2].ID != "c" {
		t.Fatalf("QueueList: %+v, %v", list, err)
	}
	if list[1].Size != int64(len(big)) || string(list[1].Envelope) != "env-b" || !list[1].Created.Equal(queueT0.Add(time.Second)) {
		t.Errorf("QueueList b: size %d envelope %q created %v", list[1].Size, list[1].Envelope, list[1].Created)
	}
	checkQueueBody(t, q, "b", big)
	if next, ok, err := q.QueueNextDue(ctx); err != nil || !ok || !next.Equal(queueT0) {
		t.Errorf("QueueNextDue: %v %v %v, want %v", next, ok, err, queueT0)
	}

	lease := time.Minute
	ma := mustClaim(t, q, "A", queueT0, lease, "a")
	if !ma.LeaseUntil.Equal(queueT0.Add(lease)) || ma.LeaseOwner != "A" || string(ma.Envelope) != "env-a" {
		t.Errorf("claimed a: %+v", ma)
	}
	mustClaim(t, q, "B", queueT0, lease, "b")
	mustClaim(t, q, "C", queueT0, lease, "") // c is not due, a and b are leased
	if err := q.QueueRenew(ctx, "a", "B", queueT0.Add(time.Hour)); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("renew by another owner: %v, want ErrLeaseLost", err)
	}
	if err := q.QueueRenew(ctx, "a", "A", queueT0.Add(2*lease)); err != nil {
		t.Errorf("renew: %v", err)
	}
	if err := q.QueueDelete(ctx, "a", queueT0); !errors.Is(err, store.ErrQueuedBusy) {
		t.Errorf("delete of a leased message: %v, want ErrQueuedBusy", err)
	}
	if err := q.QueueDelete(ctx, "zzz", queueT0); !errors.Is(err, store.ErrNoSuchQueued) {
		t.Errorf("delete of an unknown message: %v, want ErrNoSuchQueued", err)
	}

	// b's lease runs out (a's was renewed): C takes b over, B has lost it.
	late := queueT0.Add(lease + time.Second)
	mustClaim(t, q, "C", late, lease, "b")
	if err := q.QueueRelease(ctx, "b", "B", []byte("stale"), late); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("release after the lease ran out: %v, want ErrLeaseLost", err)
	}
	if err := q.QueueRemove(ctx, "b", "B"); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("remove after the lease ran out: %v, want ErrLeaseLost", err)
	}
	checkQueueBody(t, q, "b", big)

	// A releases a with a new envelope, due in ten minutes.
	if err := q.QueueRelease(ctx, "a", "A", []byte("env-a2"), queueT0.Add(10*time.Minute)); err != nil {
		t.Fatalf("release: %v", err)
	}
	if next, ok, _ := q.QueueNextDue(ctx); !ok || !next.Equal(late.Add(lease)) {
		t.Errorf("QueueNextDue with b leased to C: %v, want %v", next, late.Add(lease))
	}
	if err := q.QueueRenew(ctx, "b", "C", queueT0.Add(time.Hour)); err != nil {
		t.Errorf("renew by the new owner: %v", err)
	}
	mustClaim(t, q, "A", queueT0.Add(9*time.Minute), lease, "")
	if m := mustClaim(t, q, "A", queueT0.Add(10*time.Minute), lease, "a"); string(m.Envelope) != "env-a2" {
		t.Errorf("envelope after release: %q", m.Envelope)
	}
	if err := q.QueueRemove(ctx, "a", "A"); err != nil {
		t.Fatalf("remove: %v", err)
	}
	if _, err := q.QueueBody(ctx, "a"); !errors.Is(err, store.ErrNoSuchQueued) {
		t.Errorf("body of a removed message: %v, want ErrNoSuchQueued", err)
	}
	if n, err := q.QueueFlush(ctx, queueT0); err != nil || n != 2 {
		t.Errorf("QueueFlush: %d, %v, want 2", n, err)
	}
	if err := q.QueueDelete(ctx, "c", queueT0); err != nil {
		t.Errorf("delete of a free message: %v", err)
	}
	if list, _ := q.QueueList(ctx); len(list) != 1 || list[0].ID != "b" || list[0].LeaseOwner != "C" {
		t.Errorf("left in the queue: %+v", list)
	}
}

// mustClaim claims and checks which message came (want "" for none).
func mustClaim(t *testing.T, q store.OutboundQueue, owner string, now time.Time, lease time.Duration, want string) *store.QueuedMessage {
	t.Helper()
	m, err := q.QueueClaim(t.Context(), owner, now, lease)
	if err != nil {
		t.Fatalf("QueueClaim(%s): %v", owner, err)
	}
	got := ""
	if m != nil {
		got = m.ID
	}
	if got != want {
		t.Fatalf("QueueClaim(%s) at %v: %q, want %q", owner, now, got, want)
	}
	return m
}

func checkQueueBody(t *testing.T, q store.OutboundQueue, id, want string) {
	t.Helper()
	r, err := q.QueueBody(t.Context(), id)
	if err != nil {
		t.Fatalf("QueueBody(%s): %v", id, err)
	}
	defer r.Close()
	for range 2 { // readable twice (local delivery seeks back)
		b, err := io.ReadAll(r)
		if err != nil || string(b) != want {
			t.Fatalf("QueueBody(%s): %d octets, %v; want %d", id, len(b), err, len(want))
		}
		if _, err := r.Seek(0, io.SeekStart); err != nil {
			t.Fatal(err)
		}
	}
}

// testQueueConcurrentClaims: owners claiming at once each get different
// messages, and every message is claimed exactly once.
func testQueueConcurrentClaims(t *testing.T, st store.Store) {
	q := outboundQueue(t, st)
	const n, owners = 24, 4
	for i := range n {
		queueAdd(t, q, fmt.Sprintf("m%02d", i), queueT0.Add(time.Duration(i)*time.Millisecond), queueT0, "x\r\n")
	}
	var mu sync.Mutex
	claimed := map[string]string{}
	var wg sync.WaitGroup
	for o := range owners {
		owner := fmt.Sprintf("node%d", o)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				m, err := q.QueueClaim(t.Context(), owner, queueT0, time.Hour)
				if err != nil {
					t.Errorf("QueueClaim(%s): %v", owner, err)
					return
				}
				if m == nil {
					return
				}
				mu.Lock()
				if prev, dup := claimed[m.ID]; dup {
					t.Errorf("%s claimed by %s and %s", m.ID, prev, owner)
				}
				claimed[m.ID] = owner
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(claimed) != n {
		t.Errorf("claimed %d of %d messages", len(claimed), n)
	}
}
