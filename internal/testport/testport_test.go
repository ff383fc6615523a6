package testport

import (
	"errors"
	"net"
	"os"
	"strconv"
	"syscall"
	"testing"
)

// TestDistinct: many ports, none twice, all outside the ephemeral range and
// all bindable when handed out.
func TestDistinct(t *testing.T) {
	seen := map[int]bool{}
	for _, p := range GetN(t, 300) {
		if seen[p] {
			t.Fatalf("port %d handed out twice", p)
		}
		seen[p] = true
		if p < lo || p >= hi {
			t.Errorf("port %d outside [%d, %d)", p, lo, hi)
		}
	}
}

// TestClaimedAcrossProcesses: the lock of a handed-out port is held, so a
// second open file description (what another process would get) cannot
// take it.
func TestClaimedAcrossProcesses(t *testing.T) {
	p := Get(t)
	f, err := os.OpenFile(LockPath(p), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if !errors.Is(err, syscall.EWOULDBLOCK) {
		t.Fatalf("flock of a claimed port's file: %v, want EWOULDBLOCK", err)
	}
}

// TestSkipsListeningPort: a port something listens on is never handed out,
// even when it is the next candidate.
func TestSkipsListeningPort(t *testing.T) {
	Get(t) // initialise the range
	var ln net.Listener
	var busy int
	for p := lo; p < hi && ln == nil; p++ {
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err == nil {
			ln, busy = l, p
		}
	}
	if ln == nil {
		t.Fatal("no port of the range could be bound")
	}
	defer ln.Close()
	mu.Lock()
	next = busy
	mu.Unlock()
	if p := Get(t); p == busy {
		t.Fatalf("handed out port %d, which is listening", busy)
	}
}
