package prototest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Options tell Run how to build the fixture of one transcript and start
// its server. S is the caller's fixture type (a store, an options struct …).
type Options[S any] struct {
	// New makes a fresh fixture for one transcript. Required.
	New func(t *testing.T, c *Case) S
	// Setup applies one directive of the "setup" section, split into
	// fields. Nil means transcripts may not have directives.
	Setup func(t *testing.T, s S, c *Case, args []string) error
	// Start starts the server for the transcript after every directive ran
	// and returns the TCP address to dial. The caller stops the server in a
	// t.Cleanup. Required.
	Start func(t *testing.T, s S, c *Case) string
	// Update rewrites failing S lines with what the server sent.
	Update bool
	// Timeout bounds each wait for a server line; zero means 10 s.
	Timeout time.Duration
	// Serial runs the transcripts one after another instead of in parallel.
	Serial bool
}

// Case is one transcript being run.
type Case struct {
	// Name is the file name without ".txtar"; Path the file's path.
	Name, Path string
	// Comment is the archive's leading comment: what the transcript proves.
	Comment string

	files map[string][]byte
}

// File returns an archive file by name, with CRLF line endings (a ".bin"
// file as written, escapes decoded; see fileData).
func (c *Case) File(name string) ([]byte, bool) {
	b, ok := c.files[name]
	return b, ok
}

// maxExchangeShown is how many lines of the exchange a failure prints.
const maxExchangeShown = 10

// maxSkip bounds how many lines an Sn.. may skip.
const maxSkip = 100000

// Run runs every file matching pattern (a filepath.Glob, such as
// "testdata/transcripts/*.txtar") as a subtest.
func Run[S any](t *testing.T, pattern string, opts Options[S]) {
	t.Helper()
	paths, err := filepath.Glob(pattern)
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatalf("no transcripts match %s", pattern)
	}
	for _, path := range paths {
		name := strings.TrimSuffix(filepath.Base(path), ".txtar")
		t.Run(name, func(t *testing.T) {
			if !opts.Serial {
				t.Parallel()
			}
			runFile(t, path, name, opts)
		})
	}
}

func runFile[S any](t *testing.T, path, name string, opts Options[S]) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	a := parseArchive(data)
	c := &Case{Name: name, Path: path, Comment: strings.TrimSpace(string(a.comment)), files: map[string][]byte{}}
	for _, f := range a.files {
		c.files[f.name] = fileData(f.name, f.data)
	}
	tr, idx, ok := a.file("transcript")
	if !ok {
		t.Fatalf("%s: no -- transcript -- section", path)
	}
	steps, err := parseTranscript(string(tr), sectionLine(a, idx))
	if err != nil {
		t.Fatalf("%s:%v", path, err)
	}
	fix := opts.New(t, c)
	if setup, sidx, ok := a.file("setup"); ok {
		for i, l := range strings.Split(string(setup), "\n") {
			fields := strings.Fields(l)
			if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
				continue
			}
			if opts.Setup == nil {
				t.Fatalf("%s:%d: setup directives are not supported here", path, sectionLine(a, sidx)+i)
			}
			if err := opts.Setup(t, fix, c, fields); err != nil {
				t.Fatalf("%s:%d: %s: %v", path, sectionLine(a, sidx)+i, l, err)
			}
		}
	}
	addr := opts.Start(t, fix, c)
	r := &run{t: t, c: c, addr: addr, timeout: opts.Timeout, update: opts.Update, conns: map[int]*clientConn{}, fixes: map[int]string{}}
	if r.timeout == 0 {
		r.timeout = 10 * time.Second
	}
	defer r.closeAll()
	r.exec(steps)
	if opts.Update && len(r.fixes) > 0 && !t.Failed() {
		lines := strings.Split(string(tr), "\n")
		for i, l := range r.fixes {
			lines[i] = l
		}
		a.files[idx].data = []byte(strings.Join(lines, "\n"))
		if err := os.WriteFile(path, a.format(), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: rewrote %d line(s)", path, len(r.fixes))
	}
}

