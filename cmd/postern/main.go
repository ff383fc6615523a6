// Command postern is the Postern mail server: POP3, IMAP4, SMTP submission
// and LMTP in one binary. See README.md and docs/ for how to run it.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/postern/postern/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, cli.StdEnv(), os.Args[1:])
	stop()
	os.Exit(code)
}
