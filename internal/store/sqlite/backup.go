package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Backup, restore and verify work on a data directory, not on an open
// Store: `postern backup` and `postern verify` run as their own processes
// next to `postern serve`, as `postern deliver` does.
//
// A backup directory holds index.db (a consistent snapshot of the index,
// made with VACUUM INTO inside one read transaction), msg/<xx>/<id> (every
// content file the snapshot names, copied and checked against its SHA-256)
// and backup-info (a few lines for people). Content files are immutable and
// their names never reused, so a second backup into the same directory
// copies only the new ones and removes the ones the new snapshot no longer
// names: it is incremental. The new index replaces the old one only after
// every file it names is in place and synced, so an interrupted backup
// leaves the previous one whole.
//
// While a backup or a verify runs it holds locks/reclaim.lock shared;
// Reclaim takes it exclusive, and skips its turn when it cannot, so no
// content file a snapshot names is removed before it is copied.

// Names in a backup directory and the data directory.
const (
	backupInfoFile = "backup-info"
	reclaimLock    = "reclaim.lock"
	lostFoundDir   = "lost+found"
)

// Progress is told how far a long step has come: done of total units
// (files) in the named stage ("copy", "check", "restore").
type Progress func(stage string, done, total int64)

// BackupResult counts what a backup did.
type BackupResult struct {
	Messages   int64 // message rows in the snapshot
	Files      int64 // content files the snapshot names
	Copied     int64 // files copied this time
	Bytes      int64 // bytes copied this time
	Present    int64 // files already in the backup from an earlier run
	Removed    int64 // files of an earlier run the snapshot no longer names
	IndexBytes int64 // size of the index snapshot
	// Bad lists content files that are missing or fail their SHA-256 in
	// the data directory; they are not in the backup. Backup returns an
	// error when there is any.
	Bad []string
}

// contentRow is a content row: its file name, size and SHA-256.
type contentRow struct {
	file   string
	size   int64
	sha256 []byte
}

// Backup writes a consistent copy of the store in dataDir to dst, which
// may hold an earlier backup (only what changed is copied).
func Backup(ctx context.Context, dataDir, dst string, progress Progress) (BackupResult, error) {
	var res BackupResult
	if progress == nil {
		progress = func(string, int64, int64) {}
	}
	src := filepath.Join(dataDir, indexFile)
	if _, err := os.Stat(src); err != nil {
		return res, fmt.Errorf("no store in %s: %w", dataDir, err)
	}
	if err := os.MkdirAll(filepath.Join(dst, contentDir), 0o700); err != nil {
		return res, err
	}
	unlock, err := lockReclaim(dataDir, syscall.LOCK_SH)
	if err != nil {
		return res, err
	}
	defer unlock()

	snap := filepath.Join(dst, indexFile+".new")
	if err := snapshotIndex(ctx, src, snap); err != nil {
		return res, err
	}
	defer os.Remove(snap) // gone after the rename; left only on failure
	rows, messages, err := readContentRows(ctx, snap)
	if err != nil {
		return res, err
	}
	res.Messages, res.Files = messages, int64(len(rows))
	if err := copyContent(ctx, dataDir, dst, rows, &res, progress); err != nil {
		return res, err
	}
	// Every file and the snapshot reach the disk before the snapshot
	// becomes the backup's index.
	syscall.Sync()
	if err := os.Rename(snap, filepath.Join(dst, indexFile)); err != nil {
		return res, err
	}
	if fi, err := os.Stat(filepath.Join(dst, indexFile)); err == nil {
		res.IndexBytes = fi.Size()
	}
	res.Removed, err = pruneContent(dst, rows)
	if err != nil {
		return res, err
	}
	info := fmt.Sprintf("Postern backup of %s\nTaken: %s\nMessages: %d\nContent files: %d\n",
		dataDir, time.Now().UTC().Format(time.RFC3339), res.Messages, res.Files)
	if err := os.WriteFile(filepath.Join(dst, backupInfoFile), []byte(info), 0o600); err != nil {
		return res, err
	}
	if err := syncDir(dst); err != nil {
		return res, err
	}
	if len(res.Bad) > 0 {
		return res, fmt.Errorf("%d content files are missing or corrupt in %s and are not in the backup (postern verify lists them)",
			len(res.Bad), dataDir)
	}
	return res, nil
}

