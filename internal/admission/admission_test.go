package admission

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestClassify(t *testing.T) {
	accept := func(errno syscall.Errno) error {
		return &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", errno)}
	}
	tests := []struct {
		name string
		err  error
		want ErrorKind
	}{
		{"EMFILE", accept(syscall.EMFILE), KindDescriptors},
		{"ENFILE", accept(syscall.ENFILE), KindDescriptors},
		{"ENOBUFS", accept(syscall.ENOBUFS), KindTemporary},
		{"ENOMEM", accept(syscall.ENOMEM), KindTemporary},
		{"ECONNABORTED", accept(syscall.ECONNABORTED), KindTemporary},
		{"EINTR", accept(syscall.EINTR), KindTemporary},
		{"EPERM", accept(syscall.EPERM), KindTemporary},
		{"timeout", &net.OpError{Op: "accept", Err: os.ErrDeadlineExceeded}, KindTemporary},
		{"closed", &net.OpError{Op: "accept", Err: net.ErrClosed}, KindClosed},
		{"EBADF", accept(syscall.EBADF), KindFailed},
		{"EINVAL", accept(syscall.EINVAL), KindFailed},
		{"other", errors.New("something else"), KindFailed},
	}
	for _, tt := range tests {
		if got := Classify(tt.err); got != tt.want {
			t.Errorf("Classify(%s) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// fakeListener hands out a scripted sequence of errors and connections.
type fakeListener struct {
	script chan any // error or net.Conn
	closed chan struct{}
}

func newFake(items ...any) *fakeListener {
	f := &fakeListener{script: make(chan any, len(items)+16), closed: make(chan struct{})}
	for _, it := range items {
		f.script <- it
	}
	return f
}

func (f *fakeListener) Accept() (net.Conn, error) {
	select {
	case it := <-f.script:
		if err, ok := it.(error); ok {
			return nil, err
		}
		return it.(net.Conn), nil
	case <-f.closed:
		return nil, &net.OpError{Op: "accept", Err: net.ErrClosed}
	}
}

func (f *fakeListener) Close() error {
	select {
	case <-f.closed:
	default:
		close(f.closed)
	}
	return nil
}

func (f *fakeListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1} }

func errno(e syscall.Errno) error {
	return &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", e)}
}

// TestAcceptSurvivesResourceErrors is issue 12 finding 1: EMFILE, ENFILE,
// ENOBUFS and ECONNABORTED must not end the accept loop.
func TestAcceptSurvivesResourceErrors(t *testing.T) {
	server, client := net.Pipe()
	defer client.Close()
	f := newFake(errno(syscall.EMFILE), errno(syscall.ENFILE), errno(syscall.ENOBUFS),
		errno(syscall.ECONNABORTED), server)
	l := NewListener(f, Options{Label: "test"})
	var slept []time.Duration
	l.sleep = func(d time.Duration) bool { slept = append(slept, d); return true }
	c, err := l.Accept()
	if err != nil {
		t.Fatalf("Accept = %v, want the connection after four retried errors", err)
	}
	if From(c) == nil {
		t.Error("Accept did not return an admission Conn")
	}
	want := []time.Duration{5 * time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond, 40 * time.Millisecond}
	if fmt.Sprint(slept) != fmt.Sprint(want) {
		t.Errorf("back-off %v, want %v", slept, want)
	}
	c.Close()
	l.Close()
	if _, err := l.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept after Close = %v, want net.ErrClosed", err)
	}
}

// TestReserveRefusesPolitely: at EMFILE a spare descriptor is given up to
// take one waiting client, which hears the busy reply instead of hanging.
func TestReserveRefusesPolitely(t *testing.T) {
	waiting, peer := net.Pipe()
	good, goodPeer := net.Pipe()
	defer peer.Close()
	defer goodPeer.Close()
	r := NewReserve(2)
	defer r.Close()
	f := newFake(errno(syscall.EMFILE), waiting, good)
	l := NewListener(f, Options{Label: "test", Reserve: r, Reply: func(why Reason) string {
		return "-ERR [SYS/TEMP] " + string(why) + "\r\n"
	}})
	l.sleep = func(time.Duration) bool { return true }
	got := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(peer).ReadString('\n')
		got <- line
	}()
	c, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.(*Conn).Conn != good {
		t.Error("Accept returned the refused connection")
	}
	if line := <-got; line != "-ERR [SYS/TEMP] busy\r\n" {
		t.Errorf("waiting client got %q, want the busy reply", line)
	}
	if r.Held() != 2 {
		t.Errorf("reserve holds %d descriptors after the refusal, want 2 (refilled)", r.Held())
	}
}

// TestListenerRecreatedAfterFailure: a permanent accept error is counted,
// reported, and the listener re-created on the same address.
func TestListenerRecreatedAfterFailure(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var failures []error
	l := NewListener(ln, Options{Label: "test", OnFailure: func(err error) { failures = append(failures, err) }})
	defer l.Close()
	l.sleep = func(time.Duration) bool { return true }
	// shutdown(2) of a listening socket makes accept(2) fail with EINVAL
	// for good on Linux: a broken listener.
	raw, err := ln.(*net.TCPListener).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	raw.Control(func(fd uintptr) { syscall.Shutdown(int(fd), syscall.SHUT_RD) })
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			t.Errorf("Accept after a listener failure = %v", err)
		}
		accepted <- c
	}()
	var d net.Dialer
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var cc net.Conn
	for cc == nil { // until the listener is back on its port
		cc, err = d.DialContext(ctx, "tcp", l.Addr().String())
		if err != nil && ctx.Err() != nil {
			t.Fatalf("the port never came back: %v", err)
		}
	}
	defer cc.Close()
	c := <-accepted
	if c == nil {
		t.FailNow()
	}
	c.Close()
	if len(failures) == 0 {
		t.Error("the failure was not reported")
	}
}

