package mailimport

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/postern/postern/internal/store"
)

// Limits of the VMS reader.
const (
	// separatorPeek is how far past a lone form feed the reader looks for
	// the next From: line.
	separatorPeek = 4096
	// maxVMSHeaderLine bounds one VMS header line. A longer line is an
	// error, not a header.
	maxVMSHeaderLine = readBufferSize
)

// emptyHeader is the empty header block put in front of a body that has no
// header of its own.
var emptyHeader = []byte("\r\n")

// vmsSource reads an OpenVMS MAIL extract file.
type vmsSource struct {
	path string
	file *os.File
	size int64

	lr   lineReader
	body vmsBody
	hdr  []byte // the head of the body, read ahead to look for a header block

	gen uint64
	// A From: line that the body reader found right after a form feed on
	// the same line, for the next call to Next.
	pending     []byte
	pendingOff  int64
	pendingLine int
	hasPending  bool
	err         error // sticky; io.EOF at the end
}

func openVMS(path string) (Source, error) {
	f, fi, err := openRegular(path, FormatVMS)
	if err != nil {
		return nil, err
	}
	s := newVMSSource(f, path, fi.Size())
	s.file = f
	return s, nil
}

func newVMSSource(r io.Reader, path string, size int64) *vmsSource {
	s := &vmsSource{path: path, size: size, lr: newLineReader(r)}
	s.body.s = s
	s.hdr = make([]byte, 0, 4096)
	return s
}

// Next implements Source.
func (s *vmsSource) Next() (*Item, error) {
	if s.err != nil {
		return nil, s.err
	}
	it, err := s.next()
	if err != nil {
		s.err = err
		return nil, err
	}
	return it, nil
}

func (s *vmsSource) next() (*Item, error) {
	if err := s.body.skip(); err != nil {
		return nil, s.readErr(err)
	}
	from, off, line, err := s.readFromLine()
	if err != nil {
		return nil, err
	}
	s.gen++
	env := &store.VMSEnvelope{From: from.addr, PersonalName: from.name, Date: from.date}
	if err := s.readFields(env); err != nil {
		return nil, err
	}
	s.body.reset()

	s.hdr, err = readHeaderAhead(s.hdr, &s.body, maxHeaderScan)
	if err != nil {
		return nil, s.readErr(err)
	}
	env.OwnHeader = isHeaderBlock(s.hdr)
	c := &content{gen: &s.gen, mine: s.gen, head: s.hdr, rest: &s.body}
	if !env.OwnHeader {
		c.pre = emptyHeader
	}
	return &Item{
		Key:          "vms:" + strconv.FormatInt(off, 10),
		Content:      c,
		InternalDate: from.date,
		VMS:          env,
		Foreign:      !env.OwnHeader && binaryText(s.hdr),
		Line:         line,
	}, nil
}

// binaryText reports whether b holds an octet that text never does: a C0
// control other than BS, TAB, LF, VT, FF, CR and ESC (which old VMS text
// uses for overstrikes, pages and terminal sequences). Such a body is a
// foreign message, a file sent with MAIL's SEND/FOREIGN (hp-system §1.6).
func binaryText(b []byte) bool {
	for _, c := range b {
		if c < 0x20 && c != '\b' && c != '\t' && c != '\n' && c != '\v' && c != '\f' && c != '\r' && c != 0x1b {
			return true
		}
	}
	return false
}

func (s *vmsSource) readErr(err error) error {
	return fmt.Errorf("read %s: %w", s.path, err)
}

// readFromLine returns the From: line that starts the next message,
// skipping blank lines and form feeds before it.
func (s *vmsSource) readFromLine() (vmsFrom, int64, int, error) {
	if s.hasPending {
		s.hasPending = false
		f, _ := parseVMSFrom(s.pending) // checked by the body reader
		return f, s.pendingOff, s.pendingLine, nil
	}
	for {
		seg, _, err := s.lr.next()
		if err != nil {
			if err != io.EOF {
				err = s.readErr(err)
			}
			return vmsFrom{}, 0, 0, err
		}
		off, line := s.lr.segOff, s.lr.segLine
		ff := len(seg) - len(bytes.TrimLeft(seg, "\f"))
		if len(bytes.TrimSpace(seg[ff:])) == 0 && s.lr.complete(seg) {
			continue
		}
		f, ok := parseVMSFrom(seg[ff:])
		if !ok || !s.lr.complete(seg) {
			// Only the first message can get here: later ones start where
			// the body reader saw a From: line.
			return vmsFrom{}, 0, 0, &SyntaxError{Path: s.path, Line: line,
				Msg: fmt.Sprintf("expected an OpenVMS MAIL \"From:\" line with an arrival date, found %q", clip(seg, 60))}
		}
		return f, off + int64(ff), line, nil
	}
}

