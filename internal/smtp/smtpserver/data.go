package smtpserver

import (
	"bytes"
	"errors"
	"io"
	"os"
)

// Spool sizes: messages up to memSpoolLimit stay in memory; headLimit
// octets of the start are always kept in memory for header checks.
const (
	memSpoolLimit = 1 << 20
	headLimit     = 64 << 10
	copyBufSize   = 32 << 10
)

// Framing errors found by FramingReader. The reader keeps consuming after
// finding one, so the SMTP session stays in step with the client.
var (
	ErrBareLineEnd = errors.New("bare CR or LF in message data")
	ErrNUL         = errors.New("NUL byte in message data")
)

// FramingReader checks message data after the dot-stuffing is removed: every CR must be followed by LF, every LF preceded by CR,
// and there must be no NUL (we offer no BINARYMIME). It passes the data
// through unchanged; Err reports the first violation once the input is
// read. Checking after unstuffing also catches "<CR><LF>.<LF>", which
// arrives here as a bare LF (mox smtp/data.go makes the same check while
// unstuffing).
type FramingReader struct {
	r      io.Reader
	prevCR bool // the last byte passed through was CR
	lfOK   bool // a bare LF is a line end (AcceptBareLF), not a violation
	err    error
}

// NewFramingReader returns a FramingReader over r.
func NewFramingReader(r io.Reader) *FramingReader { return &FramingReader{r: r} }

// AcceptBareLF makes a bare LF acceptable; a bare CR and a NUL still are
// violations. Pass the data through a CRLFWriter to store CRLF.
func (f *FramingReader) AcceptBareLF() { f.lfOK = true }

// Read implements io.Reader.
func (f *FramingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	f.Check(p[:n])
	if err == io.EOF {
		f.End()
	}
	return n, err
}

// Check checks the next octets of the data without reading them (for
// BDAT chunks, which come in pieces of known size).
func (f *FramingReader) Check(p []byte) {
	for _, c := range p {
		switch {
		case f.prevCR && c != '\n', !f.prevCR && c == '\n' && !f.lfOK:
			f.fail(ErrBareLineEnd)
		case c == 0:
			f.fail(ErrNUL)
		}
		f.prevCR = c == '\r'
	}
}

// End checks the end of the data: a CR must not be the last octet.
func (f *FramingReader) End() {
	if f.prevCR {
		f.fail(ErrBareLineEnd)
	}
}

func (f *FramingReader) fail(err error) {
	if f.err == nil {
		f.err = err
	}
}

// Err returns the first framing violation seen, or nil.
func (f *FramingReader) Err() error { return f.err }

// CRLFWriter writes what it is given with every bare LF turned into CRLF,
// across Write boundaries.
type CRLFWriter struct {
	w      io.Writer
	prevCR bool
	buf    []byte
}

// NewCRLFWriter returns a CRLFWriter over w.
func NewCRLFWriter(w io.Writer) *CRLFWriter { return &CRLFWriter{w: w} }

// Write implements io.Writer; it reports len(p) when everything, with the
// added CRs, was written.
func (cw *CRLFWriter) Write(p []byte) (int, error) {
	cw.buf = cw.buf[:0]
	for _, c := range p {
		if c == '\n' && !cw.prevCR {
			cw.buf = append(cw.buf, '\r')
		}
		cw.buf = append(cw.buf, c)
		cw.prevCR = c == '\r'
	}
	if _, err := cw.w.Write(cw.buf); err != nil {
		return 0, err
	}
	return len(p), nil
}

// spool holds one message while it is received and delivered: in memory
// up to memSpoolLimit, then in an unlinked temporary file (so a crash
// leaves nothing behind). It is written once, then read any number of
// times through ReaderAt.
type spool struct {
	dir  string
	buf  bytes.Buffer // the whole message while in memory
	head []byte       // the first headLimit octets, always
	f    *os.File
	size int64
}

func newSpool(dir string) *spool { return &spool{dir: dir} }

func (sp *spool) Write(p []byte) (int, error) {
	if room := headLimit - len(sp.head); room > 0 {
		sp.head = append(sp.head, p[:min(room, len(p))]...)
	}
	if sp.f == nil && int64(sp.buf.Len()+len(p)) > memSpoolLimit {
		if err := sp.spill(); err != nil {
			return 0, err
		}
	}
	var n int
	var err error
	if sp.f != nil {
		n, err = sp.f.Write(p)
	} else {
		n, err = sp.buf.Write(p)
	}
	sp.size += int64(n)
	return n, err
}

func (sp *spool) spill() error {
	f, err := os.CreateTemp(sp.dir, "smtp-spool-*")
	if err != nil {
		return err
	}
	os.Remove(f.Name()) // unlinked: gone on close or crash
	if _, err := f.Write(sp.buf.Bytes()); err != nil {
		f.Close()
		return err
	}
	sp.f = f
	sp.buf = bytes.Buffer{}
	return nil
}

// Size returns the number of octets written.
func (sp *spool) Size() int64 { return sp.size }

// ReaderAt returns the message for random access.
func (sp *spool) ReaderAt() io.ReaderAt {
	if sp.f != nil {
		return sp.f
	}
	return bytes.NewReader(sp.buf.Bytes())
}

// Reader returns a fresh reader over the whole message.
func (sp *spool) Reader() io.Reader { return io.NewSectionReader(sp.ReaderAt(), 0, sp.size) }

// Head returns the first octets of the message (up to headLimit).
func (sp *spool) Head() []byte { return sp.head }

// Close releases the spool.
func (sp *spool) Close() error {
	if sp.f != nil {
		return sp.f.Close()
	}
	return nil
}
