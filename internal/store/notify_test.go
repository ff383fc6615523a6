package store

import (
	"strings"
	"sync"
	"testing"
)

func TestLocalNotifier(t *testing.T) {
	n := NewLocalNotifier()
	a1, a2 := n.Subscribe(1), n.Subscribe(1)
	b := n.Subscribe(2)
	n.Publish(1, a1.ID(), []Change{ChangeAdd{Mailbox: 7}})
	n.Publish(1, 0, []Change{ChangeExpunge{Mailbox: 7, UIDs: []UID{3}}})

	if got := a1.Take(); len(got) != 1 {
		t.Errorf("originator got %d changes, want only the one it did not make", len(got))
	}
	select {
	case <-a2.Ready():
	default:
		t.Fatal("a2 not signalled")
	}
	got := a2.Take()
	if len(got) != 2 {
		t.Fatalf("a2 got %v", got)
	}
	if _, ok := got[0].(ChangeAdd); !ok {
		t.Errorf("order lost: %T first", got[0])
	}
	if got := b.Take(); len(got) != 0 {
		t.Errorf("other account saw %v", got)
	}
	a2.Close()
	n.Publish(1, 0, []Change{ChangeAdd{}})
	if got := a2.Take(); got != nil {
		t.Errorf("closed subscription got %v", got)
	}
}

// TestPublishNeverBlocks publishes far more than any buffer from many
// goroutines to a subscriber that never reads.
func TestPublishNeverBlocks(t *testing.T) {
	n := NewLocalNotifier()
	s := n.Subscribe(1)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 1000 {
				n.Publish(1, 0, []Change{ChangeAdd{}})
			}
		}()
	}
	wg.Wait()
	if got := len(s.Take()); got != 8000 {
		t.Errorf("queued %d changes, want 8000", got)
	}
}

func TestCanonicalMailboxName(t *testing.T) {
	good := map[string]string{"inbox": "INBOX", "Inbox/Sub": "INBOX/Sub", "Archive/2026": "Archive/2026", "INBOXES": "INBOXES", "Café": "Café"}
	for in, want := range good {
		if got, err := CanonicalMailboxName(in); err != nil || got != want {
			t.Errorf("%q → %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "/a", "a/", "a//b", "a\x00b", "\xff", "tab\there"} {
		if _, err := CanonicalMailboxName(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestValidateAccountName(t *testing.T) {
	for _, good := range []string{"alice", "J_SMITH", "a.b-c", "x1", "a@b", "alice@example.org", "Bob@Mail.Example.NET", "x@a-b.c0"} {
		if err := ValidateAccountName(good); err != nil {
			t.Errorf("%q: %v", good, err)
		}
	}
	for _, bad := range []string{"", ".alice", "al ice", "al+ice", "@b", "a@", "a@b@c", "a@.b", "a@b.", "a@-b", "a@b-", "a@b_c", "a@ü", "ü@b", "a@b c", "a@" + strings.Repeat("x", 64), "a@" + strings.Repeat("x.", 127), "ü", string(make([]byte, 65))} {
		if err := ValidateAccountName(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestSubscriptionIDsUnique: two notifiers (two processes or nodes) hand
// out different IDs, never 0, so a change published with one node's ID
// as its origin is still delivered to the other node's sessions.
func TestSubscriptionIDsUnique(t *testing.T) {
	seen := map[uint64]bool{}
	for range 100 {
		n := NewLocalNotifier()
		for range 3 {
			id := n.Subscribe(1).ID()
			if id == 0 || seen[id] {
				t.Fatalf("subscription ID %d repeated or zero", id)
			}
			seen[id] = true
		}
	}
	a, b := NewLocalNotifier(), NewLocalNotifier()
	sa, sb := a.Subscribe(1), b.Subscribe(1)
	b.Publish(1, sa.ID(), []Change{ChangeAdd{Mailbox: 1}})
	if got := sb.Take(); len(got) != 1 {
		t.Errorf("b's subscriber got %d changes published with a's ID as origin, want 1", len(got))
	}
}
