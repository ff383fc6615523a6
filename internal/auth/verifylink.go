package auth

import (
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// The verifier link: a worker of `postern serve` asks the supervisor's
// LocalVerifier over a stream socket (a socketpair the supervisor passes
// at start, docs/supervisor.md). Requests and answers are gob values; each
// request carries an id, its answer the same, so that many logins wait at
// once on one socket. Throttle requests are answered in the order they
// arrive; verifications run concurrently, in the hash queue's order.
// Passwords cross the socket (it connects two processes of the server and
// nothing else) and are never logged; no answer carries a password or a
// hash, only waits, verdicts and the supervisor's auth metrics.

// Operations of a linkRequest.
const (
	opCheck    = "check"
	opRecord   = "record"
	opVerify   = "verify"   // PasswordCheck with ByHash: the supervisor hashes
	opCached   = "cached"   // other sources: is it in the cache?
	opDummy    = "dummy"    // an unknown user
	opRemember = "remember" // a whole successful login
	opFlush    = "flush"
	opCancel   = "cancel" // the client stopped waiting for request ID
	opMetrics  = "metrics"
)

type linkRequest struct {
	ID      uint64
	Op      string
	Remote  netip.Addr
	User    string
	Outcome Outcome
	Check   PasswordCheck
}

type linkAnswer struct {
	ID      uint64
	Wait    time.Duration
	OK      bool
	Cached  bool
	Err     string
	Metrics []sharedMetric // opMetrics
}

// sharedMetric is one of SharedMetrics as the link carries it: they are
// all counters and gauges.
type sharedMetric struct {
	Name, Help string
	Type       dto.MetricType
	Samples    []sharedSample
}

type sharedSample struct {
	Labels [][2]string // name, value
	Value  float64
}

// SharedMetrics are the metrics of what a Verifier shares: in a worker of
// `postern serve` /metrics takes them from the supervisor
// (VerifierClient.Metrics) in place of its own, which stay at zero.
var SharedMetrics = []string{
	"postern_auth_cache_entries", "postern_auth_cache_lookups_total",
	"postern_auth_memory_returns_total", "postern_auth_password_hashes_in_flight",
	"postern_auth_password_hashes_total",
}

// ServeVerifier answers a worker's requests on conn with v until conn
// fails or closes; then it cancels what that worker still waits for.
func ServeVerifier(conn io.ReadWriter, v *LocalVerifier) error {
	dec, enc := gob.NewDecoder(conn), gob.NewEncoder(conn)
	var wmu sync.Mutex
	answer := func(a linkAnswer) {
		wmu.Lock()
		defer wmu.Unlock()
		enc.Encode(a)
	}
	var mu sync.Mutex
	running := map[uint64]context.CancelFunc{}
	ctx, cancelAll := context.WithCancel(context.Background())
	defer cancelAll()
	for {
		var r linkRequest
		if err := dec.Decode(&r); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		switch r.Op {
		case opVerify, opDummy:
			rctx, cancel := context.WithCancel(ctx)
			mu.Lock()
			running[r.ID] = cancel
			mu.Unlock()
			go func() {
				a := serveVerify(rctx, v, r)
				mu.Lock()
				delete(running, r.ID)
				mu.Unlock()
				cancel()
				answer(a)
			}()
		case opCancel:
			mu.Lock()
			if cancel := running[r.ID]; cancel != nil {
				cancel()
			}
			mu.Unlock()
		default:
			answer(serveQuick(ctx, v, r))
		}
	}
}

// serveVerify runs one verification.
func serveVerify(ctx context.Context, v *LocalVerifier, r linkRequest) linkAnswer {
	a := linkAnswer{ID: r.ID}
	if r.Op == opDummy {
		v.Dummy(ctx, r.Check)
		return a
	}
	if !r.Check.ByHash {
		a.Err = "verify: not a stored hash"
		return a
	}
	ok, cached, err := v.Verify(ctx, r.Check, nil)
	a.OK, a.Cached = ok, cached
	if err != nil {
		a.Err = err.Error()
	}
	return a
}

// serveQuick answers the requests that do not wait: the throttle, the
// cache and the metrics.
func serveQuick(ctx context.Context, v *LocalVerifier, r linkRequest) linkAnswer {
	a := linkAnswer{ID: r.ID}
	switch r.Op {
	case opCheck:
		a.Wait, _ = v.Check(ctx, r.Remote, r.User)
	case opRecord:
		v.Record(r.Remote, r.User, r.Outcome)
	case opCached:
		a.OK = v.Cache.hit(r.Check.Account, r.Check.Key, r.Check.Password)
	case opRemember:
		v.Remember(r.Check.Account, r.Check.Key, r.Check.Password)
	case opFlush:
		v.Flush()
	case opMetrics:
		a.Metrics, a.Err = sharedMetrics()
	default:
		a.Err = "unknown verifier request " + r.Op
	}
	return a
}

// sharedMetrics gathers the SharedMetrics of this process.
func sharedMetrics() ([]sharedMetric, string) {
	mfs, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		return nil, err.Error()
	}
	var out []sharedMetric
	for _, mf := range mfs {
		if !isShared(mf.GetName()) {
			continue
		}
		sm := sharedMetric{Name: mf.GetName(), Help: mf.GetHelp(), Type: mf.GetType()}
		for _, m := range mf.GetMetric() {
			s := sharedSample{Value: m.GetCounter().GetValue() + m.GetGauge().GetValue()}
			for _, l := range m.GetLabel() {
				s.Labels = append(s.Labels, [2]string{l.GetName(), l.GetValue()})
			}
			sm.Samples = append(sm.Samples, s)
		}
		out = append(out, sm)
	}
	return out, ""
}