// copyContent copies the content files rows name from dataDir to dst,
// skipping those an earlier backup copied (same name, same size: content
// files never change).
func copyContent(ctx context.Context, dataDir, dst string, rows []contentRow, res *BackupResult, progress Progress) error {
	for i, r := range rows {
		if err := ctx.Err(); err != nil {
			return err
		}
		progress("copy", int64(i), int64(len(rows)))
		to := filepath.Join(dst, contentDir, r.file[:2], r.file)
		if fi, err := os.Stat(to); err == nil && fi.Size() == r.size {
			res.Present++
			continue
		}
		if err := copyChecked(filepath.Join(dataDir, contentDir, r.file[:2], r.file), to, r); err != nil {
			if errors.Is(err, errBadContent) || errors.Is(err, os.ErrNotExist) {
				res.Bad = append(res.Bad, r.file)
				continue
			}
			return err
		}
		res.Copied++
		res.Bytes += r.size
	}
	progress("copy", int64(len(rows)), int64(len(rows)))
	return nil
}

// lockReclaim takes locks/reclaim.lock of dataDir (LOCK_SH or LOCK_EX) and
// returns its release.
func lockReclaim(dataDir string, how int) (func(), error) {
	if err := os.MkdirAll(filepath.Join(dataDir, locksDir), 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dataDir, locksDir, reclaimLock), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	for {
		err = syscall.Flock(int(f.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil
}

// snapshotIndex writes a consistent copy of the index at src to dst with
// VACUUM INTO, which reads the source in one transaction (in WAL mode,
// without stopping writers), then syncs it.
func snapshotIndex(ctx context.Context, src, dst string) error {
	os.Remove(dst)
	db, err := openIndex(src, false)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := checkVersion(ctx, db); err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", dst); err != nil {
		return fmt.Errorf("snapshot the index: %w", err)
	}
	if err := os.Chmod(dst, 0o600); err != nil {
		return err
	}
	f, err := os.Open(dst)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// openIndex opens an index file on one connection of its own; readOnly
// opens it query-only.
func openIndex(path string, readOnly bool) (*sql.DB, error) {
	q := fmt.Sprintf("?_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)", busyTimeout.Milliseconds())
	if readOnly {
		q += "&_pragma=query_only(1)"
	} else {
		q += "&_txlock=immediate"
	}
	db, err := sql.Open("sqlite", "file:"+path+q)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

// checkVersion refuses an index written by a newer program.
func checkVersion(ctx context.Context, db *sql.DB) error {
	var v int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if v > len(migrations) {
		return fmt.Errorf("index schema version %d is newer than this program's %d", v, len(migrations))
	}
	return nil
}

// readContentRows returns the content rows of the index at path, sorted
// by file name, and the number of message rows.
func readContentRows(ctx context.Context, path string) ([]contentRow, int64, error) {
	db, err := openIndex(path, true)
	if err != nil {
		return nil, 0, err
	}
	defer db.Close()
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT file, size, sha256 FROM content ORDER BY file`)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []contentRow
	for rows.Next() {
		var r contentRow
		if err := rows.Scan(&r.file, &r.size, &r.sha256); err != nil {
			return nil, 0, err
		}
		if !isContentName(r.file) {
			return nil, 0, fmt.Errorf("index names a content file %q of the wrong form", r.file)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	var n int64
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM message`).Scan(&n); err != nil {
		return nil, 0, err
	}
	return out, n, nil
}

// errBadContent is a content file whose size or SHA-256 is not the
// index's.
var errBadContent = errors.New("content file does not match the index")

// copyChecked copies a content file through a temporary name, checking
// its size and SHA-256 against r; the copy is not synced (the caller
// syncs once for all).
func copyChecked(from, to string, r contentRow) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(to), 0o700); err != nil {
		return err
	}
	tmp := filepath.Join(filepath.Dir(to), "."+r.file+".tmp")
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(out, h), in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil && (n != r.size || string(h.Sum(nil)) != string(r.sha256)) {
		err = fmt.Errorf("%s: %w", from, errBadContent)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, to)
}

// pruneContent removes the files under dst/msg that rows do not name
// (sorted by name), and leftovers of an interrupted copy.
func pruneContent(dst string, rows []contentRow) (int64, error) {
	keep := make(map[string]struct{}, len(rows))
	for _, r := range rows {
		keep[r.file] = struct{}{}
	}
	var n int64
	subs, err := os.ReadDir(filepath.Join(dst, contentDir))
	if err != nil {
		return 0, err
	}
	for _, sub := range subs {
		if !sub.IsDir() {
			continue
		}
		dir := filepath.Join(dst, contentDir, sub.Name())
		entries, err := os.ReadDir(dir)
		if err != nil {
			return n, err
		}
		for _, e := range entries {
			if _, ok := keep[e.Name()]; ok || !e.Type().IsRegular() {
				continue
			}
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// RestoreResult counts what a restore did.
type RestoreResult struct {
	Messages int64
	Files    int64
	Bytes    int64
}

// Restore copies the backup in src into dataDir, which must hold no store
// yet. Every content file is checked against its SHA-256 on the way; a
// missing or corrupt one fails the restore, which leaves no index behind
// (the copied files are then orphans a later restore overwrites).
func Restore(ctx context.Context, src, dataDir string, progress Progress) (RestoreResult, error) {
	var res RestoreResult
	if progress == nil {
		progress = func(string, int64, int64) {}
	}
	if _, err := os.Stat(filepath.Join(dataDir, indexFile)); err == nil {
		return res, fmt.Errorf("%s already holds a store (%s); restore only into an empty data directory", dataDir, indexFile)
	}
	index := filepath.Join(src, indexFile)
	if _, err := os.Stat(index); err != nil {
		return res, fmt.Errorf("no backup in %s: %w", src, err)
	}
	db, err := openIndex(index, true)
	if err != nil {
		return res, err
	}
	err = checkVersion(ctx, db)
	db.Close()
	if err != nil {
		return res, err
	}
	if err := makeDirs(dataDir); err != nil {
		return res, err
	}
	rows, messages, err := readContentRows(ctx, index)
	if err != nil {
		return res, err
	}
	res.Messages = messages
	var bad []string
	for i, r := range rows {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		progress("restore", int64(i), int64(len(rows)))
		err := copyChecked(filepath.Join(src, contentDir, r.file[:2], r.file), filepath.Join(dataDir, contentDir, r.file[:2], r.file), r)
		if errors.Is(err, errBadContent) || errors.Is(err, os.ErrNotExist) {
			bad = append(bad, r.file)
			continue
		}
		if err != nil {
			return res, err
		}
		res.Files++
		res.Bytes += r.size
	}
	progress("restore", int64(len(rows)), int64(len(rows)))
	if len(bad) > 0 {
		return res, fmt.Errorf("the backup in %s is damaged: %d content files missing or corrupt (first %s); nothing restored",
			src, len(bad), bad[0])
	}
	tmp := filepath.Join(dataDir, indexFile+".restore")
	if err := copyFile(index, tmp); err != nil {
		return res, err
	}
	syscall.Sync()
	if err := os.Rename(tmp, filepath.Join(dataDir, indexFile)); err != nil {
		return res, err
	}
	return res, syncDir(dataDir)
}

// copyFile copies a file (mode 0600).
func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}
