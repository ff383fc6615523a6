package observe

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testRedactor is what a protocol would supply: hide the password of
// "PASS x" and "a LOGIN user pass".
func testRedactor(line []byte) []byte {
	f := bytes.Fields(line)
	switch {
	case len(f) >= 1 && strings.EqualFold(string(f[0]), "PASS"):
		return RedactAfter(line, 1)
	case len(f) >= 2 && strings.EqualFold(string(f[1]), "LOGIN"):
		return RedactAfter(line, 3)
	}
	return line
}

func TestRedactAfter(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"PASS secret", 1, "PASS ***"},
		{"PASS secret with spaces", 1, "PASS ***"},
		{"a1 LOGIN alice secret", 3, "a1 LOGIN alice ***"},
		{`a1 LOGIN "al ice" secret`, 3, `a1 LOGIN "al ***`},
		{"PASS", 1, "PASS"},
		{"PASS ", 1, "PASS "},
		{"", 2, ""},
		{"AUTH PLAIN AGFsaWNlAHNlY3JldA==", 2, "AUTH PLAIN ***"},
		{"x", 0, "***"},
	} {
		if got := string(RedactAfter([]byte(tc.in), tc.n)); got != tc.want {
			t.Errorf("RedactAfter(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

// syncCounter counts fsyncs through the injectable hook.
type syncCounter struct{ n atomic.Int64 }

func (c *syncCounter) sync(f *os.File) error { c.n.Add(1); return nil }

func newTestTracer(t *testing.T, opts TraceOptions) (*Tracer, *syncCounter) {
	t.Helper()
	c := &syncCounter{}
	opts.syncFile = c.sync
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	if opts.Proto == "" {
		opts.Proto = "imap"
	}
	if opts.Node == "" {
		opts.Node = "MAIL"
	}
	if opts.Now == nil {
		opts.Now = fixedClock
	}
	tr, err := NewTracer(opts)
	if err != nil {
		t.Fatal(err)
	}
	return tr, c
}

func TestTraceNaming(t *testing.T) {
	dir := t.TempDir()
	shared, _ := newTestTracer(t, TraceOptions{Dir: dir})
	if want := filepath.Join(dir, "postern-imap-MAIL-1125194255-trace.log"); shared.Path() != want {
		t.Errorf("shared path %s, want %s", shared.Path(), want)
	}
	// A second start in the same second gets a new name.
	again, _ := newTestTracer(t, TraceOptions{Dir: dir})
	if want := filepath.Join(dir, "postern-imap-MAIL-1125194255.2-trace.log"); again.Path() != want {
		t.Errorf("second path %s, want %s", again.Path(), want)
	}
	shared.Close()
	again.Close()

	per, _ := newTestTracer(t, TraceOptions{Dir: dir, Proto: "pop3", PerConnection: true})
	if per.Path() != "" {
		t.Errorf("per-connection tracer has a shared path %s", per.Path())
	}
	for range 2 {
		ct := per.Conn(42, "192.0.2.1:5000", nil)
		ct.Close()
	}
	for _, name := range []string{"postern-pop3-MAIL-1125194255-42-trace.log", "postern-pop3-MAIL-1125194255-42.2-trace.log"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v", name, fi.Mode())
		}
	}
}

func TestTraceRedactionAndFormat(t *testing.T) {
	tr, _ := newTestTracer(t, TraceOptions{Redactor: testRedactor, Synch: 1})
	ct := tr.Conn(7, "192.0.2.1:5000", nil)
	ct.Server([]byte("+OK POP3 ready\r\n"))
	ct.Client([]byte("USER alice\r\n"))
	ct.Client([]byte("PASS hunter2-secret\r\n"))
	ct.Client([]byte("a1 LOGIN alice hunter2-secret"))
	ct.ClientSecret("[SASL response]")
	ct.ClientAuth([]byte("AGFsaWNlAGh1bnRlcjItc2VjcmV0"), "***")
	ct.Client([]byte("bad\rline\x00"))
	ct.Close()
	tr.Close()

	data, err := os.ReadFile(tr.Path())
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte("hunter2")) || bytes.Contains(data, []byte("AGFsaWNl")) {
		t.Fatalf("password in trace file:\n%s", data)
	}
	want := `2026-11-25T19:42:55.123Z 7 -- connect proto=imap remote=192.0.2.1:5000
2026-11-25T19:42:55.123Z 7 S: +OK POP3 ready
2026-11-25T19:42:55.123Z 7 C: USER alice
2026-11-25T19:42:55.123Z 7 C: PASS ***
2026-11-25T19:42:55.123Z 7 C: a1 LOGIN alice ***
2026-11-25T19:42:55.123Z 7 C: [SASL response]
2026-11-25T19:42:55.123Z 7 C: ***
2026-11-25T19:42:55.123Z 7 C: bad\x0dline\x00
2026-11-25T19:42:55.123Z 7 -- close
`
	if string(data) != want {
		t.Errorf("got:\n%s\nwant:\n%s", data, want)
	}
}

// TestTraceLogger checks the trace levels: trace shows redacted lines,
// traceauth the raw credentials, tracedata the message data.
func TestTraceLogger(t *testing.T) {
	for _, tc := range []struct {
		level      slog.Level
		wantSecret bool
		wantData   bool
		wantAny    bool
	}{
		{slog.LevelDebug, false, false, false},
		{LevelTrace, false, false, true},
		{LevelTraceAuth, true, false, true},
		{LevelTraceData, true, true, true},
	} {
		t.Run(LevelName(tc.level), func(t *testing.T) {
			var buf bytes.Buffer
			var lv slog.LevelVar
			lv.Set(tc.level)
			logger := NewLogger(&buf, &lv, FormatText)
			tr, err := NewTracer(TraceOptions{Proto: "pop3", Redactor: testRedactor}) // no Dir: logger only
			if err != nil {
				t.Fatal(err)
			}
			ct := tr.Conn(1, "192.0.2.1:1", logger)
			ct.Client([]byte("PASS hunter2"))
			ct.ClientAuth([]byte("c2VjcmV0LXNhc2w="), "***")
			ct.ServerData([]byte("Subject: body-marker\r\n\r\n"))
			ct.Server([]byte("."))
			ct.Close()
			out := buf.String()
			if got := strings.Contains(out, "hunter2") && strings.Contains(out, "c2VjcmV0LXNhc2w="); got != tc.wantSecret {
				t.Errorf("secret shown = %v:\n%s", got, out)
			}
			if got := strings.Contains(out, "body-marker"); got != tc.wantData {
				t.Errorf("data shown = %v:\n%s", got, out)
			}
			if got := strings.Contains(out, "protocol line"); got != tc.wantAny {
				t.Errorf("lines shown = %v:\n%s", got, out)
			}
			if tc.level == LevelTrace && !strings.Contains(out, "[24 bytes of message data]") {
				t.Errorf("no data summary:\n%s", out)
			}
		})
	}
}

func TestTraceData(t *testing.T) {
	for _, data := range []bool{false, true} {
		t.Run(fmt.Sprint("data=", data), func(t *testing.T) {
			tr, _ := newTestTracer(t, TraceOptions{Data: data})
			ct := tr.Conn(3, "r", nil)
			ct.Client([]byte("RETR 1"))
			ct.Server([]byte("+OK 30 octets"))
			ct.ServerData([]byte("Subject: hi\r\n\r\nhel"))
			ct.ServerData([]byte("lo there\r\nbye"))
			ct.ClientData([]byte("x\r\n"))
			ct.Server([]byte("."))
			ct.Close()
			tr.Close()
			got, _ := os.ReadFile(tr.Path())
			var want string
			if data {
				want = "S: Subject: hi\n.* S: \n.* S: hello there\n.* S: bye\n.* C: x\n.* S: \\.\n"
			} else {
				want = "S: \\[31 bytes of message data\\]\n.* C: \\[3 bytes of message data\\]\n.* S: \\.\n"
			}
			if !regexp.MustCompile(want).Match(got) {
				t.Errorf("got:\n%s\nwant match of %q", got, want)
			}
		})
	}
}

// TestTraceSynch counts fsyncs and checks what reached the file before
// close for each Trace-Synch value.
func TestTraceSynch(t *testing.T) {
	const lines = 10
	for _, tc := range []struct {
		synch      int
		wantSyncs  int64 // before close
		visibleNow bool  // lines in the file before close
	}{
		{0, 0, false},
		{1, lines + 1, true}, // + the connect note
		{3, (lines + 1) / 3, true},
		{100, 0, true},
	} {
		t.Run(fmt.Sprint("synch=", tc.synch), func(t *testing.T) {
			tr, c := newTestTracer(t, TraceOptions{Synch: tc.synch})
			ct := tr.Conn(1, "r", nil)
			for i := range lines {
				ct.Server(fmt.Appendf(nil, "* %d EXISTS", i))
			}
			if got := c.n.Load(); got != tc.wantSyncs {
				t.Errorf("fsyncs before close = %d, want %d", got, tc.wantSyncs)
			}
			data, _ := os.ReadFile(tr.Path())
			if got := bytes.Contains(data, []byte("* 9 EXISTS")); got != tc.visibleNow {
				t.Errorf("lines visible before close = %v", got)
			}
			ct.Close()
			tr.Close()
			if got := c.n.Load(); got < tc.wantSyncs+1 {
				t.Errorf("no fsync at close: %d", got)
			}
			data, _ = os.ReadFile(tr.Path())
			if n := bytes.Count(data, []byte("\n")); n != lines+2 {
				t.Errorf("%d lines after close, want %d", n, lines+2)
			}
		})
	}
}

func TestTraceConcurrent(t *testing.T) {
	tr, _ := newTestTracer(t, TraceOptions{Synch: 5, Redactor: testRedactor, Now: time.Now})
	var wg sync.WaitGroup
	for cid := range uint64(8) {
		wg.Go(func() {
			ct := tr.Conn(cid, "r", nil)
			defer ct.Close()
			var inner sync.WaitGroup
			inner.Go(func() { // e.g. an IDLE notifier writing while the conn reads
				for i := range 50 {
					ct.Server(fmt.Appendf(nil, "* %d EXISTS", i))
				}
			})
			for i := range 50 {
				ct.Client(fmt.Appendf(nil, "a%d LOGIN u pw-%d", i, i))
				ct.ServerData([]byte("data\r\n"))
			}
			inner.Wait()
		})
	}
	wg.Wait()
	tr.Close()
	data, _ := os.ReadFile(tr.Path())
	if bytes.Contains(data, []byte("pw-")) {
		t.Error("password in trace")
	}
	line := regexp.MustCompile(`^\S+Z \d (C:|S:|--) .*$`)
	for _, l := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		if !line.MatchString(l) {
			t.Fatalf("bad line %q", l)
		}
	}
}

// TestTraceNil checks that a disabled trace (nil Tracer) costs nothing and
// never panics.
func TestTraceNil(t *testing.T) {
	var tr *Tracer
	ct := tr.Conn(1, "r", nil)
	ct.Client([]byte("x"))
	ct.ClientSecret("x")
	ct.ClientAuth([]byte("x"), "x")
	ct.Server([]byte("x"))
	ct.ClientData([]byte("x"))
	ct.ServerData([]byte("x"))
	if ct.Close() != nil || tr.Close() != nil || tr.Path() != "" {
		t.Error("nil tracer misbehaves")
	}
}
