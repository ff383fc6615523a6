package queue

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sort"
	"strings"
	"sync"
	"time"
)

// Default retry schedule: the first retry after RetryBase, doubling up to
// RetryMax (RFC 5321 §4.5.4.1 asks for at least 30 minutes between
// retries once a message has waited a while; we start faster).
const (
	defaultRetryBase = time.Minute
	defaultRetryMax  = time.Hour
	defaultLifetime  = 5 * 24 * time.Hour
	dialTimeout      = 30 * time.Second
)

// ErrNotFound is returned by Delete for an unknown id.
var ErrNotFound = errors.New("no such queued message")

// RelayTLS is how the connection to a relay is secured.
type RelayTLS int

// Relay TLS modes.
const (
	RelayStartTLS RelayTLS = iota // STARTTLS required, certificate verified
	RelayImplicit                 // TLS from the first byte
	RelayNone                     // clear text
)

// Relay is a smart host all remote mail goes through.
type Relay struct {
	Addr     string // host:port
	TLS      RelayTLS
	Username string // "" means no AUTH
	Password string
	// TLSConfig verifies the relay; nil means the system roots and the
	// host of Addr.
	TLSConfig *tls.Config
}

// MXLookup finds the mail exchangers of a domain, in preference order. It
// returns hosts (names or IP literals) to dial on Options.Port.
type MXLookup func(ctx context.Context, domain string) ([]string, error)

// ErrNullMX means the domain says it accepts no mail (RFC 7505).
var ErrNullMX = errors.New("domain accepts no mail (null MX)")

// Options configure a Queue.
type Options struct {
	// Dir holds the queue; created if missing.
	Dir string
	// Hostname is our EHLO name and the Reporting-MTA of DSNs.
	Hostname string
	// Relay, if set, receives all remote mail.
	Relay *Relay
	// LookupMX resolves domains when there is no relay; nil means DNS
	// through Resolver.
	LookupMX MXLookup
	// Resolver is the DNS server host:port for MX lookups; "" means the
	// system resolver.
	Resolver string
	// Port is the SMTP port of MX hosts; 0 means 25.
	Port int
	// IsLocal reports whether a domain is ours; its recipients go to
	// DeliverLocal instead of SMTP.
	IsLocal func(domain string) bool
	// DeliverLocal delivers to a local address; from is the envelope
	// sender ("" for the null sender), which the recipient's Sieve script
	// sees. permanent reports whether a failure is final. content may be
	// read more than once (seek to 0).
	DeliverLocal func(ctx context.Context, from, rcpt string, content io.ReadSeeker) (permanent bool, err error)
	// Lifetime is how long a message is retried before it bounces.
	Lifetime time.Duration
	// DelayWarning is when the sender is told a message is still queued;
	// 0 means never.
	DelayWarning time.Duration
	// RetryBase and RetryMax shape the exponential backoff.
	RetryBase, RetryMax time.Duration
	// MTASTS, if set, gives the MTA-STS policy (RFC 8461) of a domain
	// delivered to through its MX hosts; nil when it has none.
	MTASTS func(ctx context.Context, domain string) *STSPolicy
	// RootCAs verifies MX certificates under an enforced MTA-STS policy;
	// nil is the system's roots.
	RootCAs *x509.CertPool
	// Logger receives one line per attempt; nil discards.
	Logger *slog.Logger
	// Clock gives the time; nil means time.Now.
	Clock func() time.Time
}

// STSPolicy is what the queue needs of an MTA-STS policy (RFC 8461 §5):
// in enforce mode, deliver only to MX hosts Match accepts, over TLS with
// a certificate valid for the MX name; in testing mode, only log.
type STSPolicy struct {
	Enforce bool
	Match   func(mx string) bool
}

// Queue is the outbound queue.
type Queue struct {
	opts Options
	disk disk

	mu      sync.Mutex
	entries map[string]*envelope
	busy    map[string]bool // being attempted now
	wake    chan struct{}
}

