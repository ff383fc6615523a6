package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// verifyOrphanGrace is how old a content file without an index row must
// be before verify calls it an orphan: younger ones may be appends between
// their rename and their commit in a running server.
const verifyOrphanGrace = 10 * time.Minute

// VerifyReport is what Verify found, and with repair what it fixed.
type VerifyReport struct {
	Messages int64 // message rows
	Files    int64 // content rows, each checked against its file
	Bytes    int64 // bytes read and hashed
	// Missing and Corrupt list content files absent, or whose size or
	// SHA-256 is not the index's. They cannot be repaired without loss:
	// restore them from a backup.
	Missing, Corrupt []string
	// Orphans lists content files no index row names, older than 10
	// minutes; a repair moves them to lost+found/ in the data directory.
	Orphans []string
	// Problems are the broken index invariants found (UIDs, MODSEQs,
	// reference counts, sizes), one line each; Repaired says what a repair
	// fixed, and Remaining what is still broken (Problems without repair).
	Problems, Repaired, Remaining []string
	// OrphansMoved says a repair moved the orphans to lost+found/.
	OrphansMoved bool
	// IntegrityCheck is the result of SQLite's quick_check ("ok").
	IntegrityCheck string
}

// OK reports whether the store is sound (after any repair).
func (r *VerifyReport) OK() bool {
	return len(r.Missing) == 0 && len(r.Corrupt) == 0 && r.IntegrityCheck == "ok" &&
		len(r.Remaining) == 0 && (len(r.Orphans) == 0 || r.OrphansMoved)
}

// Verify checks the store in dataDir, which a server may be using: the
// index's integrity and invariants, every content file against its row
// (present, same size, same SHA-256), and the files no row names. With
// repair it fixes what it can without losing anything: reference counts,
// a UIDNEXT or HIGHESTMODSEQ behind the messages, and orphan files (moved
// to lost+found/, not deleted).
func Verify(ctx context.Context, dataDir string, repair bool, progress Progress) (*VerifyReport, error) {
	if progress == nil {
		progress = func(string, int64, int64) {}
	}
	r := &VerifyReport{}
	index := filepath.Join(dataDir, indexFile)
	if _, err := os.Stat(index); err != nil {
		return nil, fmt.Errorf("no store in %s: %w", dataDir, err)
	}
	// Hold Reclaim off, so that no file a row names disappears while it is
	// checked.
	unlock, err := lockReclaim(dataDir, syscall.LOCK_SH)
	if err != nil {
		return nil, err
	}
	defer unlock()
	db, err := openIndex(index, !repair)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if err := checkVersion(ctx, db); err != nil {
		return nil, err
	}
	rows, err := checkIndex(ctx, db, r)
	if err != nil {
		return nil, err
	}
	r.Remaining = r.Problems
	checkFiles(ctx, dataDir, rows, r, progress)
	if err := findOrphans(dataDir, rows, r); err != nil {
		return nil, err
	}
	if repair {
		if err := repairIndex(ctx, db, r); err != nil {
			return r, err
		}
		if err := moveOrphans(dataDir, r); err != nil {
			return r, err
		}
	}
	return r, nil
}

