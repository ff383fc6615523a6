package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/postern/postern/internal/message"
	"github.com/postern/postern/internal/search"
	"github.com/postern/postern/internal/store"
)

var (
	_ store.Searcher     = (*Session)(nil)
	_ store.HeaderKeeper = (*Session)(nil)
)

// envColumns are search_env's columns, in search.EnvelopeKeys order.
var envColumns = [...]string{"from_text", "to_text", "cc_text", "bcc_text", "subject_text"}

// insertSearch writes a content's index rows; doc nil writes none (the
// content stays unindexed: SEARCH scans it).
func insertSearch(ctx context.Context, t *wtx, content int64, doc *search.Doc) error {
	if doc == nil {
		return nil
	}
	env := []any{content, doc.Kept, doc.Text != nil}
	for _, s := range doc.Envelope {
		if s == nil {
			env = append(env, nil)
		} else {
			env = append(env, []byte(*s))
		}
	}
	var batch pgx.Batch
	batch.Queue(`INSERT INTO search_env (content, kept, text, from_text, to_text, cc_text, bcc_text, subject_text)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, env...)
	if d := doc.Text; d != nil {
		batch.Queue(`INSERT INTO search_text (content, hdr, body) VALUES ($1, $2, $3)`, content, []byte(d.Header), []byte(d.Body))
	}
	if len(doc.Fields) > 0 {
		names := make([]string, len(doc.Fields))
		values := make([][]byte, len(doc.Fields))
		for i, f := range doc.Fields {
			names[i], values[i] = f.Name, []byte(f.Value)
		}
		batch.Queue(`INSERT INTO search_field (content, name, value) SELECT $1, n, v FROM unnest($2::text[], $3::bytea[]) AS x(n, v)`,
			content, names, values)
	}
	if err := t.SendBatch(ctx, &batch).Close(); err != nil {
		return fmt.Errorf("insert search index: %w", err)
	}
	return nil
}

// SearchIndex implements store.Searcher: one read returns every message
// of the mailbox that is unindexed, carries an OpenVMS envelope, or
// matches.
func (ss *Session) SearchIndex(ctx context.Context, mailbox store.MailboxID, q store.SearchQuery) (store.SearchResult, error) {
	var res store.SearchResult
	if err := ss.checkOpen(); err != nil {
		return res, err
	}
	c, err := searchCondition(q, ss.s.trigram)
	if err != nil {
		return res, err
	}
	if _, err := ss.mailboxByID(ctx, ss.s.pool, mailbox, false); err != nil {
		return res, err
	}
	args := append([]any{mailbox}, c.args...)
	rows, err := ss.s.pool.Query(ctx, `SELECT m.uid, `+c.unindexed+`, c.vms IS NOT NULL, coalesce(`+c.match+`, false)
		FROM message m JOIN content c ON c.id = m.content LEFT JOIN search_env e ON e.content = m.content
		WHERE m.mailbox = $1 AND (`+c.unindexed+` OR c.vms IS NOT NULL OR coalesce(`+c.match+`, false)) ORDER BY m.uid`, args...)
	if err != nil {
		return res, err
	}
	defer rows.Close()
	for rows.Next() {
		var uid int64
		var unindexed, vms, match bool
		if err := rows.Scan(&uid, &unindexed, &vms, &match); err != nil {
			return res, err
		}
		switch {
		case unindexed:
			res.Unindexed = append(res.Unindexed, store.UID(uid))
			continue
		case match:
			res.Matched = append(res.Matched, store.UID(uid))
		}
		if vms {
			res.VMS = append(res.VMS, store.UID(uid))
		}
	}
	return res, rows.Err()
}

// condition is a query's SQL over message m and search_env e: match, with
// args from $2 on, and unindexed, true for a message the index cannot
// answer for.
type condition struct {
	match, unindexed string
	args             []any
}

// searchCondition returns the SQL of a query. BODY and TEXT compare the
// index forms (search.IndexText), for the needles search.IndexNeedle
// accepts: for those a substring of the form is a substring of the
// octets; the others are scanned, as with the SQLite store's trigram
// index. With trigram (the pg_trgm indexes of schema version 6) the
// candidates come from the index, as SQLite's come from FTS5.
func searchCondition(q store.SearchQuery, trigram bool) (condition, error) {
	const noEntry = `e.content IS NULL`
	switch q.Field {
	case store.SearchFrom, store.SearchTo, store.SearchCc, store.SearchBcc, store.SearchSubject:
		col := "e." + envColumns[q.Field-store.SearchFrom]
		if q.Value == "" {
			return condition{match: col + ` IS NOT NULL`, unindexed: noEntry}, nil
		}
		return condition{match: `position($2::bytea in ` + col + `) > 0`, unindexed: noEntry, args: []any{[]byte(search.Fold(q.Value))}}, nil
	case store.SearchHeader:
		name := search.FoldName(q.Name)
		if q.Value == "" {
			return condition{match: `EXISTS (SELECT 1 FROM search_field f WHERE f.content = m.content AND f.name = $2)`,
				unindexed: noEntry, args: []any{name}}, nil
		}
		return condition{match: `EXISTS (SELECT 1 FROM search_field f WHERE f.content = m.content AND f.name = $2 AND position($3::bytea in f.value) > 0)`,
			unindexed: noEntry, args: []any{name, []byte(search.Fold(q.Value))}}, nil
	case store.SearchBody, store.SearchText:
		body := string(search.FoldBody([]byte(q.Value)))
		if !search.IndexNeedle(body) {
			return condition{}, store.ErrNotIndexed
		}
		hdr := ""
		if q.Field == store.SearchText {
			if hdr = search.Fold(q.Value); !search.IndexNeedle(hdr) {
				return condition{}, store.ErrNotIndexed
			}
		}
		if trigram {
			return trigramCondition(body, hdr), nil
		}
		c := condition{unindexed: `(e.content IS NULL OR NOT e.text)`, args: []any{[]byte(body)}}
		c.match = `EXISTS (SELECT 1 FROM search_text s WHERE s.content = m.content AND (position($2::bytea in s.body) > 0`
		if hdr != "" {
			c.args = append(c.args, []byte(hdr))
			c.match += ` OR position($3::bytea in s.hdr) > 0`
		}
		c.match += `))`
		return c, nil
	}
	return condition{}, store.ErrNotIndexed
}

// trigramCondition is BODY (hdr "") or TEXT through the pg_trgm
// indexes: postern_index_text(…) LIKE '%needle%' is what the GIN index
// answers (a superset it rechecks), and position() then compares the
// octets as the scan does. The subquery runs once per search (a hashed
// subplan), over every account's rows, as SQLite's FTS5 MATCH does.
func trigramCondition(body, hdr string) condition {
	c := condition{unindexed: `(e.content IS NULL OR NOT e.text)`, args: []any{[]byte(body), likePattern(body)}}
	where := `(postern_index_text(s.body) LIKE $3 AND position($2::bytea in s.body) > 0)`
	if hdr != "" {
		c.args = append(c.args, []byte(hdr), likePattern(hdr))
		where += ` OR (postern_index_text(s.hdr) LIKE $5 AND position($4::bytea in s.hdr) > 0)`
	}
	c.match = `m.content IN (SELECT s.content FROM search_text s WHERE ` + where + `)`
	return c
}

// likePattern is a LIKE pattern matching any text that contains s
// (backslash is LIKE's default escape character).
func likePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}

// KeptHeaders implements store.HeaderKeeper from search_env.kept.
func (ss *Session) KeptHeaders(ctx context.Context, mailbox store.MailboxID, uids []store.UID, fn func(store.UID, message.Header) error) error {
	if err := ss.checkOpen(); err != nil {
		return err
	}
	if _, err := ss.mailboxByID(ctx, ss.s.pool, mailbox, false); err != nil {
		return err
	}
	rows, err := ss.s.pool.Query(ctx, `SELECT m.uid, e.kept FROM message m JOIN search_env e ON e.content = m.content
		WHERE m.mailbox = $1 AND m.uid = ANY($2) AND e.kept IS NOT NULL ORDER BY m.uid`, mailbox, uidArray(normalizeUIDs(uids)))
	if err != nil {
		return err
	}
	type kept struct {
		uid int64
		raw []byte
	}
	var got []kept
	for rows.Next() {
		var k kept
		if err := rows.Scan(&k.uid, &k.raw); err != nil {
			rows.Close()
			return err
		}
		got = append(got, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	// fn runs with no read open (it may write to a client).
	for _, k := range got {
		h, err := message.ReadHeader(bytes.NewReader(k.raw), len(k.raw)+1)
		if err != nil && !errors.Is(err, message.ErrHeaderTooLarge) {
			return fmt.Errorf("kept header of message %d: %w", k.uid, err)
		}
		if err := fn(store.UID(k.uid), h); err != nil {
			return err
		}
	}
	return nil
}