// New opens the queue in opts.Dir, recovering what a crash left there.
func New(opts Options) (*Queue, error) {
	if opts.Dir == "" {
		return nil, errors.New("queue: Dir is required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.Lifetime == 0 {
		opts.Lifetime = defaultLifetime
	}
	if opts.RetryBase == 0 {
		opts.RetryBase = defaultRetryBase
	}
	if opts.RetryMax == 0 {
		opts.RetryMax = defaultRetryMax
	}
	if opts.Port == 0 {
		opts.Port = 25
	}
	if opts.IsLocal == nil {
		opts.IsLocal = func(string) bool { return false }
	}
	if opts.LookupMX == nil {
		opts.LookupMX = dnsLookupMX(opts.Resolver)
	}
	q := &Queue{opts: opts, disk: disk{opts.Dir}, entries: map[string]*envelope{},
		busy: map[string]bool{}, wake: make(chan struct{}, 1)}
	if err := q.disk.init(); err != nil {
		return nil, err
	}
	envs, errs := q.disk.load()
	for _, err := range errs {
		opts.Logger.Warn("queue recovery", "err", err)
	}
	for _, e := range envs {
		q.entries[e.ID] = e
	}
	if len(envs) > 0 {
		opts.Logger.Info("queue loaded", "messages", len(envs))
	}
	queueSize.Set(float64(len(envs)))
	return q, nil
}

// Enqueue stores a message for the recipients, durably, and returns its
// id. content is read to EOF.
func (q *Queue) Enqueue(ctx context.Context, from string, to []string, content io.Reader) (string, error) {
	rcpts := make([]Recipient, len(to))
	for i, r := range to {
		rcpts[i] = Recipient{Addr: r}
	}
	return q.EnqueueDSN(ctx, from, DSN{}, rcpts, content)
}

// DSN is the RFC 3461 request of a message (MAIL's RET and ENVID).
type DSN struct {
	Ret   string // FULL, HDRS or "" (HDRS)
	EnvID string // decoded
}

// Recipient is one recipient with its RFC 3461 parameters.
type Recipient struct {
	Addr   string
	Notify []string // NEVER, or some of SUCCESS, FAILURE, DELAY; nil: FAILURE, DELAY
	ORcpt  string   // "type;address", decoded; "" unset
}

// EnqueueDSN is Enqueue with the sender's delivery status notification
// requests (RFC 3461): which notices each recipient gets, and what they
// carry.
func (q *Queue) EnqueueDSN(ctx context.Context, from string, dsn DSN, to []Recipient, content io.Reader) (string, error) {
	if len(to) == 0 {
		return "", errors.New("queue: no recipients")
	}
	now := q.opts.Clock()
	id := newID(now)
	size, err := q.disk.writeMessage(id, content)
	if err != nil {
		return "", err
	}
	e := &envelope{ID: id, From: from, Created: now, Size: size, NextAttempt: now, Ret: dsn.Ret, EnvID: dsn.EnvID}
	for _, r := range to {
		e.Rcpts = append(e.Rcpts, &rcptState{Addr: r.Addr, State: statePending, Updated: now, Notify: r.Notify, ORcpt: r.ORcpt})
	}
	if err := q.disk.writeEnvelope(e); err != nil {
		q.disk.remove(id)
		return "", err
	}
	q.mu.Lock()
	q.entries[id] = e
	queueSize.Set(float64(len(q.entries)))
	q.mu.Unlock()
	enqueued.Inc()
	q.opts.Logger.Info("message queued", "queue_id", id, "from", from, "rcpts", len(to), "size", size)
	q.kick()
	return id, nil
}

func (q *Queue) kick() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// Info describes a queued message for `postern ctl queue list`.
type Info struct {
	ID          string
	From        string
	Created     time.Time
	Size        int64
	Attempts    int
	NextAttempt time.Time
	Pending     []string
	LastError   string
}

// List returns the queued messages, oldest first.
func (q *Queue) List() []Info {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []Info
	for _, e := range q.entries {
		in := Info{ID: e.ID, From: e.From, Created: e.Created, Size: e.Size, Attempts: e.Attempts, NextAttempt: e.NextAttempt}
		for _, r := range e.pending() {
			in.Pending = append(in.Pending, r.Addr)
			if r.LastError != "" {
				in.LastError = r.LastError
			}
		}
		out = append(out, in)
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Created.Before(out[j].Created) || out[i].Created.Equal(out[j].Created) && out[i].ID < out[j].ID
	})
	return out
}

