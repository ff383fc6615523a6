package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
)

// idleLoginParallel is how many IDLE clients log in at once. More does
// not help: logins are bound by argon2id on the server, and Dovecot's
// login rate drops when many arrive at once.
const idleLoginParallel = 4

// idleWorkload is workload 5. Each level of IDLE connections runs once per
// server (logging in thousands of clients with argon2id passwords is the
// slow part); the delivery latency is the median of idleDeliver
// deliveries. A level past the first runs only when the machine allows it:
// enough file descriptors, enough memory and login time extrapolated from
// the level before.
func (b *bench) idleWorkload() workload {
	var metrics []metricDef
	for _, n := range b.o.idleLevels {
		metrics = append(metrics,
			metricDef{fmt.Sprintf("rss%d", n), fmt.Sprintf("%d IDLE: server RSS per connection", n), "KiB", "lower"},
			metricDef{fmt.Sprintf("pss%d", n), fmt.Sprintf("%d IDLE: server PSS per connection", n), "KiB", "lower"},
			metricDef{fmt.Sprintf("notify%d", n), fmt.Sprintf("%d IDLE: LMTP delivery seen by all", n), "ms", "lower"},
		)
	}
	return workload{
		id:      "idle",
		title:   "5 IDLE connections",
		protos:  []string{protoIMAP, protoLMTP},
		metrics: metrics,
		runs:    1,
		warm: func(ctx context.Context, t *target) error {
			return b.fill(ctx, t, userIdle, idleMailbox)
		},
		run: b.runIdle,
	}
}

// idleClient is one IDLE-ing connection and the EXISTS count it has seen.
type idleClient struct {
	c    *imapclient.Client
	idle *imapclient.IdleCommand
}

func (b *bench) runIdle(ctx context.Context, t *target, _ int) (map[string]float64, error) {
	vals := map[string]float64{}
	var prevRate float64 // logins/s of the previous level
	var prevPSS int64    // PSS per connection of the previous level
	for li, n := range b.o.idleLevels {
		if li > 0 {
			if reason := b.idleAllowed(n, prevRate, prevPSS); reason != "" {
				b.logf("  %s: %d IDLE skipped: %s", t.name, n, reason)
				for _, k := range []string{"rss", "pss", "notify"} {
					b.rep.setNA("idle", fmt.Sprintf("%s%d", k, n), t.name, "skipped: "+reason)
				}
				continue
			}
		}
		res, err := b.idleLevel(ctx, t, n)
		if err != nil {
			return nil, fmt.Errorf("%d IDLE: %w", n, err)
		}
		for k, v := range res.vals {
			vals[fmt.Sprintf("%s%d", k, n)] = v
		}
		prevRate, prevPSS = res.loginRate, res.pssPerConn
	}
	return vals, nil
}

// idleAllowed says why n connections cannot run here, or "".
func (b *bench) idleAllowed(n int, loginRate float64, pssPerConn int64) string {
	limit := b.rep.Machine.FileLimit
	if uint64(n)+256 > limit {
		return fmt.Sprintf("open-file limit %d is too low for %d connections (raise the hard limit: ulimit -Hn)", limit, n)
	}
	if need, avail := int64(n)*pssPerConn*3/2, memInfo("MemAvailable"); avail > 0 && need > avail*3/4 {
		return fmt.Sprintf("needs about %d MiB of server memory, %d MiB available", need>>20, avail>>20)
	}
	if loginRate > 0 {
		if est := time.Duration(float64(n) / loginRate * float64(time.Second)); est > b.o.idleSetupMax {
			return fmt.Sprintf("logging in %d clients at the measured %.0f logins/s would take about %v (-idle-setup-max %v)",
				n, loginRate, est.Round(time.Second), b.o.idleSetupMax)
		}
	}
	return ""
}

type idleResult struct {
	vals       map[string]float64
	loginRate  float64
	pssPerConn int64
}

