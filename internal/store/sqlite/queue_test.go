package sqlite

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/internal/store"
)

// undoQueue undoes schema version 17 (the outbound queue) and every later
// one.
const undoQueue = undoSaveDate + `; DROP TABLE queue_msg`

// TestMigrateQueue: schema version 17 adds the outbound queue; an index
// from before it has an empty queue that takes a message after the
// upgrade.
func TestMigrateQueue(t *testing.T) {
	ctx := context.Background()
	dir, st, _, f := newAliceIndex(t)
	f.ss.Close()
	st.Close()
	downgradeIndex(t, dir, undoQueue+`; PRAGMA user_version = 16`)
	st = openTest(t, dir, Options{})
	if list, err := st.QueueList(ctx); err != nil || len(list) != 0 {
		t.Fatalf("QueueList after migration = %v, %v; want none", list, err)
	}
	now := time.Now()
	if err := st.QueueAdd(ctx, store.QueuedMessage{ID: "q1", Created: now, NextAttempt: now, Envelope: []byte("{}")}, strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	if list, err := st.QueueList(ctx); err != nil || len(list) != 1 || list[0].Size != 1 {
		t.Fatalf("QueueList = %+v, %v", list, err)
	}
}
