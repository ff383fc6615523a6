package mailimport

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/postern/postern/internal/store"
)

// Format names a kind of mail source. The values are the spellings of the
// --format option of `postern import`.
type Format string

// The formats Open can read.
const (
	FormatMbox    Format = "mbox"
	FormatMaildir Format = "maildir"
	FormatVMS     Format = "vms"
)

// ErrUnknownFormat is returned, wrapped, by Detect when the format of a path
// cannot be told, and by ParseFormat and Open for an unknown format name.
var ErrUnknownFormat = errors.New("unknown mail format")

// errStale is returned when the Content of an Item is read after the next
// call to Next.
var errStale = errors.New("mailimport: Content read after the next call to Next")

// errClosed is returned by Next after Close.
var errClosed = errors.New("mailimport: source closed")

// A SyntaxError reports input that cannot be read as the format asked for,
// with the line where the problem is.
type SyntaxError struct {
	Path string
	Line int
	Msg  string
}

// Error returns "path:line: message".
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%s:%d: %s", e.Path, e.Line, e.Msg)
}

// Source yields the messages of one mbox file, Maildir or VMS extract, in
// file order.
type Source interface {
	// Next returns the next message; io.EOF at the end. The Item's Content
	// is valid until the next call to Next, which skips whatever of it was
	// not read. After an error other than io.EOF, Next returns that error
	// again.
	Next() (*Item, error)
	// Progress reports how far the reader is, in bytes (or messages for
	// maildir) of a known total, for a progress bar.
	Progress() (done, total int64)
	// Close releases the files. It does not fail on a source read to the end.
	Close() error
}

// Item is one message of a Source.
type Item struct {
	// Key is the stable identity of this message within the source, used to
	// resume an interrupted import without duplicates: "mbox:<byte offset
	// of its From_ line>", "maildir:<unique part of the file name before
	// ':2,'>" or "vms:<byte offset of its From: line>".
	Key string
	// Content is the message as it should be stored, line endings not yet
	// normalised. It is valid until the next call to Next.
	Content io.Reader
	// InternalDate is the arrival date (see the package doc per format).
	InternalDate time.Time
	// Flags are IMAP system flags (store.Flag*), without duplicates.
	Flags []string
	// VMS is the OpenVMS Mail envelope; set only for the vms format.
	VMS *store.VMSEnvelope
	// Foreign marks an OpenVMS MAIL foreign message (vms format only): a
	// body without a header of its own whose first octets (those read
	// ahead, at least its first line) hold a control character text never
	// has (see binaryText). The store also marks any content with a NUL.
	Foreign bool
	// Line is the line where the message starts (mbox and vms; 0 for
	// maildir), for error messages.
	Line int
}

// ParseFormat checks the name of a format given on the command line.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case FormatMbox, FormatMaildir, FormatVMS:
		return f, nil
	}
	return "", fmt.Errorf("%w %q: use mbox, maildir or vms", ErrUnknownFormat, s)
}

// detectPrefix is how much of a file Detect reads.
const detectPrefix = 8 << 10

// Detect tells the format of path: a directory with cur/ and new/ is a
// Maildir, a file starting "From " is an mbox, and a file whose first
// non-blank line (after an optional form feed) is a VMS From: line followed
// by a To:, CC: or Subj: line is a VMS MAIL extract. Anything else is an
// error wrapping ErrUnknownFormat that suggests --format.
func Detect(path string) (Format, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if fi.IsDir() {
		if isMaildir(path) {
			return FormatMaildir, nil
		}
		return "", fmt.Errorf("%s: %w: a directory without cur/ and new/ is not a Maildir; use --format", path, ErrUnknownFormat)
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	buf := make([]byte, detectPrefix)
	n, err := io.ReadFull(f, buf)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	buf = buf[:n]
	switch {
	case bytes.HasPrefix(buf, []byte("From ")):
		return FormatMbox, nil
	case looksLikeVMS(buf):
		return FormatVMS, nil
	}
	return "", fmt.Errorf("%s: %w: not an mbox (no \"From \" line at the start), a Maildir or an OpenVMS MAIL extract (no VMS \"From:\" line); use --format mbox|maildir|vms", path, ErrUnknownFormat)
}

// isMaildir reports whether dir has the cur/ and new/ subdirectories.
func isMaildir(dir string) bool {
	for _, sub := range []string{"cur", "new"} {
		fi, err := os.Stat(filepath.Join(dir, sub))
		if err != nil || !fi.IsDir() {
			return false
		}
	}
	return true
}

// Open opens path for reading in format f.
func Open(path string, f Format) (Source, error) {
	switch f {
	case FormatMbox:
		return openMbox(path)
	case FormatMaildir:
		return openMaildir(path)
	case FormatVMS:
		return openVMS(path)
	}
	return nil, fmt.Errorf("open %s: %w %q", path, ErrUnknownFormat, string(f))
}

// openRegular opens a file that must not be a directory, for the formats
// that are one file.
func openRegular(path string, f Format) (*os.File, os.FileInfo, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	fi, err := file.Stat()
	if err != nil {
		file.Close()
		return nil, nil, err
	}
	if fi.IsDir() {
		file.Close()
		return nil, nil, fmt.Errorf("open %s: is a directory, not an %s file", path, f)
	}
	return file, fi, nil
}

// content is the Content of one Item: an optional fixed prefix (the empty
// header block of a VMS message), the head of the message read ahead, and
// the rest of it. It refuses to read once its source has moved on to
// another message.
type content struct {
	gen  *uint64 // the source's message counter
	mine uint64  // its value for this message
	pre  []byte
	head []byte
	rest io.Reader
}

func (c *content) Read(p []byte) (int, error) {
	if *c.gen != c.mine {
		return 0, errStale
	}
	if len(c.pre) > 0 {
		n := copy(p, c.pre)
		c.pre = c.pre[n:]
		return n, nil
	}
	if len(c.head) > 0 {
		n := copy(p, c.head)
		c.head = c.head[n:]
		return n, nil
	}
	return c.rest.Read(p)
}
