package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/postern/postern/internal/store"
)

func reindexFlags(fs *flag.FlagSet) any {
	configFlag(fs)
	fs.String("user", "", "index only `NAME`'s mail (default: every account)")
	return nil
}

// reindexInterval is the least time between two progress lines.
const reindexInterval = 2 * time.Second

// runReindex fills the search index for mail stored before it existed
// (store.Reindexer). It prints a progress line at most every
// reindexInterval on standard error and a summary on standard output.
func runReindex(ctx context.Context, env *Env, fs *flag.FlagSet, _ []string) error {
	user := fs.Lookup("user").Value.String()
	return withStore(ctx, env, configPath(fs), func(st store.Store) error {
		ri, ok := st.(store.Reindexer)
		if !ok {
			return errors.New("this store keeps no search index to rebuild")
		}
		var id store.AccountID
		if user != "" {
			acct, err := st.Account(ctx, user)
			if err != nil {
				return err
			}
			id = acct.ID
		}
		start := time.Now()
		last := start
		p, err := ri.Reindex(ctx, id, func(p store.ReindexProgress) {
			if now := time.Now(); now.Sub(last) >= reindexInterval {
				last = now
				fmt.Fprintf(env.Stderr, "postern: reindex: %d of %d messages indexed (%.0f%%), %d skipped, %.0f messages/s\n",
					p.Done, p.Total, 100*float64(p.Done+p.Skipped)/float64(max(p.Total, 1)), p.Skipped,
					float64(p.Done)/now.Sub(start).Seconds())
			}
		})
		fmt.Fprintf(env.Stdout, "indexed %d message(s) of %d in %s; %d could not be read and are searched by scanning\n",
			p.Done, p.Total, time.Since(start).Round(time.Millisecond), p.Skipped)
		if err != nil {
			return fmt.Errorf("%w (run it again to resume)", err)
		}
		return nil
	})
}