// Flush makes every message due now and wakes the queue runner.
func (q *Queue) Flush() int {
	q.mu.Lock()
	now := q.opts.Clock()
	for _, e := range q.entries {
		e.NextAttempt = now
	}
	n := len(q.entries)
	q.mu.Unlock()
	q.kick()
	return n
}

// Delete removes a message without delivering it or telling the sender.
func (q *Queue) Delete(id string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if _, ok := q.entries[id]; !ok {
		return fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if q.busy[id] {
		return fmt.Errorf("message %s is being delivered; try again in a moment", id)
	}
	if err := q.disk.remove(id); err != nil {
		return err
	}
	delete(q.entries, id)
	queueSize.Set(float64(len(q.entries)))
	q.opts.Logger.Info("queued message deleted", "queue_id", id)
	return nil
}

// Run delivers due messages until ctx is done.
func (q *Queue) Run(ctx context.Context) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		next := q.runDue(ctx)
		if ctx.Err() != nil {
			return
		}
		wait := time.Hour
		if !next.IsZero() {
			wait = max(0, next.Sub(q.opts.Clock()))
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-q.wake:
		}
	}
}

// runDue attempts every due message once and returns when the next one is
// due (zero if the queue is empty).
func (q *Queue) runDue(ctx context.Context) time.Time {
	for {
		e := q.takeDue()
		if e == nil {
			break
		}
		q.attempt(ctx, e)
		q.mu.Lock()
		delete(q.busy, e.ID)
		q.mu.Unlock()
		if ctx.Err() != nil {
			return time.Time{}
		}
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	var next time.Time
	for _, e := range q.entries {
		if next.IsZero() || e.NextAttempt.Before(next) {
			next = e.NextAttempt
		}
	}
	return next
}

// takeDue picks the oldest due message and marks it busy.
func (q *Queue) takeDue() *envelope {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.opts.Clock()
	var pick *envelope
	for _, e := range q.entries {
		if q.busy[e.ID] || e.NextAttempt.After(now) {
			continue
		}
		if pick == nil || e.Created.Before(pick.Created) {
			pick = e
		}
	}
	if pick != nil {
		q.busy[pick.ID] = true
	}
	return pick
}

// backoff is the delay before attempt number n+1.
func (q *Queue) backoff(n int) time.Duration {
	d := q.opts.RetryBase
	for i := 1; i < n && d < q.opts.RetryMax; i++ {
		d *= 2
	}
	return min(d, q.opts.RetryMax)
}

// domainOf returns the lower-cased domain of an address.
func domainOf(addr string) string {
	i := strings.LastIndexByte(addr, '@')
	if i < 0 {
		return ""
	}
	return strings.ToLower(addr[i+1:])
}

// dnsLookupMX resolves MX records through the system resolver or server.
func dnsLookupMX(server string) MXLookup {
	r := net.DefaultResolver
	if server != "" {
		if _, _, err := net.SplitHostPort(server); err != nil {
			server = net.JoinHostPort(server, "53")
		}
		r = &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, server)
		}}
	}
	return func(ctx context.Context, domain string) ([]string, error) {
		mxs, err := r.LookupMX(ctx, domain)
		var dnsErr *net.DNSError
		if err != nil && errors.As(err, &dnsErr) && dnsErr.IsNotFound && len(mxs) == 0 {
			return []string{domain}, nil // implicit MX (RFC 5321 §5.1)
		}
		if err != nil {
			return nil, err
		}
		if len(mxs) == 1 && (mxs[0].Host == "." || mxs[0].Host == "") {
			return nil, ErrNullMX
		}
		var hosts []string
		for _, mx := range mxs {
			hosts = append(hosts, strings.TrimSuffix(mx.Host, "."))
		}
		if len(hosts) == 0 {
			return []string{domain}, nil
		}
		return hosts, nil
	}
}
