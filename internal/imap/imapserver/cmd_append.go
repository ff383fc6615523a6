package imapserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
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

// spooled is one APPEND literal read from the client, or the parts of a
// CATENATE (RFC 4469), one spooled each, read one after the other.
type spooled struct {
	mem   []byte
	file  *os.File
	size  int64
	parts []*spooled
}

func (s *spooled) reader() (io.Reader, error) {
	if s.parts != nil {
		rs := make([]io.Reader, len(s.parts))
		for i, p := range s.parts {
			r, err := p.reader()
			if err != nil {
				return nil, err
			}
			rs[i] = r
		}
		return io.MultiReader(rs...), nil
	}
	if s.file == nil {
		return bytes.NewReader(s.mem), nil
	}
	if _, err := s.file.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return s.file, nil
}

func (s *spooled) remove() {
	for _, p := range s.parts {
		p.remove()
	}
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
		return &spooled{mem: b, size: size}, nil
	}
	f, err := os.CreateTemp(c.s.opts.TempDir, "postern-append-*")
	if err != nil {
		io.Copy(io.Discard, r) // stay in step with the client
		return nil, fmt.Errorf("spool literal: %w", err)
	}
	sp := &spooled{file: f, size: size}
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
		m, err := c.readAppendMsg(ctx, dec, mbErr, inMemory)
		if m.data != nil {
			msgs = append(msgs, m) // removed by the deferred function
		}
		if err != nil {
			return err
		}
		inMemory += m.data.inMemory()
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
	if c.sel != nil && c.sel.id == mb.ID && len(res) > 0 {
		return c.resync(ctx, slices.MaxFunc(res, func(a, b store.AppendResult) int { return cmpUID(a.UID, b.UID) }).UID)
	}
	return nil
}

// inMemory is how much of the spooled data is held in memory.
func (s *spooled) inMemory() int64 {
	n := int64(len(s.mem))
	for _, p := range s.parts {
		n += p.inMemory()
	}
	return n
}

// readAppendMsg reads " [flags] [date-time] literal" of one message, or
// its CATENATE parts (RFC 4469). m.data, when not nil, is the caller's to
// remove, even with an error.
func (c *conn) readAppendMsg(ctx context.Context, dec *imapwire.Decoder, mbErr error, inMemory int64) (appendMsg, error) {
	am := imapwire.ParseAppendMessage(dec)
	if dec.Err() != nil {
		return appendMsg{}, dec.Err()
	}
	m := appendMsg{flags: withoutRecent(am.Flags), date: am.Date, exact: am.Literal.Binary}
	switch {
	case errors.Is(mbErr, store.ErrNoSuchMailbox):
		// The data of a {n+} literal is on its way: the epilogue skips it
		// (up to imapwire.DefaultMaxDiscard, else it closes).
		return m, nof("TRYCREATE", "No such mailbox")
	case mbErr != nil:
		return m, mbErr
	case am.Catenate:
		m.data = &spooled{parts: []*spooled{}}
		return m, c.readCatenate(ctx, dec, m.data, inMemory)
	}
	sp, err := c.readLiteral(dec, am.Literal, 0, inMemory)
	m.data = sp
	return m, err
}

// readLiteral checks the size of a literal (with before octets of the
// message already read) and reads it.
func (c *conn) readLiteral(dec *imapwire.Decoder, info imapwire.LiteralInfo, before, inMemory int64) (*spooled, error) {
	if err := c.checkMessageSize(before + info.Size); err != nil {
		// RFC 7889 §4: refused before the data is read. A
		// non-synchronising literal's data is already on its way: the
		// connection is closed rather than read through.
		c.resp.closeAfter = info.NonSync
		return nil, err
	}
	if !info.NonSync {
		if err := c.enc.Continuation("Ready for literal data"); err != nil {
			return nil, err
		}
	}
	return c.spool(dec.LiteralReader(info), info.Size, inMemory)
}

// maxMessageSize is the IMAP message size limit (RFC 4469 §4.2: 4 GB).
const maxMessageSize = 1<<32 - 1

// checkMessageSize refuses a message of size octets with NO [TOOBIG]: over
// APPENDLIMIT (RFC 7889 §4) or the 4 GB of IMAP (RFC 4469 §4.2).
func (c *conn) checkMessageSize(size int64) error {
	if c.s.opts.AppendLimit > 0 && size > c.s.opts.AppendLimit {
		return nof("TOOBIG", "Message larger than APPENDLIMIT %d", c.s.opts.AppendLimit)
	}
	if size > maxMessageSize {
		return nof("TOOBIG", "Message larger than 4 GB")
	}
	return nil
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
