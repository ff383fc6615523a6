package imapserver

import (
	"context"
	"fmt"

	"github.com/postern/postern/internal/imap/imapwire"
	"github.com/postern/postern/internal/store"
)

// cmdReplace: RFC 8508 §3.2.
func (c *conn) cmdReplace(ctx context.Context, tag string, dec *imapwire.Decoder) error {
	return c.replace(ctx, dec, false)
}

// cmdUIDReplace: RFC 8508 §3.3.
func (c *conn) cmdUIDReplace(ctx context.Context, tag string, dec *imapwire.Decoder) error {
	return c.replace(ctx, dec, true)
}

// replace appends one message to a mailbox and expunges one message of the
// selected mailbox as a single action (RFC 8508 §3.4), through the
// store's Replacer, which commits both in one transaction: on any error
// neither happens and no EXPUNGE is sent. As with MOVE, the STORE of the
// equivalent sequence leaves no trace: no FETCH, no \Deleted.
func (c *conn) replace(ctx context.Context, dec *imapwire.Decoder, uid bool) error {
	args := imapwire.ParseReplaceArgs(dec)
	if dec.Err() != nil {
		return dec.Err()
	}
	rp, ok := c.sess.(store.Replacer)
	if !ok {
		// Not advertised for such a store (capability.go).
		return badf("REPLACE is not supported")
	}
	// Every refusal that does not need the message is decided before its
	// literal is accepted; readAppendMsg answers it and the epilogue skips
	// the data of a non-synchronising literal.
	old, mb, preErr := c.replaceTargets(ctx, args, uid)
	m, err := c.readAppendMsg(ctx, dec, preErr, 0)
	if m.data != nil {
		defer m.data.remove()
	}
	if err != nil {
		return err
	}
	// RFC 8508 §4.7: one message, no MULTIAPPEND form.
	if !dec.ExpectCRLF() {
		return dec.Err()
	}
	r, err := m.data.reader()
	if err != nil {
		return fmt.Errorf("read spooled literal: %w", err)
	}
	req := store.AppendRequest{Content: r, Flags: m.flags, InternalDate: m.date, MaxSize: c.s.opts.AppendLimit, Exact: m.exact}
	res, err := rp.Replace(ctx, mb.ID, req, c.sel.id, old)
	if err != nil {
		return err
	}
	// RFC 8508 §4.3: APPENDUID (RFC 4315 §3) in an untagged OK before the
	// EXPUNGE, or VANISHED once QRESYNC is enabled (RFC 8508 §4.5: as UID
	// EXPUNGE does), which the epilogue sends.
	c.untaggedOK(fmt.Sprintf("APPENDUID %d %d", res.UIDValidity, res.UID), "Replacement message ready")
	c.sel.markGone([]store.UID{old})
	c.resp.text = "REPLACE completed"
	if mb.ID == c.sel.id {
		return c.resync(ctx, res.UID)
	}
	return nil
}

// replaceTargets resolves the message to replace and the mailbox to
// append to. The error, if any, refuses the command: BAD for a sequence
// number beyond the mailbox (RFC 9051 §7.1.3), NO for a UID no message
// has, one already expunged, a read-only mailbox, and a missing target
// mailbox (with TRYCREATE, through readAppendMsg; RFC 8508 §3.4).
func (c *conn) replaceTargets(ctx context.Context, args imapwire.ReplaceArgs, uid bool) (store.UID, store.Mailbox, error) {
	targets, err := c.sel.resolve(args.SeqSet(), uid)
	switch {
	case err != nil:
		return 0, store.Mailbox{}, err
	case len(targets) == 0 && !uid:
		return 0, store.Mailbox{}, badf("Invalid message sequence number") // "*" in an empty mailbox
	case len(targets) == 0:
		return 0, store.Mailbox{}, nof("", "No message with that UID")
	case targets[0].gone:
		return 0, store.Mailbox{}, nof("EXPUNGEISSUED", "Message was expunged")
	case c.sel.readOnly:
		// The expunge needs a read-write mailbox (RFC 8508 §4.1: the
		// rights of UID STORE and UID EXPUNGE).
		return 0, store.Mailbox{}, nof("READ-ONLY", "Mailbox is read-only")
	}
	name, err := c.storeName(args.Mailbox)
	if err != nil {
		return 0, store.Mailbox{}, err
	}
	mb, err := c.sess.Mailbox(ctx, name)
	return targets[0].UID, mb, err
}
