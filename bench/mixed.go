package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// Workload 8, mixed load (issue 15): logged-in clients, each looping over
// the commands of a mail client at work on a mailbox of its own. All
// clients log in as userMixed, client k working on the mailbox "mixed<k>",
// which holds -mixed-msgs corpus messages before and after every loop.
const (
	userMixed = "mixed"
	// mixedFlagged is how many messages the loop's STORE ±FLAGS touch.
	mixedFlagged = 10
	// mixedLogins bounds the logins in progress at once before a level
	// starts: they are not measured, and a storm of them is workload 7's.
	mixedLogins = 10
)

// mixedWorkload is workload 8: for each -mixed-clients level, that many
// clients loop for -mixed-time; the figures are the commands completed per
// second and the commands that failed (0 is required; a client stops at
// its first failure, which the notes give).
func (b *bench) mixedWorkload() workload {
	var metrics []metricDef
	for _, n := range b.o.mixedClients {
		metrics = append(metrics,
			metricDef{fmt.Sprintf("c%d_rate", n), fmt.Sprintf("mixed load, %d clients", n), "cmds/s", "higher"},
			metricDef{fmt.Sprintf("c%d_errors", n), fmt.Sprintf("mixed load, %d clients, failed commands", n), "errors", "lower"},
		)
	}
	return workload{
		id: "mixed",
		title: fmt.Sprintf("8 mixed load, %v clients, %v each, %d-msg mailboxes",
			b.o.mixedClients, b.o.mixedTime, b.o.mixedMsgs),
		protos:  []string{protoIMAP},
		metrics: metrics,
		warm:    b.warmMixed,
		run:     b.runMixed,
	}
}

// mixedMailbox is client k's mailbox.
func mixedMailbox(k int) string { return fmt.Sprintf("mixed%d", k) }

// warmMixed creates and fills every client's mailbox by APPEND (the same
// client code on both servers), then runs one loop on each.
func (b *bench) warmMixed(ctx context.Context, t *target) error {
	c, err := b.imapLogin(ctx, t, userMixed, nil)
	if err != nil {
		return err
	}
	defer c.Close()
	for k := range slicesMax(b.o.mixedClients) {
		if err := b.fillMixed(c, t, mixedMailbox(k)); err != nil {
			return err
		}
	}
	_ = withDeadline(c, b.o.opTimeout, func() error { return c.Logout().Wait() })
	res := b.mixedLoop(ctx, t, slicesMax(b.o.mixedClients), 0)
	if res.err != nil {
		return res.err
	}
	return nil
}

// fillMixed creates mailbox and appends -mixed-msgs corpus messages to it,
// unless an earlier warm-up did.
func (b *bench) fillMixed(c *imapclient.Client, t *target, mailbox string) error {
	key := userMixed + "/" + mailbox
	t.mu.Lock()
	have := t.filled[key]
	t.mu.Unlock()
	if have > 0 {
		return nil
	}
	return withDeadline(c, b.o.opTimeout*time.Duration(1+b.o.mixedMsgs/100), func() error {
		if err := c.Create(mailbox, nil).Wait(); err != nil {
			return fmt.Errorf("CREATE %s: %w", mailbox, err)
		}
		for _, m := range b.corpus.msgs[:b.o.mixedMsgs] {
			if err := appendOne(c, mailbox, m); err != nil {
				return fmt.Errorf("APPEND to %s: %w", mailbox, err)
			}
		}
		t.mu.Lock()
		t.filled[key] = b.o.mixedMsgs
		t.mu.Unlock()
		return nil
	})
}

func appendOne(c *imapclient.Client, mailbox string, m []byte) error {
	cmd := c.Append(mailbox, int64(len(m)), nil)
	if _, err := cmd.Write(m); err != nil {
		return err
	}
	if err := cmd.Close(); err != nil {
		return err
	}
	_, err := cmd.Wait()
	return err
}

func (b *bench) runMixed(ctx context.Context, t *target, r int) (map[string]float64, error) {
	vals := map[string]float64{}
	for _, n := range b.o.mixedClients {
		res := b.mixedLoop(ctx, t, n, b.o.mixedTime)
		if res.ok == 0 {
			return nil, fmt.Errorf("%d clients: no command succeeded: %v", n, res.err)
		}
		if res.err != nil {
			b.rep.note(fmt.Sprintf("%s: mixed load, %d clients, run %d: %d failed commands (first: %v)",
				t.name, n, r+1, res.failed, res.err))
		}
		vals[fmt.Sprintf("c%d_rate", n)] = float64(res.ok) / res.elapsed.Seconds()
		vals[fmt.Sprintf("c%d_errors", n)] = float64(res.failed)
	}
	return vals, nil
}

type mixedResult struct {
	ok, failed int64
	elapsed    time.Duration
	err        error // the first failure
}

