package imapserver

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/postern/postern/internal/store"
	"github.com/postern/postern/internal/store/sqlite"
	"github.com/postern/postern/internal/store/storetest"
)

// TestSearchRightAfterDelivery: a SEARCH issued right after delivery,
// before the store's background indexer has indexed the messages, gives
// the scan's answer (the store reports them unindexed and the server
// reads them); after the indexer ran, the same searches, now answered by
// the index, give it too.
func TestSearchRightAfterDelivery(t *testing.T) {
	f := newFixture(t)
	// A store with no indexer of its own: nothing is indexed until
	// FlushIndex, so the first round certainly runs before it.
	st, err := sqlite.Open(context.Background(), t.TempDir(), sqlite.Options{
		Clock: func() time.Time { return testTime }, IndexDelay: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f.st, f.opts.Store = st, st
	f.addUser("alice", "pw")
	n := 40
	for _, m := range append(headerCorpus(n), storetest.TextCorpus(n)...) {
		if err := f.deliver("alice", "INBOX", []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	idx := dialClient(t, f.start())
	f.opts.Store = plainStore{st}
	scan := dialClient(t, f.start())
	if _, err := idx.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := scan.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	crits := []imap.SearchCriteria{
		{Header: []imap.SearchCriteriaHeaderField{{Key: "From", Value: "zürich"}}},
		{Header: []imap.SearchCriteriaHeaderField{{Key: "Subject", Value: "report"}}},
		{Header: []imap.SearchCriteriaHeaderField{{Key: "X-Tag", Value: "quokka"}}},
		{Header: []imap.SearchCriteriaHeaderField{{Key: "To", Value: "example.net"}}},
	}
	for _, needle := range storetest.TextNeedles[:min(12, len(storetest.TextNeedles))] {
		crits = append(crits, imap.SearchCriteria{Body: []string{needle}}, imap.SearchCriteria{Text: []string{needle}})
	}
	compare := func(round string) int {
		found := 0
		for _, crit := range crits {
			want := uidSearch(t, scan, crit)
			if got := uidSearch(t, idx, crit); !slices.Equal(got, want) {
				t.Errorf("%s, %s: got %v, the scan %v", round, describe(crit), got, want)
			}
			found += len(want)
		}
		return found
	}
	unindexed := func() int {
		res := searchIndex(t, st, store.SearchQuery{Field: store.SearchFrom, Value: "x"})
		return len(res.Unindexed)
	}
	if u := unindexed(); u != 2*n {
		t.Fatalf("before the indexer: %d messages unindexed, want all %d", u, 2*n)
	}
	found := compare("before the indexer")
	if err := st.FlushIndex(context.Background()); err != nil {
		t.Fatal(err)
	}
	if u := unindexed(); u != 0 {
		t.Fatalf("after the indexer: %d messages unindexed", u)
	}
	if again := compare("after the indexer"); again != found || found < n {
		t.Errorf("%d matches before the indexer, %d after; want equal and at least %d", found, again, n)
	}
}

// searchIndex asks the store's index of alice's INBOX directly.
func searchIndex(t *testing.T, st store.Store, q store.SearchQuery) store.SearchResult {
	t.Helper()
	ctx := context.Background()
	acct, err := st.Account(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	ss, err := st.Open(ctx, acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer ss.Close()
	mb, err := ss.Mailbox(ctx, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	res, err := ss.(store.Searcher).SearchIndex(ctx, mb.ID, q)
	if err != nil {
		t.Fatal(err)
	}
	return res
}
