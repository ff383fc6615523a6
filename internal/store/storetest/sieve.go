package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/postern/postern/internal/store"
)

// testSieve: scripts are per account, names case-sensitive, one active
// at most; the active one cannot be deleted; rename keeps the active
// state and refuses a taken name; put keeps the active state.
func testSieve(t *testing.T, st store.Store) {
	ctx := t.Context()
	sk, ok := st.(store.SieveKeeper)
	if !ok {
		t.Skip("store does not implement store.SieveKeeper")
	}
	alice, _ := account(t, st, "alice")
	bob, _ := account(t, st, "bob")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(sk.PutSieveScript(ctx, alice.ID, "main", "keep;"))
	must(sk.PutSieveScript(ctx, alice.ID, "Main", "discard;"))
	must(sk.PutSieveScript(ctx, bob.ID, "main", "stop;"))
	if _, _, err := sk.ActiveSieveScript(ctx, alice.ID); !errors.Is(err, store.ErrNoSuchScript) {
		t.Fatalf("active before SETACTIVE: %v", err)
	}
	must(sk.SetActiveSieveScript(ctx, alice.ID, "main"))
	must(sk.PutSieveScript(ctx, alice.ID, "main", "keep; stop;"))
	name, content, err := sk.ActiveSieveScript(ctx, alice.ID)
	if err != nil || name != "main" || content != "keep; stop;" {
		t.Fatalf("active = %q %q %v", name, content, err)
	}
	if _, _, err := sk.ActiveSieveScript(ctx, bob.ID); !errors.Is(err, store.ErrNoSuchScript) {
		t.Errorf("bob's active script: %v (alice's leaked?)", err)
	}
	list, err := sk.SieveScripts(ctx, alice.ID)
	must(err)
	want := []store.SieveScriptInfo{{Name: "Main", Size: 8, Active: false}, {Name: "main", Size: 11, Active: true}}
	if len(list) != 2 || list[0] != want[0] || list[1] != want[1] {
		t.Errorf("list = %+v, want %+v", list, want)
	}
	if err := sk.DeleteSieveScript(ctx, alice.ID, "main"); !errors.Is(err, store.ErrScriptActive) {
		t.Errorf("delete active: %v", err)
	}
	if err := sk.RenameSieveScript(ctx, alice.ID, "main", "Main"); !errors.Is(err, store.ErrScriptExists) {
		t.Errorf("rename onto a taken name: %v", err)
	}
	must(sk.RenameSieveScript(ctx, alice.ID, "main", "renamed"))
	if name, _, err := sk.ActiveSieveScript(ctx, alice.ID); err != nil || name != "renamed" {
		t.Errorf("active after rename = %q %v", name, err)
	}
	must(sk.SetActiveSieveScript(ctx, alice.ID, "Main"))
	if _, active, _ := sk.SieveScript(ctx, alice.ID, "renamed"); active {
		t.Error("two active scripts")
	}
	if err := sk.SetActiveSieveScript(ctx, alice.ID, "nope"); !errors.Is(err, store.ErrNoSuchScript) {
		t.Errorf("activate missing: %v", err)
	}
	must(sk.SetActiveSieveScript(ctx, alice.ID, ""))
	must(sk.DeleteSieveScript(ctx, alice.ID, "Main"))
	if _, _, err := sk.SieveScript(ctx, alice.ID, "Main"); !errors.Is(err, store.ErrNoSuchScript) {
		t.Errorf("get deleted: %v", err)
	}
	if err := sk.DeleteSieveScript(ctx, alice.ID, "Main"); !errors.Is(err, store.ErrNoSuchScript) {
		t.Errorf("delete twice: %v", err)
	}
	if err := sk.RenameSieveScript(ctx, alice.ID, "Main", "x"); !errors.Is(err, store.ErrNoSuchScript) {
		t.Errorf("rename missing: %v", err)
	}
}

// testVacationDue: one response per key per period, per account.
func testVacationDue(t *testing.T, st store.Store) {
	ctx := t.Context()
	sk, ok := st.(store.SieveKeeper)
	if !ok {
		t.Skip("store does not implement store.SieveKeeper")
	}
	alice, _ := account(t, st, "alice")
	bob, _ := account(t, st, "bob")
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	week := 7 * 24 * time.Hour
	steps := []struct {
		acc  store.AccountID
		key  string
		at   time.Time
		want bool
	}{
		{alice.ID, "a@x h", t0, true},
		{alice.ID, "a@x h", t0.Add(time.Hour), false},
		{alice.ID, "a@x h2", t0.Add(time.Hour), true},
		{bob.ID, "a@x h", t0.Add(time.Hour), true},
		{alice.ID, "a@x h", t0.Add(week - time.Second), false},
		{alice.ID, "a@x h", t0.Add(week), true},
		{alice.ID, "a@x h", t0.Add(week + time.Hour), false},
	}
	for i, s := range steps {
		got, err := sk.VacationDue(ctx, s.acc, s.key, s.at, week)
		if err != nil || got != s.want {
			t.Errorf("step %d: VacationDue = %v, %v; want %v", i, got, err, s.want)
		}
	}
}
