package cli

import (
	"context"
	"flag"
	"path/filepath"
	"strings"

	"github.com/postern/postern/internal/server"
)

func runCtl(ctx context.Context, env *Env, fs *flag.FlagSet, args []string) error {
	switch args[0] {
	case "stats", "shutdown", "connections", "reopen-logs", "reload":
		if len(args) != 1 {
			return usagef("usage: postern ctl %s", args[0])
		}
	case "loglevel":
		if len(args) != 2 {
			return usagef("usage: postern ctl loglevel LEVEL (ERROR, INFORMATIONAL, THREAD or DEBUG)")
		}
	case "queue":
		if err := checkQueueArgs(args[1:]); err != nil {
			return err
		}
	case "upgrade":
		if len(args) > 2 {
			return usagef("usage: postern ctl upgrade [PATH]")
		}
		if len(args) == 2 {
			// The server resolves the path in its own directory.
			abs, err := filepath.Abs(args[1])
			if err != nil {
				return err
			}
			args[1] = abs
		}
	default:
		return usagef("unknown ctl command %q: want stats, loglevel, shutdown, connections, reopen-logs, reload, upgrade or queue", args[0])
	}
	l, err := loadConfig(env, configPath(fs))
	if err != nil {
		return err
	}
	return server.CtlRequest(ctx, l.controlSocket(), strings.Join(args, " "), env.Stdout)
}

// checkQueueArgs checks "queue list", "queue flush" and "queue delete ID".
func checkQueueArgs(args []string) error {
	const usage = "usage: postern ctl queue list | flush | delete ID"
	switch {
	case len(args) == 1 && (args[0] == "list" || args[0] == "flush"):
		return nil
	case len(args) == 2 && args[0] == "delete":
		return nil
	}
	return usagef(usage)
}