// sectionLine returns the archive line number of the first line of file i.
func sectionLine(a *archive, i int) int {
	n := bytes.Count(a.comment, []byte("\n")) + 1
	for j := 0; j < i; j++ {
		n += 1 + bytes.Count(a.files[j].data, []byte("\n"))
	}
	return n + 1
}

// run is the state of one transcript's execution.
type run struct {
	t       *testing.T
	c       *Case
	addr    string
	timeout time.Duration
	update  bool
	conns   map[int]*clientConn
	log     []string       // the exchange, for failure messages
	fixes   map[int]string // transcript line index → rewritten line
}

type clientConn struct {
	nc   net.Conn
	br   *bufio.Reader
	skip bool // an Sn.. is pending
}

func (r *run) conn(n int) (*clientConn, error) {
	if cc := r.conns[n]; cc != nil {
		return cc, nil
	}
	nc, err := net.DialTimeout("tcp", r.addr, r.timeout)
	if err != nil {
		return nil, err
	}
	cc := &clientConn{nc: nc, br: bufio.NewReader(nc)}
	r.conns[n] = cc
	return cc, nil
}

func (r *run) closeAll() {
	for _, cc := range r.conns {
		cc.nc.Close()
	}
}

// exec runs the steps, stopping at the first failure.
func (r *run) exec(steps []*step) {
	for _, st := range steps {
		if err := r.do(st); err != nil {
			r.fail(st, err)
			return
		}
	}
}

func (r *run) fail(st *step, err error) {
	r.t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d: %v\n", r.c.Path, st.line, err)
	shown := r.log
	if len(shown) > maxExchangeShown {
		shown = shown[len(shown)-maxExchangeShown:]
	}
	b.WriteString("last lines of the exchange:\n")
	for _, l := range shown {
		b.WriteString("  " + l + "\n")
	}
	r.t.Error(b.String())
}

func (r *run) do(st *step) error {
	cc, err := r.conn(st.conn)
	if err != nil {
		return fmt.Errorf("dial connection %d: %v", st.conn, err)
	}
	switch st.kind {
	case stepSend:
		return r.send(st, cc)
	case stepSendData:
		data, ok := r.c.files[st.text]
		if !ok {
			return fmt.Errorf("no file %q in the archive", st.text)
		}
		r.logf("C%d< %s (%d octets)", st.conn, st.text, len(data))
		return r.write(cc, dotStuff(data))
	case stepClose:
		// A half-close: the server sees the client vanish (EOF) while the
		// runner can still wait for the server's close with Sn!.
		r.logf("C%d!", st.conn)
		if tc, ok := cc.nc.(*net.TCPConn); ok {
			return tc.CloseWrite()
		}
		return cc.nc.Close()
	case stepSkip:
		cc.skip = true
		return nil
	case stepEOF:
		return r.expectEOF(st, cc)
	case stepUnordered:
		return r.expectUnordered(st, cc)
	}
	return r.expect(st, cc)
}

func (r *run) send(st *step, cc *clientConn) error {
	text := st.text
	for {
		ref, ok := r.literalRef(text)
		if !ok {
			break
		}
		head := text[:ref.start] + ref.header()
		r.logf("C%d: %s", st.conn, head)
		if err := r.write(cc, []byte(head+"\r\n")); err != nil {
			return err
		}
		if !ref.nonSync {
			line, err := r.readLine(cc)
			if err != nil {
				return fmt.Errorf("waiting for the continuation of literal {%s}: %v", ref.name, err)
			}
			r.logf("S%d: %s", st.conn, line)
			if !strings.HasPrefix(line, "+") {
				return fmt.Errorf("expected a \"+\" continuation for literal {%s}, got %q", ref.name, line)
			}
		}
		if err := r.write(cc, ref.data); err != nil {
			return err
		}
		r.logf("C%d: [%d octets of %s]", st.conn, len(ref.data), ref.name)
		text = text[ref.end:]
	}
	r.logf("C%d: %s", st.conn, text)
	return r.write(cc, []byte(text+"\r\n"))
}