// invariantChecks are queries that return one row per broken invariant,
// with a description; each is read in the same transaction.
var invariantChecks = []string{
	// RFC 3501 §2.3.1.1: UIDs ascend and UIDNEXT is above every one.
	`SELECT 'mailbox ' || b.id || ' (' || b.name || '): UIDNEXT ' || b.uidnext || ' is not above its highest UID ' || max(m.uid)
	 FROM mailbox b JOIN message m ON m.mailbox = b.id GROUP BY b.id HAVING max(m.uid) >= b.uidnext`,
	`SELECT 'mailbox ' || b.id || ' (' || b.name || '): UIDNEXT ' || b.uidnext || ' is not above its highest expunged UID ' || max(e.uid)
	 FROM mailbox b JOIN expunged e ON e.mailbox = b.id GROUP BY b.id HAVING max(e.uid) >= b.uidnext`,
	// RFC 7162 §3.1: HIGHESTMODSEQ is at least every MODSEQ of the mailbox.
	`SELECT 'mailbox ' || b.id || ' (' || b.name || '): HIGHESTMODSEQ ' || b.highestmodseq || ' is below a message MODSEQ ' || max(m.modseq)
	 FROM mailbox b JOIN message m ON m.mailbox = b.id GROUP BY b.id HAVING max(m.modseq) > b.highestmodseq`,
	`SELECT 'mailbox ' || b.id || ' (' || b.name || '): HIGHESTMODSEQ ' || b.highestmodseq || ' is below an expunge MODSEQ ' || max(e.modseq)
	 FROM mailbox b JOIN expunged e ON e.mailbox = b.id GROUP BY b.id HAVING max(e.modseq) > b.highestmodseq`,
	`SELECT 'message ' || id || ': UID ' || uid || ' or MODSEQ ' || modseq || ' is not positive' FROM message WHERE uid < 1 OR modseq < 1`,
	`SELECT 'mailbox ' || m.mailbox || ': UID ' || m.uid || ' is both present and expunged'
	 FROM message m JOIN expunged e ON e.mailbox = m.mailbox AND e.uid = m.uid`,
	`SELECT 'mailbox ' || id || ' (' || name || '): UIDVALIDITY is 0' FROM mailbox WHERE uidvalidity = 0`,
	`SELECT 'message ' || m.id || ': size ' || m.size || ' differs from its content''s ' || c.size
	 FROM message m JOIN content c ON c.id = m.content WHERE m.size != c.size`,
	`SELECT 'message ' || m.id || ': no content row ' || m.content FROM message m LEFT JOIN content c ON c.id = m.content WHERE c.id IS NULL`,
	`SELECT 'content ' || c.id || ': reference count ' || c.refcount || ', but ' || count(m.id) || ' messages refer to it'
	 FROM content c LEFT JOIN message m ON m.content = c.id GROUP BY c.id HAVING count(m.id) != c.refcount`,
	// RFC 9208 quota usage (schema version 5): each mailbox's counters are
	// the sums of its messages.
	`SELECT 'mailbox ' || b.id || ' (' || b.name || '): quota usage ' || b.used_octets || ' octets in ' || b.used_messages ||
		' messages, but its messages hold ' || coalesce(sum(m.size), 0) || ' in ' || count(m.id)
	 FROM mailbox b LEFT JOIN message m ON m.mailbox = b.id GROUP BY b.id
	 HAVING coalesce(sum(m.size), 0) != b.used_octets OR count(m.id) != b.used_messages`,
}

