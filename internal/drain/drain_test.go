package drain

import (
	"bufio"
	"context"
	"errors"
	"net"
	"testing"
	"time"
)

// echoConn ends when its client closes or when woken.
type echoConn struct {
	nc   net.Conn
	woke chan struct{}
}

func startEcho(nc net.Conn) (*echoConn, func()) {
	c := &echoConn{nc: nc, woke: make(chan struct{})}
	return c, func() {
		go func() { <-c.woke; nc.Close() }()
		bufio.NewReader(nc).ReadString('\n')
	}
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

func TestShutdownWakesConnections(t *testing.T) {
	g := New[*echoConn]()
	ln := listen(t)
	served := make(chan error, 1)
	go func() { served <- g.Serve(context.Background(), ln, "test", startEcho) }()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for g.activeCount() == 0 { // until the connection is tracked
		time.Sleep(2 * time.Millisecond)
	}
	err = g.Shutdown(context.Background(), time.Minute, func(c *echoConn) { close(c.woke) }, func(c *echoConn) { c.nc.Close() })
	if err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve after Shutdown: %v", err)
	}
	if err := g.Serve(context.Background(), listen(t), "test", startEcho); err != nil {
		t.Errorf("Serve after Shutdown must return nil at once: %v", err)
	}
}

func TestShutdownKillsAfterGrace(t *testing.T) {
	g := New[*echoConn]()
	ln := listen(t)
	go g.Serve(context.Background(), ln, "test", startEcho)
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte{}) // the connection stays idle: no newline, no wake
	for g.activeCount() == 0 {
		time.Sleep(2 * time.Millisecond)
	}
	killed := 0
	err = g.Shutdown(context.Background(), 50*time.Millisecond, nil, func(c *echoConn) { killed++; c.nc.Close() })
	if !errors.Is(err, context.DeadlineExceeded) || killed != 1 {
		t.Errorf("Shutdown = %v, killed %d; want DeadlineExceeded and 1", err, killed)
	}
}

func (g *Group[C]) activeCount() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.active)
}
