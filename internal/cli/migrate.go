package cli

import (
	"context"
	"flag"
	"fmt"

	"github.com/postern/postern/internal/store"
)

// versioned is a store that reports its schema version.
type versioned interface {
	SchemaVersion(ctx context.Context) (int, error)
}

// runMigrate opens the store, which applies its migrations, and prints
// the schema version it is at.
func runMigrate(ctx context.Context, env *Env, fs *flag.FlagSet, _ []string) error {
	return withStore(ctx, env, configPath(fs), func(st store.Store) error {
		v, ok := st.(versioned)
		if !ok {
			fmt.Fprintln(env.Stdout, "store schema is current")
			return nil
		}
		n, err := v.SchemaVersion(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "store schema version %d\n", n)
		return nil
	})
}
