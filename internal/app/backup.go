package app

import (
	"context"
	"errors"

	"github.com/postern/postern/internal/config"
	"github.com/postern/postern/internal/store/sqlite"
)

// Backup, restore and verify belong to the store: they know its files.
// The CLI reaches them here, since only app names the concrete store
// (docs/architecture.md, "Backup, restore and verify").

// Progress is told how far a long step has come (see sqlite.Progress).
type Progress = sqlite.Progress

// BackupResult, RestoreResult and VerifyReport are what the commands
// report.
type (
	BackupResult  = sqlite.BackupResult
	RestoreResult = sqlite.RestoreResult
	VerifyReport  = sqlite.VerifyReport
)

// errPostgresBackup refuses backup, restore and verify --repair of a
// PostgreSQL store, which they do not handle: they work on the SQLite
// store's files.
var errPostgresBackup = errors.New("backup, restore and verify --repair work on the SQLite store; for a PostgreSQL store (Store-URL) use pg_dump and pg_restore (docs/scale-out.md \"Backup\")")

// Backup copies the store of cfg into dir consistently, while a server
// may be running; a second backup into dir copies only what changed.
func Backup(ctx context.Context, cfg *config.Config, dir string, p Progress) (BackupResult, error) {
	if IsPostgres(cfg) {
		return BackupResult{}, errPostgresBackup
	}
	return sqlite.Backup(ctx, cfg.DataDirectory, dir, p)
}

// Restore copies the backup in dir into cfg's data directory, which must
// hold no store yet.
func Restore(ctx context.Context, cfg *config.Config, dir string, p Progress) (RestoreResult, error) {
	if IsPostgres(cfg) {
		return RestoreResult{}, errPostgresBackup
	}
	if err := ensurePrivateDir(cfg.DataDirectory); err != nil {
		return RestoreResult{}, err
	}
	return sqlite.Restore(ctx, dir, cfg.DataDirectory, p)
}

// Verify checks cfg's store (index invariants, every content file, orphan
// files) and, with repair, fixes what it can without loss.
//
// A PostgreSQL store is checked without repair: its invariants and every
// body against its content row (postgres.Store.Verify), reported in the
// same form (IntegrityCheck "ok": PostgreSQL checks its own pages).
func Verify(ctx context.Context, cfg *config.Config, repair bool, p Progress) (*VerifyReport, error) {
	if IsPostgres(cfg) {
		if repair {
			return nil, errPostgresBackup
		}
		return verifyPostgres(ctx, cfg, p)
	}
	return sqlite.Verify(ctx, cfg.DataDirectory, repair, p)
}

func verifyPostgres(ctx context.Context, cfg *config.Config, p Progress) (*VerifyReport, error) {
	st, err := openPostgres(ctx, cfg, StoreOptions{})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	pr, err := st.Verify(ctx, func(done, total int64) {
		if p != nil {
			p("bodies", done, total)
		}
	})
	if pr == nil {
		return nil, err
	}
	return &VerifyReport{Messages: pr.Messages, Files: pr.Bodies, Bytes: pr.Bytes, Missing: pr.Missing,
		Corrupt: pr.Corrupt, Problems: pr.Problems, Remaining: pr.Problems, IntegrityCheck: "ok"}, err
}
