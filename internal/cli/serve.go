package cli

import (
	"context"
	"flag"

	"github.com/postern/postern/internal/app"
)

func runServe(ctx context.Context, env *Env, fs *flag.FlagSet, _ []string) error {
	l, err := loadConfig(env, configPath(fs))
	if err != nil {
		return err
	}
	return app.Serve(ctx, app.ServeOptions{
		Config:     l.cfg,
		ConfigPath: l.path,
		Quickstart: l.quickstart,
		Stdout:     env.Stdout,
		Stderr:     env.Stderr,
		Environ:    env.Environ,
	})
}
