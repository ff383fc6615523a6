package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-smtp"
)

const (
	mib          = 1 << 20
	warmMessages = 50
	lmtpSender   = "bench-sender@example.org"
	idleSettle   = 2 * time.Second
	// idleMailbox is how many messages the IDLE user's INBOX holds.
	idleMailbox = 10
)

// workloads returns the numbered workloads (issues 7 and 15), in order.
func (b *bench) workloads() []workload {
	o := b.o
	return []workload{
		{
			id: "lmtp", title: fmt.Sprintf("1 LMTP delivery, %d msgs, %d clients", o.msgs, o.lmtpClients),
			protos:  []string{protoLMTP},
			metrics: []metricDef{{"rate", "LMTP delivery", "msgs/s", "higher"}},
			warm: func(ctx context.Context, t *target) error {
				_, err := b.deliver(ctx, t, userWarm, b.corpus.msgs[:min(warmMessages, o.msgs)])
				return err
			},
			run: b.runLMTP,
		},
		{
			id: "imap", title: fmt.Sprintf("2 IMAP read, %d-msg mailbox", o.msgs),
			protos: []string{protoIMAP},
			metrics: []metricDef{
				{"select_fetch", "LOGIN+SELECT+FETCH 1:* (UID FLAGS RFC822.SIZE ENVELOPE)", "s", "lower"},
				{"search_text", `UID SEARCH TEXT "` + searchWord + `"`, "s", "lower"},
				{"search_from", `UID SEARCH FROM "` + searchFrom + `"`, "s", "lower"},
				{"search_subject", `UID SEARCH SUBJECT "` + searchSubject + `"`, "s", "lower"},
				{"fetch_body", "FETCH n BODY[] of every message", "MiB/s", "higher"},
			},
			warm: func(ctx context.Context, t *target) error {
				if err := b.fill(ctx, t, userReader, o.msgs); err != nil {
					return err
				}
				_, err := b.runIMAP(ctx, t, -1)
				return err
			},
			run: b.runIMAP,
		},
		{
			id: "append", title: fmt.Sprintf("3 IMAP APPEND, %d msgs", o.appendMsgs),
			protos:  []string{protoIMAP},
			metrics: []metricDef{{"rate", "IMAP APPEND", "msgs/s", "higher"}},
			warm: func(ctx context.Context, t *target) error {
				_, err := b.appendMsgs(ctx, t, userWarm, b.corpus.msgs[:min(warmMessages, o.appendMsgs)])
				return err
			},
			run: b.runAppend,
		},
		{
			id: "pop3", title: fmt.Sprintf("4 POP3 retrieve all, %d msgs", o.msgs),
			protos: []string{protoPOP3},
			metrics: []metricDef{
				{"mibs", "POP3 login+STAT+LIST+UIDL+RETR all", "MiB/s", "higher"},
				{"seconds", "POP3 login+STAT+LIST+UIDL+RETR all", "s", "lower"},
			},
			warm: func(ctx context.Context, t *target) error {
				if err := b.fill(ctx, t, userReader, o.msgs); err != nil {
					return err
				}
				_, err := b.runPOP3(ctx, t, -1)
				return err
			},
			run: b.runPOP3,
		},
		b.idleWorkload(),
		{
			id: "storm", title: fmt.Sprintf("6 login storm, %d clients, %v", o.stormClients, o.stormTime),
			protos: []string{protoIMAP},
			metrics: []metricDef{
				{"rate", "IMAP LOGIN/LOGOUT", "logins/s", "higher"},
				{"p99", "IMAP LOGIN/LOGOUT p99 latency", "ms", "lower"},
			},
			warm: func(ctx context.Context, t *target) error {
				for range 3 {
					c, err := b.imapLogin(ctx, t, userStorm, nil)
					if err != nil {
						return err
					}
					_ = c.Logout().Wait()
					c.Close()
				}
				return nil
			},
			run: b.runStorm,
		},
		b.loginsWorkload(),
		b.mixedWorkload(),
		b.bigboxWorkload(),
	}
}

