package admission

import (
	"net"
	"sync"
	"time"
)

// Conn is an admitted connection. It holds a slot in its service's Table
// until its first Close, and until it is marked Authenticated it cannot
// be given a read deadline beyond its pre-authentication limit.
type Conn struct {
	net.Conn
	slot slot

	mu       sync.Mutex
	preauth  bool
	deadline time.Time // latest read deadline while pre-auth; zero: none
	closed   bool
}

// NetConn returns the underlying connection.
func (c *Conn) NetConn() net.Conn { return c.Conn }

// Authenticated marks the connection as past authentication (or, for
// protocols without authentication, as doing real work): it stops
// counting against Max-Preauth-Per-IP and its read deadlines are no longer
// capped. Calling it again does nothing.
func (c *Conn) Authenticated() {
	c.mu.Lock()
	was := c.preauth
	c.preauth = false
	c.mu.Unlock()
	if was {
		c.slot.promote()
	}
}

// Preauth reports whether the connection has not authenticated yet.
func (c *Conn) Preauth() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.preauth
}

// clamp caps a read deadline at the pre-auth limit.
func (c *Conn) clamp(t time.Time) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.preauth && !c.deadline.IsZero() && (t.IsZero() || t.After(c.deadline)) {
		return c.deadline
	}
	return t
}

// SetReadDeadline sets the read deadline, capped while pre-auth.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.Conn.SetReadDeadline(c.clamp(t)) }

// SetDeadline sets both deadlines; the read deadline is capped while
// pre-auth.
func (c *Conn) SetDeadline(t time.Time) error {
	if err := c.Conn.SetWriteDeadline(t); err != nil {
		return err
	}
	return c.Conn.SetReadDeadline(c.clamp(t))
}

// Close closes the connection and, the first time, releases its slot.
func (c *Conn) Close() error {
	err := c.Conn.Close()
	c.mu.Lock()
	first := !c.closed
	c.closed = true
	preauth := c.preauth
	c.mu.Unlock()
	if first {
		c.slot.release(preauth)
	}
	return err
}

// From finds the admission Conn under nc, looking through wrappers that
// have a NetConn method (*tls.Conn and the protocols' own); nil when nc
// did not come from an admission Listener (tests, Unix pipes).
func From(nc net.Conn) *Conn {
	for range 8 { // a wrapper whose NetConn returns itself must not loop
		switch x := nc.(type) {
		case *Conn:
			return x
		case interface{ NetConn() net.Conn }:
			nc = x.NetConn()
		default:
			return nil
		}
	}
	return nil
}

// Authenticated marks the admission Conn under nc, if any, as
// authenticated; see [Conn.Authenticated].
func Authenticated(nc net.Conn) {
	if c := From(nc); c != nil {
		c.Authenticated()
	}
}
