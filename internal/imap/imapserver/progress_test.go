package imapserver

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/internal/imap/imapwire"
)

// progressConn is a connection with just what INPROGRESS uses: the
// server's clock and timing, and an encoder writing to w.
func progressConn(w io.Writer, clock func() time.Time, t progressTiming) *conn {
	s := &Server{opts: Options{Clock: clock, progress: &t}}
	return &conn{s: s, enc: imapwire.NewEncoder(bufio.NewWriter(w), imapwire.EncoderOptions{})}
}

// TestProgressTiming steps an injected clock through a command: no
// notification before progressFirst, then at most one per progressEvery,
// none once PROGRESS would equal GOAL, and a SORT-like second pass that
// counts on from the first under the same GOAL (RFC 9585 §4).
func TestProgressTiming(t *testing.T) {
	t0 := time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC)
	now := t0
	var out bytes.Buffer
	c := progressConn(&out, func() time.Time { return now }, defaultProgress)
	c.prog = &progress{tag: "A001", start: t0, passes: 2}
	steps := []struct {
		at      time.Duration
		done, n int
		next    bool // start the second pass first
	}{
		{0, 0, 1000, false},
		{999 * time.Millisecond, 256, 1000, false}, // before progressFirst: none
		{time.Second, 512, 1000, false},            // the first
		{5 * time.Second, 768, 1000, false},        // too soon after it: none
		{11 * time.Second, 900, 1000, false},       // 10 s after it
		{21 * time.Second, 0, 40, true},            // second pass: 1000+0 of 2000
		{25 * time.Second, 20, 40, false},          // too soon
		{40 * time.Second, 1000, 1000, false},      // the end of the pass: 2000 of 2000, none
	}
	for _, st := range steps {
		now = t0.Add(st.at)
		if st.next {
			c.nextProgressPass()
		}
		c.reportProgress(st.done, st.n)
	}
	c.enc.Flush()
	want := "* OK [INPROGRESS (\"A001\" 512 2000)] Still working\r\n" +
		"* OK [INPROGRESS (\"A001\" 900 2000)] Still working\r\n" +
		"* OK [INPROGRESS (\"A001\" 1000 2000)] Still working\r\n"
	if got := out.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	// A command without progress (c.prog nil) sends nothing.
	out.Reset()
	c.prog = nil
	c.reportProgress(1, 2)
	if err := c.duringStore(func() error { return nil }); err != nil || out.Len() != 0 {
		t.Errorf("no progress: wrote %q, %v", out.String(), err)
	}
}

// TestDuringStoreKeepalive runs a store call that lasts until the client
// has seen three notifications: the one due before the call, then the
// timer goroutine's, each "(tag NIL NIL)" since the call reports no
// counts. The goroutine has stopped when duringStore returns (the race
// detector checks the hand-over of the encoder). No wall-clock assert:
// the call waits for the notifications, however long they take.
func TestDuringStoreKeepalive(t *testing.T) {
	pr, pw := io.Pipe()
	c := progressConn(pw, time.Now, progressTiming{first: 0, every: time.Millisecond})
	c.prog = &progress{tag: "a7", start: time.Now(), passes: 1}
	lines := make(chan string, 1<<16) // the scanner never waits for the test
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var seen []string
	err := c.duringStore(func() error {
		for len(seen) < 3 {
			seen = append(seen, <-lines)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	pw.Close()
	for range lines { // whatever the goroutine sent before it stopped
	}
	for _, l := range seen {
		if l != `* OK [INPROGRESS ("a7" NIL NIL)] Still working` {
			t.Errorf("notification %q", l)
		}
	}
	if !strings.HasPrefix(seen[0], "* OK [INPROGRESS") {
		t.Errorf("first line %q", seen[0])
	}
}
