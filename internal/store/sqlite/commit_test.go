package sqlite

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/postern/postern/internal/store"
)

// TestGroupCommitIsolatesFailures runs many concurrent appends. Pairs of
// writers race with the same fresh import keys, so one of each pair fails,
// usually inside a shared transaction (both passed the pre-check): every
// failure must be its own, and every success committed with its own UID.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	f := newFixture(t, t.TempDir(), testOptions())
	ctx := t.Context()
	const writers, each = 8, 30
	var wg sync.WaitGroup
	var mu sync.Mutex
	okUIDs := make(map[store.UID]bool)
	dups := 0
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ss, err := f.st.Open(ctx, f.acc.ID)
			if err != nil {
				t.Error(err)
				return
			}
			defer ss.Close()
			for i := range each {
				req := store.AppendRequest{Content: strings.NewReader(testMessage("m", 100))}
				if i%3 == 0 {
					req.ImportKey = fmt.Sprintf("race-%d-%d", w/2, i)
				}
				res, err := ss.Append(ctx, f.inbox.ID, req)
				mu.Lock()
				switch {
				case errors.Is(err, store.ErrDuplicate):
					dups++
				case err != nil:
					t.Errorf("append: %v", err)
				default:
					if okUIDs[res[0].UID] {
						t.Errorf("UID %d handed out twice", res[0].UID)
					}
					okUIDs[res[0].UID] = true
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if want := writers * each / 3 / 2; dups != want {
		t.Errorf("%d duplicates refused, want %d", dups, want)
	}
	msgs, err := f.ss.Messages(ctx, f.inbox.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := len(okUIDs); len(msgs) != want {
		t.Errorf("mailbox holds %d messages, want %d", len(msgs), want)
	}
	for _, m := range msgs {
		if !okUIDs[m.UID] {
			t.Errorf("UID %d stored but its append did not succeed", m.UID)
		}
	}
}
