package admission

import (
	"net"
	"net/netip"
	"os"
	"runtime"
	"syscall"
	"testing"
)

// sharePair returns the two ends of a Unix socketpair (not net.Pipe,
// STYLE B10).
func sharePair(t *testing.T) (net.Conn, net.Conn) {
	t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out [2]net.Conn
	for i, fd := range fds {
		f := os.NewFile(uintptr(fd), "share")
		c, err := net.FileConn(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[i] = c
	}
	return out[0], out[1]
}

// sharedWorker is one worker's Table, shared through srv.
func sharedWorker(t *testing.T, srv *TableServer, l Limits) (*Table, net.Conn) {
	t.Helper()
	ours, theirs := sharePair(t)
	done := make(chan struct{})
	go func() { srv.Serve(ours); close(done) }()
	t.Cleanup(func() { theirs.Close(); ours.Close(); <-done })
	r, err := NewTableClient(theirs).Table("imap", l)
	if err != nil {
		t.Fatal(err)
	}
	tb := NewTable(l, nil)
	tb.Share(r)
	return tb, theirs
}

// TestSharedTableAcrossWorkers: two workers' Tables count together in the
// server: Service-Limit and Max-Preauth-Per-IP hold across them, a
// promotion and a release in one are seen by the other, and the slots of a
// worker whose socket ends are released.
func TestSharedTableAcrossWorkers(t *testing.T) {
	srv := NewTableServer()
	l := Limits{Service: 3, PreauthPerIP: 2}
	old, oldConn := sharedWorker(t, srv, l)
	cur, _ := sharedWorker(t, srv, l)
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")

	s1, why := old.admit(a)
	if why != "" {
		t.Fatal(why)
	}
	if _, why := old.admit(a); why != "" {
		t.Fatal(why)
	}
	if _, why := cur.admit(a); why != ReasonPreauth {
		t.Fatalf("a third pre-auth connection of one address through another worker: %q, want %q", why, ReasonPreauth)
	}
	s1.promote()
	if _, why := cur.admit(a); why != "" {
		t.Fatalf("after a promotion in the other worker: %q", why)
	}
	if _, why := cur.admit(b); why != ReasonService {
		t.Fatalf("the service's fourth connection: %q, want %q", why, ReasonService)
	}
	if n := srv.Count("imap"); n != 3 {
		t.Errorf("the server counts %d connections, want 3", n)
	}
	if total, _, _ := cur.Count(a); total != 0 {
		t.Errorf("the worker's own Table counted %d", total)
	}
	s1.release(false)
	if _, why := cur.admit(b); why != "" {
		t.Fatalf("after a release in the other worker: %q", why)
	}
	// The old worker goes away holding one slot: it is released.
	oldConn.Close()
	for srv.Count("imap") != 2 {
		runtime.Gosched()
	}
	if _, why := cur.admit(b); why != "" {
		t.Fatalf("after the old worker ended: %q", why)
	}
}

// TestSharedTableServerGone: a Table whose server is gone counts for its
// own process again.
func TestSharedTableServerGone(t *testing.T) {
	srv := NewTableServer()
	tb, conn := sharedWorker(t, srv, Limits{Service: 1})
	conn.Close()
	if _, why := tb.admit(netip.MustParseAddr("192.0.2.1")); why != "" {
		t.Fatalf("first connection with the server gone: %q", why)
	}
	if _, why := tb.admit(netip.MustParseAddr("192.0.2.2")); why != ReasonService {
		t.Fatalf("second connection with the server gone: %q, want the local cap", why)
	}
}
