package drain

import (
	"bufio"
	"context"
	"errors"
	"net"
	"os"
	"syscall"
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

// flakyListener fails its first Accepts with errs, then accepts normally.
type flakyListener struct {
	net.Listener
	errs []error
}

func (f *flakyListener) Accept() (net.Conn, error) {
	if len(f.errs) > 0 {
		err := f.errs[0]
		f.errs = f.errs[1:]
		return nil, err
	}
	return f.Listener.Accept()
}

// TestServeSurvivesDescriptorExhaustion is issue 12 finding 1: EMFILE on
// accept used to end Serve ("listener stopped") and leave the port dead.
func TestServeSurvivesDescriptorExhaustion(t *testing.T) {
	g := New[*echoConn]()
	errno := func(e syscall.Errno) error {
		return &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", e)}
	}
	ln := &flakyListener{Listener: listen(t), errs: []error{
		errno(syscall.EMFILE), errno(syscall.ENFILE), errno(syscall.ENOBUFS), errno(syscall.ECONNABORTED),
	}}
	served := make(chan error, 1)
	go func() { served <- g.Serve(context.Background(), ln, "test", startEcho) }()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for g.activeCount() == 0 {
		select {
		case err := <-served:
			t.Fatalf("Serve returned %v after a temporary accept error", err)
		case <-time.After(2 * time.Millisecond):
		}
	}
	g.Shutdown(context.Background(), time.Second, nil, func(c *echoConn) { c.nc.Close() })
	if err := <-served; err != nil {
		t.Errorf("Serve after Shutdown: %v", err)
	}
}
