package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/postern/postern/internal/app"
	"github.com/postern/postern/internal/storecopy"
)

func storeCommands() []*command {
	return []*command{{
		name: "copy", args: "--from sqlite:DIR --to postgres://USER@HOST/DB", maxArgs: 0,
		summary: "copy every account and its mail from one store into another",
		help: `Keeps what clients know: UIDVALIDITY, UIDs, UIDNEXT, flags and keywords,
internal dates and POP3 unique-ids (HIGHESTMODSEQ is kept as a floor: every
message gets a MODSEQ above the source's). Accounts keep their passwords,
flags and quotas; subscriptions, Sieve scripts and DKIM keys follow. Stop the
server first. An interrupted copy can be run again: it resumes where each
mailbox stopped. The database password comes from the URL, PGPASSWORD or
Store-Password-File (docs/scale-out.md).`,
		flags: storeCopyFlags, run: runStoreCopy,
	}}
}

func storeCopyFlags(fs *flag.FlagSet) any {
	configFlag(fs)
	fs.String("from", "", "the source store: `sqlite:DIR` or a postgres:// URL")
	fs.String("to", "", "the target store: a postgres:// URL or `sqlite:DIR`")
	return nil
}

// copyInterval is the least time between two progress lines.
const copyInterval = 2 * time.Second

func runStoreCopy(ctx context.Context, env *Env, fs *flag.FlagSet, _ []string) error {
	from, to := fs.Lookup("from").Value.String(), fs.Lookup("to").Value.String()
	if from == "" || to == "" {
		return &usageError{msg: "store copy needs --from and --to"}
	}
	if from == to {
		return errors.New("store copy: --from and --to name the same store")
	}
	l, err := loadConfig(env, configPath(fs))
	if err != nil {
		return err
	}
	src, err := app.OpenStoreSpec(ctx, l.cfg, from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := app.OpenStoreSpec(ctx, l.cfg, to)
	if err != nil {
		return err
	}
	defer dst.Close()
	start := time.Now()
	last := start
	res, err := storecopy.Copy(ctx, src, dst, func(done, total int) {
		if now := time.Now(); now.Sub(last) >= copyInterval || done == total {
			last = now
			fmt.Fprintf(env.Stderr, "postern: store copy: %s %d of %d messages (%.0f%%)\n",
				progressBar(done, total), done, total, 100*float64(done)/float64(max(total, 1)))
		}
	})
	fmt.Fprintf(env.Stdout, "copied %d account(s), %d mailbox(es), %d message(s) (%d already there), %d queued outbound message(s) in %s\n",
		res.Accounts, res.Mailboxes, res.Messages, res.Skipped, res.Queued, time.Since(start).Round(time.Millisecond))
	if err != nil {
		return fmt.Errorf("store copy: %w (run it again to resume)", err)
	}
	return nil
}

// progressBar draws done of total as [#####.....].
func progressBar(done, total int) string {
	const width = 20
	n := width * done / max(total, 1)
	b := make([]byte, width)
	for i := range b {
		b[i] = '.'
		if i < n {
			b[i] = '#'
		}
	}
	return "[" + string(b) + "]"
}
