package observe

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Event kinds. The event log records server start and stop, failed
// authentications and other events (§20.2.2).
const (
	EventStart    = "START"    // a protocol server started listening (attrs: proto, listen)
	EventStop     = "STOP"     // a protocol server stopped listening
	EventShutdown = "SHUTDOWN" // process shutdown requested (attrs: by, e.g. signal, XTND SHUTDOWN, ctl)
	EventReload   = "RELOAD"   // configuration or certificates reloaded (attrs: result)
	EventAuthFail = "AUTHFAIL" // an authentication failed (proto, remote, user, mech, reason)
	EventReject   = "REJECT"   // a command or connection rejected for authorization reasons (proto, remote, reason)
	EventListener = "LISTENER" // a listener failed and is being re-created (proto, listener, addr, err)
	EventHook     = "HOOK"     // Startup-Command or Shutdown-Command failed (event, result, err)
	EventRestart  = "RESTART"  // the previous run ended without a clean stop (previous_pid, started, cause, notified)
	EventMemory   = "MEMORY"   // memory reached 90% of the limit or fell back below 80% (state, used, limit)
)

// eventTimeFormat is RFC 3339 with milliseconds, fixed width.
const eventTimeFormat = "2006-01-02T15:04:05.000Z07:00"

// EventLogName returns the event log's file name for a node,
// "postern-event-<NODE>.log", the analogue of TCPIP$IMAP_EVENT$node.LOG.
func EventLogName(node string) string { return "postern-event-" + node + ".log" }

// NodeName turns a host name into the node name used in log file names:
// the first DNS label, upper-cased, with anything but letters, digits, "-"
// and "_" replaced by "_". An empty host name uses os.Hostname, and
// "LOCALHOST" if that fails.
func NodeName(hostname string) string {
	if hostname == "" {
		hostname, _ = os.Hostname()
	}
	label, _, _ := strings.Cut(hostname, ".")
	var b strings.Builder
	for _, r := range strings.ToUpper(label) {
		if r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "LOCALHOST"
	}
	return b.String()
}

// EventLogOptions tune an event log. The zero value is ready to use.
type EventLogOptions struct {
	// Sync makes every event durable with fsync before Event returns. Off,
	// each line is still handed to the kernel at once (no buffering).
	Sync bool
	// Now returns the time of an event; nil means time.Now.
	Now func() time.Time
}

// EventLog writes the event log: one line per event, each with a single
// write. It is safe for concurrent use. The zero value is not usable; use
// OpenEventLog or NewEventLog.
type EventLog struct {
	opts EventLogOptions
	path string // empty for NewEventLog

	mu  sync.Mutex
	w   io.Writer
	f   *os.File // w when it is a file we opened
	err error    // first write error
}

// OpenEventLog opens (creating if needed, mode 0640) the event log
// dir/postern-event-<NODE>.log for appending, NODE being NodeName(node): a
// host name ("mail.example.com") or a node name ("MAIL") both give MAIL.
func OpenEventLog(dir, node string, opts EventLogOptions) (*EventLog, error) {
	path := filepath.Join(dir, EventLogName(NodeName(node)))
	f, err := openAppend(path)
	if err != nil {
		return nil, err
	}
	return &EventLog{opts: opts, path: path, w: f, f: f}, nil
}

// NewEventLog returns an event log writing to w (tests, or stdout in a
// container). Sync applies only if w is an *os.File.
func NewEventLog(w io.Writer, opts EventLogOptions) *EventLog {
	e := &EventLog{opts: opts, w: w}
	e.f, _ = w.(*os.File)
	return e
}

// Path returns the file path, or "" for a log made by NewEventLog.
func (e *EventLog) Path() string { return e.path }

