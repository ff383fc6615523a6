package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/postern/postern/internal/app"
	"github.com/postern/postern/internal/config"
	"github.com/postern/postern/internal/server"
	"github.com/postern/postern/internal/store"
)

// loaded is a configuration with where it came from.
type loaded struct {
	cfg        *config.Config
	path       string // "" in quickstart mode
	quickstart bool
}

// loadConfig finds and loads the configuration as docs/configuration.md says:
// --config, $POSTERN_CONFIG, ./postern.conf, /etc/postern/postern.conf, and
// quickstart mode when there is none. Every command uses it, so that
// "postern user add" after a quickstart "postern serve" acts on the same
// data directory.
func loadConfig(env *Env, flagPath string) (*loaded, error) {
	path, err := config.Find(flagPath, env.Getenv)
	if errors.Is(err, config.ErrNoConfig) {
		cfg, err := config.LoadQuickstart(app.QuickstartDir, env.Environ())
		if err != nil {
			return nil, err
		}
		return &loaded{cfg: cfg, quickstart: true}, nil
	}
	if err != nil {
		return nil, err
	}
	cfg, err := config.Load(path, env.Environ())
	if err != nil {
		return nil, err
	}
	return &loaded{cfg: cfg, path: path}, nil
}

func (l *loaded) maxMessageSize() int64 { return l.cfg.MaxMessageSize }
func (l *loaded) controlSocket() string { return l.cfg.ControlSocket }

// openStore opens the store for a command. Run as root with Run-As-User
// set, the command first becomes that account, as the server does, so
// that no file it creates in the data directory belongs to root.
func openStore(ctx context.Context, env *Env, l *loaded) (store.Store, error) {
	warnNewDataDir(env, l)
	if err := app.PrepareDirs(l.cfg); err != nil {
		return nil, err
	}
	if err := server.DropPrivileges(l.cfg.RunAsUser); err != nil {
		return nil, err
	}
	return app.OpenStore(ctx, l.cfg, app.StoreOptions{})
}

// withStore loads the configuration, opens the store, runs fn and closes
// the store.
func withStore(ctx context.Context, env *Env, flagPath string, fn func(store.Store) error) error {
	return withConfigStore(ctx, env, flagPath, func(_ *loaded, st store.Store) error { return fn(st) })
}

// withConfigStore is withStore for commands that also read the
// configuration.
func withConfigStore(ctx context.Context, env *Env, flagPath string, fn func(*loaded, store.Store) error) error {
	l, err := loadConfig(env, flagPath)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, env, l)
	if err != nil {
		return err
	}
	err = fn(l, st)
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	return err
}

// warnNewDataDir says, before a command creates a data directory, that it
// is about to start an empty store: a command run in the wrong directory
// (quickstart's ./postern-data is relative) or with the wrong
// configuration would otherwise act on a new, empty store silently.
func warnNewDataDir(env *Env, l *loaded) {
	dir := l.cfg.DataDirectory
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		return
	}
	from := "the configuration " + l.path
	if l.quickstart {
		from = "no configuration file found, so quickstart's ./" + app.QuickstartDir + " in the current directory"
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	fmt.Fprintf(env.Stderr, "postern: warning: creating a new, empty data directory %s (%s); "+
		"if your mail is elsewhere, run the command where the server runs or pass --config\n", abs, from)
}
