package pop3server

import (
	"context"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/postern/postern/internal/auth"
)

// recordingListener hands the server its connections and keeps them, so a
// test can look at the server's end of the socket.
type recordingListener struct {
	net.Listener
	accepted chan net.Conn
}

func (l recordingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.accepted <- c
	}
	return c, err
}

// sndbuf reads SO_SNDBUF of a TCP connection.
func sndbuf(t *testing.T, c net.Conn) int {
	t.Helper()
	rc, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var v int
	var serr error
	if err := rc.Control(func(fd uintptr) {
		v, serr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_SNDBUF)
	}); err != nil {
		t.Fatal(err)
	}
	if serr != nil {
		t.Fatal(serr)
	}
	return v
}

// TestSndbufReachesSocket: [POP] Sndbuf is set on the accepted socket
// (hp-system.md §10 B8) before the greeting: getsockopt SO_SNDBUF on the
// server's end reads what setsockopt of the same size gives any socket
// (Linux reports twice the size asked for), not the system's default.
func TestSndbufReachesSocket(t *testing.T) {
	const size = 50000
	f := newFixture(t)
	f.opts.Sndbuf = size
	f.opts.Auth = auth.New(auth.Options{Store: f.st, Hasher: f.hasher, Throttle: f.throttle})
	srv, err := New(f.opts)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rl := recordingListener{Listener: ln, accepted: make(chan net.Conn, 4)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(context.Background(), rl)
	}()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-done
	})

	c := dial(t, ln.Addr().String()) // reads the greeting: Sndbuf is set before it is sent
	server := <-rl.accepted

	// The control: the client's end, untouched, then set to the same size.
	def := sndbuf(t, c.nc)
	if err := c.nc.(*net.TCPConn).SetWriteBuffer(size); err != nil {
		t.Fatal(err)
	}
	want := sndbuf(t, c.nc)
	if want == def {
		t.Fatalf("setting SO_SNDBUF to %d leaves the default %d: cannot tell", size, def)
	}
	if got := sndbuf(t, server); got != want {
		t.Errorf("server socket SO_SNDBUF = %d, want %d (the default is %d)", got, want, def)
	}
}
