package imapserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/postern/postern/internal/imap/imapwire"
	"github.com/postern/postern/internal/store"
)

// maxMemoryLiteral is the largest APPEND literal kept in memory, and
// maxMemorySpool the most one APPEND keeps in memory over all its messages
// (MULTIAPPEND); the rest is spooled to temporary files.
const (
	maxMemoryLiteral = 1 << 20
	maxMemorySpool   = 8 << 20
)

// spooled is one APPEND literal read from the client.
type spooled struct {
	mem  []byte
	file *os.File
}

func (s *spooled) reader() (io.Reader, error) {
	if s.file == nil {
		return bytes.NewReader(s.mem), nil
	}
	if _, err := s.file.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return s.file, nil
}

func (s *spooled) remove() {
	if s.file != nil {
		s.file.Close()
		os.Remove(s.file.Name())
	}
}

// spool reads a literal to its end, into memory or a temporary file.
// inMemory is what the command already holds in memory.
func (c *conn) spool(r io.Reader, size, inMemory int64) (*spooled, error) {
	if size <= maxMemoryLiteral && inMemory+size <= maxMemorySpool {
		b := make([]byte, size)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, err
		}
		return &spooled{mem: b}, nil
	}
	f, err := os.CreateTemp(c.s.opts.TempDir, "postern-append-*")
	if err != nil {
		io.Copy(io.Discard, r) // stay in step with the client
		return nil, fmt.Errorf("spool literal: %w", err)
	}
	sp := &spooled{file: f}
	if _, err := io.Copy(f, r); err != nil {
		sp.remove()
		return nil, err
	}
	return sp, nil
}

// appendMsg is one message of an APPEND (several with MULTIAPPEND,
// RFC 3502).
type appendMsg struct {
	flags []string
	date  time.Time
	data  *spooled
	exact bool // a literal8 (RFC 3516 §4.4): stored octet for octet
}

// cmdAppend: RFC 9051 §6.3.12, MULTIAPPEND (RFC 3502), APPENDLIMIT
// (RFC 7889), UIDPLUS APPENDUID (RFC 4315), BINARY literal8 (RFC 3516).
func (c *conn) cmdAppend(ctx context.Context, tag string, dec *imapwire.Decoder) error {
	name := imapwire.ParseAppendMailbox(dec)
	if dec.Err() != nil {
		return dec.Err()
	}
	// The mailbox is looked up before any literal is accepted, so a
	// missing one is refused before the client sends the data.
	name, mbErr := c.storeName(name)
	var mb store.Mailbox
	if mbErr == nil {
		mb, mbErr = c.sess.Mailbox(ctx, name)
	}
	var msgs []appendMsg
	defer func() {
		for _, m := range msgs {
			m.data.remove()
		}
	}()
	var inMemory int64
	for {
		m, err := c.readAppendMsg(dec, mbErr, inMemory)
		if err != nil {
			return err
		}
		msgs = append(msgs, m)
		inMemory += int64(len(m.data.mem))
		if dec.CRLF() {
			break
		}
		if !dec.Peek(' ') {
			return dec.Err()
		}
	}
	reqs := make([]store.AppendRequest, len(msgs))
	for i, m := range msgs {
		r, err := m.data.reader()
		if err != nil {
			return fmt.Errorf("read spooled literal: %w", err)
		}
		reqs[i] = store.AppendRequest{Content: r, Flags: m.flags, InternalDate: m.date, MaxSize: c.s.opts.AppendLimit, Exact: m.exact}
	}
	res, err := c.sess.Append(ctx, mb.ID, reqs...)
	if err != nil {
		return err
	}
	uids := make([]uint32, len(res))
	for i, r := range res {
		uids[i] = uint32(r.UID)
	}
	if len(res) > 0 {
		c.resp.code = fmt.Sprintf("APPENDUID %d %s", res[0].UIDValidity, imapwire.SeqSetOf(uids...).String())
	}
	if c.sel != nil && c.sel.id == mb.ID {
		return c.resync(ctx)
	}
	return nil
}

// readAppendMsg reads " [flags] [date-time] literal" of one message.
func (c *conn) readAppendMsg(dec *imapwire.Decoder, mbErr error, inMemory int64) (appendMsg, error) {
	am := imapwire.ParseAppendMessage(dec)
	if dec.Err() != nil {
		return appendMsg{}, dec.Err()
	}
	m := appendMsg{flags: withoutRecent(am.Flags), date: am.Date, exact: am.Literal.Binary}
	info := am.Literal
	switch {
	case errors.Is(mbErr, store.ErrNoSuchMailbox):
		// The data of a {n+} literal is on its way: the epilogue skips it
		// (up to imapwire.DefaultMaxDiscard, else it closes).
		return m, nof("TRYCREATE", "No such mailbox")
	case mbErr != nil:
		return m, mbErr
	case c.s.opts.AppendLimit > 0 && info.Size > c.s.opts.AppendLimit:
		// RFC 7889 §4: refused before the data is read. A
		// non-synchronising literal's data is already on its way: the
		// connection is closed rather than read through.
		c.resp.closeAfter = info.NonSync
		return m, nof("TOOBIG", "Message larger than APPENDLIMIT %d", c.s.opts.AppendLimit)
	}
	if !info.NonSync {
		if err := c.enc.Continuation("Ready for literal data"); err != nil {
			return m, err
		}
	}
	sp, err := c.spool(dec.LiteralReader(info), info.Size, inMemory)
	if err != nil {
		return m, err
	}
	m.data = sp
	return m, nil
}

// withoutRecent drops \Recent, which clients may not set (RFC 3501 §2.3.2).
func withoutRecent(flags []string) []string {
	out := flags[:0]
	for _, f := range flags {
		if f != imapwire.FlagRecent {
			out = append(out, f)
		}
	}
	return out
}
