package storetest

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/internal/store"
)

func testAccountCRUD(t *testing.T, st store.Store) {
	ctx := t.Context()
	hash := "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"
	expires := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	yes := true
	acc, err := st.CreateAccount(ctx, "Alice", store.AccountUpdate{PasswordHash: &hash, Admin: &yes, Expires: &expires})
	if err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	if acc.Name != "alice" || acc.PasswordHash != hash || !acc.Admin || !acc.Expires.Equal(expires) || acc.Created.IsZero() {
		t.Errorf("created account %+v", acc)
	}
	_, err = st.CreateAccount(ctx, "ALICE", store.AccountUpdate{})
	wantErr(t, "CreateAccount of a taken name", err, store.ErrAccountExists)
	if _, err := st.CreateAccount(ctx, "bob", store.AccountUpdate{}); err != nil {
		t.Fatalf("CreateAccount(bob): %v", err)
	}

	got, err := st.Account(ctx, "ALICE")
	if err != nil || got.ID != acc.ID {
		t.Errorf("Account(ALICE) = %+v, %v; want id %d", got, err, acc.ID)
	}
	_, err = st.Account(ctx, "carol")
	wantErr(t, "Account(carol)", err, store.ErrNoSuchAccount)

	accs, err := st.Accounts(ctx)
	if err != nil || len(accs) != 2 || accs[0].Name != "alice" || accs[1].Name != "bob" {
		t.Errorf("Accounts = %+v, %v; want alice, bob", accs, err)
	}

	secret := "apop"
	scram := store.SCRAMCredentials{Salt: []byte("salt"), Iterations: 4096, StoredKey: []byte("sk"), ServerKey: []byte("srv")}
	never := time.Time{}
	no := false
	up, err := st.UpdateAccount(ctx, "alice", store.AccountUpdate{APOPSecret: &secret, SCRAM: &scram, Disabled: &yes, NoMail: &yes, Admin: &no, Expires: &never})
	if err != nil {
		t.Fatalf("UpdateAccount: %v", err)
	}
	if up.APOPSecret != secret || !up.Disabled || !up.NoMail || up.Admin || !up.Expires.IsZero() || up.PasswordHash != hash ||
		string(up.SCRAM.Salt) != "salt" || up.SCRAM.Iterations != 4096 || string(up.SCRAM.StoredKey) != "sk" || string(up.SCRAM.ServerKey) != "srv" {
		t.Errorf("updated account %+v", up)
	}
	if got, _ := st.Account(ctx, "alice"); got.APOPSecret != secret || !got.Disabled {
		t.Errorf("Account after update = %+v", got)
	}
	_, err = st.UpdateAccount(ctx, "carol", store.AccountUpdate{})
	wantErr(t, "UpdateAccount(carol)", err, store.ErrNoSuchAccount)

	if err := st.DeleteAccount(ctx, "Alice"); err != nil {
		t.Fatalf("DeleteAccount: %v", err)
	}
	_, err = st.Account(ctx, "alice")
	wantErr(t, "Account after delete", err, store.ErrNoSuchAccount)
	_, err = st.Open(ctx, acc.ID)
	wantErr(t, "Open after delete", err, store.ErrNoSuchAccount)
	wantErr(t, "DeleteAccount again", st.DeleteAccount(ctx, "alice"), store.ErrNoSuchAccount)

	// The name is free again, for a new account with fresh mailboxes.
	again, ss := account(t, st, "alice")
	if again.ID == acc.ID {
		t.Errorf("recreated account reuses id %d", acc.ID)
	}
	if n := len(messages(t, ss, mailbox(t, ss, "INBOX").ID)); n != 0 {
		t.Errorf("recreated account's INBOX has %d messages", n)
	}
}

