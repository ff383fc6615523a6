package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/postern/postern/internal/message"
	"github.com/postern/postern/internal/search"
	"github.com/postern/postern/internal/store"
)

// The search index (schema version 9): search_env and search_field rows
// per content, written in the transaction that inserts the content, in
// the folded forms of internal/search, and compared with instr() on
// BLOBs, octet for octet, as the scan compares strings.

// envColumns are search_env's columns, in search.EnvelopeKeys order.
var envColumns = [...]string{"from_text", "to_text", "cc_text", "bcc_text", "subject_text"}

// fieldRowsPerInsert bounds the rows of one INSERT into search_field
// (three parameters each, far below SQLite's limit).
const fieldRowsPerInsert = 200

// textRowsPerInsert bounds the rows of one INSERT into search_text.
const textRowsPerInsert = 100

// insertSearchBatch writes the index rows of contents[i] from docs[i]
// (nil: none) and removes them from search_pending. The text rows of the
// batch go into search_text in as few statements as possible: FTS5
// writes what it holds in memory to disk at every statement that opens a
// savepoint, so one statement per row made a segment per message
// (pprof: FlushToDisk was half of the index's cost; bench/RESULTS.md).
func insertSearchBatch(ctx context.Context, w querier, contents []int64, docs []*search.Doc) error {
	var textArgs []any
	for i, doc := range docs {
		if doc == nil {
			continue
		}
		if err := replaceSearchRows(ctx, w, contents[i], doc); err != nil {
			return fmt.Errorf("insert search index: %w", err)
		}
		if t := doc.Text; t != nil {
			textArgs = append(textArgs, contents[i], t.Header, t.Body)
		}
	}
	for len(textArgs) > 0 {
		n := min(len(textArgs)/3, textRowsPerInsert)
		q := `INSERT INTO search_text (rowid, hdr, body) VALUES ` + strings.TrimSuffix(strings.Repeat("(?, ?, ?), ", n), ", ")
		if _, err := w.ExecContext(ctx, q, textArgs[:3*n]...); err != nil {
			return fmt.Errorf("insert text index: %w", err)
		}
		textArgs = textArgs[3*n:]
	}
	return nil
}