// deliver sends msgs to user over LMTP with lmtpClients parallel
// connections and returns the elapsed time.
func (b *bench) deliver(ctx context.Context, t *target, user string, msgs [][]byte) (time.Duration, error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, b.o.lmtpClients)
	start := time.Now()
	for range min(b.o.lmtpClients, len(msgs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := b.lmtpClient(ctx, t.dialAddr(protoLMTP), user, msgs, &next); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	if err := <-errs; err != nil {
		return 0, err
	}
	t.mu.Lock()
	t.filled[user] += len(msgs)
	t.mu.Unlock()
	return elapsed, nil
}

// lmtpClient delivers messages taken from the shared counter over one LMTP
// connection until none are left.
func (b *bench) lmtpClient(ctx context.Context, addr, user string, msgs [][]byte, next *atomic.Int64) error {
	d := net.Dialer{Timeout: dialTimeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	c := smtp.NewClientLMTP(conn)
	defer c.Close()
	c.CommandTimeout = b.o.opTimeout
	c.SubmissionTimeout = b.o.opTimeout
	if err := c.Hello("bench.localhost"); err != nil {
		return fmt.Errorf("LHLO: %w", err)
	}
	for {
		i := int(next.Add(1) - 1)
		if i >= len(msgs) {
			break
		}
		if err := c.Mail(lmtpSender, nil); err != nil {
			return fmt.Errorf("MAIL FROM: %w", err)
		}
		if err := c.Rcpt(user+"@"+benchDomain, nil); err != nil {
			return fmt.Errorf("RCPT TO: %w", err)
		}
		w, err := c.Data()
		if err != nil {
			return fmt.Errorf("DATA: %w", err)
		}
		if _, err := w.Write(msgs[i]); err != nil {
			return fmt.Errorf("DATA: %w", err)
		}
		if _, err := w.CloseWithLMTPResponse(); err != nil {
			return fmt.Errorf("message %d: %w", i, err)
		}
	}
	return c.Quit()
}

// fill makes sure user's INBOX holds the first n corpus messages: over
// LMTP where the server serves it, else with `postern import` (Postern
// only, while its LMTP server does not exist yet).
func (b *bench) fill(ctx context.Context, t *target, user string, n int) error {
	t.mu.Lock()
	have := t.filled[user]
	t.mu.Unlock()
	if have >= n {
		return nil
	}
	if have > 0 {
		return fmt.Errorf("%s holds %d messages, not %d", user, have, n)
	}
	b.logf("  %s: preparing %d messages for %s", t.name, n, user)
	if ok, _ := t.available(protoLMTP); ok {
		_, err := b.deliver(ctx, t, user, b.corpus.msgs[:n])
		return err
	}
	if t.importMaildir == nil {
		return fmt.Errorf("cannot prepare %s: no LMTP and no import", user)
	}
	md := filepath.Join(b.dir, "corpus-maildir", fmt.Sprint(n))
	if err := b.corpus.writeMaildir(md, n); err != nil {
		return err
	}
	if err := t.importMaildir(ctx, user, md); err != nil {
		return err
	}
	t.mu.Lock()
	t.filled[user] = n
	t.mu.Unlock()
	return nil
}

// runLMTP is workload 1. Run 0 delivers into the reader mailbox when that
// is still empty, so that the read workloads need no extra delivery.
func (b *bench) runLMTP(ctx context.Context, t *target, r int) (map[string]float64, error) {
	user := fmt.Sprintf("deliver%d", r)
	t.mu.Lock()
	if r == 0 && t.filled[userReader] == 0 {
		user = userReader
	}
	t.mu.Unlock()
	d, err := b.deliver(ctx, t, user, b.corpus.msgs[:b.o.msgs])
	if err != nil {
		return nil, err
	}
	return map[string]float64{"rate": float64(b.o.msgs) / d.Seconds()}, nil
}

// imapLogin connects and logs in; the connection closes when ctx ends.
func (b *bench) imapLogin(ctx context.Context, t *target, user string, h *imapclient.UnilateralDataHandler) (*imapclient.Client, error) {
	d := net.Dialer{Timeout: dialTimeout}
	conn, err := d.DialContext(ctx, "tcp", t.dialAddr(protoIMAP))
	if err != nil {
		return nil, err
	}
	c := imapclient.New(conn, &imapclient.Options{UnilateralDataHandler: h})
	context.AfterFunc(ctx, func() { c.Close() })
	if err := c.Login(user, benchPassword).Wait(); err != nil {
		c.Close()
		return nil, fmt.Errorf("LOGIN: %w", err)
	}
	return c, nil
}

// withDeadline runs fn and closes c if it takes longer than d: imapclient
// has no per-command deadline.
func withDeadline(c io.Closer, d time.Duration, fn func() error) error {
	timer := time.AfterFunc(d, func() { c.Close() })
	defer timer.Stop()
	return fn()
}

// runIMAP is workload 2; r < 0 is the untimed warm-up.
func (b *bench) runIMAP(ctx context.Context, t *target, r int) (map[string]float64, error) {
	n := b.o.msgs
	vals := map[string]float64{}
	start := time.Now()
	c, err := b.imapLogin(ctx, t, userReader, nil)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	op := b.o.opTimeout
	err = withDeadline(c, op, func() error {
		sel, err := c.Select("INBOX", nil).Wait()
		if err != nil {
			return fmt.Errorf("SELECT: %w", err)
		}
		if int(sel.NumMessages) != n {
			return fmt.Errorf("INBOX has %d messages, want %d", sel.NumMessages, n)
		}
		msgs, err := c.Fetch(imap.SeqSet{imap.SeqRange{Start: 1, Stop: 0}}, &imap.FetchOptions{
			UID: true, Flags: true, RFC822Size: true, Envelope: true,
		}).Collect()
		if err != nil {
			return fmt.Errorf("FETCH 1:*: %w", err)
		}
		if len(msgs) != n {
			return fmt.Errorf("FETCH 1:* returned %d messages, want %d", len(msgs), n)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	vals["select_fetch"] = time.Since(start).Seconds()

	searches := []struct {
		key  string
		crit *imap.SearchCriteria
		want int
	}{
		{"search_text", &imap.SearchCriteria{Text: []string{searchWord}}, b.corpus.wantText},
		{"search_from", &imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "From", Value: searchFrom}}}, b.corpus.wantFrom},
		{"search_subject", &imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Subject", Value: searchSubject}}}, b.corpus.wantSubject},
	}
	for _, s := range searches {
		start := time.Now()
		var got int
		err := withDeadline(c, op, func() error {
			data, err := c.UIDSearch(s.crit, nil).Wait()
			got = len(data.AllUIDs())
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("UID SEARCH: %w", err)
		}
		vals[s.key] = time.Since(start).Seconds()
		if got != s.want && r <= 0 {
			b.rep.note(fmt.Sprintf("%s: %s found %d messages, the corpus has %d", t.name, s.key, got, s.want))
		}
	}

	start = time.Now()
	var total int64
	for i := 1; i <= n; i++ {
		err := withDeadline(c, op, func() error {
			cmd := c.Fetch(imap.SeqSetNum(uint32(i)), &imap.FetchOptions{
				BodySection: []*imap.FetchItemBodySection{{}},
			})
			for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
				for item := msg.Next(); item != nil; item = msg.Next() {
					if bs, ok := item.(imapclient.FetchItemDataBodySection); ok {
						k, err := io.Copy(io.Discard, bs.Literal)
						total += k
						if err != nil {
							return err
						}
					}
				}
			}
			return cmd.Close()
		})
		if err != nil {
			return nil, fmt.Errorf("FETCH %d BODY[]: %w", i, err)
		}
	}
	d := time.Since(start)
	vals["fetch_body"] = float64(total) / mib / d.Seconds()
	_ = withDeadline(c, op, func() error { return c.Logout().Wait() })
	return vals, nil
}

// appendMsgs appends msgs to user's INBOX, one APPEND at a time.
// The time excludes the login, which the login storm measures.
func (b *bench) appendMsgs(ctx context.Context, t *target, user string, msgs [][]byte) (time.Duration, error) {
	c, err := b.imapLogin(ctx, t, user, nil)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	start := time.Now()
	for i, m := range msgs {
		err := withDeadline(c, b.o.opTimeout, func() error {
			cmd := c.Append("INBOX", int64(len(m)), nil)
			if _, err := cmd.Write(m); err != nil {
				return err
			}
			if err := cmd.Close(); err != nil {
				return err
			}
			_, err := cmd.Wait()
			return err
		})
		if err != nil {
			return 0, fmt.Errorf("APPEND %d: %w", i, err)
		}
	}
	d := time.Since(start)
	_ = withDeadline(c, b.o.opTimeout, func() error { return c.Logout().Wait() })
	return d, nil
}

// runAppend is workload 3: each run appends into a fresh user.
func (b *bench) runAppend(ctx context.Context, t *target, r int) (map[string]float64, error) {
	d, err := b.appendMsgs(ctx, t, fmt.Sprintf("append%d", r), b.corpus.msgs[:b.o.appendMsgs])
	if err != nil {
		return nil, err
	}
	return map[string]float64{"rate": float64(b.o.appendMsgs) / d.Seconds()}, nil
}

// runPOP3 is workload 4: login, STAT, LIST, UIDL, RETR of every message,
// QUIT without DELE.
func (b *bench) runPOP3(ctx context.Context, t *target, r int) (map[string]float64, error) {
	start := time.Now()
	c, err := dialPOP3(t.dialAddr(protoPOP3), b.o.opTimeout)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	defer c.Close()
	if err := c.Login(userReader, benchPassword); err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	count, _, err := c.Stat()
	if err != nil {
		return nil, fmt.Errorf("STAT: %w", err)
	}
	if count != b.o.msgs {
		return nil, fmt.Errorf("STAT says %d messages, want %d", count, b.o.msgs)
	}
	for _, verb := range []string{"LIST", "UIDL"} {
		if k, err := c.List(verb); err != nil || k != count {
			return nil, fmt.Errorf("%s: %d lines, %v", verb, k, err)
		}
	}
	var total int64
	for i := 1; i <= count; i++ {
		k, err := c.Retr(i, io.Discard)
		if err != nil {
			return nil, fmt.Errorf("RETR %d: %w", i, err)
		}
		total += k
	}
	if err := c.Quit(); err != nil {
		return nil, fmt.Errorf("QUIT: %w", err)
	}
	d := time.Since(start)
	return map[string]float64{"mibs": float64(total) / mib / d.Seconds(), "seconds": d.Seconds()}, nil
}

// runStorm is workload 6: stormClients clients each doing connect, LOGIN,
// LOGOUT in a loop for stormTime; a cycle started before the end is
// finished and counted.
func (b *bench) runStorm(ctx context.Context, t *target, r int) (map[string]float64, error) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var lat []time.Duration
	var errCount, ok atomic.Int64
	var firstErr atomic.Value
	end := time.Now().Add(b.o.stormTime)
	start := time.Now()
	for range b.o.stormClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for time.Now().Before(end) && ctx.Err() == nil {
				t0 := time.Now()
				err := b.loginLogout(ctx, t)
				// A failed cycle counts in the latencies with the time it
				// took (often the timeout), not in the logins.
				mine = append(mine, time.Since(t0))
				if err != nil {
					errCount.Add(1)
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
		return nil, err
	}
	if n := errCount.Load(); n > 0 {
		b.rep.note(fmt.Sprintf("%s: login storm run %d: %d failed cycles (first: %v)", t.name, r+1, n, firstErr.Load()))
	}
	if ok.Load() == 0 {
		return nil, fmt.Errorf("no login succeeded (first error: %v)", firstErr.Load())
	}
	return map[string]float64{
		"rate": float64(ok.Load()) / d.Seconds(),
		"p99":  float64(percentile(lat, 0.99)) / float64(time.Millisecond),
	}, nil
}

// loginLogout is one storm cycle: connect, LOGIN, LOGOUT. Its deadline is
// twice the usual, since a storm queues logins by design.
func (b *bench) loginLogout(ctx context.Context, t *target) error {
	ctx, cancel := context.WithTimeout(ctx, 2*b.o.opTimeout)
	defer cancel()
	c, err := b.imapLogin(ctx, t, userStorm, nil)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Logout().Wait()
}
