// Package storetest is the conformance suite of store.Store: every store
// implementation runs [Run] from its tests and must pass it unchanged.
//
// Each subtest gets a fresh store from newStore and runs in parallel with
// the others. The suite checks behaviour through the store interfaces only;
// optional capabilities (store.ExpungeLogger, store.ExpungePruner,
// store.ContentSharer, store.ContentLocator, store.TopDataLoader,
// store.QuotaKeeper, store.Replacer, store.RetrievalKeeper,
// store.IdentityImporter, store.UIDLKeeper, store.DKIMKeyKeeper,
// store.MetadataKeeper, store.OutboundQueue, store.SaveDateKeeper,
// store.ViewDataLister) are
// tested when the store or session implements
// them and skipped otherwise.
package storetest

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/internal/store"
)

// Run runs the conformance suite. newStore must return an empty store that
// lives until the end of the test it is given (closing it in t.Cleanup).
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, st store.Store)
	}{
		{"AccountCRUD", testAccountCRUD},
		{"AccountNameValidation", testAccountNameValidation},
		{"AccountSource", testAccountSource},
		{"DefaultMailboxes", testDefaultMailboxes},
		{"CreateMailbox", testCreateMailbox},
		{"RenameMailbox", testRenameMailbox},
		{"RenameInbox", testRenameInbox},
		{"DeleteMailbox", testDeleteMailbox},
		{"Subscriptions", testSubscriptions},
		{"MailboxOfOtherAccount", testMailboxOfOtherAccount},
		{"ConcurrentAppendUIDs", testConcurrentAppendUIDs},
		{"ModSeq", testModSeq},
		{"ExpungeLog", testExpungeLog},
		{"ExpungePrune", testExpungePrune},
		{"Flags", testFlags},
		{"UnchangedSince", testUnchangedSince},
		{"FlagsDecidedByStore", testFlagsDecidedByStore},
		{"FlagHints", testFlagHints},
		{"ExpungeDeleted", testExpungeDeleted},
		{"ConcurrentFlags", testConcurrentFlags},
		{"Recent", testRecent},
		{"ConcurrentClaims", testConcurrentClaims},
		{"Status", testStatus},
		{"Events", testEvents},
		{"EventsOtherAccount", testEventsOtherAccount},
		{"Copy", testCopy},
		{"InternalDateZone", testInternalDateZone},
		{"Move", testMove},
		{"TooBig", testTooBig},
		{"ImportKey", testImportKey},
		{"AtomicMultiAppend", testAtomicMultiAppend},
		{"MaildropLock", testMaildropLock},
		{"OpenContent", testOpenContent},
		{"ContentLocator", testContentLocator},
		{"ExactContent", testExactContent},
		{"MessageData", testMessageData},
		{"Foreign", testForeign},
		{"ViewDataUIDs", testViewDataUIDs},
		{"Retrieved", testRetrieved},
		{"SaveDate", testSaveDate},
		{"Preview", testPreview},
		{"Threads", testThreads},
		{"Reclaim", testReclaim},
		{"ClosedSession", testClosedSession},
		{"QuotaLimits", testQuotaLimits},
		{"QuotaUsage", testQuotaUsage},
		{"QuotaEnforced", testQuotaEnforced},
		{"QuotaConcurrent", testQuotaConcurrent},
		{"Replace", testReplace},
		{"ReplaceQuota", testReplaceQuota},
		{"SearchIndex", testSearchIndex},
		{"KeptHeaders", testKeptHeaders},
		{"MailboxIdentity", testMailboxIdentity},
		{"AppendIdentified", testAppendIdentified},
		{"Sieve", testSieve},
		{"VacationDue", testVacationDue},
		{"DKIMKeys", testDKIMKeys},
		{"Metadata", testMetadata},
		{"MetadataEvents", testMetadataEvents},
		{"QueueLease", testQueueLease},
		{"QueueConcurrentClaims", testQueueConcurrentClaims},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
}

// eventTimeout bounds the wait for a change that must arrive.
const eventTimeout = 10 * time.Second

