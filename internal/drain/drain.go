// Package drain runs a protocol server's listeners and tracks its live
// connections so that the server can stop gracefully: stop accepting, ask
// each connection to end, wait for them within a bound, then close the
// rest. The POP3 and IMAP servers share it; it knows no protocol.
package drain

import (
	"context"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/postern/postern/internal/admission"
)

// Group is the listeners and live connections of one server. C is the
// server's connection type. The zero value is not usable; call New.
type Group[C comparable] struct {
	mu        sync.Mutex
	closing   bool
	listeners map[net.Listener]struct{}
	active    map[C]struct{}
	wg        sync.WaitGroup
}

// New returns an empty Group.
func New[C comparable]() *Group[C] {
	return &Group[C]{listeners: make(map[net.Listener]struct{}), active: make(map[C]struct{})}
}

// Serve accepts connections on ln until Shutdown, ctx's end, or a
// permanent accept error. For each connection it calls start, which wraps
// it in the server's connection type and returns it with the function that
// serves it; serve then runs in its own goroutine while the connection is
// tracked. Temporary and resource-exhaustion accept errors (EMFILE,
// ENFILE, ENOBUFS, ECONNABORTED, timeouts; admission.Temporary) back off
// up to a second and are retried. In the server, ln is an
// admission.Listener, which absorbs them itself and re-creates a failed
// socket; this loop is the same rule for any other listener. Serve returns
// nil after Shutdown or ctx's end; proto names the protocol in the error
// of a failed accept.
func (g *Group[C]) Serve(ctx context.Context, ln net.Listener, proto string, start func(net.Conn) (C, func())) error {
	if !g.addListener(ln) {
		return nil
	}
	defer g.removeListener(ln)
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	var backoff admission.Backoff
	for {
		nc, err := ln.Accept()
		if err != nil {
			if g.Closing() || ctx.Err() != nil {
				return nil
			}
			if admission.Temporary(err) {
				time.Sleep(backoff.Next())
				continue
			}
			return fmt.Errorf("%s accept: %w", proto, err)
		}
		backoff.Reset()
		c, serve := start(nc)
		if !g.track(c) {
			nc.Close()
			return nil
		}
		go func() {
			defer g.untrack(c)
			serve()
		}()
	}
}

// Closing reports whether Shutdown has begun.
func (g *Group[C]) Closing() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.closing
}

// Shutdown stops accepting, calls wake for every live connection (so it
// can end at its next read, saying goodbye), and waits for them. When ctx
// ends first (after grace when ctx has no deadline), it calls kill for the
// remaining connections, waits for them to return, and returns ctx's error.
// wake and kill run with the Group's lock held: they must not block.
func (g *Group[C]) Shutdown(ctx context.Context, grace time.Duration, wake, kill func(C)) error {
	g.mu.Lock()
	g.closing = true
	for ln := range g.listeners {
		ln.Close()
	}
	if wake != nil {
		for c := range g.active {
			wake(c)
		}
	}
	g.mu.Unlock()
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, grace)
		defer cancel()
	}
	done := make(chan struct{})
	go func() { g.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	g.mu.Lock()
	for c := range g.active {
		kill(c)
	}
	g.mu.Unlock()
	<-done
	return ctx.Err()
}

func (g *Group[C]) addListener(ln net.Listener) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closing {
		return false
	}
	g.listeners[ln] = struct{}{}
	return true
}

func (g *Group[C]) removeListener(ln net.Listener) {
	g.mu.Lock()
	delete(g.listeners, ln)
	g.mu.Unlock()
}

func (g *Group[C]) track(c C) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closing {
		return false
	}
	g.active[c] = struct{}{}
	g.wg.Add(1)
	return true
}

func (g *Group[C]) untrack(c C) {
	g.mu.Lock()
	delete(g.active, c)
	g.mu.Unlock()
	g.wg.Done()
}