// mixedLoop logs n clients in, then runs them for d from the moment the
// last one is in (with d = 0 each runs one loop): logins are workload 7's
// figure, not this one's. A loop started before the end is finished and
// counted.
func (b *bench) mixedLoop(ctx context.Context, t *target, n int, d time.Duration) mixedResult {
	var res mixedResult
	clients := make([]*imapclient.Client, n)
	defer func() {
		for _, c := range clients {
			if c != nil {
				c.Close()
			}
		}
	}()
	errs := make([]error, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, mixedLogins)
	for k := range n {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			clients[k], errs[k] = b.imapLogin(ctx, t, userMixed, nil)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		res.err = err
		return res
	}
	var ok, failed atomic.Int64
	start := time.Now()
	end := start.Add(d)
	for k, c := range clients {
		wg.Go(func() {
			done, err := b.mixedClient(ctx, c, k, end)
			ok.Add(done)
			if err != nil {
				failed.Add(1)
				errs[k] = fmt.Errorf("client %d: %w", k, err)
			}
		})
	}
	wg.Wait()
	res = mixedResult{ok: ok.Load(), failed: failed.Load(), elapsed: time.Since(start)}
	for _, err := range errs {
		if err != nil && res.err == nil {
			res.err = err
		}
	}
	if err := ctx.Err(); err != nil && res.err == nil {
		res.err = err
	}
	return res
}

// mixedClient loops on mailbox mixed<k> until end (at least once),
// returning the commands that succeeded; it stops at the first failure.
// LOGOUT is not counted.
func (b *bench) mixedClient(ctx context.Context, c *imapclient.Client, k int, end time.Time) (int64, error) {
	var done int64
	for i := 0; i == 0 || time.Now().Before(end); i++ {
		if err := ctx.Err(); err != nil {
			return done, err
		}
		m := b.corpus.msgs[(k*7+i)%b.o.mixedMsgs]
		if len(m) > 64<<10 {
			m = b.corpus.msgs[0] // a plain-text message, as most APPENDs are
		}
		var step string
		err := withDeadline(c, b.o.opTimeout, func() error {
			var err error
			step, err = b.mixedOnce(c, mixedMailbox(k), m, &done)
			return err
		})
		if err != nil {
			return done, fmt.Errorf("%s: %w", step, err)
		}
	}
	_ = withDeadline(c, b.o.opTimeout, func() error { return c.Logout().Wait() })
	return done, nil
}

// mixedOnce is one loop; it counts each command that succeeded in *done
// and returns the failing step's name. Besides the server's answers it
// checks that no message was lost or doubled: the mailbox holds exactly
// the -mixed-msgs messages plus the one appended, which EXPUNGE removes.
func (b *bench) mixedOnce(c *imapclient.Client, mailbox string, m []byte, done *int64) (string, error) {
	want := uint32(b.o.mixedMsgs) + 1
	if err := appendOne(c, mailbox, m); err != nil {
		return "APPEND", err
	}
	*done++
	sel, err := c.Select(mailbox, nil).Wait()
	if err != nil {
		return "SELECT", err
	}
	if sel.NumMessages != want {
		return "SELECT", fmt.Errorf("%s holds %d messages, want %d", mailbox, sel.NumMessages, want)
	}
	*done++
	all := imap.SeqSet{imap.SeqRange{Start: 1, Stop: 0}}
	msgs, err := c.Fetch(all, &imap.FetchOptions{UID: true, Flags: true}).Collect()
	if err != nil {
		return "FETCH", err
	}
	if uint32(len(msgs)) != want {
		return "FETCH", fmt.Errorf("%d responses, want %d", len(msgs), want)
	}
	*done++
	first := imap.SeqSet{imap.SeqRange{Start: 1, Stop: uint32(min(mixedFlagged, b.o.mixedMsgs))}}
	seen := []imap.Flag{imap.FlagSeen}
	if err := c.Store(first, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: seen}, nil).Close(); err != nil {
		return "STORE +FLAGS", err
	}
	*done++
	if err := c.Store(first, &imap.StoreFlags{Op: imap.StoreFlagsDel, Flags: seen}, nil).Close(); err != nil {
		return "STORE -FLAGS", err
	}
	*done++
	if _, err := c.Search(&imap.SearchCriteria{NotFlag: seen}, nil).Wait(); err != nil {
		return "SEARCH UNSEEN", err
	}
	*done++
	del := &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}
	if err := c.Store(imap.SeqSetNum(want), del, nil).Close(); err != nil {
		return "STORE \\Deleted", err
	}
	*done++
	gone, err := c.Expunge().Collect()
	if err != nil {
		return "EXPUNGE", err
	}
	if len(gone) != 1 || gone[0] != want {
		return "EXPUNGE", fmt.Errorf("expunged %v, want [%d]", gone, want)
	}
	*done++
	return "", nil
}
