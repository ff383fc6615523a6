package source

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/postern/postern/internal/auth"
)

// Pool bounds: how many connections may be open to the directory at once
// (further operations wait, within Timeout), and how many idle ones are
// kept for the next login.
const (
	maxLDAPConns  = 16
	maxLDAPIdle   = 4
	maxLDAPIdleAt = 5 * time.Minute // an idle connection older than this is closed
)

// pconn is one pooled connection and the identity it is bound as: a
// connection that verified a user's password by binding as it must bind
// as the service again before it searches.
type pconn struct {
	c     *ldap.Conn
	bound string // DN of the last successful bind; "" anonymous
	idle  time.Time
}

// pool keeps connections to the directory's servers. It dials the
// Server-URLs in order (failover), with StartTLS when asked.
type pool struct {
	urls     []string
	startTLS bool
	tls      *tls.Config
	timeout  time.Duration

	slots  chan struct{}
	mu     sync.Mutex
	idle   []*pconn
	closed bool // close ran: connections given back are closed, not kept
}

func newPool(urls []string, startTLS bool, tc *tls.Config, timeout time.Duration) *pool {
	return &pool{urls: urls, startTLS: startTLS, tls: tc, timeout: timeout, slots: make(chan struct{}, maxLDAPConns)}
}

// get returns a connection: an idle one, else a new one. It waits for a
// slot no longer than ctx allows.
func (p *pool) get(ctx context.Context) (*pconn, error) {
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: every directory connection busy: %v", auth.ErrUnavailable, ctx.Err())
	}
	p.mu.Lock()
	for len(p.idle) > 0 {
		pc := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		if !pc.c.IsClosing() && time.Since(pc.idle) < maxLDAPIdleAt {
			p.mu.Unlock()
			return pc, nil
		}
		pc.c.Close()
	}
	p.mu.Unlock()
	c, err := p.dial()
	if err != nil {
		<-p.slots
		return nil, err
	}
	return &pconn{c: c}, nil
}

// put gives a connection back; a broken one (err from its last use is a
// network error) is closed.
func (p *pool) put(pc *pconn, broken bool) {
	defer func() { <-p.slots }()
	if broken || pc.c.IsClosing() {
		pc.c.Close()
		return
	}
	pc.idle = time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || len(p.idle) >= maxLDAPIdle {
		pc.c.Close()
		return
	}
	p.idle = append(p.idle, pc)
}

// dial connects to the first server that answers, each within Timeout.
func (p *pool) dial() (*ldap.Conn, error) {
	var errs []error
	for _, u := range p.urls {
		tc := serverTLS(p.tls, u)
		c, err := ldap.DialURL(u, ldap.DialWithDialer(&net.Dialer{Timeout: p.timeout}), ldap.DialWithTLSConfig(tc))
		if err == nil && p.startTLS && strings.HasPrefix(strings.ToLower(u), "ldap://") {
			// RFC 4513 §3: StartTLS before any bind. The handshake has
			// no deadline of go-ldap's own: guarded closes the
			// connection if it hangs.
			err = p.guarded(c, func() error { return c.StartTLS(tc) })
		}
		if err != nil {
			if c != nil {
				c.Close()
			}
			errs = append(errs, fmt.Errorf("%s: %w", u, err))
			continue
		}
		c.SetTimeout(p.timeout)
		return c, nil
	}
	return nil, fmt.Errorf("%w: %w", auth.ErrUnavailable, errors.Join(errs...))
}

// serverTLS is the TLS configuration for one server URL: the name checked
// in its certificate is the URL's host unless the configuration names one.
func serverTLS(base *tls.Config, rawURL string) *tls.Config {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if base != nil {
		tc = base.Clone()
	}
	if tc.ServerName == "" {
		if u, err := url.Parse(rawURL); err == nil {
			tc.ServerName = u.Hostname()
		}
	}
	return tc
}

// guarded runs fn on c, closing c if fn has not returned within Timeout,
// which makes any blocked read or write of fn return.
func (p *pool) guarded(c *ldap.Conn, fn func() error) error {
	t := time.AfterFunc(p.timeout, func() { c.Close() })
	defer t.Stop()
	return fn()
}

// close closes the idle connections.
func (p *pool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pc := range p.idle {
		pc.c.Close()
	}
	p.idle = nil
	p.closed = true
}

// isNetworkError reports whether err means the connection or the server
// failed (so the operation may be retried elsewhere), as opposed to an
// answer of the directory.
func isNetworkError(err error) bool {
	var le *ldap.Error
	if !errors.As(err, &le) {
		return true
	}
	switch le.ResultCode {
	case ldap.ErrorNetwork, ldap.LDAPResultBusy, ldap.LDAPResultUnavailable, ldap.LDAPResultServerDown,
		ldap.LDAPResultTimeout, ldap.LDAPResultTimeLimitExceeded, ldap.LDAPResultUnwillingToPerform, ldap.LDAPResultOther:
		return true
	}
	return false
}