// checkIndex runs SQLite's quick_check and the invariant checks, and
// returns the content rows, all in one read transaction.
func checkIndex(ctx context.Context, db *sql.DB, r *VerifyReport) ([]contentRow, error) {
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if err := tx.QueryRowContext(ctx, "PRAGMA quick_check").Scan(&r.IntegrityCheck); err != nil {
		return nil, fmt.Errorf("quick_check: %w", err)
	}
	for _, q := range invariantChecks {
		lines, err := queryStrings(ctx, tx, q)
		if err != nil {
			return nil, fmt.Errorf("check invariants: %w", err)
		}
		r.Problems = append(r.Problems, lines...)
	}
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM message").Scan(&r.Messages); err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT file, size, sha256 FROM content ORDER BY file`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []contentRow
	for rows.Next() {
		var c contentRow
		if err := rows.Scan(&c.file, &c.size, &c.sha256); err != nil {
			return nil, err
		}
		if !isContentName(c.file) {
			r.Problems = append(r.Problems, fmt.Sprintf("content row names a file %q of the wrong form", c.file))
			continue
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

func queryStrings(ctx context.Context, tx *sql.Tx, q string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// checkFiles reads every content file and compares it with its row.
func checkFiles(ctx context.Context, dataDir string, rows []contentRow, r *VerifyReport, progress Progress) {
	for i, c := range rows {
		if ctx.Err() != nil {
			return
		}
		progress("check", int64(i), int64(len(rows)))
		r.Files++
		f, err := os.Open(filepath.Join(dataDir, contentDir, c.file[:2], c.file))
		if err != nil {
			r.Missing = append(r.Missing, c.file)
			continue
		}
		h := sha256.New()
		n, err := io.Copy(h, f)
		f.Close()
		r.Bytes += n
		if err != nil || n != c.size || string(h.Sum(nil)) != string(c.sha256) {
			r.Corrupt = append(r.Corrupt, c.file)
		}
	}
	progress("check", int64(len(rows)), int64(len(rows)))
}

// findOrphans lists the content files that no row names and that are
// older than verifyOrphanGrace.
func findOrphans(dataDir string, rows []contentRow, r *VerifyReport) error {
	known := make(map[string]struct{}, len(rows))
	for _, c := range rows {
		known[c.file] = struct{}{}
	}
	cutoff := time.Now().Add(-verifyOrphanGrace)
	for i := range 256 {
		dir := filepath.Join(dataDir, contentDir, fmt.Sprintf("%02x", i))
		entries, err := os.ReadDir(dir)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return err
		}
		for _, e := range entries {
			if _, ok := known[e.Name()]; ok || !e.Type().IsRegular() || !isContentName(e.Name()) {
				continue
			}
			if info, err := e.Info(); err == nil && info.ModTime().Before(cutoff) {
				r.Orphans = append(r.Orphans, e.Name())
			}
		}
	}
	return nil
}

// repairs are the fixes that lose nothing, each one statement run in one
// write transaction: recount references, raise UIDNEXT above every UID
// (present or expunged) and HIGHESTMODSEQ to every MODSEQ. Each returns
// the rows it changed, described.
var repairs = []string{
	`UPDATE content SET refcount = (SELECT count(*) FROM message m WHERE m.content = content.id)
	 WHERE refcount != (SELECT count(*) FROM message m WHERE m.content = content.id)
	 RETURNING 'content ' || id || ': reference count set to ' || refcount`,
	`UPDATE mailbox SET uidnext = max(uidnext,
		coalesce((SELECT max(uid) FROM message WHERE mailbox = mailbox.id), 0) + 1,
		coalesce((SELECT max(uid) FROM expunged WHERE mailbox = mailbox.id), 0) + 1)
	 WHERE uidnext <= coalesce((SELECT max(uid) FROM message WHERE mailbox = mailbox.id), 0)
	    OR uidnext <= coalesce((SELECT max(uid) FROM expunged WHERE mailbox = mailbox.id), 0)
	 RETURNING 'mailbox ' || id || ': UIDNEXT raised to ' || uidnext`,
	`UPDATE mailbox SET highestmodseq = max(highestmodseq,
		coalesce((SELECT max(modseq) FROM message WHERE mailbox = mailbox.id), 0),
		coalesce((SELECT max(modseq) FROM expunged WHERE mailbox = mailbox.id), 0))
	 WHERE highestmodseq < coalesce((SELECT max(modseq) FROM message WHERE mailbox = mailbox.id), 0)
	    OR highestmodseq < coalesce((SELECT max(modseq) FROM expunged WHERE mailbox = mailbox.id), 0)
	 RETURNING 'mailbox ' || id || ': HIGHESTMODSEQ raised to ' || highestmodseq`,
	`UPDATE mailbox SET used_octets = (SELECT coalesce(sum(size), 0) FROM message WHERE mailbox = mailbox.id),
		used_messages = (SELECT count(*) FROM message WHERE mailbox = mailbox.id)
	 WHERE used_octets != (SELECT coalesce(sum(size), 0) FROM message WHERE mailbox = mailbox.id)
	    OR used_messages != (SELECT count(*) FROM message WHERE mailbox = mailbox.id)
	 RETURNING 'mailbox ' || id || ': quota usage recounted to ' || used_octets || ' octets in ' || used_messages || ' messages'`,
}

// repairIndex applies the repairs in one transaction, then checks the
// invariants again: what is still broken is Remaining.
func repairIndex(ctx context.Context, db *sql.DB, r *VerifyReport) error {
	if len(r.Problems) == 0 {
		return nil
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var done, left []string
	for _, q := range repairs {
		lines, err := queryStrings(ctx, tx, q)
		if err != nil {
			return fmt.Errorf("repair: %w", err)
		}
		done = append(done, lines...)
	}
	for _, q := range invariantChecks {
		lines, err := queryStrings(ctx, tx, q)
		if err != nil {
			return fmt.Errorf("check repair: %w", err)
		}
		left = append(left, lines...)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("repair: %w", err)
	}
	r.Repaired, r.Remaining = done, left
	return nil
}

// moveOrphans moves the orphan files to lost+found/ in the data directory:
// they were never acknowledged, or their messages were removed, but a
// repair deletes nothing.
func moveOrphans(dataDir string, r *VerifyReport) error {
	if len(r.Orphans) == 0 {
		return nil
	}
	lf := filepath.Join(dataDir, lostFoundDir)
	if err := os.MkdirAll(lf, 0o700); err != nil {
		return err
	}
	for _, name := range r.Orphans {
		if err := os.Rename(filepath.Join(dataDir, contentDir, name[:2], name), filepath.Join(lf, name)); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	r.OrphansMoved = true
	return syncDir(lf)
}