// Event writes one event. kind is one of the Event constants (or another
// upper-case word); attrs are written in order as key=value. Write errors
// are kept for Err, not returned: an event that cannot be logged must not
// stop the server.
func (e *EventLog) Event(kind string, attrs ...slog.Attr) {
	if e == nil {
		return
	}
	now := time.Now
	if e.opts.Now != nil {
		now = e.opts.Now
	}
	b := make([]byte, 0, 128)
	b = now().UTC().AppendFormat(b, eventTimeFormat)
	b = append(b, ' ')
	b = appendKind(b, kind)
	for _, a := range attrs {
		b = appendAttr(b, "", a)
	}
	b = append(b, '\n')

	e.mu.Lock()
	defer e.mu.Unlock()
	if e.w == nil {
		return
	}
	_, err := e.w.Write(b)
	if err == nil && e.opts.Sync && e.f != nil {
		err = e.f.Sync()
	}
	if err != nil && e.err == nil {
		e.err = err
	}
}

// AuthFail records a failed authentication with the fields in a fixed
// order: proto, remote (host without port), user, mech, reason.
func (e *EventLog) AuthFail(proto, remote, user, mech, reason string) {
	e.Event(EventAuthFail, slog.String("proto", proto), slog.String("remote", remote),
		slog.String("user", user), slog.String("mech", mech), slog.String("reason", reason))
}

// Reject records a command or connection rejected for authorization
// reasons (the original's OPCOM REJECT messages), proto and remote first.
func (e *EventLog) Reject(proto, remote, reason string, attrs ...slog.Attr) {
	all := append([]slog.Attr{slog.String("proto", proto), slog.String("remote", remote),
		slog.String("reason", reason)}, attrs...)
	e.Event(EventReject, all...)
}

// Err returns the first write error, if any.
func (e *EventLog) Err() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.err
}

// Reopen reopens the file by name after log rotation. It does nothing for
// a log made by NewEventLog.
func (e *EventLog) Reopen() error {
	if e.path == "" {
		return nil
	}
	f, err := openAppend(e.path)
	if err != nil {
		return err
	}
	e.mu.Lock()
	old := e.f
	e.f, e.w = f, f
	e.mu.Unlock()
	return old.Close()
}

// Close closes the file (if OpenEventLog opened it); later events are
// dropped.
func (e *EventLog) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.w = nil
	if e.path == "" || e.f == nil {
		return nil
	}
	err := e.f.Close()
	e.f = nil
	return err
}

// appendKind appends the event kind, keeping only A-Z, 0-9 and "_" so the
// second field is always one safe word.
func appendKind(b []byte, kind string) []byte {
	start := len(b)
	for i := 0; i < len(kind); i++ {
		c := kind[i]
		switch {
		case c >= 'a' && c <= 'z':
			b = append(b, c-'a'+'A')
		case c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_':
			b = append(b, c)
		}
	}
	if len(b) == start {
		b = append(b, "EVENT"...)
	}
	return b
}

// appendAttr appends " key=value"; groups flatten to "group_key".
func appendAttr(b []byte, prefix string, a slog.Attr) []byte {
	v := a.Value.Resolve()
	key := prefix + a.Key
	if v.Kind() == slog.KindGroup {
		for _, ga := range v.Group() {
			b = appendAttr(b, key+"_", ga)
		}
		return b
	}
	b = append(b, ' ')
	b = appendKey(b, key)
	b = append(b, '=')
	var s string
	switch v.Kind() {
	case slog.KindTime:
		s = v.Time().UTC().Format(eventTimeFormat)
	default:
		s = v.String()
	}
	return appendValue(b, s)
}

// appendKey appends a key reduced to [a-z0-9_].
func appendKey(b []byte, key string) []byte {
	start := len(b)
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case c >= 'A' && c <= 'Z':
			b = append(b, c-'A'+'a')
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '_':
			b = append(b, c)
		default:
			b = append(b, '_')
		}
	}
	if len(b) == start {
		b = append(b, '_')
	}
	return b
}

// appendValue appends s bare when it is a safe token, else quoted with
// strconv.Quote (which escapes every control and non-printable character,
// so no value can contain a line break).
func appendValue(b []byte, s string) []byte {
	if isBareValue(s) {
		return append(b, s...)
	}
	return strconv.AppendQuote(b, s)
}

// isBareValue reports whether s is non-empty and only letters, digits and
// ._:/@+-.
func isBareValue(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.IndexByte("._:/@+-", c) >= 0
		if !ok {
			return false
		}
	}
	return true
}
