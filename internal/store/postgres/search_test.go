package postgres

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/postern/postern/internal/store"
	"github.com/postern/postern/internal/store/postgres/pgtest"
)

// TestSearchTrigram: a database of the test cluster (UTF8, pg_trgm) gets
// the trigram indexes, the planner can answer BODY from them, needles
// with LIKE's special characters match exactly what the scan matches,
// and without the indexes (pg_trgm missing) the same searches give the
// same answers through the fallback.
func TestSearchTrigram(t *testing.T) {
	ctx := t.Context()
	url := pgtest.New(t)
	s := openStore(t, url, Options{})
	if !s.trigram {
		t.Fatal("no trigram indexes in a UTF8 database with pg_trgm")
	}
	acc, err := s.CreateAccount(ctx, "alice", store.AccountUpdate{})
	if err != nil {
		t.Fatal(err)
	}
	ss, err := s.Open(ctx, acc.ID)
	if err != nil {
		t.Fatal(err)
	}
	inbox, _ := ss.Mailbox(ctx, "INBOX")
	bodies := []string{`see C:\Users\Bob\mail`, "100%_sure it is", "1000 sure", "Grüße aus Köln", "nothing here"}
	for i, b := range bodies {
		appendMsg(t, ss, inbox.ID, fmt.Sprintf("m%d\r\nX-Tag: tag%d\r\n\r\n%s", i, i, b))
	}
	ss.Close()
	cases := []struct {
		field store.SearchField
		value string
		want  []store.UID
	}{
		{store.SearchBody, `s\bob\m`, []store.UID{1}},
		{store.SearchBody, `100%_s`, []store.UID{2}},
		{store.SearchBody, `0%_`, []store.UID{2}},
		{store.SearchBody, `00 s`, []store.UID{3}},
		{store.SearchBody, "GRÜSSE", nil}, // simple case folding: ß is not ss
		{store.SearchBody, "grüße aus", []store.UID{4}},
		{store.SearchText, "tag3", []store.UID{4}},
		{store.SearchText, "köln", []store.UID{4}},
		{store.SearchBody, "tag3", nil},
	}
	check := func(s *Store, how string) {
		t.Helper()
		ss, err := s.Open(ctx, acc.ID)
		if err != nil {
			t.Fatal(err)
		}
		defer ss.Close()
		for _, c := range cases {
			res, err := ss.(store.Searcher).SearchIndex(ctx, inbox.ID, store.SearchQuery{Field: c.field, Value: c.value})
			if err != nil || !slices.Equal(res.Matched, c.want) || len(res.Unindexed) != 0 {
				t.Errorf("%s: search %d %q: %+v, %v; want %v", how, c.field, c.value, res, err, c.want)
			}
		}
	}
	check(s, "trigram")

	var plan []string
	err = pgxTx(t, s, func(q func(string) []string) {
		q(`SET LOCAL enable_seqscan = off`)
		plan = q(`EXPLAIN SELECT s.content FROM search_text s WHERE postern_index_text(s.body) LIKE '%sure%'`)
	})
	if err != nil || !strings.Contains(strings.Join(plan, "\n"), "search_text_body_trgm") {
		t.Errorf("the planner does not use the trigram index: %v\n%s", err, strings.Join(plan, "\n"))
	}

	if _, err := s.pool.Exec(ctx, `DROP INDEX search_text_body_trgm`); err != nil {
		t.Fatal(err)
	}
	s2 := openStore(t, url, Options{})
	if s2.trigram {
		t.Fatal("trigram set without the body index")
	}
	check(s2, "fallback")
}

// pgxTx runs fn in a transaction of s, giving it a query helper that
// returns the first column of each row as text.
func pgxTx(t *testing.T, s *Store, fn func(q func(string) []string)) error {
	t.Helper()
	tx, err := s.pool.Begin(t.Context())
	if err != nil {
		return err
	}
	defer tx.Rollback(t.Context())
	fn(func(sql string) []string {
		rows, err := tx.Query(t.Context(), sql)
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			vals, _ := rows.Values()
			if len(vals) > 0 {
				out = append(out, fmt.Sprint(vals[0]))
			}
		}
		return out
	})
	return nil
}