// replaceSearchRows writes a content's search_env and search_field rows,
// removing its older ones and its search_text row (whose new one the
// caller inserts), and its search_pending row.
func replaceSearchRows(ctx context.Context, w querier, content int64, doc *search.Doc) error {
	if _, err := w.ExecContext(ctx, `DELETE FROM search_pending WHERE content = ?`, content); err != nil {
		return err
	}
	// A content pending since its append has no older rows; a
	// reindexed one may.
	var old bool
	if err := w.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM search_env WHERE content = ?)`, content).Scan(&old); err != nil {
		return err
	}
	if old {
		for _, q := range []string{`DELETE FROM search_field WHERE content = ?`, `DELETE FROM search_text WHERE rowid = ?`} {
			if _, err := w.ExecContext(ctx, q, content); err != nil {
				return err
			}
		}
	}
	env := make([]any, 0, 3+len(envColumns))
	env = append(env, content, doc.Kept, doc.Text != nil)
	for _, t := range doc.Envelope {
		if t == nil {
			env = append(env, nil)
		} else {
			env = append(env, []byte(*t))
		}
	}
	if _, err := w.ExecContext(ctx, `INSERT OR REPLACE INTO search_env (content, kept, text, `+strings.Join(envColumns[:], ", ")+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, env...); err != nil {
		return err
	}
	for fields := doc.Fields; len(fields) > 0; {
		n := min(len(fields), fieldRowsPerInsert)
		args := make([]any, 0, 3*n)
		for _, f := range fields[:n] {
			args = append(args, content, f.Name, []byte(f.Value))
		}
		q := `INSERT INTO search_field (content, name, value) VALUES ` + strings.TrimSuffix(strings.Repeat("(?, ?, ?), ", n), ", ")
		if _, err := w.ExecContext(ctx, q, args...); err != nil {
			return err
		}
		fields = fields[n:]
	}
	return nil
}

// SearchIndex implements store.Searcher. One read returns every message
// of the mailbox that is unindexed, carries an OpenVMS envelope, or
// matches.
func (ss *Session) SearchIndex(ctx context.Context, mailbox store.MailboxID, q store.SearchQuery) (store.SearchResult, error) {
	defer observe("search_index", time.Now())
	c, err := searchCondition(q)
	if err != nil {
		return store.SearchResult{}, err
	}
	var res store.SearchResult
	err = ss.read(ctx, func(tx *sql.Tx) error {
		if _, err := ss.mailboxByID(ctx, tx, mailbox); err != nil {
			return err
		}
		// message_content and content_vms (schema version 19) let
		// this read no message or content row.
		const vms = `m.content IN (SELECT id FROM content WHERE vms IS NOT NULL)`
		query := `SELECT m.uid, ` + c.unindexed + `, ` + vms + `, coalesce(` + c.match + `, 0)
			FROM message m INDEXED BY message_content LEFT JOIN search_env e ON e.content = m.content
			WHERE m.mailbox = ? AND (` + c.unindexed + ` OR ` + vms + ` OR coalesce(` + c.match + `, 0))
			ORDER BY m.uid`
		all := append(append(append([]any(nil), c.args...), mailbox), c.args...)
		rows, err := tx.QueryContext(ctx, query, all...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var uid store.UID
			var unindexed, vms, match bool
			if err := rows.Scan(&uid, &unindexed, &vms, &match); err != nil {
				return err
			}
			switch {
			case unindexed:
				res.Unindexed = append(res.Unindexed, uid)
				continue
			case match:
				res.Matched = append(res.Matched, uid)
			}
			if vms {
				res.VMS = append(res.VMS, uid)
			}
		}
		return rows.Err()
	})
	return res, err
}

// condition is a query's SQL over message m and search_env e: match,
// with args, and unindexed, true for a message the index cannot answer
// for.
type condition struct {
	match, unindexed string
	args             []any
}

// searchCondition returns the SQL of a query. BODY and TEXT go to the
// FTS5 trigram table with the needle as one phrase, which matches
// exactly the rows holding it as a substring (search.IndexNeedle says
// which needles that holds for; the others are scanned).
func searchCondition(q store.SearchQuery) (condition, error) {
	const noEntry = `e.content IS NULL`
	switch q.Field {
	case store.SearchFrom, store.SearchTo, store.SearchCc, store.SearchBcc, store.SearchSubject:
		col := "e." + envColumns[q.Field-store.SearchFrom]
		if q.Value == "" {
			return condition{match: col + ` IS NOT NULL`, unindexed: noEntry}, nil
		}
		return condition{match: `instr(` + col + `, ?) > 0`, unindexed: noEntry, args: []any{[]byte(search.Fold(q.Value))}}, nil
	case store.SearchHeader:
		name := search.FoldName(q.Name)
		if q.Value == "" {
			return condition{match: `EXISTS (SELECT 1 FROM search_field f WHERE f.content = m.content AND f.name = ?)`,
				unindexed: noEntry, args: []any{name}}, nil
		}
		return condition{match: `EXISTS (SELECT 1 FROM search_field f WHERE f.content = m.content AND f.name = ? AND instr(f.value, ?) > 0)`,
			unindexed: noEntry, args: []any{name, []byte(search.Fold(q.Value))}}, nil
	case store.SearchBody, store.SearchText:
		body := string(search.FoldBody([]byte(q.Value)))
		if !search.IndexNeedle(body) {
			return condition{}, store.ErrNotIndexed
		}
		expr := `body : ` + ftsPhrase(body)
		if q.Field == store.SearchText {
			hdr := search.Fold(q.Value)
			if !search.IndexNeedle(hdr) {
				return condition{}, store.ErrNotIndexed
			}
			expr = `hdr : ` + ftsPhrase(hdr) + ` OR ` + expr
		}
		return condition{match: `m.content IN (SELECT rowid FROM search_text WHERE search_text MATCH ?)`,
			unindexed: `(e.content IS NULL OR e.text IS NOT 1)`, args: []any{expr}}, nil
	}
	return condition{}, store.ErrNotIndexed
}

// ftsPhrase quotes s as one FTS5 phrase ("" stands for ").
func ftsPhrase(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// KeptHeaders implements store.HeaderKeeper from search_env.kept, a
// chunk of UIDs per query.
func (ss *Session) KeptHeaders(ctx context.Context, mailbox store.MailboxID, uids []store.UID, fn func(store.UID, message.Header) error) error {
	defer observe("kept_headers", time.Now())
	if err := ss.checkOpen(); err != nil {
		return err
	}
	if _, err := ss.mailboxByID(ctx, ss.s.rdb, mailbox); err != nil {
		return err
	}
	uids = normalizeUIDs(uids)
	for len(uids) > 0 {
		chunk := uids[:min(len(uids), uidChunk)]
		uids = uids[len(chunk):]
		type kept struct {
			uid store.UID
			raw []byte
		}
		var got []kept
		err := ss.read(ctx, func(tx *sql.Tx) error {
			rows, err := tx.QueryContext(ctx, `SELECT m.uid, e.kept FROM message m JOIN search_env e ON e.content = m.content
				WHERE m.mailbox = ? AND m.uid BETWEEN ? AND ? AND e.kept IS NOT NULL ORDER BY m.uid`,
				mailbox, chunk[0], chunk[len(chunk)-1])
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var k kept
				if err := rows.Scan(&k.uid, &k.raw); err != nil {
					return err
				}
				if _, ok := slices.BinarySearch(chunk, k.uid); ok {
					got = append(got, k)
				}
			}
			return rows.Err()
		})
		if err != nil {
			return err
		}
		// fn runs with no read open (it may write to a client).
		for _, k := range got {
			h, err := message.ReadHeader(bytes.NewReader(k.raw), len(k.raw)+1)
			if err != nil && !errors.Is(err, message.ErrHeaderTooLarge) {
				return fmt.Errorf("kept header of message %d: %w", k.uid, err)
			}
			if err := fn(k.uid, h); err != nil {
				return err
			}
		}
	}
	return nil
}
