package sqlite

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postern/postern/internal/store"
)

// TestPublicationOrder checks the ordering contract of the store doc
// across processes: this process and another one (a second Store on the
// same directory, as `postern deliver` beside `postern serve`) append to
// one mailbox at once, and a session of this process receives every
// ChangeAdd once, in strictly ascending UID order. The IMAP view relies on
// it: it takes an addition at or below the highest UID it knows for one it
// has (RFC 9051 §2.3.1.1). (The race pubMu closes, a poll publishing
// another process's newer commit between this process's commit and its
// publication, is a window of microseconds this test seldom hits; the
// test guards the contract as a whole.)
func TestPublicationOrder(t *testing.T) {
	const perWriter = 40
	ctx := t.Context()
	dir := t.TempDir()
	server := openTest(t, dir, Options{WatchInterval: time.Millisecond})
	acc, err := server.CreateAccount(ctx, "alice", store.AccountUpdate{})
	if err != nil {
		t.Fatal(err)
	}
	other := openTest(t, dir, Options{})
	watched := openFixture(t, server, acc)
	writers := []fixture{openFixture(t, server, acc), openFixture(t, server, acc), openFixture(t, other, acc), openFixture(t, other, acc)}
	var wg sync.WaitGroup
	errs := make([]error, len(writers))
	for i, w := range writers {
		wg.Go(func() {
			for range perWriter {
				_, err := w.ss.Append(ctx, w.inbox.ID, store.AppendRequest{Content: strings.NewReader(testMessage("ordered", 0))})
				if err != nil {
					errs[i] = err
					return
				}
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("writer %d: %v", i, err)
		}
	}
	var uids []store.UID
	waitUntil(t, watched.ss, func(c store.Change) bool {
		if add, ok := c.(store.ChangeAdd); ok && add.Mailbox == watched.inbox.ID {
			if n := len(uids); n > 0 && add.Info.UID <= uids[n-1] {
				t.Errorf("ChangeAdd of UID %d after UID %d", add.Info.UID, uids[n-1])
			}
			uids = append(uids, add.Info.UID)
		}
		return len(uids) >= len(writers)*perWriter
	})
}