// testAccountSource checks the account source a store account records
// (issue 22): local by default, the one given at creation otherwise, kept
// by updates that do not name it, listed by Accounts.
func testAccountSource(t *testing.T, st store.Store) {
	ctx := t.Context()
	loc, err := st.CreateAccount(ctx, "admin", store.AccountUpdate{})
	if err != nil || loc.Source != store.SourceLocal {
		t.Fatalf("CreateAccount(admin) = source %q, %v; want %q", loc.Source, err, store.SourceLocal)
	}
	ldap := "ldap"
	ext, err := st.CreateAccount(ctx, "bob@example.org", store.AccountUpdate{Source: &ldap})
	if err != nil || ext.Source != "ldap" {
		t.Fatalf("CreateAccount(bob, ldap) = source %q, %v", ext.Source, err)
	}
	yes := true
	up, err := st.UpdateAccount(ctx, "bob@example.org", store.AccountUpdate{Admin: &yes})
	if err != nil || up.Source != "ldap" || !up.Admin {
		t.Errorf("UpdateAccount kept source %q admin %v, %v; want ldap, true", up.Source, up.Admin, err)
	}
	_, err = st.CreateAccount(ctx, "admin", store.AccountUpdate{Source: &ldap})
	wantErr(t, "CreateAccount of a local name for ldap", err, store.ErrAccountExists)
	if got, _ := st.Account(ctx, "admin"); got.Source != store.SourceLocal {
		t.Errorf("admin's source after a refused take-over = %q", got.Source)
	}
	empty := ""
	if _, err := st.CreateAccount(ctx, "carol", store.AccountUpdate{Source: &empty}); err == nil {
		t.Errorf("CreateAccount with an empty source succeeded")
	}
	if _, err := st.Account(ctx, "carol"); !errors.Is(err, store.ErrNoSuchAccount) {
		t.Errorf("carol after a refused create: %v; want no such account", err)
	}
	accs, err := st.Accounts(ctx)
	if err != nil || len(accs) != 2 || accs[0].Source != store.SourceLocal || accs[1].Source != "ldap" {
		t.Errorf("Accounts = %+v, %v", accs, err)
	}
}

func testAccountNameValidation(t *testing.T, st store.Store) {
	for _, name := range []string{"", "-alice", ".x", "al ice", "a+b", "é", strings.Repeat("a", store.MaxAccountNameLength+1),
		"@example.org", "alice@", "alice@-x.org", "alice@ex..org", "alice@ex_ample.org", "a@b@c", "alice@x.org."} {
		_, err := st.CreateAccount(t.Context(), name, store.AccountUpdate{})
		wantErr(t, "CreateAccount("+name+")", err, store.ErrInvalidName)
	}
	for _, name := range []string{"a", "Alice.Smith", "x_1-2", "0day", strings.Repeat("a", store.MaxAccountNameLength),
		"a@example.org", "Alice@Example.NET", "x_1-2@mail-1.example"} {
		acc, err := st.CreateAccount(t.Context(), name, store.AccountUpdate{})
		if err != nil {
			t.Errorf("CreateAccount(%q): %v", name, err)
		} else if acc.Name != strings.ToLower(name) {
			t.Errorf("CreateAccount(%q) name %q, want lower case", name, acc.Name)
		}
	}
}

func testDefaultMailboxes(t *testing.T, st store.Store) {
	_, ss := account(t, st, "alice")
	mbs, err := ss.Mailboxes(t.Context())
	if err != nil {
		t.Fatalf("Mailboxes: %v", err)
	}
	if len(mbs) != len(store.DefaultMailboxes) {
		t.Fatalf("%d mailboxes, want %d: %+v", len(mbs), len(store.DefaultMailboxes), mbs)
	}
	byName := make(map[string]store.Mailbox)
	for _, mb := range mbs {
		byName[mb.Name] = mb
	}
	ids := make(map[store.MailboxID]bool)
	for _, want := range store.DefaultMailboxes {
		mb, ok := byName[want.Name]
		switch {
		case !ok:
			t.Errorf("mailbox %q missing", want.Name)
		case mb.SpecialUse != want.SpecialUse:
			t.Errorf("mailbox %q special-use %q, want %q", want.Name, mb.SpecialUse, want.SpecialUse)
		case mb.UIDValidity == 0 || mb.UIDNext != 1 || mb.HighestModSeq == 0 || ids[mb.ID]:
			t.Errorf("mailbox %+v: want non-zero UIDVALIDITY and HIGHESTMODSEQ, UIDNEXT 1, unique ID", mb)
		}
		ids[mb.ID] = true
	}
	if !slices.IsSortedFunc(mbs, func(a, b store.Mailbox) int { return strings.Compare(a.Name, b.Name) }) {
		t.Errorf("Mailboxes not ordered by name: %+v", mbs)
	}
	if mb := mailbox(t, ss, "inbox"); mb.Name != store.MailboxInbox {
		t.Errorf("Mailbox(inbox) name %q", mb.Name)
	}
}

