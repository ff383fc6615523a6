package sqlite

import (
	"database/sql"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/internal/store"
)

// wholeList reads a mailbox's list without the snapshots: the authority
// Messages must agree with.
func wholeList(t *testing.T, st *Store, id store.MailboxID) []store.MessageInfo {
	t.Helper()
	var out []store.MessageInfo
	err := st.read(t.Context(), func(tx *sql.Tx) error {
		var err error
		out, err = readInfos(t.Context(), tx, `SELECT `+infoColumns+` FROM message m WHERE m.mailbox = ? ORDER BY m.uid`, 0, id)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// countList returns what STATUS counts of list: messages, unseen,
// deleted, size, recent, deleted size.
func countList(t *testing.T, st *Store, id store.MailboxID, list []store.MessageInfo) [6]int64 {
	t.Helper()
	var first store.UID
	if err := st.rdb.QueryRowContext(t.Context(), `SELECT first_recent FROM mailbox WHERE id = ?`, id).Scan(&first); err != nil {
		t.Fatal(err)
	}
	var c [6]int64
	for _, in := range list {
		c[0]++
		c[3] += in.Size
		if !in.Flags.Has(store.FlagSeen) {
			c[1]++
		}
		if in.Flags.Has(store.FlagDeleted) {
			c[2]++
			c[5] += in.Size
		}
		if in.UID >= first {
			c[4]++
		}
	}
	return c
}

// TestMessagesSnapshot changes a mailbox every way a message list can
// change, from another session, and checks after each change that
// Messages (answered from the snapshot brought up to date) equals the
// list read whole, and that the snapshot followed.
func TestMessagesSnapshot(t *testing.T) {
	o := testOptions()
	o.SnapshotMin = 1
	var now time.Time = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	o.Clock = func() time.Time { return now }
	f := newFixture(t, t.TempDir(), o)
	other := openFixture(t, f.st, f.acc)
	ctx := t.Context()
	for range 5 {
		f.append(t, "m")
	}
	mail, err := f.ss.Mailbox(ctx, store.MailboxMail)
	if err != nil {
		t.Fatal(err)
	}
	check := func(step string, id store.MailboxID) {
		t.Helper()
		got, err := f.ss.Messages(ctx, id)
		if err != nil {
			t.Fatalf("%s: Messages: %v", step, err)
		}
		want := wholeList(t, f.st, id)
		if !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Fatalf("%s: Messages = %v\nwant %v", step, got, want)
		}
		st, err := f.ss.Status(ctx, id)
		if err != nil {
			t.Fatalf("%s: Status: %v", step, err)
		}
		if c := countList(t, f.st, id, want); c != [6]int64{int64(st.Messages), int64(st.Unseen), int64(st.Deleted), st.Size, int64(st.Recent), st.DeletedSize} {
			t.Fatalf("%s: Status = %+v, want counts %v", step, st, c)
		}
		if len(want) > 0 {
			snap := f.st.snaps.get(id)
			if snap == nil || !reflect.DeepEqual(snap.infos, want) {
				t.Fatalf("%s: the snapshot did not follow the mailbox", step)
			}
		}
	}
	check("first read", f.inbox.ID)
	check("unchanged", f.inbox.ID)

	steps := []struct {
		name string
		do   func() error
	}{
		{"append", func() error { other.append(t, "new"); return nil }},
		{"flags", func() error {
			_, err := other.ss.StoreFlags(ctx, f.inbox.ID, []store.UID{2, 4}, store.FlagRequest{Op: store.FlagsAdd, Flags: store.Flags{store.FlagSeen, "$Work"}})
			return err
		}},
		{"deleted", func() error {
			_, err := other.ss.StoreFlags(ctx, f.inbox.ID, []store.UID{4, 5}, store.FlagRequest{Op: store.FlagsAdd, Flags: store.Flags{store.FlagDeleted}})
			return err
		}},
		{"recent claimed", func() error { _, err := other.ss.ClaimRecent(ctx, f.inbox.ID); return err }},
		{"expunge", func() error { _, err := other.ss.Expunge(ctx, f.inbox.ID, []store.UID{3}); return err }},
		{"move out", func() error { _, err := other.ss.Move(ctx, f.inbox.ID, []store.UID{1}, mail.ID); return err }},
		{"copy in", func() error { _, err := other.ss.Copy(ctx, mail.ID, []store.UID{1}, f.inbox.ID); return err }},
		{"flags and expunge", func() error {
			if _, err := other.ss.StoreFlags(ctx, f.inbox.ID, []store.UID{5}, store.FlagRequest{Op: store.FlagsReplace}); err != nil {
				return err
			}
			_, err := other.ss.Expunge(ctx, f.inbox.ID, []store.UID{2})
			return err
		}},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		check(s.name, f.inbox.ID)
		check(s.name+" (Mail)", mail.ID)
	}

	// An expunge the log no longer holds: the snapshot is older than the
	// expunge floor, and the list is read whole.
	other.append(t, "pruned")
	if _, err := other.ss.Expunge(ctx, f.inbox.ID, []store.UID{4}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Hour)
	if _, err := f.st.PruneExpunged(ctx, now); err != nil {
		t.Fatal(err)
	}
	check("after the log was pruned", f.inbox.ID)

	// Renaming INBOX takes its messages away without an expunge entry:
	// the count disagrees and the list is read whole.
	if err := other.ss.RenameMailbox(ctx, "INBOX", "Old"); err != nil {
		t.Fatal(err)
	}
	check("INBOX renamed", f.inbox.ID)
	other.append(t, "after rename")
	check("INBOX renamed, then a delivery", f.inbox.ID)
}

// TestSnapshotsBudget checks that the snapshots keep to their budget,
// dropping the least recently used mailbox first.
func TestSnapshotsBudget(t *testing.T) {
	sn := snapshots{min: 1}
	list := func(n int) []store.MessageInfo { return make([]store.MessageInfo, n) }
	sn.put(1, &snapshot{infos: list(snapshotBudget / 2)})
	sn.put(2, &snapshot{infos: list(snapshotBudget / 2)})
	sn.get(1) // 2 is now the least recently used
	sn.put(3, &snapshot{infos: list(10)})
	if sn.boxes[2] != nil || sn.boxes[1] == nil || sn.boxes[3] == nil {
		t.Errorf("kept %v, want 1 and 3", keys(sn.boxes))
	}
	if sn.held != snapshotBudget/2+10 {
		t.Errorf("held = %d", sn.held)
	}
	sn.put(1, &snapshot{infos: nil}) // emptied: dropped
	if sn.boxes[1] != nil || sn.held != 10 {
		t.Errorf("after emptying 1: kept %v, held %d", keys(sn.boxes), sn.held)
	}
}

func keys(m map[store.MailboxID]*snapshot) string {
	var b strings.Builder
	for k := range m {
		b.WriteString(" " + string(rune('0'+k)))
	}
	return b.String()
}
