package observe

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	traceFileMode    = 0o600
	traceDirMode     = 0o750
	traceBufferSize  = 64 << 10
	traceStampFormat = "0102150405" // mmddhhmmss, as in TCPIP$IMAP_node_mmddhhmmssTRACE.LOG
	maxTraceSuffix   = 1000         // attempts to find an unused file name
	// RedactedText replaces secrets in trace lines and trace-level logs.
	RedactedText = "***"
)

// Redactor rewrites a client line before it is traced, replacing secrets
// with RedactedText. It returns line itself when there is nothing to hide.
// Protocols supply their own (IMAP LOGIN, POP PASS, SMTP AUTH PLAIN …);
// RedactAfter is the generic building block.
type Redactor func(line []byte) []byte

// RedactAfter keeps the first n space-separated words of line and
// replaces the rest with RedactedText: RedactAfter("PASS secret", 1) is
// "PASS ***" and RedactAfter("a1 LOGIN alice secret", 3) is
// "a1 LOGIN alice ***". A line of n words or fewer is returned unchanged.
// A quoted argument with spaces only makes it hide more.
func RedactAfter(line []byte, n int) []byte {
	i := 0
	for range n {
		j := bytes.IndexByte(line[i:], ' ')
		if j < 0 {
			return line
		}
		i += j + 1
	}
	if i >= len(line) {
		return line
	}
	out := make([]byte, 0, i+len(RedactedText))
	out = append(out, line[:i]...)
	return append(out, RedactedText...)
}

// TraceOptions configure a Tracer. The zero value traces to the logger
// only.
type TraceOptions struct {
	// Dir is where trace files go (the Log-Directory); empty means no trace
	// files: ConnTraces then only feed the logger at trace levels. A
	// non-empty Dir is the Server-Trace / POP TRACE switch turned on.
	Dir string
	// Proto is the protocol name in file names and logs: imap, pop3, smtp, lmtp.
	Proto string
	// Node is the host or node name; file names use NodeName(Node).
	Node string
	// Synch is Trace-Synch: the number of trace writes between fsyncs. 0
	// buffers everything until the file is closed (fastest; a crash loses
	// the tail); 1 writes and fsyncs every line (safest, slowest); N ≥ 1
	// hands every line to the kernel at once (a process crash loses
	// nothing) and fsyncs every N lines (a system crash loses fewer than N).
	// 100 is the original's recommended balance.
	Synch int
	// PerConnection gives every connection its own file; otherwise one
	// file per server start holds all connections, as the original's
	// Server-Trace did, each line carrying its connection id.
	PerConnection bool
	// Data writes message data (bodies, literals) to trace files; off, each
	// run of data is summarised as "[N bytes of message data]".
	Data bool
	// Redactor rewrites client lines passed to ConnTrace.Client; nil
	// traces client lines as they are.
	Redactor Redactor
	// Now is the clock for timestamps and file names; nil means time.Now.
	Now func() time.Time

	// syncFile replaces (*os.File).Sync in tests, to count fsyncs.
	syncFile func(*os.File) error
}

// Tracer is the protocol trace facility of one server start: it opens
// trace files and hands out a ConnTrace per connection. A nil *Tracer is
// valid and traces nothing.
type Tracer struct {
	opts   TraceOptions
	start  time.Time
	shared *traceSink // one file per server start; nil in per-connection mode or without Dir
}