// readFields reads the To:, CC: and Subj: lines and their continuations,
// and the blank line after them. It stops without consuming at the first
// line that is none of these: the body then starts there.
func (s *vmsSource) readFields(env *store.VMSEnvelope) error {
	var last *string // the field a continuation line extends
	for {
		peek, _ := s.lr.br.Peek(16)
		if len(peek) == 0 {
			return nil
		}
		switch {
		case peek[0] == '\n' || bytes.HasPrefix(peek, []byte("\r\n")):
			_, _, err := s.lr.next()
			return err
		case peek[0] == ' ' || peek[0] == '\t':
			if last == nil {
				return nil // right after From: there is nothing to continue: body
			}
			line, err := s.readHeaderLine()
			if err != nil {
				return err
			}
			text := strings.Trim(string(trimEOL(line)), " \t\r")
			if text == "" {
				return nil // a line of white space ends the header like a blank one
			}
			*last = strings.TrimSpace(*last + " " + text)
		default:
			name, _, ok := cutVMSField(peek)
			kind := vmsFieldKind(name)
			if !ok || kind == "" || kind == "from" {
				return nil
			}
			line, err := s.readHeaderLine()
			if err != nil {
				return err
			}
			_, value, _ := cutVMSField(line)
			last = vmsField(env, kind)
			*last = value
		}
	}
}

// readHeaderLine reads a whole VMS header line.
func (s *vmsSource) readHeaderLine() ([]byte, error) {
	seg, _, err := s.lr.next()
	if err != nil {
		if err == io.EOF {
			return nil, nil
		}
		return nil, s.readErr(err)
	}
	if !s.lr.complete(seg) {
		return nil, &SyntaxError{Path: s.path, Line: s.lr.segLine,
			Msg: fmt.Sprintf("VMS header line longer than %d bytes", maxVMSHeaderLine)}
	}
	return seg, nil
}

// vmsField returns the envelope field a VMS header line of kind sets.
func vmsField(env *store.VMSEnvelope, kind string) *string {
	switch kind {
	case "to":
		return &env.To
	case "cc":
		return &env.CC
	}
	return &env.Subject
}

// clip shortens b for an error message.
func clip(b []byte, n int) string {
	b = trimEOL(b)
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}

// Progress implements Source, in bytes.
func (s *vmsSource) Progress() (done, total int64) { return s.lr.off, s.size }

// Close implements Source.
func (s *vmsSource) Close() error {
	s.gen++
	if s.err == nil {
		s.err = errClosed
	}
	if s.file == nil {
		return nil
	}
	return s.file.Close()
}

// vmsBody reads the body of the current message up to the form feed that
// separates it from the next one, or the end of the file.
type vmsBody struct {
	s       *vmsSource
	cur     []byte
	scratch []byte // a copy of a form-feed line, which a peek would overwrite
	done    bool
	err     error
}

func (b *vmsBody) reset() { *b = vmsBody{s: b.s, scratch: b.scratch[:0]} }

// Read implements io.Reader, filling p with as many lines as fit.
func (b *vmsBody) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(b.cur) == 0 {
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

// skip discards the rest of the body. Before the first message (gen 0)
// there is no body and the reader is at the start of the file.
func (b *vmsBody) skip() error {
	if b.s.gen == 0 {
		return nil
	}
	for !b.done {
		b.cur = nil
		b.fill()
	}
	return b.err
}

func (b *vmsBody) fill() {
	lr := &b.s.lr
	seg, bol, err := lr.next()
	if err != nil {
		b.done = true
		if err != io.EOF {
			b.err = err
		}
		return
	}
	if bol && seg[0] == '\f' && b.isSeparator(seg) {
		b.done = true
		return
	}
	if bol && seg[0] == '\f' && len(b.scratch) > 0 {
		seg = b.scratch // isSeparator peeked, which may have moved seg
	}
	b.cur = seg
}

// isSeparator reports whether a line starting with a form feed ends the
// message: the rest of the line, or the next non-blank line, is a VMS
// From: line, or only blank lines follow to the end of the file. It may
// leave a copy of line in b.scratch.
func (b *vmsBody) isSeparator(line []byte) bool {
	lr := &b.s.lr
	b.scratch = b.scratch[:0]
	if !lr.complete(line) {
		return false
	}
	rest := bytes.TrimLeft(line, "\f")
	if len(bytes.TrimSpace(rest)) > 0 {
		if _, ok := parseVMSFrom(rest); !ok {
			return false
		}
		s := b.s
		s.pending = append(s.pending[:0], rest...)
		s.pendingOff = lr.segOff + int64(len(line)-len(rest))
		s.pendingLine = lr.segLine
		s.hasPending = true
		return true
	}
	b.scratch = append(b.scratch[:0], line...)
	ahead, err := lr.br.Peek(separatorPeek)
	for len(ahead) > 0 {
		i := bytes.IndexByte(ahead, '\n')
		if i < 0 && err == nil {
			return false // a line too long to judge: not a From: line
		}
		next := ahead
		if i >= 0 {
			next, ahead = ahead[:i+1], ahead[i+1:]
		} else {
			ahead = nil
		}
		next = bytes.TrimLeft(next, "\f")
		if len(bytes.TrimSpace(next)) == 0 {
			continue
		}
		_, ok := parseVMSFrom(next)
		return ok
	}
	// Only blank lines to the end of the file: a trailing form feed. Blank
	// lines beyond the peek are undecided, and kept as body.
	return err != nil
}