// account creates an account and opens a session on it, closed at cleanup.
func account(t *testing.T, st store.Store, name string) (store.Account, store.Session) {
	t.Helper()
	acc, err := st.CreateAccount(t.Context(), name, store.AccountUpdate{})
	if err != nil {
		t.Fatalf("CreateAccount(%q): %v", name, err)
	}
	return acc, session(t, st, acc.ID)
}

// session opens another session, closed at cleanup.
func session(t *testing.T, st store.Store, id store.AccountID) store.Session {
	t.Helper()
	ss, err := st.Open(t.Context(), id)
	if err != nil {
		t.Fatalf("Open(%d): %v", id, err)
	}
	t.Cleanup(func() { ss.Close() })
	return ss
}

func mailbox(t *testing.T, ss store.Session, name string) store.Mailbox {
	t.Helper()
	mb, err := ss.Mailbox(t.Context(), name)
	if err != nil {
		t.Fatalf("Mailbox(%q): %v", name, err)
	}
	return mb
}

// msg returns a small message with the given subject and LF line endings
// (the store normalises them).
func msg(subject string) string {
	return "From: Alice <alice@example.org>\nTo: bob@example.org\nSubject: " + subject + "\n\nHello, " + subject + ".\n"
}

func req(subject string, flags ...string) store.AppendRequest {
	return store.AppendRequest{Content: strings.NewReader(msg(subject)), Flags: flags}
}

func appendOne(t *testing.T, ss store.Session, mb store.MailboxID, r store.AppendRequest) store.AppendResult {
	t.Helper()
	res, err := ss.Append(t.Context(), mb, r)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	if len(res) != 1 {
		t.Fatalf("Append returned %d results, want 1", len(res))
	}
	return res[0]
}

// appendN appends n messages and returns their UIDs.
func appendN(t *testing.T, ss store.Session, mb store.MailboxID, n int) []store.UID {
	t.Helper()
	var uids []store.UID
	for i := range n {
		uids = append(uids, appendOne(t, ss, mb, req(fmt.Sprintf("message %d", i+1))).UID)
	}
	return uids
}

func messages(t *testing.T, ss store.Session, mb store.MailboxID) []store.MessageInfo {
	t.Helper()
	infos, err := ss.Messages(t.Context(), mb)
	if err != nil {
		t.Fatalf("Messages: %v", err)
	}
	return infos
}

func status(t *testing.T, ss store.Session, mb store.MailboxID) store.MailboxStatus {
	t.Helper()
	st, err := ss.Status(t.Context(), mb)
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	return st
}

func uidsOf(infos []store.MessageInfo) []store.UID {
	var uids []store.UID
	for _, mi := range infos {
		uids = append(uids, mi.UID)
	}
	return uids
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: error %v, want %v", what, err, want)
	}
}

func equalUIDs(a, b []store.UID) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// waitChanges collects changes from sub until done reports that they are
// complete, failing after eventTimeout.
func waitChanges(t *testing.T, sub store.Subscription, done func([]store.Change) bool) []store.Change {
	t.Helper()
	var got []store.Change
	timer := time.NewTimer(eventTimeout)
	defer timer.Stop()
	for {
		got = append(got, sub.Take()...)
		if done(got) {
			return got
		}
		select {
		case <-sub.Ready():
		case <-timer.C:
			t.Fatalf("timed out waiting for changes; have %#v", got)
		}
	}
}

// waitFor waits until sub has delivered a change that match accepts, and
// returns all changes taken so far.
func waitFor(t *testing.T, sub store.Subscription, match func(store.Change) bool) []store.Change {
	t.Helper()
	return waitChanges(t, sub, func(chs []store.Change) bool {
		for _, c := range chs {
			if match(c) {
				return true
			}
		}
		return false
	})
}

func readAll(t *testing.T, c store.Content) []byte {
	t.Helper()
	b, err := io.ReadAll(io.NewSectionReader(c, 0, c.Size()))
	if err != nil {
		t.Fatalf("read content: %v", err)
	}
	return b
}
