package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// Workload 9, one large mailbox (issue 15, "Scale of a mailbox"): a user
// whose INBOX holds -bigbox (100,000) small messages, and the commands
// whose cost grows with the mailbox: STATUS, SELECT, FETCH 1:* (UID
// FLAGS), FETCH 1:* ENVELOPE, UID SEARCH FROM and TEXT, and a POP3 login.
//
// Filling 100,000 messages by LMTP into both servers takes too long for
// one run, so each is filled the fastest way it offers: Postern by
// `postern import` of a Maildir (one durable append per message), Dovecot
// by writing its Maildir directly and `doveadm force-resync`. Both hold
// the same messages with the same flags (every third \Seen).
const (
	userBigbox = "bigbox"
	// bigSeenEvery: every bigSeenEvery-th message is \Seen.
	bigSeenEvery = 3
)

// bigboxWorkload is workload 9.
func (b *bench) bigboxWorkload() workload {
	n := b.o.bigMsgs
	return workload{
		id: "bigbox", title: fmt.Sprintf("9 one %d-message mailbox", n),
		protos: []string{protoIMAP, protoPOP3},
		metrics: []metricDef{
			{"status", "STATUS INBOX (MESSAGES UNSEEN UIDNEXT)", "s", "lower"},
			{"select", "SELECT INBOX", "s", "lower"},
			{"fetch_flags", "FETCH 1:* (UID FLAGS)", "s", "lower"},
			{"fetch_envelope", "FETCH 1:* ENVELOPE", "s", "lower"},
			{"search_from", `UID SEARCH FROM "` + searchFrom + `"`, "s", "lower"},
			{"search_text", `UID SEARCH TEXT "` + searchWord + `"`, "s", "lower"},
			{"pop3_login", "POP3 USER+PASS (maildrop of the whole INBOX)", "s", "lower"},
		},
		// Filling takes Postern one durable append per message.
		warmTimeout: 4 * b.o.workTimeout,
		warm: func(ctx context.Context, t *target) error {
			if err := b.fillBig(ctx, t, n); err != nil {
				return err
			}
			_, err := b.runBigbox(ctx, t, -1)
			return err
		},
		run: b.runBigbox,
	}
}

// bigMessage is message i of the large mailbox: a plain-text message of
// about 1 KiB, from a fixed seed; the search word and sender recur as in
// the main corpus, so the searches have known answers.
func bigMessage(rng *rand.Rand, i int) []byte {
	var b bytes.Buffer
	header(&b, rng, i)
	b.WriteString("Content-Type: text/plain; charset=utf-8\r\n\r\n")
	for range 8 {
		b.WriteString(words(rng, 12))
		b.WriteString("\r\n")
	}
	if i%searchWordEvery == searchWordEvery-1 {
		b.WriteString("the " + searchWord + " is here\r\n")
	}
	return b.Bytes()
}

// bigAnswers returns how many of n large-mailbox messages SEARCH FROM and
// SEARCH TEXT find: message i matches when i+1 is a multiple.
func bigAnswers(n int) (from, text int) {
	return n / searchFromEvery, n / searchWordEvery
}