// idleLevel logs in n clients, puts them in IDLE, measures the server's
// memory, then times idleDeliver LMTP deliveries until every client has
// seen the new EXISTS.
func (b *bench) idleLevel(ctx context.Context, t *target, n int) (idleResult, error) {
	var res idleResult
	base, err := treeMem(t.pid())
	if err != nil {
		return res, err
	}
	// target is the EXISTS count every client must reach; reached counts
	// the clients that have.
	var want atomic.Uint32
	var reached atomic.Int64
	want.Store(^uint32(0))
	clients := make([]*idleClient, n)
	defer func() {
		for _, ic := range clients {
			if ic != nil {
				ic.c.Close()
			}
		}
		time.Sleep(idleSettle) // let the server reap the sessions
	}()

	setupCtx, cancel := context.WithTimeout(ctx, b.o.idleSetupMax)
	defer cancel()
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, idleLoginParallel)
	for range min(idleLoginParallel, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for setupCtx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				ic, err := b.idleConnect(ctx, setupCtx, t, &want, &reached)
				if err != nil {
					errs <- fmt.Errorf("client %d: %w", i, err)
					return
				}
				clients[i] = ic
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return res, err
	}
	if err := setupCtx.Err(); err != nil {
		return res, fmt.Errorf("logging in %d clients took longer than %v", n, b.o.idleSetupMax)
	}
	res.loginRate = float64(n) / time.Since(start).Seconds()
	b.logf("  %s: %d clients in IDLE after %v", t.name, n, time.Since(start).Round(time.Millisecond))

	time.Sleep(idleSettle)
	mem, err := treeMem(t.pid())
	if err != nil {
		return res, err
	}
	res.pssPerConn = max(0, (mem.PSS-base.PSS)/int64(n))
	res.vals = map[string]float64{
		"rss": float64(mem.RSS-base.RSS) / float64(n) / 1024,
		"pss": float64(mem.PSS-base.PSS) / float64(n) / 1024,
	}
	b.logf("  %s: %d processes, RSS %d MiB (was %d), PSS %d MiB (was %d)", t.name, mem.Procs,
		mem.RSS>>20, base.RSS>>20, mem.PSS>>20, base.PSS>>20)

	var lats []time.Duration
	t.mu.Lock()
	exists := t.filled[userIdle]
	t.mu.Unlock()
	for range b.o.idleDeliver {
		exists++
		reached.Store(0)
		want.Store(uint32(exists))
		t0 := time.Now()
		if _, err := b.deliver(ctx, t, userIdle, b.corpus.msgs[:1]); err != nil {
			return res, fmt.Errorf("LMTP delivery: %w", err)
		}
		deadline := time.Now().Add(b.o.opTimeout)
		for reached.Load() < int64(n) {
			if time.Now().After(deadline) {
				return res, fmt.Errorf("after %v only %d of %d clients saw the delivery", b.o.opTimeout, reached.Load(), n)
			}
			if err := ctx.Err(); err != nil {
				return res, err
			}
			time.Sleep(200 * time.Microsecond)
		}
		lats = append(lats, time.Since(t0))
	}
	res.vals["notify"] = float64(percentile(lats, 0.5)) / float64(time.Millisecond)
	return res, nil
}

// idleConnect logs one client in, selects INBOX and starts IDLE. The
// client counts itself in reached when its EXISTS reaches want. It stays
// connected until ctx ends or the level closes it; setupCtx bounds only the
// login.
func (b *bench) idleConnect(ctx, setupCtx context.Context, t *target, want *atomic.Uint32, reached *atomic.Int64) (*idleClient, error) {
	var seen atomic.Uint32
	h := &imapclient.UnilateralDataHandler{
		Mailbox: func(data *imapclient.UnilateralDataMailbox) {
			if data.NumMessages == nil {
				return
			}
			n := *data.NumMessages
			old := seen.Swap(n)
			if w := want.Load(); n >= w && old < w {
				reached.Add(1)
			}
		},
	}
	c, err := b.imapLogin(ctx, t, userIdle, h)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(setupCtx, func() {
		if !errors.Is(context.Cause(setupCtx), context.Canceled) {
			c.Close()
		}
	})
	defer stop()
	sel, err := c.Select("INBOX", nil).Wait()
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("SELECT: %w", err)
	}
	seen.Store(sel.NumMessages)
	idle, err := c.Idle()
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("IDLE: %w", err)
	}
	return &idleClient{c: c, idle: idle}, nil
}
