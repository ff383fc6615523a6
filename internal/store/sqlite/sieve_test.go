package sqlite

import (
	"context"
	"testing"
	"time"
)

// undoSieve takes schema version 13 (Sieve) away; every downgrade to an
// older version starts with it.
const undoSieve = `DROP TABLE sieve_vacation; DROP TABLE sieve_script`

// TestMigrateSieve: version 13 adds the script and vacation tables to an
// existing index, and they work after the upgrade.
func TestMigrateSieve(t *testing.T) {
	ctx := context.Background()
	dir, st, acc, f := newAliceIndex(t)
	f.ss.Close()
	st.Close()
	downgradeIndex(t, dir, undoMetadata+`; DROP TABLE dkim_key; `+undoSieve+`; PRAGMA user_version = 12`)
	st = openTest(t, dir, Options{})
	if err := st.PutSieveScript(ctx, acc.ID, "s", "keep;"); err != nil {
		t.Fatal(err)
	}
	if err := st.SetActiveSieveScript(ctx, acc.ID, "s"); err != nil {
		t.Fatal(err)
	}
	if name, _, err := st.ActiveSieveScript(ctx, acc.ID); err != nil || name != "s" {
		t.Errorf("after migration: active %q, %v", name, err)
	}
	if due, err := st.VacationDue(ctx, acc.ID, "k", time.Now(), time.Hour); err != nil || !due {
		t.Errorf("VacationDue after migration: %v %v", due, err)
	}
}
