package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/postern/postern/internal/config"
)

// runCheck validates the configuration with the same code as serve and
// prints every problem, one per line, as FILE:LINE: message.
func runCheck(_ context.Context, env *Env, fs *flag.FlagSet, _ []string) error {
	path, err := config.Find(configPath(fs), env.Getenv)
	if errors.Is(err, config.ErrNoConfig) {
		fmt.Fprintln(env.Stdout, "no configuration file found: serve would run in quickstart mode")
		return nil
	}
	if err != nil {
		return err
	}
	_, err = config.Load(path, env.Environ())
	var list *config.ErrorList
	if errors.As(err, &list) {
		for _, e := range *list {
			fmt.Fprintln(env.Stderr, e)
		}
		return &exitError{code: exitFailure, err: fmt.Errorf("%s: %d problem(s)", path, len(*list))}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%s: configuration OK\n", path)
	return nil
}