// TestRebindRetriesUntilClosed: a listener that cannot be re-created keeps
// trying, and Close ends the attempt.
func TestRebindRetriesUntilClosed(t *testing.T) {
	f := newFake(errno(syscall.EBADF))
	tries := 0
	var l *Listener
	l = NewListener(f, Options{Rebind: func() (net.Listener, error) {
		tries++
		if tries == 3 {
			l.Close()
		}
		return nil, errors.New("address in use")
	}})
	l.sleep = func(time.Duration) bool {
		_, closed := l.current()
		return !closed
	}
	if _, err := l.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept = %v, want net.ErrClosed after Close", err)
	}
	if tries != 3 {
		t.Errorf("Rebind tried %d times, want 3", tries)
	}
}

// dialFrom connects to addr from the loopback address src (Linux routes
// all of 127.0.0.0/8 to lo).
func dialFrom(t *testing.T, src, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// testListener is a Listener with one goroutine accepting into a channel.
type testListener struct {
	*Listener
	accepted chan net.Conn
}

func listen(t *testing.T, tab *Table, opts Options) *testListener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	opts.Table = tab
	if opts.Reply == nil {
		opts.Reply = func(why Reason) string { return "NO " + string(why) + "\r\n" }
	}
	l := &testListener{Listener: NewListener(ln, opts), accepted: make(chan net.Conn)}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				close(l.accepted)
				return
			}
			l.accepted <- c
		}
	}()
	t.Cleanup(func() {
		l.Close()
		for c := range l.accepted {
			c.Close()
		}
	})
	return l
}

// acceptOrRefusal dials from src and returns the server side when
// admitted, or the reply line the client read when refused.
func acceptOrRefusal(t *testing.T, l *testListener, src string) (*Conn, string) {
	t.Helper()
	cc := dialFrom(t, src, l.Addr().String())
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(cc).ReadString('\n')
		line <- s
	}()
	select {
	case c := <-l.accepted:
		t.Cleanup(func() { c.Close() })
		return c.(*Conn), ""
	case s := <-line:
		return nil, s
	}
}

func TestPerIPCap(t *testing.T) {
	tab := NewTable(Limits{PerIP: 2}, nil)
	l := listen(t, tab, Options{Label: "test"})
	for i := range 2 {
		if c, refusal := acceptOrRefusal(t, l, "127.0.0.2"); c == nil {
			t.Fatalf("connection %d refused: %q", i+1, refusal)
		}
	}
	if _, refusal := acceptOrRefusal(t, l, "127.0.0.2"); refusal != "NO per_ip\r\n" {
		t.Errorf("third connection from one address: %q, want the per_ip refusal", refusal)
	}
	if c, refusal := acceptOrRefusal(t, l, "127.0.0.3"); c == nil {
		t.Errorf("another address refused: %q", refusal)
	}
}