// writeBigMaildir writes the n messages of the large mailbox into the
// Maildir cur directory dir, \Seen as the info suffix says (":2,S").
// Names carry S=size so Dovecot need not stat each file.
func writeBigMaildir(dir string, n int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(corpusSeed, 100_000))
	for i := range n {
		m := bigMessage(rng, i)
		flags := ""
		if i%bigSeenEvery == 0 {
			flags = "S"
		}
		name := fmt.Sprintf("%d.M%dP1.bench,S=%d:2,%s", 1700000000+i, i, len(m), flags)
		if err := os.WriteFile(filepath.Join(dir, name), m, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// fillBig gives the bigbox user n messages on t, once per target.
func (b *bench) fillBig(ctx context.Context, t *target, n int) error {
	t.mu.Lock()
	have := t.filled[userBigbox]
	t.mu.Unlock()
	if have == n {
		return nil
	}
	start := time.Now()
	b.logf("  %s: filling %s with %d messages", t.name, userBigbox, n)
	var err error
	switch {
	case t.fillMaildir != nil:
		err = t.fillMaildir(ctx, userBigbox, func(cur string) error { return writeBigMaildir(cur, n) })
	case t.importMaildir != nil:
		md := filepath.Join(b.dir, "bigbox-maildir")
		for _, sub := range []string{"new", "tmp"} {
			if err := os.MkdirAll(filepath.Join(md, sub), 0o755); err != nil {
				return err
			}
		}
		if err = writeBigMaildir(filepath.Join(md, "cur"), n); err == nil {
			err = t.importMaildir(ctx, userBigbox, md)
		}
		os.RemoveAll(md)
	default:
		err = fmt.Errorf("%s: no way to fill a mailbox directly", t.name)
	}
	if err != nil {
		return err
	}
	b.logf("  %s: filled in %v", t.name, time.Since(start).Round(time.Second))
	t.mu.Lock()
	t.filled[userBigbox] = n
	t.mu.Unlock()
	return nil
}

// runBigbox is workload 9; r < 0 is the untimed warm-up. Each command is
// timed alone, on one connection: STATUS before SELECT (so it does not
// ask about the selected mailbox), then the selected-state commands; the
// POP3 login on a connection of its own, after LOGOUT.
func (b *bench) runBigbox(ctx context.Context, t *target, r int) (map[string]float64, error) {
	n := b.o.bigMsgs
	vals := map[string]float64{}
	c, err := b.imapLogin(ctx, t, userBigbox, nil)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	timed := func(key string, fn func() error) error {
		start := time.Now()
		if err := withDeadline(c, b.o.opTimeout, fn); err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		vals[key] = time.Since(start).Seconds()
		return nil
	}
	err = timed("status", func() error {
		st, err := c.Status("INBOX", &imap.StatusOptions{NumMessages: true, NumUnseen: true, UIDNext: true}).Wait()
		if err == nil && (st.NumMessages == nil || int(*st.NumMessages) != n) {
			err = fmt.Errorf("STATUS: %v messages, want %d", st.NumMessages, n)
		}
		return err
	})
	if err == nil {
		err = timed("select", func() error {
			sel, err := c.Select("INBOX", nil).Wait()
			if err == nil && int(sel.NumMessages) != n {
				err = fmt.Errorf("INBOX has %d messages, want %d", sel.NumMessages, n)
			}
			return err
		})
	}
	all := imap.SeqSet{imap.SeqRange{Start: 1, Stop: 0}}
	for _, f := range []struct {
		key  string
		opts *imap.FetchOptions
	}{
		{"fetch_flags", &imap.FetchOptions{UID: true, Flags: true}},
		{"fetch_envelope", &imap.FetchOptions{Envelope: true}},
	} {
		if err != nil {
			break
		}
		err = timed(f.key, func() error { return fetchCount(c.Fetch(all, f.opts), n) })
	}
	wantFrom, wantText := bigAnswers(n)
	for _, s := range []struct {
		key  string
		crit *imap.SearchCriteria
		want int
	}{
		{"search_from", &imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "From", Value: searchFrom}}}, wantFrom},
		{"search_text", &imap.SearchCriteria{Text: []string{searchWord}}, wantText},
	} {
		if err != nil {
			break
		}
		err = timed(s.key, func() error {
			data, err := c.UIDSearch(s.crit, nil).Wait()
			if got := len(data.AllUIDs()); err == nil && got != s.want && r <= 0 {
				b.rep.note(fmt.Sprintf("%s: bigbox %s found %d messages, the mailbox has %d", t.name, s.key, got, s.want))
			}
			return err
		})
	}
	if err != nil {
		return nil, err
	}
	_ = withDeadline(c, b.o.opTimeout, func() error { return c.Logout().Wait() })
	if vals["pop3_login"], err = b.pop3Login(ctx, t, n); err != nil {
		return nil, err
	}
	if r >= 0 {
		// The preparation takes long enough for the load to change
		// between the workload's start and its runs.
		b.rep.note(fmt.Sprintf("%s: bigbox run %d ended at load average %s", t.name, r+1, loadAverage()))
	}
	return vals, nil
}

// fetchCount reads a FETCH's responses as they stream and checks that n
// messages came.
func fetchCount(cmd *imapclient.FetchCommand, n int) error {
	got := 0
	for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
		for item := msg.Next(); item != nil; item = msg.Next() {
		}
		got++
	}
	if err := cmd.Close(); err != nil {
		return err
	}
	if got != n {
		return fmt.Errorf("FETCH 1:* returned %d messages, want %d", got, n)
	}
	return nil
}

// pop3Login times USER + PASS, which builds the maildrop, and checks STAT.
func (b *bench) pop3Login(ctx context.Context, t *target, n int) (float64, error) {
	c, err := dialPOP3(t.dialAddr(protoPOP3), b.o.opTimeout)
	if err != nil {
		return 0, err
	}
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	defer c.Close()
	start := time.Now()
	if err := c.Login(userBigbox, benchPassword); err != nil {
		return 0, fmt.Errorf("POP3 login: %w", err)
	}
	d := time.Since(start).Seconds()
	count, _, err := c.Stat()
	if err == nil && count != n {
		err = fmt.Errorf("STAT says %d messages, want %d", count, n)
	}
	if err != nil {
		return 0, fmt.Errorf("POP3 STAT: %w", err)
	}
	return d, c.Quit()
}
