package cli

import (
	"context"
	"flag"
	"fmt"

	"github.com/postern/postern/internal/app"
)

func runVersion(_ context.Context, env *Env, _ *flag.FlagSet, _ []string) error {
	fmt.Fprintln(env.Stdout, app.VersionString())
	return nil
}
