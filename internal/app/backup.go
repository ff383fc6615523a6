package app

import (
	"context"

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

// Backup copies the store of cfg into dir consistently, while a server
// may be running; a second backup into dir copies only what changed.
func Backup(ctx context.Context, cfg *config.Config, dir string, p Progress) (BackupResult, error) {
	return sqlite.Backup(ctx, cfg.DataDirectory, dir, p)
}

// Restore copies the backup in dir into cfg's data directory, which must
// hold no store yet.
func Restore(ctx context.Context, cfg *config.Config, dir string, p Progress) (RestoreResult, error) {
	if err := ensurePrivateDir(cfg.DataDirectory); err != nil {
		return RestoreResult{}, err
	}
	return sqlite.Restore(ctx, dir, cfg.DataDirectory, p)
}

// Verify checks cfg's store (index invariants, every content file, orphan
// files) and, with repair, fixes what it can without loss.
func Verify(ctx context.Context, cfg *config.Config, repair bool, p Progress) (*VerifyReport, error) {
	return sqlite.Verify(ctx, cfg.DataDirectory, repair, p)
}