func testCreateMailbox(t *testing.T, st store.Store) {
	ctx := t.Context()
	_, ss := account(t, st, "alice")
	mb, err := ss.CreateMailbox(ctx, "Projects/2024/Q1", store.SpecialArchive)
	if err != nil {
		t.Fatalf("CreateMailbox: %v", err)
	}
	if mb.Name != "Projects/2024/Q1" || mb.SpecialUse != store.SpecialArchive || mb.UIDNext != 1 || mb.UIDValidity == 0 {
		t.Errorf("created %+v", mb)
	}
	for _, parent := range []string{"Projects", "Projects/2024"} {
		if p := mailbox(t, ss, parent); p.SpecialUse != "" {
			t.Errorf("parent %q special-use %q", parent, p.SpecialUse)
		}
	}
	_, err = ss.CreateMailbox(ctx, "Projects/2024/Q1", "")
	wantErr(t, "CreateMailbox of an existing name", err, store.ErrMailboxExists)
	_, err = ss.CreateMailbox(ctx, "inbox", "")
	wantErr(t, "CreateMailbox(inbox)", err, store.ErrMailboxExists)
	for _, bad := range []string{"", "/a", "a/", "a//b", "a\x01b"} {
		_, err = ss.CreateMailbox(ctx, bad, "")
		wantErr(t, "CreateMailbox("+bad+")", err, store.ErrInvalidName)
	}
	_, err = ss.CreateMailbox(ctx, "Weird", `\Bogus`)
	wantErr(t, "CreateMailbox with unknown special-use", err, store.ErrInvalidName)
	// Names other than INBOX are case-sensitive.
	if _, err := ss.CreateMailbox(ctx, "projects", ""); err != nil {
		t.Errorf("CreateMailbox(projects) next to Projects: %v", err)
	}
	// INBOX's inferiors take the canonical INBOX prefix.
	in, err := ss.CreateMailbox(ctx, "inbox/Lists", "")
	if err != nil || in.Name != "INBOX/Lists" {
		t.Errorf("CreateMailbox(inbox/Lists) = %+v, %v", in, err)
	}
	_, err = ss.Mailbox(ctx, "Nope")
	wantErr(t, "Mailbox(Nope)", err, store.ErrNoSuchMailbox)
}

func testRenameMailbox(t *testing.T, st store.Store) {
	ctx := t.Context()
	_, ss := account(t, st, "alice")
	a, _ := ss.CreateMailbox(ctx, "a", "")
	ab, _ := ss.CreateMailbox(ctx, "a/b", "")
	appendN(t, ss, ab.ID, 2)
	if err := ss.RenameMailbox(ctx, "a", "x/y"); err != nil {
		t.Fatalf("RenameMailbox: %v", err)
	}
	xy, xyb := mailbox(t, ss, "x/y"), mailbox(t, ss, "x/y/b")
	if xy.ID != a.ID || xy.UIDValidity != a.UIDValidity || xyb.ID != ab.ID || xyb.UIDValidity != ab.UIDValidity {
		t.Errorf("renamed mailboxes %+v %+v lost their identity (were %+v %+v)", xy, xyb, a, ab)
	}
	if n := len(messages(t, ss, xyb.ID)); n != 2 {
		t.Errorf("renamed mailbox has %d messages, want 2", n)
	}
	mailbox(t, ss, "x") // created as the new parent
	for _, gone := range []string{"a", "a/b"} {
		_, err := ss.Mailbox(ctx, gone)
		wantErr(t, "Mailbox("+gone+") after rename", err, store.ErrNoSuchMailbox)
	}
	wantErr(t, "rename to an existing name", ss.RenameMailbox(ctx, "x/y", "Sent"), store.ErrMailboxExists)
	wantErr(t, "rename to INBOX", ss.RenameMailbox(ctx, "x/y", "inbox"), store.ErrMailboxExists)
	wantErr(t, "rename of a missing mailbox", ss.RenameMailbox(ctx, "nope", "other"), store.ErrNoSuchMailbox)
	wantErr(t, "rename into an inferior", ss.RenameMailbox(ctx, "x", "x/z"), store.ErrNotAllowed)
	wantErr(t, "rename to an invalid name", ss.RenameMailbox(ctx, "x", "x//"), store.ErrInvalidName)
}

func testRenameInbox(t *testing.T, st store.Store) {
	ctx := t.Context()
	_, ss := account(t, st, "alice")
	inbox := mailbox(t, ss, "INBOX")
	child, _ := ss.CreateMailbox(ctx, "INBOX/child", "")
	appendN(t, ss, inbox.ID, 2)
	before := messages(t, ss, inbox.ID)
	if err := ss.RenameMailbox(ctx, "inbox", "Old Inbox"); err != nil {
		t.Fatalf("RenameMailbox(INBOX): %v", err)
	}
	old := mailbox(t, ss, "Old Inbox")
	after := mailbox(t, ss, "INBOX")
	if old.ID == inbox.ID || after.ID != inbox.ID {
		t.Errorf("INBOX %+v and new mailbox %+v: want INBOX kept, a new mailbox created", after, old)
	}
	if n := len(messages(t, ss, inbox.ID)); n != 0 {
		t.Errorf("INBOX has %d messages after rename, want 0", n)
	}
	moved := messages(t, ss, old.ID)
	if len(moved) != 2 || moved[0].EmailID != before[0].EmailID || moved[1].EmailID != before[1].EmailID {
		t.Errorf("moved messages %+v, want EmailIDs of %+v", moved, before)
	}
	if c := mailbox(t, ss, "INBOX/child"); c.ID != child.ID {
		t.Errorf("INBOX/child changed by renaming INBOX")
	}
	// INBOX's UIDs are not reused.
	if r := appendOne(t, ss, inbox.ID, req("new")); r.UID <= before[1].UID {
		t.Errorf("UID %d after INBOX rename reuses an old UID (last was %d)", r.UID, before[1].UID)
	}
}

