package mailexport

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/postern/postern/internal/store"
)

// Mbox writes an export as one mboxrd file per mailbox.
type Mbox struct {
	root string
}

// NewMbox makes root the directory of an mbox export.
func NewMbox(root string) (*Mbox, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, err
	}
	return &Mbox{root: root}, nil
}

// MboxFile is one mailbox's file being written.
type MboxFile struct {
	path string
	f    *os.File
	w    *bufio.Writer
	n    int
}

// Begin starts a mailbox's file, under a temporary name until Close.
func (x *Mbox) Begin(mb Mailbox) (*MboxFile, error) {
	levels := strings.Split(mb.Name, "/")
	for i, l := range levels {
		if l == "" || l == "." || l == ".." {
			levels[i] = strings.Repeat("_", max(len(l), 1)) // never outside root
		}
	}
	path := filepath.Join(x.root, filepath.Join(levels...)+".mbox")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path+".tmp", os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	return &MboxFile{path: path, f: f, w: bufio.NewWriterSize(f, 64<<10)}, nil
}

// statusFields are the header fields mutt and Dovecot write for flags.
func statusFields(flags store.Flags) string {
	var b strings.Builder
	status := "O"
	if flags.Has(store.FlagSeen) {
		status = "RO"
	}
	b.WriteString("Status: " + status + "\n")
	var x string
	for _, f := range []struct{ flag, letter string }{
		{store.FlagAnswered, "A"}, {store.FlagFlagged, "F"}, {store.FlagDeleted, "D"}, {store.FlagDraft, "T"},
	} {
		if flags.Has(f.flag) {
			x += f.letter
		}
	}
	if x != "" {
		b.WriteString("X-Status: " + x + "\n")
	}
	var kw []string
	for _, f := range flags {
		if !strings.HasPrefix(f, `\`) {
			kw = append(kw, f)
		}
	}
	if len(kw) > 0 {
		b.WriteString("X-Keywords: " + strings.Join(kw, " ") + "\n")
	}
	return b.String()
}

// Write appends one message: the From_ line, the flag fields, and the
// content with LF line endings and mboxrd quoting.
func (m *MboxFile) Write(msg Message, content io.Reader) error {
	if _, err := m.w.WriteString("From MAILER-DAEMON " + msg.Date.UTC().Format("Mon Jan _2 15:04:05 2006") + "\n" + statusFields(msg.Flags)); err != nil {
		return err
	}
	br := bufio.NewReaderSize(content, 64<<10)
	atStart := true
	var last byte = '\n'
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			if atStart && isFromLine(line) {
				m.w.WriteByte('>')
			}
			full := line[len(line)-1] == '\n'
			if full {
				line = bytes.TrimSuffix(line[:len(line)-1], []byte("\r"))
			}
			m.w.Write(line)
			if full {
				m.w.WriteByte('\n')
				last = '\n'
			} else {
				last = line[len(line)-1]
			}
			atStart = full
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	if last != '\n' {
		m.w.WriteByte('\n')
	}
	m.n++
	// The blank line that separates messages (RFC 4155 §2).
	return m.w.WriteByte('\n')
}

// isFromLine reports whether a line matches ^>*From , which mboxrd
// quotes with one more '>'.
func isFromLine(line []byte) bool {
	return bytes.HasPrefix(bytes.TrimLeft(line, ">"), []byte("From "))
}

// Close syncs the file and gives it its name; it returns how many
// messages it holds.
func (m *MboxFile) Close() (int, error) {
	err := m.w.Flush()
	if err == nil {
		err = m.f.Sync()
	}
	if cerr := m.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(m.f.Name())
		return 0, err
	}
	return m.n, os.Rename(m.f.Name(), m.path)
}
