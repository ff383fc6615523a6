package sqlite

import (
	"fmt"
	"testing"

	"github.com/postern/postern/internal/store"
)

// undoPreview takes an index back from version previewVersion.
const undoPreview = undoThread + `; ALTER TABLE content DROP COLUMN preview`

// TestMigratePreview: schema version 21 adds content.preview. A message
// stored before it has no kept preview (Previews leaves it out) until
// KeepPreviews keeps one; one stored after has it from its append.
func TestMigratePreview(t *testing.T) {
	ctx := t.Context()
	dir, st, acc, f := newAliceIndex(t)
	before := f.append(t, "before").UID
	f.ss.Close()
	st.Close()
	downgradeIndex(t, dir, fmt.Sprintf(undoPreview+`; PRAGMA user_version = %d`, previewVersion-1))
	st = openTest(t, dir, Options{})
	f = openFixture(t, st, acc)
	after := f.append(t, "after").UID
	pk := f.ss.(store.PreviewKeeper)
	got, err := pk.Previews(ctx, f.inbox.ID, []store.UID{before, after})
	if _, ok := got[before]; err != nil || ok || got[after] == "" {
		t.Fatalf("Previews after migration = %v, %v; want UID %d absent, UID %d set", got, err, before, after)
	}
	if err := pk.KeepPreviews(ctx, f.inbox.ID, map[store.UID]string{before: "kept later"}); err != nil {
		t.Fatal(err)
	}
	got, err = pk.Previews(ctx, f.inbox.ID, []store.UID{before})
	if err != nil || got[before] != "kept later" {
		t.Errorf("Previews after KeepPreviews = %v, %v; want the kept one", got, err)
	}
}
