package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/postern/postern/internal/app"
	"github.com/postern/postern/internal/config"
)

// runCheck validates the configuration with the same code as serve, then
// checks what serve will need from the system (app.Preflight: Run-As-User,
// directories, certificates, ports), and prints every problem, one per
// line, as FILE:LINE: message. Warnings (config.Warnings) are printed the
// same way, with "warning:" after the option's name, and do not fail.
func runCheck(ctx context.Context, env *Env, fs *flag.FlagSet, _ []string) error {
	path, err := config.Find(configPath(fs), env.Getenv)
	if errors.Is(err, config.ErrNoConfig) {
		cfg, err := config.LoadQuickstart(app.QuickstartDir, env.Environ())
		if err != nil {
			return err
		}
		fmt.Fprintln(env.Stdout, "no configuration file found: serve would run in quickstart mode")
		return report(env, "quickstart", app.Preflight(ctx, cfg, true))
	}
	if err != nil {
		return err
	}
	cfg, err := config.Load(path, env.Environ())
	var list *config.ErrorList
	if errors.As(err, &list) {
		return report(env, path, *list)
	}
	if err != nil {
		return err
	}
	for _, w := range cfg.Warnings() {
		fmt.Fprintln(env.Stderr, w)
	}
	problems := app.Preflight(ctx, cfg, false)
	problems = append(problems, checkStoreSchema(ctx, env, cfg)...)
	return report(env, path, problems)
}

// checkStoreSchema connects to a PostgreSQL store and prints its schema
// version; a connection failure or a schema newer than this program is a
// problem. The SQLite store needs no connection.
func checkStoreSchema(ctx context.Context, env *Env, cfg *config.Config) []error {
	desc, version, ok, err := app.StoreSchema(ctx, cfg)
	if !ok {
		return nil
	}
	if err != nil {
		return []error{fmt.Errorf("Store-URL: %w", err)}
	}
	fmt.Fprintf(env.Stdout, "store: %s, schema version %d (this program's: %d)\n", desc, version, app.PostgresSchemaVersion())
	return nil
}

// report prints problems to stderr and fails, or says the configuration is
// fine.
func report(env *Env, what string, problems []error) error {
	for _, e := range problems {
		fmt.Fprintln(env.Stderr, e)
	}
	if len(problems) > 0 {
		return &exitError{code: exitFailure, err: fmt.Errorf("%s: %d problem(s)", what, len(problems))}
	}
	fmt.Fprintf(env.Stdout, "%s: configuration OK\n", what)
	return nil
}
