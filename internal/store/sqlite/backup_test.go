package sqlite

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/internal/store"
)

// readMessages returns the content of every INBOX message of alice in the
// store at dir, by UID.
func readMessages(t *testing.T, st *Store) map[store.UID]string {
	t.Helper()
	acc, err := st.Account(t.Context(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	f := openFixture(t, st, acc)
	msgs, err := f.ss.Messages(t.Context(), f.inbox.ID)
	if err != nil {
		t.Fatal(err)
	}
	out := map[store.UID]string{}
	for _, m := range msgs {
		c, err := f.ss.OpenContent(t.Context(), f.inbox.ID, m.UID)
		if err != nil {
			t.Fatal(err)
		}
		out[m.UID] = readAll(t, c)
	}
	return out
}

// TestBackupRestore: a backup of a store in use restores to the same
// messages, byte for byte; a second backup copies only new content and
// drops what was reclaimed; a restore refuses a directory with a store.
func TestBackupRestore(t *testing.T) {
	ctx := t.Context()
	data, bak := t.TempDir(), t.TempDir()
	f := newFixture(t, data, testOptions())
	for _, s := range []string{"one", "two", "three"} {
		f.append(t, s)
	}
	var stages []string
	res, err := Backup(ctx, data, bak, func(stage string, done, total int64) {
		if done == total {
			stages = append(stages, stage)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Messages != 3 || res.Files != 3 || res.Copied != 3 || res.Present != 0 || len(stages) == 0 {
		t.Errorf("first backup: %+v, stages %v", res, stages)
	}

	// Second run: one new message, one expunged and reclaimed.
	f.append(t, "four")
	if _, err := f.ss.Expunge(ctx, f.inbox.ID, []store.UID{1}); err != nil {
		t.Fatal(err)
	}
	if n, err := f.st.Reclaim(ctx); err != nil || n != 1 {
		t.Fatalf("Reclaim = %d, %v", n, err)
	}
	res, err = Backup(ctx, data, bak, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Messages != 3 || res.Copied != 1 || res.Present != 2 || res.Removed != 1 {
		t.Errorf("second backup: %+v; want 1 copied, 2 present, 1 removed", res)
	}

	want := readMessages(t, f.st)
	restored := t.TempDir()
	rr, err := Restore(ctx, bak, restored, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rr.Messages != 3 || rr.Files != 3 {
		t.Errorf("restore: %+v", rr)
	}
	rep, err := Verify(ctx, restored, false, nil)
	if err != nil || !rep.OK() {
		t.Fatalf("verify after restore: %+v, %v", rep, err)
	}
	st2 := openTest(t, restored, testOptions())
	got := readMessages(t, st2)
	if len(got) != len(want) {
		t.Fatalf("restored %d messages, want %d", len(got), len(want))
	}
	for uid, body := range want {
		if got[uid] != body {
			t.Errorf("UID %d differs after restore", uid)
		}
	}
	if _, err := Restore(ctx, bak, restored, nil); err == nil || !strings.Contains(err.Error(), "already holds a store") {
		t.Errorf("restore over a store: %v", err)
	}

	// A damaged backup restores nothing.
	damaged := files(t, filepath.Join(bak, contentDir))[0]
	if err := os.WriteFile(damaged, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := t.TempDir()
	if _, err := Restore(ctx, bak, empty, nil); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Errorf("restore of a damaged backup: %v", err)
	}
	if _, err := os.Stat(filepath.Join(empty, indexFile)); err == nil {
		t.Error("a failed restore left an index")
	}
}

// TestReclaimWaitsForBackup: while a backup (or verify) holds the reclaim
// lock, Reclaim removes nothing.
func TestReclaimWaitsForBackup(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	f := newFixture(t, dir, testOptions())
	f.append(t, "a")
	if _, err := f.ss.Expunge(ctx, f.inbox.ID, []store.UID{1}); err != nil {
		t.Fatal(err)
	}
	unlock, err := lockReclaim(dir, 1 /* LOCK_SH */)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := f.st.Reclaim(ctx); err != nil || n != 0 {
		t.Errorf("Reclaim during a backup = %d, %v; want 0", n, err)
	}
	unlock()
	if n, err := f.st.Reclaim(ctx); err != nil || n != 1 {
		t.Errorf("Reclaim after the backup = %d, %v; want 1", n, err)
	}
}

// TestVerify: missing, corrupt and orphan files and broken invariants are
// found; a repair fixes what it can without loss and moves orphans aside.
func TestVerify(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	f := newFixture(t, dir, testOptions())
	for _, s := range []string{"a", "b", "c"} {
		f.append(t, s)
	}
	rep, err := Verify(ctx, dir, false, nil)
	if err != nil || !rep.OK() || rep.Files != 3 || rep.Messages != 3 {
		t.Fatalf("clean store: %+v, %v", rep, err)
	}
	content := files(t, filepath.Join(dir, contentDir))
	if err := os.Remove(content[0]); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(content[1], []byte("changed"), 0o600); err != nil {
		t.Fatal(err)
	}
	orphan := filepath.Join(dir, contentDir, "ab", "ab"+strings.Repeat("0", 30))
	if err := os.WriteFile(orphan, []byte("lost"), 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	os.Chtimes(orphan, old, old)
	young := filepath.Join(dir, contentDir, "ac", "ac"+strings.Repeat("0", 30))
	if err := os.WriteFile(young, []byte("in flight"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.wdb.ExecContext(ctx, `UPDATE mailbox SET uidnext = 2, highestmodseq = 1 WHERE id = ?`, f.inbox.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.wdb.ExecContext(ctx, `UPDATE content SET refcount = 5 WHERE id = (SELECT min(id) FROM content)`); err != nil {
		t.Fatal(err)
	}
	// Quota usage counters out of step with the messages (schema 5).
	if _, err := f.st.wdb.ExecContext(ctx, `UPDATE mailbox SET used_octets = used_octets + 7 WHERE id = ?`, f.inbox.ID); err != nil {
		t.Fatal(err)
	}
	rep, err = Verify(ctx, dir, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK() || len(rep.Missing) != 1 || len(rep.Corrupt) != 1 || len(rep.Orphans) != 1 || len(rep.Problems) != 4 {
		t.Fatalf("damaged store: missing %v corrupt %v orphans %v problems %q", rep.Missing, rep.Corrupt, rep.Orphans, rep.Problems)
	}
	rep, err = Verify(ctx, dir, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Remaining) != 0 || len(rep.Repaired) != 4 || !rep.OrphansMoved {
		t.Errorf("repair: remaining %q repaired %q orphans moved %v", rep.Remaining, rep.Repaired, rep.OrphansMoved)
	}
	if rep.OK() {
		t.Error("a store with missing and corrupt files is OK after repair")
	}
	if _, err := os.Stat(filepath.Join(dir, lostFoundDir, filepath.Base(orphan))); err != nil {
		t.Errorf("orphan not in lost+found: %v", err)
	}
	if _, err := os.Stat(young); err != nil {
		t.Errorf("a young unreferenced file (an append in flight) was moved: %v", err)
	}
	// The store still works: the next UID is above the old ones.
	if r := f.append(t, "d"); r.UID != 4 {
		t.Errorf("append after repair got UID %d, want 4", r.UID)
	}
}
