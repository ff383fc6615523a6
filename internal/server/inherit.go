package server

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
)

// Socket activation (systemd.socket(5), sd_listen_fds(3)): a process
// started with LISTEN_PID set to its own PID and LISTEN_FDS=n received n
// listening sockets as descriptors 3 … 3+n-1. The supervisor of
// docs/supervisor.md will hand its workers their sockets the same way.

// ListenPPIDEnv names the variable that marks sockets passed by a parent
// postern process (see Inherit).
const ListenPPIDEnv = "LISTEN_PPID"

// listenFDsStart is the first inherited descriptor (SD_LISTEN_FDS_START).
const listenFDsStart = 3

// Inherited holds the listening sockets the process was started with, until
// Listen takes them by address. It is safe for concurrent use.
type Inherited struct {
	mu  sync.Mutex
	lns []net.Listener
}

// Inherit takes the sockets passed by socket activation, if the
// environment names this process, and removes LISTEN_PID, LISTEN_FDS and
// LISTEN_FDNAMES from the environment so that no child believes they are
// its own. The descriptors are replaced by close-on-exec duplicates, so no
// child inherits them either. It returns nil when nothing was passed.
//
// Go cannot set LISTEN_PID between fork and exec, so `postern serve` hands
// sockets to its workers and to an upgraded supervisor with LISTEN_PPID, the
// PID of the parent that passed them, in its place (docs/supervisor.md);
// Inherit accepts either.
func Inherit() (*Inherited, error) {
	pid, ppid, fds := os.Getenv("LISTEN_PID"), os.Getenv(ListenPPIDEnv), os.Getenv("LISTEN_FDS")
	for _, v := range []string{"LISTEN_PID", ListenPPIDEnv, "LISTEN_FDS", "LISTEN_FDNAMES"} {
		os.Unsetenv(v)
	}
	ours := pid != "" && pid == strconv.Itoa(os.Getpid()) || ppid != "" && ppid == strconv.Itoa(os.Getppid())
	if fds == "" || !ours {
		return nil, nil
	}
	n, err := strconv.Atoi(fds)
	if err != nil || n < 0 || n > 1024 {
		return nil, fmt.Errorf("socket activation: bad LISTEN_FDS %q", fds)
	}
	h := &Inherited{}
	for fd := listenFDsStart; fd < listenFDsStart+n; fd++ {
		f := os.NewFile(uintptr(fd), "listen-fd-"+strconv.Itoa(fd))
		ln, err := net.FileListener(f) // a close-on-exec duplicate
		f.Close()
		if err != nil {
			h.Close()
			return nil, fmt.Errorf("socket activation: descriptor %d is not a listening socket: %w", fd, err)
		}
		h.lns = append(h.lns, ln)
	}
	return h, nil
}

// take removes and returns the inherited listener on network at the
// address match accepts, or nil.
func (h *Inherited) take(match func(net.Addr) bool) net.Listener {
	if h == nil {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, ln := range h.lns {
		if match(ln.Addr()) {
			h.lns = append(h.lns[:i:i], h.lns[i+1:]...)
			return ln
		}
	}
	return nil
}

// TakeUnix returns the inherited Unix socket at path, or nil.
func (h *Inherited) TakeUnix(path string) net.Listener {
	return h.take(func(a net.Addr) bool { return a.Network() == "unix" && a.String() == path })
}

// takeTCP returns the inherited TCP listener on host (an IP address; ""
// for all addresses) and port, or nil.
func (h *Inherited) takeTCP(host string, port int) net.Listener {
	want := net.ParseIP(host)
	return h.take(func(a net.Addr) bool {
		ta, ok := a.(*net.TCPAddr)
		if !ok || ta.Port != port {
			return false
		}
		if host == "" {
			return ta.IP.IsUnspecified()
		}
		return want != nil && ta.IP.Equal(want)
	})
}

// TakeTCP returns the inherited TCP listener on host (an IP address; ""
// for all addresses) and port, or nil.
func (h *Inherited) TakeTCP(host string, port int) net.Listener { return h.takeTCP(host, port) }

// PassEnv returns the environment entries that make a child started with
// n listening sockets as descriptors 3 … 3+n-1 take them with Inherit.
func PassEnv(n int) []string {
	return []string{ListenPPIDEnv + "=" + strconv.Itoa(os.Getpid()), "LISTEN_FDS=" + strconv.Itoa(n)}
}

// Rest returns the addresses of the inherited sockets nothing took.
func (h *Inherited) Rest() []string {
	if h == nil {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, ln := range h.lns {
		out = append(out, ln.Addr().Network()+":"+ln.Addr().String())
	}
	return out
}

// Close closes the inherited sockets nothing took.
func (h *Inherited) Close() {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, ln := range h.lns {
		ln.Close()
	}
	h.lns = nil
}

// ListenFrom binds port on every address of addrs with listen, taking an
// address from h instead when it was inherited (socket activation). On any
// failure it closes what it bound and names the address.
func ListenFrom(h *Inherited, addrs []string, port int, listen func(hp string) (net.Listener, error)) ([]net.Listener, error) {
	if len(addrs) == 0 {
		addrs = []string{""}
	}
	var lns []net.Listener
	for _, a := range addrs {
		hp := net.JoinHostPort(a, strconv.Itoa(port))
		ln := h.takeTCP(strings.Trim(a, "[]"), port)
		if ln == nil {
			var err error
			if ln, err = listen(hp); err != nil {
				for _, l := range lns {
					l.Close()
				}
				return nil, fmt.Errorf("listen on %s: %w", hp, err)
			}
		}
		lns = append(lns, ln)
	}
	return lns, nil
}