// family rebuilds the metric family of m.
func (m sharedMetric) family() *dto.MetricFamily {
	mf := &dto.MetricFamily{Name: &m.Name, Help: &m.Help, Type: m.Type.Enum()}
	for _, s := range m.Samples {
		v := s.Value
		dm := &dto.Metric{}
		for _, l := range s.Labels {
			dm.Label = append(dm.Label, &dto.LabelPair{Name: &l[0], Value: &l[1]})
		}
		if m.Type == dto.MetricType_COUNTER {
			dm.Counter = &dto.Counter{Value: &v}
		} else {
			dm.Gauge = &dto.Gauge{Value: &v}
		}
		mf.Metric = append(mf.Metric, dm)
	}
	return mf
}

func isShared(name string) bool {
	for _, n := range SharedMetrics {
		if n == name {
			return true
		}
	}
	return false
}

// VerifierClient is a [Verifier] that asks a ServeVerifier at the other
// end of a socket. When the socket fails (the supervisor is gone) every
// request fails with ErrUnavailable: logins are refused as a temporary
// failure, never let past the throttle.
type VerifierClient struct {
	conn io.ReadWriteCloser
	log  *slog.Logger

	wmu sync.Mutex
	enc *gob.Encoder

	mu      sync.Mutex
	next    uint64
	waiting map[uint64]chan linkAnswer
	err     error // the link failed
}

// NewVerifierClient starts a client on conn.
func NewVerifierClient(conn io.ReadWriteCloser) *VerifierClient {
	c := &VerifierClient{conn: conn, log: slog.New(slog.DiscardHandler), enc: gob.NewEncoder(conn), waiting: map[uint64]chan linkAnswer{}}
	go c.read()
	return c
}

// SetLogger makes log receive the failures that no caller sees (a Record
// or Remember lost with the link). Call it before the first request.
func (c *VerifierClient) SetLogger(log *slog.Logger) { c.log = log }

// Close closes the socket.
func (c *VerifierClient) Close() error { return c.conn.Close() }

func (c *VerifierClient) read() {
	dec := gob.NewDecoder(c.conn)
	for {
		var a linkAnswer
		if err := dec.Decode(&a); err != nil {
			c.fail(err)
			return
		}
		c.mu.Lock()
		ch := c.waiting[a.ID]
		delete(c.waiting, a.ID)
		c.mu.Unlock()
		if ch != nil {
			ch <- a
		}
	}
}

