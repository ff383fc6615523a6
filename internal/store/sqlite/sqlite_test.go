package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/postern/postern/internal/message"

	"github.com/postern/postern/internal/store"
	"github.com/postern/postern/internal/store/storetest"
)

// testOptions returns deterministic options: a fixed clock and a counter
// for UIDVALIDITY (mox's mockUIDValidity).
func testOptions() Options {
	var uidValidity atomic.Uint32
	uidValidity.Store(1000)
	return Options{
		Clock:       func() time.Time { return time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC) },
		UIDValidity: func() uint32 { return uidValidity.Add(1) },
	}
}

func openTest(t testing.TB, dir string, opts Options) *Store {
	t.Helper()
	st, err := Open(t.Context(), dir, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return openTest(t, t.TempDir(), testOptions())
	})
}

// TestConformanceSnapshots runs the suite with every mailbox's message
// list kept between reads (snapshot.go), so that each change the suite
// makes is read back through a snapshot brought up to date.
func TestConformanceSnapshots(t *testing.T) {
	if testing.Short() {
		t.Skip("the conformance suite a second time")
	}
	storetest.Run(t, func(t *testing.T) store.Store {
		o := testOptions()
		o.SnapshotMin = 1
		return openTest(t, t.TempDir(), o)
	})
}

// fixture is a store with one account and a session on it.
type fixture struct {
	st    *Store
	ss    store.Session
	acc   store.Account
	inbox store.Mailbox
}

func newFixture(t testing.TB, dir string, opts Options) fixture {
	t.Helper()
	st := openTest(t, dir, opts)
	acc, err := st.CreateAccount(t.Context(), "alice", store.AccountUpdate{})
	if err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	return openFixture(t, st, acc)
}

func openFixture(t testing.TB, st *Store, acc store.Account) fixture {
	t.Helper()
	ss, err := st.Open(t.Context(), acc.ID)
	if err != nil {
		t.Fatalf("Open session: %v", err)
	}
	t.Cleanup(func() { ss.Close() })
	inbox, err := ss.Mailbox(t.Context(), "INBOX")
	if err != nil {
		t.Fatalf("Mailbox: %v", err)
	}
	return fixture{st, ss, acc, inbox}
}

func (f fixture) append(t testing.TB, subject string) store.AppendResult {
	t.Helper()
	res, err := f.ss.Append(t.Context(), f.inbox.ID, store.AppendRequest{Content: strings.NewReader(testMessage(subject, 0))})
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	return res[0]
}

// testMessage returns a message with a body of about size octets.
func testMessage(subject string, size int) string {
	var b strings.Builder
	b.WriteString("From: Alice <alice@example.org>\r\nTo: bob@example.org\r\nSubject: " + subject + "\r\nMessage-ID: <x@example.org>\r\n\r\n")
	line := strings.Repeat("abcdefghij", 7) + "\r\n"
	for b.Len() < size {
		b.WriteString(line)
	}
	b.WriteString("end\r\n")
	return b.String()
}