func testDeleteMailbox(t *testing.T, st store.Store) {
	ctx := t.Context()
	_, ss := account(t, st, "alice")
	wantErr(t, "delete INBOX", ss.DeleteMailbox(ctx, "inbox"), store.ErrNotAllowed)
	p, _ := ss.CreateMailbox(ctx, "p/c", "")
	wantErr(t, "delete with children", ss.DeleteMailbox(ctx, "p"), store.ErrHasChildren)
	wantErr(t, "delete missing", ss.DeleteMailbox(ctx, "nope"), store.ErrNoSuchMailbox)
	appendN(t, ss, p.ID, 3)
	if err := ss.DeleteMailbox(ctx, "p/c"); err != nil {
		t.Fatalf("DeleteMailbox(p/c): %v", err)
	}
	if err := ss.DeleteMailbox(ctx, "p"); err != nil {
		t.Fatalf("DeleteMailbox(p) after its child: %v", err)
	}
	_, err := ss.Status(ctx, p.ID)
	wantErr(t, "Status of a deleted mailbox", err, store.ErrNoSuchMailbox)
	again, err := ss.CreateMailbox(ctx, "p/c", "")
	if err != nil {
		t.Fatalf("CreateMailbox after delete: %v", err)
	}
	if again.ID == p.ID || again.UIDValidity == p.UIDValidity {
		t.Errorf("recreated mailbox %+v reuses ID or UIDVALIDITY of %+v", again, p)
	}
	if n := len(messages(t, ss, again.ID)); n != 0 {
		t.Errorf("recreated mailbox has %d messages", n)
	}
}

func testSubscriptions(t *testing.T, st store.Store) {
	ctx := t.Context()
	_, ss := account(t, st, "alice")
	for _, name := range []string{"Sent", "Elsewhere/Not yet", "inbox", "Sent"} {
		if err := ss.SetSubscribed(ctx, name, true); err != nil {
			t.Fatalf("SetSubscribed(%q): %v", name, err)
		}
	}
	subs, err := ss.Subscriptions(ctx)
	if err != nil || !slices.Equal(subs, []string{"Elsewhere/Not yet", "INBOX", "Sent"}) {
		t.Errorf("Subscriptions = %q, %v", subs, err)
	}
	if !mailbox(t, ss, "Sent").Subscribed || mailbox(t, ss, "Trash").Subscribed {
		t.Errorf("Mailbox.Subscribed does not reflect the subscriptions")
	}
	if err := ss.SetSubscribed(ctx, "Sent", false); err != nil {
		t.Fatalf("unsubscribe: %v", err)
	}
	if err := ss.SetSubscribed(ctx, "Never", false); err != nil {
		t.Errorf("unsubscribe of an unsubscribed name: %v", err)
	}
	subs, _ = ss.Subscriptions(ctx)
	if !slices.Equal(subs, []string{"Elsewhere/Not yet", "INBOX"}) {
		t.Errorf("Subscriptions after unsubscribe = %q", subs)
	}
	wantErr(t, "subscribe an invalid name", ss.SetSubscribed(ctx, "a//b", true), store.ErrInvalidName)
}

func testMailboxOfOtherAccount(t *testing.T, st store.Store) {
	ctx := t.Context()
	_, alice := account(t, st, "alice")
	_, bob := account(t, st, "bob")
	inbox := mailbox(t, alice, "INBOX")
	uid := appendOne(t, alice, inbox.ID, req("private")).UID
	_, err := bob.Messages(ctx, inbox.ID)
	wantErr(t, "Messages of another account's mailbox", err, store.ErrNoSuchMailbox)
	_, err = bob.OpenContent(ctx, inbox.ID, uid)
	wantErr(t, "OpenContent of another account's mailbox", err, store.ErrNoSuchMailbox)
	_, err = bob.Append(ctx, inbox.ID, req("intruder"))
	wantErr(t, "Append to another account's mailbox", err, store.ErrNoSuchMailbox)
	_, err = bob.Copy(ctx, inbox.ID, []store.UID{uid}, mailbox(t, bob, "INBOX").ID)
	wantErr(t, "Copy from another account's mailbox", err, store.ErrNoSuchMailbox)
	_, err = bob.Expunge(ctx, inbox.ID, []store.UID{uid})
	wantErr(t, "Expunge in another account's mailbox", err, store.ErrNoSuchMailbox)
}
