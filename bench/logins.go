package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-imap/v2"
)

// Workload 7, logins on fresh connections: what a server costs when clients
// reconnect all the time (phones, webmail logging in per page). Each client
// logs in as one of loginUsers accounts of its own, so the servers' caches
// hold several entries, as in real life.
const (
	loginUsers   = 10
	loginMailbox = 20 // messages in each login user's INBOX
	webmailFetch = 20 // messages a webmail page lists
	// loginSettle is how long after the last login the server's memory is
	// read: long enough for Postern's post-burst memory return (1 s).
	loginSettle = 5 * time.Second
)

// Account prefixes. Postern stores argon2id only; Dovecot gets the same
// argon2id hash for loginArgon users and a {PLAIN} password for loginPlain
// users, the cheapest storage it has, so that both comparisons of the
// issue run against the same Dovecot.
const (
	loginArgon = "login"
	loginPlain = "plain"
)

// loginUserNames returns the accounts of one prefix.
func loginUserNames(prefix string) []string {
	var u []string
	for i := range loginUsers {
		u = append(u, fmt.Sprintf("%s%d", prefix, i))
	}
	return u
}

// loginVariant is one account set a server is measured with: Postern has
// one (argon2id); Dovecot two (argon2id, {PLAIN}).
type loginVariant struct {
	key    string // key prefix: "a" (argon2id) or "p" ({PLAIN})
	prefix string // account prefix
}

func loginVariants(t *target) []loginVariant {
	if t.name == "Dovecot" {
		return []loginVariant{{"a", loginArgon}, {"p", loginPlain}}
	}
	return []loginVariant{{"a", loginArgon}}
}

// loginsWorkload is workload 7: for each -logins-clients level, that many
// clients doing connect + LOGIN + SELECT INBOX + LOGOUT in a loop for
// -logins-time; then a webmail-like loop (LOGIN + SELECT + FETCH of the
// newest webmailFetch envelopes + LOGOUT, per "page") with the first
// level's clients; then the server's memory, loginSettle after the last
// login. Every row compares Postern with Dovecot on argon2id and on
// {PLAIN}; Postern's figure is the same measurement in both.
func (b *bench) loginsWorkload() workload {
	var metrics []metricDef
	for _, v := range []struct{ key, what string }{{"a", "Dovecot argon2id"}, {"p", "Dovecot {PLAIN}"}} {
		for _, n := range b.o.loginsClients {
			metrics = append(metrics,
				metricDef{fmt.Sprintf("%s%d_rate", v.key, n), fmt.Sprintf("%d clients LOGIN+SELECT+LOGOUT vs %s", n, v.what), "logins/s", "higher"},
				metricDef{fmt.Sprintf("%s%d_p50", v.key, n), fmt.Sprintf("%d clients p50 latency vs %s", n, v.what), "ms", "lower"},
				metricDef{fmt.Sprintf("%s%d_p99", v.key, n), fmt.Sprintf("%d clients p99 latency vs %s", n, v.what), "ms", "lower"},
			)
		}
		metrics = append(metrics,
			metricDef{v.key + "web_rate", fmt.Sprintf("webmail pages (%d clients) vs %s", b.o.loginsClients[0], v.what), "pages/s", "higher"},
			metricDef{v.key + "web_p99", "webmail page p99 latency vs " + v.what, "ms", "lower"},
			metricDef{v.key + "mem", "server PSS after the logins, idle, vs " + v.what, "MiB", "lower"},
		)
	}
	return workload{
		id:      "logins",
		title:   fmt.Sprintf("7 logins on fresh connections, %v clients, %v each", b.o.loginsClients, b.o.loginsTime),
		protos:  []string{protoIMAP, protoLMTP},
		metrics: metrics,
		warm:    b.warmLogins,
		run:     b.runLogins,
	}
}

// warmLogins fills every login account's INBOX and logs each in once.
func (b *bench) warmLogins(ctx context.Context, t *target) error {
	for _, v := range loginVariants(t) {
		for _, u := range loginUserNames(v.prefix) {
			if err := b.fill(ctx, t, u, loginMailbox); err != nil {
				return err
			}
			if err := b.loginCycle(ctx, t, u, false); err != nil {
				return fmt.Errorf("%s: %w", u, err)
			}
		}
	}
	return nil
}