// fail ends every waiting request with the link's error.
func (c *VerifierClient) fail(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		c.err = fmt.Errorf("%w: password verifier: %v", ErrUnavailable, err)
	}
	for id, ch := range c.waiting {
		close(ch)
		delete(c.waiting, id)
	}
}

// call sends r and waits for its answer, or for ctx.
func (c *VerifierClient) call(ctx context.Context, r linkRequest) (linkAnswer, error) {
	ch := make(chan linkAnswer, 1)
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return linkAnswer{}, err
	}
	c.next++
	r.ID = c.next
	c.waiting[r.ID] = ch
	c.mu.Unlock()
	if err := c.send(r); err != nil {
		c.fail(err)
		return linkAnswer{}, c.linkErr()
	}
	select {
	case a, ok := <-ch:
		if !ok {
			return linkAnswer{}, c.linkErr()
		}
		if a.Err != "" {
			return a, errors.New(a.Err)
		}
		return a, nil
	case <-ctx.Done():
		c.mu.Lock()
		delete(c.waiting, r.ID)
		c.mu.Unlock()
		c.send(linkRequest{ID: r.ID, Op: opCancel})
		return linkAnswer{}, ctx.Err()
	}
}

func (c *VerifierClient) send(r linkRequest) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.enc.Encode(r)
}

func (c *VerifierClient) linkErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Check asks the supervisor's throttle.
func (c *VerifierClient) Check(ctx context.Context, remote netip.Addr, user string) (time.Duration, error) {
	a, err := c.call(ctx, linkRequest{Op: opCheck, Remote: remote, User: user})
	return a.Wait, err
}

// Record tells the supervisor's throttle an outcome and waits until it is
// recorded, so that the next attempt, from any worker, sees it.
func (c *VerifierClient) Record(remote netip.Addr, user string, o Outcome) {
	if _, err := c.call(context.Background(), linkRequest{Op: opRecord, Remote: remote, User: user, Outcome: o}); err != nil {
		c.log.Warn("login outcome not recorded by the supervisor's throttle", "err", err)
	}
}

// Verify has the supervisor verify a stored hash (p.ByHash), or asks its
// cache and runs check here for other sources.
func (c *VerifierClient) Verify(ctx context.Context, p PasswordCheck, check func(context.Context) (bool, error)) (ok, cached bool, err error) {
	if p.ByHash {
		a, err := c.call(ctx, linkRequest{Op: opVerify, Check: p})
		return a.OK, a.Cached, err
	}
	a, err := c.call(ctx, linkRequest{Op: opCached, Check: PasswordCheck{Account: p.Account, Key: p.Key, Password: p.Password}})
	if err != nil || a.OK {
		return a.OK, a.OK, err
	}
	ok, err = check(ctx)
	return ok, false, err
}

// Dummy has the supervisor spend a dummy verification.
func (c *VerifierClient) Dummy(ctx context.Context, p PasswordCheck) {
	c.call(ctx, linkRequest{Op: opDummy, Check: PasswordCheck{Password: p.Password, Remote: p.Remote, Login: p.Login}})
}

// Remember puts a verified login in the supervisor's cache.
func (c *VerifierClient) Remember(account, key, password string) {
	if _, err := c.call(context.Background(), linkRequest{Op: opRemember, Check: PasswordCheck{Account: account, Key: key, Password: password}}); err != nil {
		c.log.Warn("verified login not cached by the supervisor", "err", err)
	}
}

// Flush empties the supervisor's cache.
func (c *VerifierClient) Flush() {
	if _, err := c.call(context.Background(), linkRequest{Op: opFlush}); err != nil {
		c.log.Warn("supervisor's auth cache not flushed", "err", err)
	}
}

// Metrics returns the supervisor's SharedMetrics.
func (c *VerifierClient) Metrics(ctx context.Context) ([]*dto.MetricFamily, error) {
	a, err := c.call(ctx, linkRequest{Op: opMetrics})
	if err != nil {
		return nil, err
	}
	out := make([]*dto.MetricFamily, 0, len(a.Metrics))
	for _, m := range a.Metrics {
		out = append(out, m.family())
	}
	return out, nil
}
