package mailimport

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"
)

// mboxSource reads an mbox file. Its body reader stops at the next From_
// line, so that no message is ever held in memory whole.
type mboxSource struct {
	path  string
	file  *os.File // nil in tests that read from memory
	size  int64
	mtime time.Time

	lr   lineReader
	body mboxBody
	hdr  []byte // the header block of the current message, read ahead

	gen     uint64   // counts messages; makes stale Content fail
	started bool     // the first line has been read
	from    fromLine // the From_ line of the message Next returns next
	hasFrom bool
	err     error // sticky; io.EOF at the end
}

// fromLine is a From_ line seen by the reader, kept until its message is
// returned.
type fromLine struct {
	off    int64
	line   int
	date   fromDate
	dateOK bool
}

func openMbox(path string) (Source, error) {
	f, fi, err := openRegular(path, FormatMbox)
	if err != nil {
		return nil, err
	}
	s := newMboxSource(f, path, fi.Size(), fi.ModTime())
	s.file = f
	return s, nil
}

func newMboxSource(r io.Reader, path string, size int64, mtime time.Time) *mboxSource {
	s := &mboxSource{path: path, size: size, mtime: mtime, lr: newLineReader(r)}
	s.body.s = s
	s.hdr = make([]byte, 0, 4096)
	return s
}

// Next implements Source.
func (s *mboxSource) Next() (*Item, error) {
	if s.err != nil {
		return nil, s.err
	}
	if err := s.advance(); err != nil {
		s.err = err
		return nil, err
	}
	s.gen++
	it := &Item{
		Key:  "mbox:" + strconv.FormatInt(s.from.off, 10),
		Line: s.from.line,
	}
	fd, fromOK := s.from.date, s.from.dateOK
	s.hasFrom = false
	s.body.reset()

	var err error
	s.hdr, err = readHeaderAhead(s.hdr, &s.body, maxHeaderScan)
	if err != nil {
		s.err = fmt.Errorf("read %s: %w", s.path, err)
		return nil, s.err
	}
	var hdrDate time.Time
	it.Flags, hdrDate = mboxHeaderInfo(s.hdr, !fromOK || !fd.hasYear)
	switch {
	case fromOK && fd.hasYear:
		it.InternalDate = fd.t
	case !hdrDate.IsZero():
		it.InternalDate = hdrDate
	default:
		it.InternalDate = s.mtime
	}
	it.Content = &content{gen: &s.gen, mine: s.gen, head: s.hdr, rest: &s.body}
	return it, nil
}

// advance skips the rest of the current message and makes sure s.from
// holds the From_ line of the next one.
func (s *mboxSource) advance() error {
	if !s.started {
		s.started = true
		return s.readFirstLine()
	}
	if err := s.body.skip(); err != nil {
		return fmt.Errorf("read %s: %w", s.path, err)
	}
	if !s.hasFrom {
		return io.EOF
	}
	return nil
}

// readFirstLine checks that the file starts with a From_ line. The first
// line needs no parseable date: it is the one place where "From " alone
// is enough (RFC 4155).
func (s *mboxSource) readFirstLine() error {
	seg, _, err := s.lr.next()
	if err == io.EOF {
		return io.EOF // an empty file holds no messages
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", s.path, err)
	}
	bad := func(msg string) error { return &SyntaxError{Path: s.path, Line: 1, Msg: msg} }
	if !bytes.HasPrefix(seg, []byte("From ")) {
		return bad(`not an mbox file: the first line does not start with "From "`)
	}
	line := trimEOL(seg)
	if bytes.IndexByte(line, '\r') >= 0 {
		return bad("the first line contains a bare CR: CR-only (old Mac) line endings are not supported; convert them to LF first")
	}
	if !s.lr.complete(seg) || len(line) > maxFromLine {
		return bad(fmt.Sprintf("the From_ line is longer than %d bytes", maxFromLine))
	}
	fd, ok := parseFromLine(seg)
	s.setFrom(s.lr.segOff, s.lr.segLine, fd, ok)
	return nil
}

func (s *mboxSource) setFrom(off int64, line int, date fromDate, dateOK bool) {
	s.from = fromLine{off: off, line: line, date: date, dateOK: dateOK}
	s.hasFrom = true
}

// Progress implements Source, in bytes.
func (s *mboxSource) Progress() (done, total int64) { return s.lr.off, s.size }

// Close implements Source.
func (s *mboxSource) Close() error {
	s.gen++ // invalidate the last Content
	if s.err == nil {
		s.err = errClosed
	}
	if s.file == nil {
		return nil
	}
	return s.file.Close()
}

// Line terminators of a held-back blank line.
var (
	blankLF   = []byte("\n")
	blankCRLF = []byte("\r\n")
)

// mboxBody reads the current message from after its header block to the
// next From_ line or the end of the file, removing one '>' from lines
// matching ^>+From (mboxrd). A blank line is held back until the next line
// shows whether it is the separator before a From_ line (dropped) or part
// of the message.
type mboxBody struct {
	s     *mboxSource
	cur   []byte // being returned
	after []byte // returned after cur
	held  []byte // a blank line held back, or nil
	done  bool
	err   error
}

func (b *mboxBody) reset() { *b = mboxBody{s: b.s} }

// Read implements io.Reader. It fills p with as many lines as fit: one
// line per call would cost a call chain per line of mail.
func (b *mboxBody) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(b.cur) == 0 {
			if len(b.after) > 0 {
				b.cur, b.after = b.after, nil
				continue
			}
			if b.done {
				break
			}
			b.fill() // only now: it overwrites the buffer that cur pointed into
			continue
		}
		c := copy(p[n:], b.cur)
		b.cur = b.cur[c:]
		n += c
	}
	if n == 0 && b.done {
		if b.err != nil {
			return 0, b.err
		}
		return 0, io.EOF
	}
	return n, nil
}

// skip discards the rest of the message.
func (b *mboxBody) skip() error {
	for !b.done {
		b.cur, b.after = nil, nil
		b.fill()
	}
	return b.err
}

// fill reads one line (or piece of a long line) and decides what it is.
func (b *mboxBody) fill() {
	lr := &b.s.lr
	seg, bol, err := lr.next()
	if err != nil {
		// A blank line held at the end of the file is the last separator.
		b.done = true
		if err != io.EOF {
			b.err = err
		}
		return
	}
	if !bol {
		b.cur = seg
		return
	}
	if fd, ok := fromSeparator(seg, lr.complete(seg)); ok {
		b.s.setFrom(lr.segOff, lr.segLine, fd, true)
		b.done = true
		return
	}
	if isBlankLine(seg) {
		prev := b.held
		b.held = blankLF
		if len(seg) == 2 {
			b.held = blankCRLF
		}
		b.cur = prev
		return
	}
	seg = unescapeFrom(seg)
	if b.held != nil {
		b.cur, b.after, b.held = b.held, seg, nil
		return
	}
	b.cur = seg
}

// fromSeparator reports whether a line begins a new message, and its date.
func fromSeparator(line []byte, complete bool) (fromDate, bool) {
	if !complete || !bytes.HasPrefix(line, []byte("From ")) {
		return fromDate{}, false
	}
	return parseFromLine(line)
}

// unescapeFrom removes one '>' from a line matching ^>+From (mboxrd).
func unescapeFrom(line []byte) []byte {
	i := 0
	for i < len(line) && line[i] == '>' {
		i++
	}
	if i > 0 && bytes.HasPrefix(line[i:], []byte("From ")) {
		return line[1:]
	}
	return line
}
