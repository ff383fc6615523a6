package imapserver

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"

	"github.com/postern/postern/internal/store"
	"github.com/postern/postern/internal/store/storetest"
)

// TestTextIndexMatchesScan runs BODY and TEXT through the store's text
// index and through the server's scan (plainStore hides store.Searcher)
// on 1,000 generated messages (200 under -race or -short) and requires
// equal results, for the stored and the Send-ID-Headers views, alone and
// combined with other keys. store/sqlite's TestTextIndex10k compares the
// index with the scan's definition on 10,000.
func TestTextIndexMatchesScan(t *testing.T) {
	n := 1000
	if testing.Short() || raceEnabled {
		n = 200
	}
	corpus := storetest.TextCorpus(n)
	f := newFixture(t)
	f.addUser("alice", "pw")
	err := f.withSession("alice", func(s store.Session) error {
		mb, err := s.Mailbox(context.Background(), "INBOX")
		if err != nil {
			return err
		}
		for start := 0; start < len(corpus); start += 500 {
			var reqs []store.AppendRequest
			for _, m := range corpus[start:min(start+500, len(corpus))] {
				reqs = append(reqs, store.AppendRequest{Content: strings.NewReader(m), InternalDate: testTime})
			}
			if _, err := s.Append(context.Background(), mb.ID, reqs...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	storetest.FlushIndex(t, f.st)
	for _, sendID := range []bool{false, true} {
		f.opts.SendIDHeaders = sendID
		f.opts.Store = f.st
		idx := dialClient(t, f.start())
		f.opts.Store = plainStore{f.st}
		scan := dialClient(t, f.start())
		found := 0
		for _, n := range storetest.TextNeedles {
			crits := []imap.SearchCriteria{{Body: []string{n}}, {Text: []string{n}}}
			if n == "quokka" || n == "zürich" {
				crits = append(crits, imap.SearchCriteria{Text: []string{n}, Not: []imap.SearchCriteria{{Body: []string{"phone"}}}},
					imap.SearchCriteria{Or: [][2]imap.SearchCriteria{{{Body: []string{n}}, {Header: []imap.SearchCriteriaHeaderField{{Key: "Subject", Value: "naïve"}}}}}})
			}
			for _, crit := range crits {
				want := uidSearch(t, scan, crit)
				if got := uidSearch(t, idx, crit); !slices.Equal(got, want) {
					t.Errorf("send-id=%v %s: index %d UIDs, scan %d (first difference near %v)", sendID, describe(crit), len(got), len(want), firstDiff(got, want))
				}
				found += len(want)
			}
		}
		if found < n {
			t.Errorf("only %d matches in all: the corpus or the needles lost their point", found)
		}
	}
}

// firstDiff returns the first UID in one list and not the other.
func firstDiff(a, b []imap.UID) imap.UID {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return min(a[i], b[i])
		}
	}
	if len(a) > len(b) {
		return a[len(b)]
	}
	if len(b) > len(a) {
		return b[len(a)]
	}
	return 0
}