// NewTracer prepares tracing for one server start. With a Dir and without
// PerConnection it creates the shared trace file at once, named
// postern-<proto>-<NODE>-<mmddhhmmss>-trace.log; the directory is created
// (mode 0750) if missing.
func NewTracer(opts TraceOptions) (*Tracer, error) {
	opts.Node = NodeName(opts.Node)
	if !isBareValue(opts.Proto) || strings.ContainsAny(opts.Proto, "/:@") {
		return nil, fmt.Errorf("trace: invalid protocol name %q", opts.Proto)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Synch < 0 {
		opts.Synch = 0
	}
	t := &Tracer{opts: opts, start: opts.Now()}
	if opts.Dir == "" {
		return t, nil
	}
	if err := os.MkdirAll(opts.Dir, traceDirMode); err != nil {
		return nil, fmt.Errorf("create trace directory: %w", err)
	}
	if !opts.PerConnection {
		s, err := t.openSink("")
		if err != nil {
			return nil, err
		}
		t.shared = s
	}
	return t, nil
}

// Path returns the shared trace file's path, or "" when there is none.
func (t *Tracer) Path() string {
	if t == nil || t.shared == nil {
		return ""
	}
	return t.shared.f.Name()
}

// Close flushes, fsyncs and closes the shared trace file. ConnTraces still
// open stop writing to it.
func (t *Tracer) Close() error {
	if t == nil || t.shared == nil {
		return nil
	}
	return t.shared.close()
}

// Conn starts tracing connection cid (from Conns.Add) from remote. Lines go to the trace
// file (shared or its own) and, when logger is enabled at LevelTrace or
// below, to logger. If a per-connection file cannot be created the error is
// logged on logger at Warn and the trace goes on without the file. A nil
// Tracer gives a nil *ConnTrace, whose methods do nothing.
func (t *Tracer) Conn(cid uint64, remote string, logger *slog.Logger) *ConnTrace {
	if t == nil {
		return nil
	}
	ct := &ConnTrace{
		cid:    strconv.FormatUint(cid, 10),
		now:    t.opts.Now,
		redact: t.opts.Redactor,
		data:   t.opts.Data,
		logger: logger,
		sink:   t.shared,
	}
	if t.opts.Dir != "" && t.opts.PerConnection {
		s, err := t.openSink(ct.cid)
		if err != nil && logger != nil {
			logger.Warn("trace file not opened", slog.String("err", err.Error()))
		}
		ct.sink, ct.ownSink = s, s != nil
	}
	ct.note("connect proto=" + t.opts.Proto + " remote=" + remote)
	return ct
}

// openSink creates a new trace file with O_EXCL, adding .2, .3 … before
// "-trace.log" when the name is taken (two starts, or two connections with
// the same id after a restart, within one second).
func (t *Tracer) openSink(cid string) (*traceSink, error) {
	stamp := t.start
	if cid != "" {
		stamp = t.opts.Now()
	}
	base := "postern-" + t.opts.Proto + "-" + t.opts.Node + "-" + stamp.UTC().Format(traceStampFormat)
	if cid != "" {
		base += "-" + cid
	}
	for i := 1; i <= maxTraceSuffix; i++ {
		name := base
		if i > 1 {
			name += "." + strconv.Itoa(i)
		}
		path := filepath.Join(t.opts.Dir, name+"-trace.log")
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, traceFileMode)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("create trace file: %w", err)
		}
		sync := t.opts.syncFile
		if sync == nil {
			sync = (*os.File).Sync
		}
		return &traceSink{f: f, w: bufio.NewWriterSize(f, traceBufferSize), synch: t.opts.Synch, sync: sync}, nil
	}
	return nil, fmt.Errorf("create trace file: no free name for %s", base)
}

// traceSink is one trace file, shared by the connections that write to it.
type traceSink struct {
	mu     sync.Mutex
	f      *os.File
	w      *bufio.Writer
	synch  int
	writes int // since the last fsync
	sync   func(*os.File) error
	closed bool
}

// write appends one complete line with the Trace-Synch cadence.
func (s *traceSink) write(line []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.w.Write(line)
	if s.synch == 0 {
		return
	}
	s.w.Flush()
	s.writes++
	if s.writes >= s.synch {
		s.sync(s.f)
		s.writes = 0
	}
}

// close flushes, fsyncs and closes the file.
func (s *traceSink) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	err := s.w.Flush()
	if serr := s.sync(s.f); err == nil {
		err = serr
	}
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// ConnTrace traces one connection. Protocols call Client for each line
// read, Server for each line written, ClientSecret or ClientAuth for lines
// that carry credentials, and ClientData/ServerData for message data.
// Lines are passed without their CRLF (a trailing CR or LF is removed).
// It is safe for concurrent use; a nil *ConnTrace does nothing.
type ConnTrace struct {
	cid     string
	now     func() time.Time
	redact  Redactor
	data    bool // message data to the file
	logger  *slog.Logger
	sink    *traceSink
	ownSink bool

	mu       sync.Mutex // guards the data run state below and orders lines
	pendDir  byte       // direction of the current run of data, 0 if none
	pendN    int64      // bytes in the current run
	pendLine []byte     // data-mode partial line
	closed   bool
}

// Client traces a line from the client, after the Redactor. When the
// Redactor hid something, the logger gets the raw line only at
// LevelTraceAuth; trace files never do.
func (ct *ConnTrace) Client(line []byte) {
	if ct == nil {
		return
	}
	shown := line
	if ct.redact != nil {
		shown = ct.redact(line)
	}
	var raw []byte
	if !bytes.Equal(shown, line) {
		raw = line
	}
	ct.line('C', shown, raw)
}

// ClientSecret traces a client line the protocol has already redacted,
// such as a SASL response during AUTHENTICATE.
func (ct *ConnTrace) ClientSecret(redacted string) {
	if ct == nil {
		return
	}
	ct.line('C', []byte(redacted), nil)
}

// ClientAuth traces a credential line: redacted goes to the trace file and
// to the logger at LevelTrace, raw only to the logger at LevelTraceAuth.
func (ct *ConnTrace) ClientAuth(raw []byte, redacted string) {
	if ct == nil {
		return
	}
	ct.line('C', []byte(redacted), raw)
}

// Server traces a line sent to the client.
func (ct *ConnTrace) Server(line []byte) {
	if ct == nil {
		return
	}
	ct.line('S', line, nil)
}

// ClientData traces message data received (SMTP DATA, IMAP APPEND
// literals). Consecutive chunks form one run, summarised at its end.
func (ct *ConnTrace) ClientData(p []byte) { ct.dataChunk('C', p) }

