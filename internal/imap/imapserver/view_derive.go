package imapserver

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"

	"github.com/postern/postern/internal/mail11"
	"github.com/postern/postern/internal/message"
	"github.com/postern/postern/internal/store"
)

// deriveVMS gives mail that came by SMTP, LMTP, deliver or APPEND (no
// OpenVMS envelope) the envelope VMS SMTP would have filled in, from its
// real header block, as the POP3 view does: the stored ENVELOPE has no
// Resent-* or Return-Path fields, which rank before From in the choice of
// the VMS From (hp-system.md §3.4), and it defaults Reply-To to From. It
// runs only when the view rebuilds such mail (Mail11 on,
// Ignore-Mail11-Headers off), after a load, with no store read open; ref,
// when the store gave one, opens the file without an index query. On a
// read failure the view falls back to the ENVELOPE (envelopeHeader).
func (c *conn) deriveVMS(ctx context.Context, mbox store.MailboxID, d *store.MessageData, ref store.ContentRef) {
	v := c.s.view
	if v.mail11 == nil || v.ignoreMail11 || d.VMS != nil || d.Part == nil {
		return
	}
	var ct store.Content
	var err error
	if ref != nil {
		ct, err = ref.Open()
	} else {
		ct, err = c.sess.OpenContent(ctx, mbox, d.Info.UID)
	}
	if err == nil {
		defer ct.Close()
		err = v.derive(ct, d)
	}
	if err != nil && !errors.Is(err, store.ErrNoSuchMessage) {
		c.log.LogAttrs(ctx, slog.LevelWarn, "imap read header for the Mail11 view failed",
			slog.Uint64("uid", uint64(d.Info.UID)), slog.Any("err", err))
	}
}

// derive sets d.VMS from the header block of ct, the stored content of d,
// when the view rebuilds mail without an OpenVMS envelope.
func (v *viewer) derive(ct store.Content, d *store.MessageData) error {
	if v.mail11 == nil || v.ignoreMail11 || d.VMS != nil || d.Part == nil {
		return nil
	}
	end := min(d.Part.BodyStart, ct.Size())
	start := min(d.Part.HeaderStart, end)
	hdr, err := message.ReadHeader(io.NewSectionReader(ct, start, end-start), 0)
	if err != nil && !errors.Is(err, message.ErrHeaderTooLarge) {
		return err
	}
	d.VMS = mail11.DeriveEnvelope(hdr, d.Info.InternalDate) // from the fields read, as SMTP would have stored them
	return nil
}

// deriveStored runs deriveVMS over a loaded FETCH batch.
func (c *conn) deriveStored(ctx context.Context, mbox store.MailboxID, msgs map[store.UID]storedMsg) {
	if c.s.view.mail11 == nil || c.s.view.ignoreMail11 {
		return
	}
	c.deriveBatch(ctx, mbox, func(fn func(store.UID, *store.MessageData, store.ContentRef)) {
		for u, m := range msgs {
			fn(u, &m.data, m.ref)
			msgs[u] = m
		}
	})
}

// deriveBatch derives the envelope of each message each yields that
// needs one: from the header fields the store keeps (store.HeaderKeeper),
// which costs one index read for the batch, else by reading the header
// from the file (deriveVMS). The fields kept are those DeriveEnvelope
// reads, in their stored order, so the result is the same.
func (c *conn) deriveBatch(ctx context.Context, mbox store.MailboxID, each func(fn func(store.UID, *store.MessageData, store.ContentRef))) {
	v := c.s.view
	if v.mail11 == nil || v.ignoreMail11 {
		return
	}
	var need []store.UID
	each(func(u store.UID, d *store.MessageData, _ store.ContentRef) {
		if d.VMS == nil && d.Part != nil {
			need = append(need, u)
		}
	})
	if len(need) == 0 {
		return
	}
	kept := map[store.UID]message.Header{}
	if hk, ok := c.sess.(store.HeaderKeeper); ok {
		slices.Sort(need)
		err := hk.KeptHeaders(ctx, mbox, need, func(u store.UID, h message.Header) error {
			kept[u] = h
			return nil
		})
		if err != nil {
			clear(kept) // read every header from its file
			c.log.LogAttrs(ctx, slog.LevelWarn, "imap read kept header fields failed", slog.Any("err", err))
		}
	}
	each(func(u store.UID, d *store.MessageData, ref store.ContentRef) {
		if d.VMS != nil || d.Part == nil {
			return
		}
		if h, ok := kept[u]; ok {
			d.VMS = mail11.DeriveEnvelope(h, d.Info.InternalDate)
			return
		}
		c.deriveVMS(ctx, mbox, d, ref)
	})
}