// files lists the regular files under dir.
func files(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			out = append(out, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestCrashRecovery(t *testing.T) {
	dir := t.TempDir()
	f := newFixture(t, dir, testOptions())
	r := f.append(t, "kept")

	// What a crash leaves: a half-written spool file, and a content file
	// renamed into place whose transaction never committed. While another
	// store (process) has the directory open, Open must not touch them:
	// they could be that store's appends in flight.
	spool := filepath.Join(dir, spoolDir, "append-123")
	orphan := filepath.Join(dir, contentDir, "ab", "ab"+strings.Repeat("0", 30))
	stray := filepath.Join(dir, contentDir, "ab", "README") // not ours: left alone
	for _, p := range []string{spool, orphan, stray} {
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	st2 := openTest(t, dir, testOptions())
	for _, p := range []string{spool, orphan} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s removed while another store had the directory open: %v", p, err)
		}
	}
	// Nor Reclaim, while they are young.
	if n, err := st2.Reclaim(t.Context()); err != nil || n != 0 {
		t.Errorf("Reclaim = %d, %v; want 0 for young orphans", n, err)
	}
	st2.Close()
	f.ss.Close()
	f.st.Close()

	// Alone, Open removes them.
	st3 := openTest(t, dir, testOptions())
	for _, p := range []string{spool, orphan} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s survived recovery: %v", p, err)
		}
	}
	if _, err := os.Stat(stray); err != nil {
		t.Errorf("recovery removed a file that is not content: %v", err)
	}
	acc, err := st3.Account(t.Context(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	f3 := openFixture(t, st3, acc)
	c, err := f3.ss.OpenContent(t.Context(), f3.inbox.ID, r.UID)
	if err != nil {
		t.Fatalf("OpenContent of the committed message after recovery: %v", err)
	}
	c.Close()

	// Old orphans are Reclaim's too.
	old := time.Now().Add(-2 * orphanGrace)
	for _, p := range []string{spool, orphan} {
		os.WriteFile(p, []byte("partial"), 0o600)
		os.Chtimes(p, old, old)
	}
	if n, err := st3.Reclaim(t.Context()); err != nil || n != 2 {
		t.Errorf("Reclaim = %d, %v; want 2 old orphans", n, err)
	}
}

func TestFailedAppendLeavesNoFiles(t *testing.T) {
	dir := t.TempDir()
	f := newFixture(t, dir, testOptions())
	ctx := t.Context()
	big := store.AppendRequest{Content: strings.NewReader(testMessage("big", 100000)), MaxSize: 50000}
	_, err := f.ss.Append(ctx, f.inbox.ID, big)
	if !errors.Is(err, store.ErrTooBig) {
		t.Fatalf("Append = %v, want ErrTooBig", err)
	}
	// A duplicate key inside one multi-append is found in the
	// transaction, after both contents were written.
	dup := func() store.AppendRequest {
		return store.AppendRequest{Content: strings.NewReader(testMessage("dup", 0)), ImportKey: "k"}
	}
	_, err = f.ss.Append(ctx, f.inbox.ID, dup(), dup())
	if !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("Append = %v, want ErrDuplicate", err)
	}
	_, err = f.ss.Append(ctx, f.inbox.ID, store.AppendRequest{Content: strings.NewReader("not a header line\r\n")})
	if !errors.Is(err, message.ErrMalformed) {
		t.Fatalf("Append of a non-message = %v, want message.ErrMalformed", err)
	}
	for _, sub := range []string{spoolDir, contentDir} {
		if fs := files(t, filepath.Join(dir, sub)); len(fs) != 0 {
			t.Errorf("files left in %s: %q", sub, fs)
		}
	}
}

func TestPermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	f := newFixture(t, dir, testOptions())
	f.append(t, "private")
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		}
		if info.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", path, info.Mode().Perm(), want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestPersistence(t *testing.T) {
	dir := t.TempDir()
	ctx := t.Context()
	f := newFixture(t, dir, testOptions())
	uids := []store.UID{f.append(t, "1").UID, f.append(t, "2").UID, f.append(t, "3").UID}
	f.ss.StoreFlags(ctx, f.inbox.ID, uids[:1], store.FlagRequest{Op: store.FlagsAdd, Flags: store.Flags{`\Seen`, "$Work"}})
	if _, err := f.ss.Expunge(ctx, f.inbox.ID, uids[2:]); err != nil {
		t.Fatal(err)
	}
	before, _ := f.ss.Status(ctx, f.inbox.ID)
	beforeMsgs, _ := f.ss.Messages(ctx, f.inbox.ID)
	f.ss.Close()
	f.st.Close()

	st := openTest(t, dir, Options{}) // default UIDVALIDITY source
	acc, err := st.Account(ctx, "ALICE")
	if err != nil {
		t.Fatal(err)
	}
	f = openFixture(t, st, acc)
	after, _ := f.ss.Status(ctx, f.inbox.ID)
	if after.Mailbox != before.Mailbox || after.Messages != 2 || after.Unseen != 1 {
		t.Errorf("status after reopen %+v, before %+v", after, before)
	}
	afterMsgs, _ := f.ss.Messages(ctx, f.inbox.ID)
	if len(afterMsgs) != len(beforeMsgs) {
		t.Fatalf("messages after reopen %+v, before %+v", afterMsgs, beforeMsgs)
	}
	for i := range afterMsgs {
		a, b := afterMsgs[i], beforeMsgs[i]
		if a.UID != b.UID || a.ModSeq != b.ModSeq || a.EmailID != b.EmailID || !slices.Equal(a.Flags, b.Flags) || !a.InternalDate.Equal(b.InternalDate) {
			t.Errorf("message %d after reopen %+v, before %+v", i, a, b)
		}
	}
	r := f.append(t, "4")
	if r.UID != 4 || r.ModSeq <= before.HighestModSeq || r.UIDValidity != before.UIDValidity {
		t.Errorf("append after reopen %+v; want UID 4 above MODSEQ %d", r, before.HighestModSeq)
	}
	// The default UIDVALIDITY source never repeats, even within a second.
	var last uint32
	for i := range 3 {
		mb, err := f.ss.CreateMailbox(ctx, fmt.Sprintf("box%d", i), "")
		if err != nil {
			t.Fatal(err)
		}
		if mb.UIDValidity <= last {
			t.Errorf("UIDVALIDITY %d after %d", mb.UIDValidity, last)
		}
		last = mb.UIDValidity
	}
}

