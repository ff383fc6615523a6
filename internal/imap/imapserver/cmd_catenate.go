package imapserver

import (
	"bytes"
	"context"
	"errors"
	"io"

	"github.com/postern/postern/internal/imap/imapwire"
	"github.com/postern/postern/internal/store"
)

// readCatenate reads the parts of "CATENATE (" cat-part *(SP cat-part)
// ")" (RFC 4469 §3, §5) into msg.parts, in order: each TEXT literal as
// the client sends it, each URL as the octets FETCH BODY[section]<partial>
// would send of that message of the user's (RFC 4469 §3). Each part is
// checked as it comes, so a bad URL is refused before the next literal is
// asked for (RFC 4469 appendix A, example 4 note); the epilogue then
// skips the rest of the command, reading the data of non-synchronising
// literals, so that none of it is taken for a command.
func (c *conn) readCatenate(ctx context.Context, dec *imapwire.Decoder, msg *spooled, inMemory int64) error {
	for {
		p := imapwire.ParseCatPart(dec)
		if dec.Err() != nil {
			return dec.Err()
		}
		var sp *spooled
		var err error
		if p.Text {
			sp, err = c.readLiteral(dec, p.Literal, msg.size, inMemory)
		} else {
			sp, err = c.catURL(ctx, p.URL, msg.size, inMemory)
		}
		if err != nil {
			return err
		}
		msg.parts = append(msg.parts, sp)
		msg.size += sp.size
		inMemory += int64(len(sp.mem))
		if !imapwire.CatPartEnd(dec) {
			return dec.Err()
		}
	}
}

// badURL is the refusal of a CATENATE URL: NO [BADURL url] (RFC 4469
// §4.1), naming the URL as the client sent it.
func badURL(raw string) error {
	return nof("BADURL "+imapwire.URLRespText(raw), "Cannot fetch that URL")
}

// catURL spools the octets a CATENATE URL names. Only URLs to a message
// or part of the session's own account are served (RFC 4469 §3): a URL
// with a scheme or a server, one naming a mailbox the account does not
// have (another user's included), a UIDVALIDITY that does not match, a
// UID no message has, or a section the message lacks is NO [BADURL].
func (c *conn) catURL(ctx context.Context, raw string, before, inMemory int64) (*spooled, error) {
	u, err := imapwire.ParseIMAPURL(raw)
	if err != nil {
		return nil, badURL(raw)
	}
	id, uidValidity, err := c.catMailbox(ctx, u)
	if err != nil {
		return nil, badURL(raw)
	}
	if u.UIDValidity != 0 && u.UIDValidity != uidValidity {
		return nil, badURL(raw) // RFC 5092 §5: the URL is stale
	}
	msgs := map[store.UID]storedMsg{}
	err = c.sess.MessageData(ctx, id, []store.UID{store.UID(u.UID)}, func(d store.MessageData) error {
		msgs[d.Info.UID] = storedMsg{data: d}
		return nil
	})
	if err != nil {
		return nil, err
	}
	d, ok := msgs[store.UID(u.UID)]
	if !ok {
		return nil, badURL(raw)
	}
	if hidden, err := c.hiddenByCap(ctx, id, d.data.Info.UID); err != nil || hidden {
		if err == nil {
			err = badURL(raw)
		}
		return nil, err
	}
	c.deriveStored(ctx, id, msgs) // the OpenVMS Mail view, as FETCH shows it
	d = msgs[store.UID(u.UID)]
	mv := c.s.view.view(d.data.Info, &d.data)
	defer mv.close()
	if err := mv.open(ctx, c.sess, id); err != nil {
		if errors.Is(err, store.ErrNoSuchMessage) {
			return nil, badURL(raw)
		}
		return nil, err
	}
	var sec imapwire.Section
	if u.Section != nil {
		sec = *u.Section
	}
	off, n, b, ok, err := c.sectionBytes(mv, sec)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, badURL(raw)
	}
	if b != nil {
		off, n = 0, int64(len(b))
	}
	start, cnt := u.Partial.Window(n)
	off, n = off+start, cnt
	if err := c.checkMessageSize(before + n); err != nil {
		return nil, err
	}
	var r io.Reader
	if b != nil {
		r = bytes.NewReader(b[start : start+cnt])
	} else {
		r = io.NewSectionReader(mv.readerAt(), off, n)
	}
	return c.spool(r, n, inMemory)
}

// catMailbox resolves the mailbox of a CATENATE URL: a named one of the
// account, or the selected one for a URL relative to it (RFC 4469 §3: the
// base URL is the selected mailbox's in the selected state).
func (c *conn) catMailbox(ctx context.Context, u imapwire.IMAPURL) (store.MailboxID, uint32, error) {
	if u.Mailbox == "" {
		if c.sel == nil {
			return 0, 0, store.ErrNoSuchMailbox
		}
		return c.sel.id, c.sel.uidValidity, nil
	}
	name, err := c.storeName(u.Mailbox)
	if err != nil {
		return 0, 0, err
	}
	mb, err := c.sess.Mailbox(ctx, name)
	if err != nil {
		return 0, 0, err
	}
	return mb.ID, mb.UIDValidity, nil
}

// hiddenByCap reports whether Message-Cap hides the message from the
// client: a URL may name only what FETCH could show.
func (c *conn) hiddenByCap(ctx context.Context, id store.MailboxID, uid store.UID) (bool, error) {
	capN := c.s.opts.MessageCap
	if capN <= 0 {
		return false, nil
	}
	infos, err := c.sess.Messages(ctx, id)
	if err != nil {
		return false, err
	}
	for i, in := range infos {
		if in.UID == uid {
			return i >= capN, nil
		}
	}
	return true, nil
}
