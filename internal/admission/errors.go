package admission

import (
	"errors"
	"net"
	"syscall"
	"time"
)

// ErrorKind classifies an accept error.
type ErrorKind int

const (
	// KindClosed: the listener was closed on purpose; Accept stops.
	KindClosed ErrorKind = iota
	// KindTemporary: retry after a short back-off (a timeout, an aborted
	// handshake, an interrupted call, a transient kernel shortage).
	KindTemporary
	// KindDescriptors: the process or system is out of file descriptors
	// (EMFILE, ENFILE); retry, and use the Reserve to refuse one client.
	KindDescriptors
	// KindFailed: anything else; the listener is considered broken and is
	// re-created.
	KindFailed
)

// String returns the kind's metric label.
func (k ErrorKind) String() string {
	switch k {
	case KindClosed:
		return "closed"
	case KindTemporary:
		return "temporary"
	case KindDescriptors:
		return "descriptors"
	}
	return "failed"
}

// Classify says what an error from net.Listener.Accept means.
func Classify(err error) ErrorKind {
	var errno syscall.Errno
	switch {
	case errors.Is(err, net.ErrClosed):
		return KindClosed
	case errors.As(err, &errno):
		switch errno {
		case syscall.EMFILE, syscall.ENFILE:
			return KindDescriptors
		case syscall.ENOBUFS, syscall.ENOMEM, syscall.ECONNABORTED, syscall.ECONNRESET,
			syscall.EINTR, syscall.EAGAIN, syscall.ETIMEDOUT, syscall.EPROTO, syscall.EPERM:
			// EPERM: a firewall rule refused the connection (accept(2)
			// on Linux); EPROTO: a protocol error on the new socket.
			return KindTemporary
		}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return KindTemporary
	}
	return KindFailed
}

// Temporary reports whether an accept error should be retried rather than
// end the accept loop: everything but a deliberate close and a broken
// listener.
func Temporary(err error) bool {
	k := Classify(err)
	return k == KindTemporary || k == KindDescriptors
}

// Back-off bounds for retried accepts and for re-creating a failed
// listener.
const (
	minBackoff     = 5 * time.Millisecond
	maxBackoff     = time.Second
	maxRestartWait = 30 * time.Second
)

// Backoff is a doubling delay between min and max; the zero value starts
// at 5 ms and stops at 1 s.
type Backoff struct {
	Min, Max time.Duration
	cur      time.Duration
}

// Next returns the next delay.
func (b *Backoff) Next() time.Duration {
	lo, hi := b.Min, b.Max
	if lo <= 0 {
		lo = minBackoff
	}
	if hi <= 0 {
		hi = maxBackoff
	}
	b.cur = min(max(2*b.cur, lo), hi)
	return b.cur
}

// Reset starts over after a success.
func (b *Backoff) Reset() { b.cur = 0 }
