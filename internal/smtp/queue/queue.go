package queue

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/postern/postern/internal/store"
)

// Default retry schedule: the first retry after RetryBase, doubling up to
// RetryMax (RFC 5321 §4.5.4.1 asks for at least 30 minutes between
// retries once a message has waited a while; we start faster).
const (
	defaultRetryBase = time.Minute
	defaultRetryMax  = time.Hour
	defaultLifetime  = 5 * 24 * time.Hour
	dialTimeout      = 30 * time.Second
	defaultLease     = time.Minute
)

// ErrNotFound is returned by Delete for an unknown id.
var ErrNotFound = store.ErrNoSuchQueued

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
	// Store keeps the queue (required): with a shared store every node
	// sees every message and leases it to send it.
	Store store.OutboundQueue
	// Dir is where an older Postern kept the queue in files; what is
	// there is moved into Store at New. "" means none.
	Dir string
	// Owner names this runner in leases; "" means host, process id and
	// random octets, unique per process.
	Owner string
	// Lease is how long a claimed message stays this runner's without a
	// renewal (renewed every third of it during an attempt); 0 means
	// defaultLease. It is also the longest the runner sleeps before
	// looking for messages other nodes queued or gave back.
	Lease time.Duration
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
	opts  Options
	store store.OutboundQueue
	wake  chan struct{}
	// remote is the store's signal that another node queued a message
	// (store.QueueWaker); nil (never ready) without one.
	remote <-chan struct{}
}

// New opens the queue in opts.Store, first moving into it the messages
// an older version left in files under opts.Dir.
func New(opts Options) (*Queue, error) {
	if opts.Store == nil {
		return nil, errors.New("queue: Store is required")
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
	if opts.Lease <= 0 {
		opts.Lease = defaultLease
	}
	if opts.Owner == "" {
		host, _ := os.Hostname()
		opts.Owner = host + "/" + strconv.Itoa(os.Getpid()) + "/" + strings.ToLower(rand.Text()[:6])
	}
	if opts.IsLocal == nil {
		opts.IsLocal = func(string) bool { return false }
	}
	if opts.LookupMX == nil {
		opts.LookupMX = dnsLookupMX(opts.Resolver)
	}
	q := &Queue{opts: opts, store: opts.Store, wake: make(chan struct{}, 1)}
	if w, ok := opts.Store.(store.QueueWaker); ok {
		q.remote = w.QueueWake()
	}
	if opts.Dir != "" {
		if err := q.importDir(context.Background()); err != nil {
			return nil, err
		}
	}
	q.updateSize(context.Background())
	return q, nil
}

// updateSize sets the queue size gauge.
func (q *Queue) updateSize(ctx context.Context) {
	if list, err := q.store.QueueList(ctx); err == nil {
		queueSize.Set(float64(len(list)))
	}
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
	e := &envelope{ID: newID(now), From: from, Created: now, NextAttempt: now, Ret: dsn.Ret, EnvID: dsn.EnvID}
	for _, r := range to {
		e.Rcpts = append(e.Rcpts, &rcptState{Addr: r.Addr, State: statePending, Updated: now, Notify: r.Notify, ORcpt: r.ORcpt})
	}
	b, err := json.Marshal(e)
	if err != nil {
		return "", err
	}
	cr := &countingReader{r: content}
	m := store.QueuedMessage{ID: e.ID, Created: now, NextAttempt: now, Envelope: b}
	if err := q.store.QueueAdd(ctx, m, cr); err != nil {
		return "", fmt.Errorf("queue message: %w", err)
	}
	enqueued.Inc()
	queueSize.Inc()
	q.opts.Logger.Info("message queued", "queue_id", e.ID, "from", from, "rcpts", len(to), "size", cr.n)
	q.kick()
	return e.ID, nil
}

// countingReader counts what is read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
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
	// Node is the lease owner while a node is delivering the message.
	Node string
}

