package app

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/postern/postern/internal/config"
	"github.com/postern/postern/internal/store"
	"github.com/postern/postern/internal/store/body"
	"github.com/postern/postern/internal/store/postgres"
	"github.com/postern/postern/internal/store/sqlite"
)

// IsPostgres reports whether cfg's Store-URL names a PostgreSQL database.
func IsPostgres(cfg *config.Config) bool {
	return strings.HasPrefix(cfg.StoreURL, "postgres://") || strings.HasPrefix(cfg.StoreURL, "postgresql://")
}

// postgresOptions builds the PostgreSQL store's options from cfg: the
// password from Store-Password-File, the body store from Content-Store.
func postgresOptions(cfg *config.Config, opts StoreOptions) (postgres.Options, error) {
	po := postgres.Options{
		Logger:        opts.Logger,
		Notifier:      opts.Notifier,
		QuotaStorage:  cfg.QuotaStorage,
		QuotaMessages: int64(cfg.QuotaMessages),
	}
	if cfg.StorePasswordFile != "" {
		pw, err := readFirstLine(cfg.StorePasswordFile)
		if err != nil {
			return po, fmt.Errorf("Store-Password-File: %w", err)
		}
		po.Password = pw
	}
	if strings.EqualFold(cfg.ContentStore, "FILES") {
		if err := ensurePrivateDir(cfg.DataDirectory); err != nil {
			return po, err
		}
		files := body.Files{Dir: filepath.Join(cfg.DataDirectory, "msg"), Spool: filepath.Join(cfg.DataDirectory, "tmp")}
		if err := files.Init(); err != nil {
			return po, fmt.Errorf("Content-Store: FILES: %w", err)
		}
		po.Bodies = files
	}
	return po, nil
}

func openPostgres(ctx context.Context, cfg *config.Config, opts StoreOptions) (*postgres.Store, error) {
	po, err := postgresOptions(cfg, opts)
	if err != nil {
		return nil, err
	}
	st, err := postgres.Open(ctx, cfg.StoreURL, po)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", RedactURL(cfg.StoreURL), err)
	}
	return st, nil
}

// StoreSchema connects to cfg's store and reports its description and
// schema version, for `postern check`. For the SQLite store it reports
// nothing (ok false): check opens that store through OpenStore anyway.
func StoreSchema(ctx context.Context, cfg *config.Config) (desc string, version int, ok bool, err error) {
	if !IsPostgres(cfg) {
		return "", 0, false, nil
	}
	st, err := openPostgres(ctx, cfg, StoreOptions{})
	if err != nil {
		return "", 0, true, err
	}
	defer st.Close()
	v, err := st.SchemaVersion(ctx)
	return "PostgreSQL " + RedactURL(cfg.StoreURL), v, true, err
}

// PostgresSchemaVersion is the PostgreSQL schema version this program
// writes.
func PostgresSchemaVersion() int { return postgres.SchemaVersion() }

// readFirstLine returns the first line of a file, without its end.
func readFirstLine(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return "", err
		}
		return "", errors.New("empty file")
	}
	return strings.TrimRight(sc.Text(), "\r"), nil
}

// RedactURL returns a URL for messages: any password replaced by xxxxx.
func RedactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(an unparsable URL)"
	}
	return u.Redacted()
}

// OpenStoreSpec opens the store a `postern store copy` argument names:
// sqlite:DIR, or a postgres:// URL (with cfg's Store-Password-File and
// Content-Store).
func OpenStoreSpec(ctx context.Context, cfg *config.Config, spec string) (store.Store, error) {
	switch {
	case strings.HasPrefix(spec, "sqlite:"):
		dir := strings.TrimPrefix(spec, "sqlite:")
		if dir == "" {
			return nil, errors.New("sqlite: needs a directory (sqlite:DIR)")
		}
		st, err := sqlite.Open(ctx, dir, sqlite.Options{})
		if err != nil {
			return nil, fmt.Errorf("open store in %s: %w", dir, err)
		}
		return st, nil
	case strings.HasPrefix(spec, "postgres://") || strings.HasPrefix(spec, "postgresql://"):
		c := *cfg
		c.StoreURL = spec
		return openPostgres(ctx, &c, StoreOptions{})
	}
	return nil, fmt.Errorf("%q is neither sqlite:DIR nor a postgres:// URL", RedactURL(spec))
}