func (r *run) write(cc *clientConn, b []byte) error {
	cc.nc.SetWriteDeadline(time.Now().Add(r.timeout))
	_, err := cc.nc.Write(b)
	return err
}

func (r *run) readLine(cc *clientConn) (string, error) {
	cc.nc.SetReadDeadline(time.Now().Add(r.timeout))
	line, err := cc.br.ReadString('\n')
	if err != nil {
		if line != "" && errors.Is(err, io.EOF) {
			return "", fmt.Errorf("connection closed after a partial line %q", line)
		}
		return "", err
	}
	return strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r"), nil
}

func (r *run) expect(st *step, cc *clientConn) error {
	if _, ok := r.literalRef(st.text); ok && !st.regexp {
		return r.expectLiterals(st, cc)
	}
	for skipped := 0; ; skipped++ {
		line, err := r.readLine(cc)
		if err != nil {
			return fmt.Errorf("expected %q, got error: %v", st.text, err)
		}
		r.logf("S%d: %s", st.conn, line)
		if st.re.MatchString(line) {
			cc.skip = false
			return nil
		}
		if cc.skip && skipped < maxSkip {
			continue
		}
		if r.update && !st.regexp {
			r.fixes[st.index] = "S" + strconv.Itoa(st.conn) + ": " + escapeGlob(line)
			return nil
		}
		return fmt.Errorf("expected: %s\n  actual:   %s", st.text, line)
	}
}

func (r *run) expectUnordered(st *step, cc *clientConn) error {
	left := append([]*step(nil), st.group...)
	for len(left) > 0 {
		line, err := r.readLine(cc)
		if err != nil {
			return fmt.Errorf("expected %d more unordered line(s), got error: %v", len(left), err)
		}
		r.logf("S%d: %s", st.conn, line)
		found := -1
		for i, e := range left {
			if e.re.MatchString(line) {
				found = i
				break
			}
		}
		if found < 0 {
			if cc.skip {
				continue
			}
			return fmt.Errorf("line %q matches none of the %d unordered line(s) still expected", line, len(left))
		}
		left = append(left[:found], left[found+1:]...)
	}
	cc.skip = false
	return nil
}

func (r *run) expectEOF(st *step, cc *clientConn) error {
	for skipped := 0; ; skipped++ {
		line, err := r.readLine(cc)
		if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || isReset(err) {
			r.logf("S%d! (closed)", st.conn)
			return nil
		}
		if err != nil {
			return fmt.Errorf("expected the server to close the connection, got error: %v", err)
		}
		r.logf("S%d: %s", st.conn, line)
		if !cc.skip || skipped >= maxSkip {
			return fmt.Errorf("expected the server to close the connection, got %q", line)
		}
	}
}

func isReset(err error) bool {
	return err != nil && strings.Contains(err.Error(), "connection reset")
}

func (r *run) logf(format string, args ...any) {
	r.log = append(r.log, fmt.Sprintf(format, args...))
	if len(r.log) > 4*maxExchangeShown {
		r.log = r.log[len(r.log)-maxExchangeShown:]
	}
}

// escapeGlob writes an actual line as an S pattern that matches only it.
func escapeGlob(line string) string {
	if strings.HasPrefix(line, "* ") {
		return "* " + strings.ReplaceAll(line[2:], "*", `\*`)
	}
	return strings.ReplaceAll(line, "*", `\*`)
}

// dotStuff frames data as SMTP DATA (RFC 5321 §4.5.2): a leading "." of a
// line is doubled, a missing final CRLF is added, and ".\r\n" ends it.
func dotStuff(data []byte) []byte {
	var b bytes.Buffer
	bol := true
	for _, c := range data {
		if bol && c == '.' {
			b.WriteByte('.')
		}
		b.WriteByte(c)
		bol = c == '\n'
	}
	if !bol {
		b.WriteString("\r\n")
	}
	b.WriteString(".\r\n")
	return b.Bytes()
}