// ServerData traces message data sent (POP RETR, IMAP FETCH bodies).
func (ct *ConnTrace) ServerData(p []byte) { ct.dataChunk('S', p) }

// Close ends the trace: a closing note, and the file is closed when it is
// the connection's own.
func (ct *ConnTrace) Close() error {
	if ct == nil {
		return nil
	}
	ct.note("close")
	ct.mu.Lock()
	ct.closed = true
	ct.mu.Unlock()
	if ct.ownSink {
		return ct.sink.close()
	}
	return nil
}

// Note writes a "--" line about the connection (such as the start of
// TLS) to the trace file only.
func (ct *ConnTrace) Note(text string) {
	if ct == nil {
		return
	}
	ct.note(text)
}

// note writes a "--" line (connect, close) to the file only.
func (ct *ConnTrace) note(text string) {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	if ct.closed {
		return
	}
	ct.endDataRun()
	ct.writeFile('-', []byte(text))
}

// line traces one protocol line; raw, if set, is the unredacted form for
// LevelTraceAuth.
func (ct *ConnTrace) line(dir byte, shown, raw []byte) {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	if ct.closed {
		return
	}
	ct.endDataRun()
	ct.writeFile(dir, shown)
	if raw != nil && enabled(ct.logger, LevelTraceAuth) {
		ct.log(LevelTraceAuth, dir, raw)
	} else if enabled(ct.logger, LevelTrace) {
		ct.log(LevelTrace, dir, shown)
	}
}

// dataChunk adds p to the current run of data in direction dir.
func (ct *ConnTrace) dataChunk(dir byte, p []byte) {
	if ct == nil || len(p) == 0 {
		return
	}
	ct.mu.Lock()
	defer ct.mu.Unlock()
	if ct.closed {
		return
	}
	if ct.pendDir != dir {
		ct.endDataRun()
	}
	ct.pendDir = dir
	ct.pendN += int64(len(p))
	if ct.data && ct.sink != nil {
		ct.pendLine = append(ct.pendLine, p...)
		for {
			i := bytes.IndexByte(ct.pendLine, '\n')
			if i < 0 {
				break
			}
			ct.writeFile(dir, ct.pendLine[:i])
			ct.pendLine = ct.pendLine[i+1:]
		}
		ct.pendLine = append([]byte(nil), ct.pendLine...)
	}
	if enabled(ct.logger, LevelTraceData) {
		ct.logger.Log(context.Background(), LevelTraceData, "protocol data",
			slog.String("cid", ct.cid), slog.String("dir", string(dir)), slog.String("data", string(p)))
	}
}

// endDataRun writes the summary (or the last partial line) of the current
// run of data. The caller holds ct.mu.
func (ct *ConnTrace) endDataRun() {
	if ct.pendDir == 0 {
		return
	}
	summary := []byte("[" + strconv.FormatInt(ct.pendN, 10) + " bytes of message data]")
	if ct.data {
		if len(ct.pendLine) > 0 {
			ct.writeFile(ct.pendDir, ct.pendLine)
		}
	} else {
		ct.writeFile(ct.pendDir, summary)
	}
	if enabled(ct.logger, LevelTrace) && !enabled(ct.logger, LevelTraceData) {
		ct.log(LevelTrace, ct.pendDir, summary)
	}
	ct.pendDir, ct.pendN, ct.pendLine = 0, 0, nil
}

// writeFile formats and writes one trace file line:
// "<time> <cid> <C:|S:|--> <text>". Control characters other than tab are
// written as \xHH so a line stays a line.
func (ct *ConnTrace) writeFile(dir byte, text []byte) {
	if ct.sink == nil {
		return
	}
	b := make([]byte, 0, len(text)+48)
	b = ct.now().UTC().AppendFormat(b, eventTimeFormat)
	b = append(b, ' ')
	b = append(b, ct.cid...)
	switch dir {
	case 'C':
		b = append(b, " C: "...)
	case 'S':
		b = append(b, " S: "...)
	default:
		b = append(b, " -- "...)
	}
	b = appendEscaped(b, bytes.TrimRight(text, "\r\n"))
	b = append(b, '\n')
	ct.sink.write(b)
}

// log writes a trace line to the logger.
func (ct *ConnTrace) log(level slog.Level, dir byte, text []byte) {
	ct.logger.Log(context.Background(), level, "protocol line",
		slog.String("cid", ct.cid), slog.String("dir", string(dir)),
		slog.String("line", string(bytes.TrimRight(text, "\r\n"))))
}

// appendEscaped appends text with control characters (except tab) and DEL
// as \xHH.
func appendEscaped(b, text []byte) []byte {
	const hex = "0123456789abcdef"
	for _, c := range text {
		if c < 0x20 && c != '\t' || c == 0x7f {
			b = append(b, '\\', 'x', hex[c>>4], hex[c&0xf])
			continue
		}
		b = append(b, c)
	}
	return b
}
