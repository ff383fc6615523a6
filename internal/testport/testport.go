// Package testport hands out loopback TCP ports to tests that start a
// server in another process (postern serve, Postfix, Dovecot), which cannot
// be given a listener already bound to port 0.
//
// Picking "a port that was free a moment ago" by binding port 0 and closing
// it is racy twice over: the kernel may give the same ephemeral port to the
// next caller in the same process, and any other process (another test
// package, another developer's test run, a client's outgoing connection)
// may take it before the server binds it. Get avoids both:
//
//   - ports come from below the kernel's ephemeral range
//     (/proc/sys/net/ipv4/ip_local_port_range), so no port-0 bind and no
//     outgoing connection is ever given one;
//   - a port is never handed out twice in one process;
//   - every port handed out is claimed, for the life of the process, by an
//     flock(2) on a file named after it in a shared directory, so test
//     processes running at the same time on one machine never share one;
//   - a port something already listens on (a running quickstart on 1143,
//     say) fails the bind check and is skipped.
package testport

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// The candidate range. Ports below lowest are left to services people run
// by hand (quickstart's 1143, 1993, …); the top is the start of the
// ephemeral range when that can be read.
const (
	lowest      = 20000
	defaultHigh = 32768
)

var (
	mu      sync.Mutex
	handed  = map[int]bool{}
	claims  []*os.File // kept open (and referenced) so the locks live as long as the process
	next    int        // the next candidate, 0 before the first call
	lo, hi  int
	lockDir = filepath.Join(os.TempDir(), "postern-test-ports")
)

// Get returns a loopback TCP port that no other caller of Get, in this
// process or any other on this machine, has been given, and that nothing
// listened on when Get returned. It fails the test when none is left.
func Get(t testing.TB) int {
	t.Helper()
	p, err := get()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Claim is Get for a TestMain, which has no test to fail: it returns the
// error instead.
func Claim() (int, error) { return get() }

// GetN returns n ports, as n calls of Get.
func GetN(t testing.TB, n int) []int {
	t.Helper()
	out := make([]int, n)
	for i := range out {
		out[i] = Get(t)
	}
	return out
}

func get() (int, error) {
	mu.Lock()
	defer mu.Unlock()
	if next == 0 {
		lo, hi = portRange()
		next = lo + rand.IntN(hi-lo)
		if err := os.MkdirAll(lockDir, 0o777); err != nil {
			return 0, fmt.Errorf("testport: %w", err)
		}
		os.Chmod(lockDir, 0o777|os.ModeSticky) // shared by every user's test runs
	}
	for range hi - lo {
		p := next
		next++
		if next >= hi {
			next = lo
		}
		if handed[p] {
			continue
		}
		f, ok := claim(p)
		if !ok {
			continue
		}
		if !bindable(p) {
			f.Close() // releases the claim
			continue
		}
		handed[p] = true
		claims = append(claims, f)
		return p, nil
	}
	return 0, fmt.Errorf("testport: no free port left in %d-%d", lo, hi-1)
}

// claim takes the machine-wide lock of port p, or reports that another
// process holds it.
func claim(p int) (*os.File, bool) {
	f, err := os.OpenFile(LockPath(p), os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		return nil, false
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, false
	}
	return f, true
}

// LockPath is the file whose flock claims port p.
func LockPath(p int) string { return filepath.Join(lockDir, strconv.Itoa(p)) }

func bindable(p int) bool {
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
	if err != nil {
		return false
	}
	ln.Close()
	return true
}

// portRange returns [lo, hi): from lowest to the start of the kernel's
// ephemeral range, or to defaultHigh when that range cannot be read or
// leaves too little room.
func portRange() (int, int) {
	high := defaultHigh
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil && n-lowest >= 1000 {
				high = n
			}
		}
	}
	return lowest, high
}
