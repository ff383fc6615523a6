package sqlite

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/postern/postern/internal/message"
	"github.com/postern/postern/internal/search"
	"github.com/postern/postern/internal/store"
	"github.com/postern/postern/internal/store/storetest"
)

// scanned is one message as the linear scan reads it: TEXT's header
// lines and BODY's decoded texts, folded.
type scanned struct {
	header []string
	texts  [][]byte
}

func scanReference(t *testing.T, raw string) scanned {
	t.Helper()
	p, err := message.Parse(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var s scanned
	h, err := message.ReadHeader(strings.NewReader(raw[:p.BodyStart]), int(p.BodyStart)+1)
	if err != nil && !errors.Is(err, message.ErrHeaderTooLarge) {
		t.Fatal(err)
	}
	for _, f := range h {
		s.header = append(s.header, search.Fold(search.FieldLine(f)))
	}
	rng := func(part *message.Part) (int64, int64) {
		if part == p {
			return p.BodyStart, int64(len(raw))
		}
		return part.BodyStart, part.End
	}
	_, err = search.Texts(strings.NewReader(raw), p, rng, func(r io.Reader) (bool, error) {
		text, _ := io.ReadAll(r) // up to the first decoding error, as the scan
		s.texts = append(s.texts, search.FoldBody(text))
		return false, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// matches is BODY (text false) or TEXT of one needle on a scanned message.
func (s scanned) matches(needle string, text bool) bool {
	if text {
		lower := search.Fold(needle)
		for _, l := range s.header {
			if strings.Contains(l, lower) {
				return true
			}
		}
	}
	folded := search.FoldBody([]byte(needle))
	for _, b := range s.texts {
		if bytes.Contains(b, folded) {
			return true
		}
	}
	return false
}

// TestTextIndex10k compares the FTS5 trigram index with the linear scan's
// definition (internal/search, read in full) on 10,000 generated messages
// (1,000 with -short or -race): charsets, transfer encodings, HTML parts,
// attachments, nested messages, broken base64. Every needle the index
// accepts must give the scan's UIDs; the others must be refused
// (store.ErrNotIndexed), never answered wrong.
func TestTextIndex10k(t *testing.T) {
	n := 10000
	if testing.Short() || raceEnabled {
		n = 1000
	}
	corpus := storetest.TextCorpus(n)
	f := newFixture(t, t.TempDir(), testOptions())
	for start := 0; start < n; start += 500 {
		var reqs []store.AppendRequest
		for _, m := range corpus[start:min(start+500, n)] {
			reqs = append(reqs, store.AppendRequest{Content: strings.NewReader(m)})
		}
		if _, err := f.ss.Append(t.Context(), f.inbox.ID, reqs...); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.st.FlushIndex(t.Context()); err != nil {
		t.Fatal(err)
	}
	msgs := make([]scanned, n)
	for i, m := range corpus {
		msgs[i] = scanReference(t, m)
	}
	sr := f.ss.(store.Searcher)
	answered, found := 0, 0
	for _, needle := range storetest.TextNeedles {
		for _, field := range []store.SearchField{store.SearchBody, store.SearchText} {
			res, err := sr.SearchIndex(t.Context(), f.inbox.ID, store.SearchQuery{Field: field, Value: needle})
			if errors.Is(err, store.ErrNotIndexed) {
				continue
			}
			if err != nil {
				t.Fatalf("%d %q: %v", field, needle, err)
			}
			answered++
			var want []store.UID
			for i, m := range msgs {
				if m.matches(needle, field == store.SearchText) {
					want = append(want, store.UID(i+1))
				}
			}
			found += len(want)
			if !slices.Equal(res.Matched, want) || len(res.Unindexed) != 0 {
				t.Errorf("field %d %q: index %d UIDs (%d unindexed), scan %d", field, needle, len(res.Matched), len(res.Unindexed), len(want))
			}
		}
	}
	if answered < 2*len(storetest.TextNeedles)-20 || found < n {
		t.Errorf("%d queries answered, %d matches: the corpus or the needles lost their point", answered, found)
	}
}