func TestPreauthCapAndPromotion(t *testing.T) {
	tab := NewTable(Limits{PerIP: 10, PreauthPerIP: 1}, nil)
	l := listen(t, tab, Options{Label: "test"})
	first, _ := acceptOrRefusal(t, l, "127.0.0.4")
	if first == nil {
		t.Fatal("first connection refused")
	}
	if _, refusal := acceptOrRefusal(t, l, "127.0.0.4"); refusal != "NO preauth\r\n" {
		t.Fatalf("second pre-auth connection: %q, want the preauth refusal", refusal)
	}
	Authenticated(first)
	Authenticated(first) // twice is once
	if c, refusal := acceptOrRefusal(t, l, "127.0.0.4"); c == nil {
		t.Fatalf("after the first logged in, a new pre-auth connection was refused: %q", refusal)
	}
	if _, conns, preauth := tab.Count(netip.MustParseAddr("127.0.0.4")); conns != 2 || preauth != 1 {
		t.Errorf("counts %d conns, %d pre-auth; want 2 and 1", conns, preauth)
	}
	first.Close()
	first.Close() // released once
	if _, conns, preauth := tab.Count(netip.MustParseAddr("127.0.0.4")); conns != 1 || preauth != 1 {
		t.Errorf("after close: %d conns, %d pre-auth; want 1 and 1", conns, preauth)
	}
}

func TestServiceLimitAndTrusted(t *testing.T) {
	trusted := netip.MustParsePrefix("127.0.0.8/30")
	tab := NewTable(Limits{PerIP: 1, Service: 3, Trusted: []netip.Prefix{trusted}}, nil)
	l := listen(t, tab, Options{Label: "test"})
	for i := range 3 {
		if c, refusal := acceptOrRefusal(t, l, "127.0.0.9"); c == nil {
			t.Fatalf("trusted connection %d refused: %q", i+1, refusal)
		}
	}
	if _, refusal := acceptOrRefusal(t, l, "127.0.0.10"); refusal != "NO service\r\n" {
		t.Errorf("fourth connection: %q, want the service refusal", refusal)
	}
}

func TestRatePerMinute(t *testing.T) {
	now := time.Unix(1000, 0)
	tab := NewTable(Limits{PerMinute: 2}, func() time.Time { return now })
	a := netip.MustParseAddr("192.0.2.1")
	for range 2 {
		s, why := tab.admit(a)
		if why != "" {
			t.Fatalf("refused %s", why)
		}
		s.release(true)
	}
	if _, why := tab.admit(a); why != ReasonRate {
		t.Fatalf("third in a minute: %q, want rate", why)
	}
	now = now.Add(30 * time.Second)
	if _, why := tab.admit(a); why != "" {
		t.Errorf("after 30 s (one token back): %q", why)
	}
}

func TestKeyGroupsIPv6By64(t *testing.T) {
	a, _ := Key(netip.MustParseAddr("2001:db8:1:2::1"))
	b, _ := Key(netip.MustParseAddr("2001:db8:1:2:ffff::9"))
	c, _ := Key(netip.MustParseAddr("2001:db8:1:3::1"))
	if a != b || a == c {
		t.Errorf("keys %v %v %v: want the first two equal (same /64), the third different", a, b, c)
	}
	m, _ := Key(netip.MustParseAddr("::ffff:192.0.2.7"))
	if m != netip.MustParsePrefix("192.0.2.7/32") {
		t.Errorf("IPv4-mapped key %v", m)
	}
	if _, ok := Key(netip.Addr{}); ok {
		t.Error("an invalid address has a key")
	}
}

// TestPreauthDeadline: a connection that has not authenticated cannot
// push its read deadline past the pre-auth limit (slowloris); after
// Authenticated it can.
func TestPreauthDeadline(t *testing.T) {
	l := listen(t, NewTable(Limits{}, nil), Options{Label: "test", PreauthLimit: 100 * time.Millisecond})
	c, _ := acceptOrRefusal(t, l, "127.0.0.5")
	c.SetReadDeadline(time.Now().Add(time.Hour))
	start := time.Now()
	_, err := c.Read(make([]byte, 1))
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read = %v, want a timeout", err)
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Errorf("pre-auth read waited %v, want about 100 ms", waited)
	}
	c2, _ := acceptOrRefusal(t, l, "127.0.0.5")
	c2.Authenticated()
	c2.SetReadDeadline(time.Now().Add(time.Hour))
	done := make(chan error, 1)
	go func() { _, err := c2.Read(make([]byte, 1)); done <- err }()
	select {
	case err := <-done:
		t.Fatalf("authenticated read ended early: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	c2.Close()
	<-done
}

func TestFromLooksThroughWrappers(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	c := &Conn{Conn: a}
	w := struct{ netConner }{netConner{c}}
	if From(w) != c {
		t.Error("From did not find the Conn under a NetConn wrapper")
	}
	if From(a) != nil {
		t.Error("From found a Conn in a plain pipe")
	}
	io.WriteString(io.Discard, strings.Repeat("x", 1))
}

type netConner struct{ net.Conn }

func (n netConner) NetConn() net.Conn { return n.Conn }