func TestSchemaVersion(t *testing.T) {
	dir := t.TempDir()
	f := newFixture(t, dir, testOptions())
	var v int
	if err := f.st.wdb.QueryRowContext(t.Context(), "PRAGMA user_version").Scan(&v); err != nil || v != len(migrations) {
		t.Errorf("user_version %d, %v; want %d", v, err, len(migrations))
	}
	f.ss.Close()
	f.st.Close()
	// A newer program's index is refused rather than misread.
	db, err := sql.Open("sqlite", filepath.Join(dir, indexFile))
	if err != nil {
		t.Fatal(err)
	}
	db.Exec(fmt.Sprintf("PRAGMA user_version = %d", len(migrations)+1))
	db.Close()
	if st, err := Open(t.Context(), dir, Options{}); err == nil {
		st.Close()
		t.Errorf("Open of a newer schema succeeded")
	}
}

func TestDeleteReleasesContent(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t, t.TempDir(), testOptions())
	box, err := f.ss.CreateMailbox(ctx, "Box", "")
	if err != nil {
		t.Fatal(err)
	}
	f.append(t, "a")
	if _, err := f.ss.Copy(ctx, f.inbox.ID, []store.UID{1}, box.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.ss.Append(ctx, box.ID, store.AppendRequest{Content: strings.NewReader(testMessage("b", 0))}); err != nil {
		t.Fatal(err)
	}
	if err := f.ss.DeleteMailbox(ctx, "Box"); err != nil {
		t.Fatal(err)
	}
	if n, err := f.st.Reclaim(ctx); err != nil || n != 1 {
		t.Errorf("Reclaim after DeleteMailbox = %d, %v; want 1 (b; a is still in INBOX)", n, err)
	}
	if err := f.st.DeleteAccount(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if n, err := f.st.Reclaim(ctx); err != nil || n != 1 {
		t.Errorf("Reclaim after DeleteAccount = %d, %v; want 1", n, err)
	}
}

// TestWatch runs two Stores on one directory, as postern serve and
// postern deliver do: what one commits, the other's watcher publishes.
func TestWatch(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	server := openTest(t, dir, Options{WatchInterval: 5 * time.Millisecond})
	acc, err := server.CreateAccount(ctx, "alice", store.AccountUpdate{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = server.CreateAccount(ctx, "bob", store.AccountUpdate{})
	if err != nil {
		t.Fatal(err)
	}
	deliver := openTest(t, dir, Options{})
	watched := openFixture(t, server, acc)
	peer := openFixture(t, server, acc) // a second session in the server
	bobAcc, _ := server.Account(ctx, "bob")
	bob := openFixture(t, server, bobAcc)
	remote := openFixture(t, deliver, acc)

	r := remote.append(t, "delivered")
	add := waitChange[store.ChangeAdd](t, watched.ss)
	if add.Mailbox != watched.inbox.ID || add.Info.UID != r.UID || add.Info.EmailID != r.EmailID || add.Info.ModSeq != r.ModSeq {
		t.Errorf("ChangeAdd %+v, want %+v", add, r)
	}
	fr, err := remote.ss.StoreFlags(ctx, remote.inbox.ID, []store.UID{r.UID}, store.FlagRequest{Op: store.FlagsAdd, Flags: store.Flags{`\Seen`}})
	if err != nil || len(fr.Changed) != 1 {
		t.Fatalf("StoreFlags = %+v, %v", fr, err)
	}
	fl := waitChange[store.ChangeFlags](t, watched.ss)
	if fl.UID != r.UID || fl.ModSeq != fr.Changed[0].ModSeq || !slices.Equal(fl.Flags, store.Flags{`\Seen`}) {
		t.Errorf("ChangeFlags %+v", fl)
	}
	if _, err := remote.ss.Expunge(ctx, remote.inbox.ID, []store.UID{r.UID}); err != nil {
		t.Fatal(err)
	}
	ex := waitChange[store.ChangeExpunge](t, watched.ss)
	if !slices.Equal(ex.UIDs, []store.UID{r.UID}) || ex.Mailbox != watched.inbox.ID {
		t.Errorf("ChangeExpunge %+v", ex)
	}
	mb, err := remote.ss.CreateMailbox(ctx, "Lists", "")
	if err != nil {
		t.Fatal(err)
	}
	if m := waitChange[store.ChangeMailbox](t, watched.ss); m.Kind != store.MailboxCreated || m.ID != mb.ID || m.Name != "Lists" {
		t.Errorf("ChangeMailbox %+v", m)
	}
	remote.ss.RenameMailbox(ctx, "Lists", "Lists2")
	if m := waitChange[store.ChangeMailbox](t, watched.ss); m.Kind != store.MailboxRenamed || m.Name != "Lists2" || m.OldName != "Lists" {
		t.Errorf("rename ChangeMailbox %+v", m)
	}
	remote.ss.DeleteMailbox(ctx, "Lists2")
	if m := waitChange[store.ChangeMailbox](t, watched.ss); m.Kind != store.MailboxDeleted || m.ID != mb.ID {
		t.Errorf("delete ChangeMailbox %+v", m)
	}

	// The server's own change reaches its other session once, directly,
	// and never comes back through the watcher; nor does bob hear of it.
	// (Both sessions have had every change so far: one Publish feeds all.)
	peer.ss.Changes().Take()
	watched.ss.Changes().Take()
	own := watched.append(t, "own")
	remote.append(t, "marker")
	var adds []store.ChangeAdd
	waitUntil(t, peer.ss, func(c store.Change) bool {
		if a, ok := c.(store.ChangeAdd); ok {
			adds = append(adds, a)
			return a.Info.UID != own.UID
		}
		return false
	})
	if len(adds) != 2 || adds[0].Info.UID != own.UID {
		t.Errorf("peer got adds %+v; want the own one once, then the marker", adds)
	}
	for _, c := range watched.ss.Changes().Take() {
		if a, ok := c.(store.ChangeAdd); ok && a.Info.UID == own.UID {
			t.Errorf("the originating session got its own change back: %+v", a)
		}
	}
	if chs := bob.ss.Changes().Take(); len(chs) != 0 {
		t.Errorf("another account's session got %#v", chs)
	}
}

// waitChange waits for the session's next change of type C, skipping others.
func waitChange[C store.Change](t *testing.T, ss store.Session) C {
	t.Helper()
	var got C
	waitUntil(t, ss, func(c store.Change) bool {
		x, ok := c.(C)
		if ok {
			got = x
		}
		return ok
	})
	return got
}

// waitUntil feeds the session's changes to match until it returns true.
func waitUntil(t *testing.T, ss store.Session, match func(store.Change) bool) {
	t.Helper()
	timer := time.NewTimer(10 * time.Second)
	defer timer.Stop()
	sub := ss.Changes()
	var pending []store.Change
	for {
		for len(pending) > 0 {
			c := pending[0]
			pending = pending[1:]
			if match(c) {
				return
			}
		}
		select {
		case <-sub.Ready():
			pending = sub.Take()
		case <-timer.C:
			t.Fatalf("timed out waiting for a change")
		}
	}
}