func (b *bench) runLogins(ctx context.Context, t *target, r int) (map[string]float64, error) {
	vals := map[string]float64{}
	for _, v := range loginVariants(t) {
		users := loginUserNames(v.prefix)
		for _, n := range b.o.loginsClients {
			res, err := b.loginLoop(ctx, t, users, n, false)
			if err != nil {
				return nil, fmt.Errorf("%d clients: %w", n, err)
			}
			vals[fmt.Sprintf("%s%d_rate", v.key, n)] = res.rate
			vals[fmt.Sprintf("%s%d_p50", v.key, n)] = res.p50
			vals[fmt.Sprintf("%s%d_p99", v.key, n)] = res.p99
		}
		res, err := b.loginLoop(ctx, t, users, b.o.loginsClients[0], true)
		if err != nil {
			return nil, fmt.Errorf("webmail: %w", err)
		}
		vals[v.key+"web_rate"], vals[v.key+"web_p99"] = res.rate, res.p99
		time.Sleep(loginSettle)
		mem, err := treeMem(t.pid())
		if err != nil {
			return nil, err
		}
		vals[v.key+"mem"] = float64(mem.PSS) / mib
	}
	if t.name != "Dovecot" {
		// One storage, one measurement: the {PLAIN} rows repeat it.
		for k, v := range vals {
			vals["p"+k[1:]] = v
		}
	}
	return vals, nil
}

type loopResult struct{ rate, p50, p99 float64 }

// loginLoop runs n clients, client i as users[i % len(users)], each doing
// login cycles until -logins-time is over; a cycle started before the end
// is finished and counted.
func (b *bench) loginLoop(ctx context.Context, t *target, users []string, n int, webmail bool) (loopResult, error) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var lat []time.Duration
	var ok, failed atomic.Int64
	var firstErr atomic.Value
	start := time.Now()
	end := start.Add(b.o.loginsTime)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for time.Now().Before(end) && ctx.Err() == nil {
				t0 := time.Now()
				err := b.loginCycle(ctx, t, users[i%len(users)], webmail)
				mine = append(mine, time.Since(t0))
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					time.Sleep(10 * time.Millisecond)
					continue
				}
				ok.Add(1)
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	d := time.Since(start)
	if err := ctx.Err(); err != nil {
		return loopResult{}, err
	}
	if k := failed.Load(); k > 0 {
		b.rep.note(fmt.Sprintf("%s: logins, %d clients (webmail %v): %d failed cycles (first: %v)", t.name, n, webmail, k, firstErr.Load()))
	}
	if ok.Load() == 0 {
		return loopResult{}, fmt.Errorf("no cycle succeeded (first error: %v)", firstErr.Load())
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	return loopResult{
		rate: float64(ok.Load()) / d.Seconds(),
		p50:  ms(percentile(lat, 0.50)),
		p99:  ms(percentile(lat, 0.99)),
	}, nil
}

// loginCycle is one fresh connection: LOGIN, SELECT INBOX, with webmail a
// FETCH of the newest envelopes, LOGOUT. Its deadline is twice the usual,
// since a storm queues logins by design.
func (b *bench) loginCycle(ctx context.Context, t *target, user string, webmail bool) error {
	ctx, cancel := context.WithTimeout(ctx, 2*b.o.opTimeout)
	defer cancel()
	c, err := b.imapLogin(ctx, t, user, nil)
	if err != nil {
		return err
	}
	defer c.Close()
	sel, err := c.Select("INBOX", nil).Wait()
	if err != nil {
		return fmt.Errorf("SELECT: %w", err)
	}
	if int(sel.NumMessages) != loginMailbox {
		return fmt.Errorf("SELECT: %d messages in %s's INBOX, want %d", sel.NumMessages, user, loginMailbox)
	}
	if webmail {
		newest := imap.SeqSet{imap.SeqRange{Start: uint32(max(1, loginMailbox-webmailFetch+1)), Stop: loginMailbox}}
		msgs, err := c.Fetch(newest, &imap.FetchOptions{UID: true, Flags: true, Envelope: true, RFC822Size: true}).Collect()
		if err != nil {
			return fmt.Errorf("FETCH: %w", err)
		}
		if len(msgs) != webmailFetch {
			return fmt.Errorf("FETCH: %d messages, want %d", len(msgs), webmailFetch)
		}
	}
	return c.Logout().Wait()
}
