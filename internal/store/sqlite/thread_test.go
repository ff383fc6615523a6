package sqlite

import (
	"fmt"
	"strings"
	"testing"

	"github.com/postern/postern/internal/store"
)

// undoThread takes an index back from version threadVersion.
const undoThread = `DROP TABLE thread_key; ALTER TABLE message DROP COLUMN thread`

// TestMigrateThreads: schema version 22 adds message.thread and
// thread_key. A message stored before it has no thread (0: THREADID NIL)
// and is no key: a reply to it stored after begins a thread of its own.
func TestMigrateThreads(t *testing.T) {
	ctx := t.Context()
	dir, st, acc, f := newAliceIndex(t)
	before := f.append(t, "before").UID // Message-ID: <x@example.org>
	f.ss.Close()
	st.Close()
	downgradeIndex(t, dir, fmt.Sprintf(undoThread+`; PRAGMA user_version = %d`, threadVersion-1))
	st = openTest(t, dir, Options{})
	f = openFixture(t, st, acc)
	res, err := f.ss.Append(ctx, f.inbox.ID, store.AppendRequest{Content: strings.NewReader(
		"From: a@example.org\r\nSubject: Re: before\r\nIn-Reply-To: <x@example.org>\r\n\r\nreply\r\n")})
	if err != nil {
		t.Fatal(err)
	}
	after := res[0]
	got, err := f.ss.(store.ThreadKeeper).ThreadIDs(ctx, f.inbox.ID, nil)
	if err != nil || len(got) != 2 || got[before] != 0 || got[after.UID] != store.ThreadID(after.EmailID) {
		t.Errorf("ThreadIDs after migration = %v, %v; want UID %d 0, UID %d %d", got, err, before, after.UID, after.EmailID)
	}
}
