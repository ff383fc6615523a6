package sqlite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Reclaim removes the content that no message refers to any longer: the
// content rows whose refcount fell to 0 with their files, then the orphan
// files that a crash left between an append's rename and its commit, and
// stale spool files. Other processes may be appending meanwhile, so an
// orphan is removed only once it is older than orphanGrace (Open, when it
// has the store to itself, removes them all).
//
// A backup or a verify in progress (another process) holds the reclaim
// lock; Reclaim then removes nothing and leaves the work to its next turn.
func (s *Store) Reclaim(ctx context.Context) (int, error) {
	defer observe("reclaim", time.Now())
	unlock, ok, err := s.tryReclaimLock()
	if err != nil || !ok {
		return 0, err
	}
	defer unlock()
	var files []string
	err = s.write(ctx, func(w *wtx) error {
		files = nil
		rows, err := w.QueryContext(ctx, `DELETE FROM content WHERE refcount = 0 RETURNING file`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var f string
			if err := rows.Scan(&f); err != nil {
				return err
			}
			files = append(files, f)
		}
		return rows.Err()
	})
	if err != nil {
		return 0, fmt.Errorf("reclaim: %w", err)
	}
	// The rows are gone and names are never reused: nothing can reach
	// these files now. A crash before they are all removed leaves orphans
	// for the sweep.
	n := 0
	var errs []error
	for _, f := range files {
		if err := os.Remove(s.contentPath(f)); err == nil || errors.Is(err, os.ErrNotExist) {
			n++
		} else {
			errs = append(errs, err)
		}
	}
	// File times come from the system clock, not the injected one.
	m, err := s.sweep(ctx, time.Now().Add(-orphanGrace))
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return n + m, fmt.Errorf("reclaim: %w", err)
	}
	return n + m, nil
}

// sweep removes spool files and unreferenced content files last modified
// before cutoff (all of them if cutoff is zero), except those of appends in
// progress in this process, and returns how many it removed.
func (s *Store) sweep(ctx context.Context, cutoff time.Time) (int, error) {
	n, err := removeOld(filepath.Join(s.dir, spoolDir), cutoff, func(string) bool { return true })
	if err != nil {
		return n, err
	}
	for i := range 256 {
		prefix := fmt.Sprintf("%02x", i)
		known, err := s.contentFilesWithPrefix(ctx, prefix)
		if err != nil {
			return n, err
		}
		m, err := removeOld(filepath.Join(s.dir, contentDir, prefix), cutoff, func(name string) bool {
			_, referenced := known[name]
			return isContentName(name) && !referenced && !s.isPending(name)
		})
		n += m
		if m > 0 {
			s.log.Warn("removed orphan content files", "dir", prefix, "count", m)
		}
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// contentFilesWithPrefix returns the content file names that begin with
// prefix (two hex digits): one range of the unique index on file.
func (s *Store) contentFilesWithPrefix(ctx context.Context, prefix string) (map[string]struct{}, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT file FROM content WHERE file >= ? AND file < ?`, prefix, prefix+"g")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	known := make(map[string]struct{})
	for rows.Next() {
		var f string
		if err := rows.Scan(&f); err != nil {
			return nil, err
		}
		known[f] = struct{}{}
	}
	return known, rows.Err()
}

// removeOld removes the files of dir that match and were last modified
// before cutoff (any time, if cutoff is zero).
func removeOld(dir string, cutoff time.Time, match func(name string) bool) (int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range entries {
		if !e.Type().IsRegular() || !match(e.Name()) {
			continue
		}
		if !cutoff.IsZero() {
			info, err := e.Info()
			if err != nil || !info.ModTime().Before(cutoff) {
				continue
			}
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
			return n, err
		}
		n++
	}
	return n, nil
}

// isContentName reports whether name has the form newContentName makes.
func isContentName(name string) bool {
	if len(name) != 32 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// tryReclaimLock takes locks/reclaim.lock exclusive without waiting; ok is
// false when a backup or a verify holds it.
func (s *Store) tryReclaimLock() (unlock func(), ok bool, err error) {
	unlock, err = lockReclaim(s.dir, syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		s.log.Info("reclaim skipped: a backup or verify is running")
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("reclaim lock: %w", err)
	}
	return unlock, true, nil
}