// List returns the queued messages, oldest first.
func (q *Queue) List(ctx context.Context) ([]Info, error) {
	list, err := q.store.QueueList(ctx)
	if err != nil {
		return nil, err
	}
	now := q.opts.Clock()
	out := make([]Info, 0, len(list))
	for _, m := range list {
		in := Info{ID: m.ID, Created: m.Created, Size: m.Size, NextAttempt: m.NextAttempt}
		if m.Leased(now) {
			in.Node = m.LeaseOwner
		}
		if e, err := decodeEnvelope(m); err == nil {
			in.From, in.Attempts = e.From, e.Attempts
			for _, r := range e.pending() {
				in.Pending = append(in.Pending, r.Addr)
				if r.LastError != "" {
					in.LastError = r.LastError
				}
			}
		} else {
			in.LastError = err.Error()
		}
		out = append(out, in)
	}
	queueSize.Set(float64(len(list)))
	return out, nil
}

// Flush makes every message due now and wakes the queue runner.
func (q *Queue) Flush(ctx context.Context) (int, error) {
	n, err := q.store.QueueFlush(ctx, q.opts.Clock())
	q.kick()
	return n, err
}

// Delete removes a message without delivering it or telling the sender.
func (q *Queue) Delete(ctx context.Context, id string) error {
	err := q.store.QueueDelete(ctx, id, q.opts.Clock())
	if errors.Is(err, store.ErrQueuedBusy) {
		return fmt.Errorf("message %s is being delivered; try again in a moment", id)
	}
	if err != nil {
		return err
	}
	queueSize.Dec()
	q.opts.Logger.Info("queued message deleted", "queue_id", id)
	return nil
}

// Run delivers due messages until ctx is done. It sleeps until the next
// message is due, and never longer than the lease, so that it finds what
// other nodes gave back; with a store.QueueWaker it wakes at once when
// any node queues a message.
func (q *Queue) Run(ctx context.Context) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		next := q.runDue(ctx)
		if ctx.Err() != nil {
			return
		}
		wait := q.opts.Lease
		if !next.IsZero() {
			wait = min(wait, max(0, next.Sub(q.opts.Clock())))
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-q.wake:
		case <-q.remote:
		}
	}
}

// runDue claims and attempts every due message once and returns when the
// next one is due (zero if the queue is empty).
func (q *Queue) runDue(ctx context.Context) time.Time {
	for ctx.Err() == nil {
		m, err := q.store.QueueClaim(ctx, q.opts.Owner, q.opts.Clock(), q.opts.Lease)
		if err != nil {
			if ctx.Err() == nil {
				q.opts.Logger.Error("claim queued message", "err", err)
			}
			return q.opts.Clock().Add(q.opts.RetryBase)
		}
		if m == nil {
			break
		}
		q.attemptLeased(ctx, m)
	}
	next, ok, err := q.store.QueueNextDue(ctx)
	if err != nil || !ok {
		return time.Time{}
	}
	return next
}

// attemptLeased attempts a claimed message, renewing the lease every
// third of its duration until the attempt is recorded. Losing the lease
// (this node stalled longer than the lease) cancels the attempt: another
// node has the message now.
func (q *Queue) attemptLeased(ctx context.Context, m *store.QueuedMessage) {
	log := q.opts.Logger.With("queue_id", m.ID)
	e, err := decodeEnvelope(*m)
	if err != nil {
		log.Error("queued envelope is damaged; left for the administrator", "err", err)
		// Keep it, out of the way, until deleted.
		if err := q.store.QueueRelease(context.WithoutCancel(ctx), m.ID, q.opts.Owner, m.Envelope, q.opts.Clock().Add(q.opts.Lifetime)); err != nil {
			log.Error("release queued message", "err", err)
		}
		return
	}
	actx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(q.opts.Lease / 3)
		defer t.Stop()
		for {
			select {
			case <-actx.Done():
				return
			case <-t.C:
			}
			if err := q.store.QueueRenew(actx, m.ID, q.opts.Owner, q.opts.Clock().Add(q.opts.Lease)); err != nil && actx.Err() == nil {
				log.Warn("queue lease not renewed; attempt stopped", "err", err)
				cancel()
				return
			}
		}
	}()
	q.attempt(actx, e)
	cancel()
	<-done
}

// decodeEnvelope reads a stored message's envelope.
func decodeEnvelope(m store.QueuedMessage) (*envelope, error) {
	e := &envelope{}
	if err := json.Unmarshal(m.Envelope, e); err != nil {
		return nil, fmt.Errorf("envelope %s: %w", m.ID, err)
	}
	e.ID, e.Size, e.Created, e.NextAttempt = m.ID, m.Size, m.Created, m.NextAttempt
	return e, nil
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
