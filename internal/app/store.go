package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/postern/postern/internal/config"
	"github.com/postern/postern/internal/server"
	"github.com/postern/postern/internal/store"
	"github.com/postern/postern/internal/store/sqlite"
)

// StoreOptions tune OpenStore.
type StoreOptions struct {
	// Logger receives the store's log lines; nil discards them.
	Logger *slog.Logger
	// Notifier carries change events; nil gives an in-process one.
	Notifier store.Notifier
	// WatchInterval, when non-zero, makes the store notice changes made by
	// other processes (such as `postern deliver`) that often.
	WatchInterval time.Duration
}

// OpenStore opens the store cfg names: the embedded SQLite store of its
// data directory (created with safe permissions first), or, with a
// postgres:// Store-URL, the PostgreSQL store.
func OpenStore(ctx context.Context, cfg *config.Config, opts StoreOptions) (store.Store, error) {
	if IsPostgres(cfg) {
		return openPostgres(ctx, cfg, opts)
	}
	if cfg.StoreURL != "" && cfg.StoreURL != "sqlite:" {
		return nil, fmt.Errorf("Store-URL: %q is neither sqlite: nor a postgres:// URL", RedactURL(cfg.StoreURL))
	}
	if err := ensurePrivateDir(cfg.DataDirectory); err != nil {
		return nil, err
	}
	st, err := sqlite.Open(ctx, cfg.DataDirectory, sqlite.Options{
		Logger:        opts.Logger,
		Notifier:      opts.Notifier,
		WatchInterval: opts.WatchInterval,
		QuotaStorage:  cfg.QuotaStorage,
		QuotaMessages: int64(cfg.QuotaMessages),
	})
	if err != nil {
		return nil, fmt.Errorf("open store in %s: %w", cfg.DataDirectory, err)
	}
	return st, nil
}

// PrepareDirs creates the data directory (0700) and the log directory
// (0750) and, when running as root with Run-As-User set, hands both over
// to that account before the privileges are dropped.
func PrepareDirs(cfg *config.Config) error {
	if err := ensurePrivateDir(cfg.DataDirectory); err != nil {
		return err
	}
	if err := os.MkdirAll(cfg.LogDirectory, 0o750); err != nil {
		return fmt.Errorf("create log directory: %w", err)
	}
	return server.HandOver(cfg.RunAsUser, cfg.DataDirectory, cfg.LogDirectory)
}

// ensurePrivateDir creates dir with mode 0700 or, when it exists, makes
// sure nobody but its owner can enter it: mail is private.
func ensurePrivateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("data directory %s is not a directory", dir)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("data directory %s is accessible to other users (mode %04o) and cannot be fixed: %w", dir, fi.Mode().Perm(), err)
		}
	}
	return nil
}
