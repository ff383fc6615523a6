package sqlite

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
)

// Check answers /healthz: the index answers a read on the read pool, and
// a file can be created, written, synced and removed in tmp/, where every
// append starts. It takes no lock a delivery waits for.
func (s *Store) Check(ctx context.Context) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	var n int
	if err := s.rdb.QueryRowContext(ctx, `SELECT count(*) FROM meta`).Scan(&n); err != nil {
		return fmt.Errorf("index: %w", err)
	}
	f, err := os.CreateTemp(filepath.Join(s.dir, spoolDir), "healthz-*")
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	defer os.Remove(f.Name())
	_, err = f.Write([]byte("ok\n"))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	return nil
}
