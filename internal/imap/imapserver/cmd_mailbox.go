package imapserver

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/postern/postern/internal/imap/imapwire"
	"github.com/postern/postern/internal/store"
)

// cmdSelect: RFC 9051 §6.3.2.
func (c *conn) cmdSelect(ctx context.Context, tag string, dec *imapwire.Decoder) error {
	return c.selectMailbox(ctx, dec, false)
}

// cmdExamine: RFC 9051 §6.3.3.
func (c *conn) cmdExamine(ctx context.Context, tag string, dec *imapwire.Decoder) error {
	return c.selectMailbox(ctx, dec, true)
}

func (c *conn) selectMailbox(ctx context.Context, dec *imapwire.Decoder, readOnly bool) error {
	args := imapwire.ParseSelectArgs(dec)
	if !dec.ExpectCRLF() {
		return dec.Err()
	}
	name := args.Mailbox
	if args.QResync != nil && !c.qresync {
		// RFC 7162 §3.2.5: BAD unless ENABLE QRESYNC came first; the
		// selected mailbox stays selected, as after any BAD.
		return badf("QRESYNC parameter needs ENABLE QRESYNC")
	}
	if args.QResync != nil && args.QResync.SeqMatch != nil && c.uidOnly {
		// RFC 9586 §3: seq-match-data holds message numbers.
		return uidRequired()
	}
	if args.CondStore {
		// RFC 7162 §3.1.8: SELECT/EXAMINE (CONDSTORE) enables CONDSTORE.
		c.condStore = true
	}
	if c.sel != nil {
		// RFC 9051 §6.3.2: the previous mailbox is closed first, even if
		// this SELECT fails; [CLOSED] marks the boundary (RFC 7162 §3.2.11).
		c.setState(stateAuthenticated)
		c.untaggedOK("CLOSED", "Previous mailbox closed")
	}
	name, err := c.storeName(name)
	if err != nil {
		return err
	}
	mb, err := c.sess.Mailbox(ctx, name)
	if err != nil {
		return err
	}
	// The view starts from the store's state below; what changed before
	// in other mailboxes still goes to NOTIFY.
	c.notifyOthers(ctx, c.sess.Changes().Take(), mb.ID)
	infos, err := c.sess.Messages(ctx, mb.ID)
	if err != nil {
		return fmt.Errorf("list messages of %q: %w", name, err)
	}
	c.sel = newSelected(mb, infos, readOnly, c.s.opts.MessageCap)
	var qr qresyncAnswer
	if args.QResync != nil {
		if qr, err = c.qresyncSelect(ctx, args.QResync); err != nil {
			c.sel = nil
			return err
		}
	}
	if err := c.startRecent(ctx, readOnly); err != nil {
		c.sel = nil
		return err
	}
	c.setState(stateSelected)
	c.writeSelectData(mb, readOnly)
	c.writeQResync(qr)
	if readOnly {
		c.resp.code = "READ-ONLY"
	} else {
		c.resp.code = "READ-WRITE"
	}
	c.resp.text = "Mailbox selected"
	return nil
}

// writeSelectData writes the untagged data of a successful SELECT or
// EXAMINE (RFC 9051 §6.3.2, RFC 3501 §6.3.1).
func (c *conn) writeSelectData(mb store.Mailbox, readOnly bool) {
	sel := c.sel
	c.numbered(uint32(len(sel.msgs)), "EXISTS")
	// RFC 3501 §7.3.2 (IMAP4rev1 only): EXAMINE counts what no session
	// has claimed, SELECT what this one just claimed.
	c.announceRecent(true)
	c.enc.Untagged().Atom("FLAGS").SP().Flags(c.flagsList()).CRLF()
	if readOnly {
		c.okCode("PERMANENTFLAGS", func(e *imapwire.Encoder) { e.Flags(nil) }, "No permanent flags permitted")
	} else {
		perm := append(slices.Clone(systemFlags), imapwire.FlagWildcard)
		c.okCode("PERMANENTFLAGS", func(e *imapwire.Encoder) { e.Flags(perm) }, "Flags permitted")
	}
	if !c.rev2 && !c.uidOnly { // RFC 9586 §3: [UNSEEN n] is a message number
		for i, m := range sel.msgs {
			if !store.Flags(m.Flags).Has(store.FlagSeen) {
				c.okCode("UNSEEN", func(e *imapwire.Encoder) { e.Number(uint32(i + 1)) }, "First unseen")
				break
			}
		}
	}
	c.okCode("UIDVALIDITY", func(e *imapwire.Encoder) { e.Number(sel.uidValidity) }, "UIDs valid")
	c.okCode("UIDNEXT", func(e *imapwire.Encoder) { e.Number(uint32(sel.clientUIDNext())) }, "Predicted next UID")
	// RFC 7162 §3.1.2.1: a server that keeps mod-sequences for the mailbox
	// (every Postern mailbox) MUST send HIGHESTMODSEQ on every successful
	// SELECT/EXAMINE, whether CONDSTORE is enabled or not. The mailbox was
	// read before its messages, so a change in between may have given a
	// message a higher MODSEQ.
	c.writeHighestModSeq(max(mb.HighestModSeq, sel.maxModSeq()))
	// RFC 8474 §4.2: "* OK [MAILBOXID (id)]" on SELECT and EXAMINE.
	c.okCode("MAILBOXID", func(e *imapwire.Encoder) { e.ObjectID(mailboxObjectID(mb.ID)) }, "Ok")
	if c.rev2 {
		// RFC 9051 §6.3.2: a LIST response with the mailbox's name.
		shown, _ := c.imapName(sel.name)
		c.writeList(nil, shown, nil)
	}
}

// specialUses are the attributes CREATE accepts in USE (RFC 6154 §3).
var specialUses = []string{store.SpecialAll, store.SpecialArchive, store.SpecialDrafts, store.SpecialFlagged,
	store.SpecialJunk, store.SpecialSent, store.SpecialTrash}

// cmdCreate: RFC 9051 §6.3.4 with CREATE-SPECIAL-USE (RFC 6154 §3).
func (c *conn) cmdCreate(ctx context.Context, tag string, dec *imapwire.Decoder) error {
	args := imapwire.ParseCreateArgs(dec)
	if !dec.ExpectCRLF() {
		return dec.Err()
	}
	uses := args.SpecialUse
	name := strings.TrimSuffix(args.Mailbox, string(store.HierarchySeparator))
	use := ""
	for _, u := range uses {
		i := slices.IndexFunc(specialUses, func(s string) bool { return strings.EqualFold(s, u) })
		if i < 0 || (use != "" && use != specialUses[i]) {
			return nof("USEATTR", "Unsupported special-use attribute")
		}
		use = specialUses[i]
	}
	if strings.EqualFold(name, store.MailboxInbox) {
		return nof("ALREADYEXISTS", "INBOX always exists")
	}
	name, err := c.newStoreName(name)
	if err != nil {
		return err
	}
	mb, err := c.sess.CreateMailbox(ctx, name, use)
	if err != nil {
		return err
	}
	// RFC 8474 §4.1: the tagged OK carries the new mailbox's MAILBOXID.
	c.resp.code = "MAILBOXID (" + mailboxObjectID(mb.ID) + ")"
	return nil
}

// cmdDelete: RFC 9051 §6.3.5.
func (c *conn) cmdDelete(ctx context.Context, tag string, dec *imapwire.Decoder) error {
	args := imapwire.ParseMailboxArgs(dec)
	if !dec.ExpectCRLF() {
		return dec.Err()
	}
	name, err := c.storeName(args.Mailbox)
	if err != nil {
		return err
	}
	if err := c.sess.DeleteMailbox(ctx, name); err != nil {
		return err
	}
	if c.sel != nil && c.sel.name == name {
		c.setState(stateAuthenticated)
		c.untaggedOK("CLOSED", "Selected mailbox deleted")
	}
	return nil
}

// cmdRename: RFC 9051 §6.3.6.
func (c *conn) cmdRename(ctx context.Context, tag string, dec *imapwire.Decoder) error {
	args := imapwire.ParseRenameArgs(dec)
	if !dec.ExpectCRLF() {
		return dec.Err()
	}
	from, err := c.storeName(args.From)
	if err != nil {
		return err
	}
	to, err := c.newStoreName(args.To)
	if err != nil {
		return err
	}
	if err := c.sess.RenameMailbox(ctx, from, to); err != nil {
		return err
	}
	if c.sel != nil && c.sel.name == from {
		if from == store.MailboxInbox {
			c.inboxEmptied()
		} else {
			c.sel.name = to
		}
	}
	return nil
}

// inboxEmptied updates the view of a selected INBOX that this session's
// RENAME INBOX just emptied: RFC 9051 §6.3.6 moves every message to the new
// mailbox and leaves INBOX selected and empty. A session gets no events of
// its own changes, so the view applies the expunge itself; the command's
// epilogue then sends the EXPUNGE responses.
func (c *conn) inboxEmptied() {
	uids := make([]store.UID, 0, len(c.sel.msgs)+len(c.sel.hidden))
	for _, m := range c.sel.msgs {
		uids = append(uids, m.UID)
	}
	for _, in := range c.sel.hidden {
		uids = append(uids, in.UID)
	}
	c.sel.apply(store.ChangeExpunge{Mailbox: c.sel.id, UIDs: uids})
}

// cmdSubscribe: RFC 9051 §6.3.7.
func (c *conn) cmdSubscribe(ctx context.Context, tag string, dec *imapwire.Decoder) error {
	return c.subscribe(ctx, dec, true)
}

// cmdUnsubscribe: RFC 9051 §6.3.8.
func (c *conn) cmdUnsubscribe(ctx context.Context, tag string, dec *imapwire.Decoder) error {
	return c.subscribe(ctx, dec, false)
}

func (c *conn) subscribe(ctx context.Context, dec *imapwire.Decoder, on bool) error {
	args := imapwire.ParseMailboxArgs(dec)
	if !dec.ExpectCRLF() {
		return dec.Err()
	}
	name, err := c.storeName(args.Mailbox)
	if err != nil {
		return err
	}
	return c.sess.SetSubscribed(ctx, name, on)
}

// cmdNamespace: RFC 9051 §6.3.10 (RFC 2342). One personal namespace.
func (c *conn) cmdNamespace(ctx context.Context, tag string, dec *imapwire.Decoder) error {
	if !dec.ExpectCRLF() {
		return dec.Err()
	}
	// (("" "/")): one personal namespace, no prefix, "/" as separator.
	e := c.enc.Untagged().Atom("NAMESPACE").SP()
	e.List(1, func(int) {
		e.List(2, func(i int) { e.Quoted([]string{"", string(store.HierarchySeparator)}[i]) })
	})
	return e.SP().NIL().SP().NIL().CRLF()
}

// cmdStatus: RFC 9051 §6.3.11, with SIZE (RFC 8438), APPENDLIMIT (RFC
// 7889), RECENT (RFC 3501) and HIGHESTMODSEQ (RFC 7162 §3.1.7).
func (c *conn) cmdStatus(ctx context.Context, tag string, dec *imapwire.Decoder) error {
	args := imapwire.ParseStatusArgs(dec)
	if !dec.ExpectCRLF() {
		return dec.Err()
	}
	name, err := c.storeName(args.Mailbox)
	if err != nil {
		return err
	}
	mb, err := c.sess.Mailbox(ctx, name)
	if err != nil {
		return err
	}
	return c.writeStatus(ctx, mb, args.Items)
}

// mailboxCounts returns a mailbox's STATUS numbers as the client sees
// them: sizes include the Send-ID-Headers; with Message-Cap, only the first MessageCap messages count, and
// UIDNEXT is the UID of the first hidden message (docs/imap.md).
//
// needSize says whether SIZE is wanted: only then are the sizes of the
// view computed message by message.
func (c *conn) mailboxCounts(ctx context.Context, mb store.Mailbox, needSize bool) (store.MailboxStatus, error) {
	st, err := c.sess.Status(ctx, mb.ID)
	if err != nil {
		return st, fmt.Errorf("status of %q: %w", mb.Name, err)
	}
	capN := c.s.opts.MessageCap
	viewSizes := needSize && (c.s.opts.SendIDHeaders || c.s.view.needsData())
	if (capN == 0 || int(st.Messages) <= capN) && !viewSizes {
		return st, nil
	}
	// Count what the client sees: the first MessageCap messages, with
	// their sizes as the view makes them.
	infos, err := c.sess.Messages(ctx, mb.ID)
	if err != nil {
		return st, fmt.Errorf("list messages of %q: %w", mb.Name, err)
	}
	if capN > 0 && len(infos) > capN {
		// The hidden messages are the newest, and so are the unclaimed
		// recent ones (UIDs from the mailbox's first unclaimed): the
		// visible recent ones are what the hidden leave of them.
		st.Recent = uint32(max(0, int(st.Recent)-(len(infos)-capN)))
		st.UIDNext = infos[capN].UID
		infos = infos[:capN]
	}
	var data map[store.UID]*store.MessageData
	if needSize {
		data, err = c.viewData(ctx, mb.ID, infos)
	}
	if err != nil {
		return st, err
	}
	st.Messages, st.Unseen, st.Deleted, st.Size, st.DeletedSize = 0, 0, 0, 0, 0
	for _, in := range infos {
		st.Messages++
		st.Size += c.s.view.sizeOf(in, data[in.UID])
		if !in.Flags.Has(store.FlagSeen) {
			st.Unseen++
		}
		if in.Flags.Has(store.FlagDeleted) {
			st.Deleted++
			st.DeletedSize += in.Size // stored octets, as quota counts them
		}
	}
	return st, nil
}

// viewData loads the stored structure of messages when the view's sizes
// depend on it (the Mail11 view); otherwise it returns nil.
func (c *conn) viewData(ctx context.Context, mbox store.MailboxID, infos []store.MessageInfo) (map[store.UID]*store.MessageData, error) {
	if !c.s.view.needsData() || len(infos) == 0 {
		return nil, nil
	}
	uids := make([]store.UID, len(infos))
	for i, in := range infos {
		uids[i] = in.UID
	}
	out := make(map[store.UID]*store.MessageData, len(uids))
	err := c.sess.MessageData(ctx, mbox, uids, func(d store.MessageData) error {
		out[d.Info.UID] = &d
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load messages: %w", err)
	}
	c.deriveBatch(ctx, mbox, func(fn func(store.UID, *store.MessageData, store.ContentRef)) {
		for u, d := range out {
			fn(u, d, nil)
		}
	})
	return out, nil
}

// writeStatus writes "* STATUS name (…)". Asking for HIGHESTMODSEQ, in
// STATUS or LIST-STATUS, is a CONDSTORE enabling command (RFC 7162 §3.1).
func (c *conn) writeStatus(ctx context.Context, mb store.Mailbox, items []imapwire.StatusItem) error {
	if slices.Contains(items, imapwire.StatusHighestModSeq) {
		if err := c.enableCondStore(ctx); err != nil {
			return err
		}
	}
	st, err := c.mailboxCounts(ctx, mb, slices.Contains(items, imapwire.StatusSize))
	if err != nil {
		return err
	}
	shown, _ := c.imapName(mb.Name)
	e := c.enc.Untagged().Atom("STATUS").SP().Mailbox(shown).SP()
	e.List(len(items), func(i int) {
		e.Atom(items[i].String()).SP()
		switch items[i] {
		case imapwire.StatusMessages:
			e.Number(st.Messages)
		case imapwire.StatusUIDNext:
			e.Number(uint32(st.UIDNext))
		case imapwire.StatusUIDValidity:
			e.Number(st.UIDValidity)
		case imapwire.StatusUnseen:
			e.Number(st.Unseen)
		case imapwire.StatusDeleted:
			e.Number(st.Deleted)
		case imapwire.StatusSize:
			e.Number64(st.Size)
		case imapwire.StatusRecent:
			e.Number(c.statusRecent(mb.ID, st.Recent))
		case imapwire.StatusHighestModSeq:
			e.ModSeq(uint64(st.HighestModSeq))
		case imapwire.StatusDeletedStorage:
			// RFC 9208 §4.4: what EXPUNGE would free, in units of 1024
			// octets of the stored messages, rounded up as STORAGE usage.
			e.Number64(kib(st.DeletedSize))
		case imapwire.StatusMailboxID:
			e.ObjectID(mailboxObjectID(mb.ID)) // RFC 8474 §4.3
		case imapwire.StatusAppendLimit:
			if c.s.opts.AppendLimit > 0 {
				e.Number64(c.s.opts.AppendLimit)
			} else {
				e.NIL()
			}
		}
	})
	return e.CRLF()
}

// cmdCheck: RFC 3501 §6.4.1 (a NOOP in IMAP4rev2, which dropped it).
func (c *conn) cmdCheck(ctx context.Context, tag string, dec *imapwire.Decoder) error {
	dec.ExpectCRLF()
	return dec.Err()
}

// cmdClose: RFC 9051 §6.4.1. Expunges silently, then unselects.
func (c *conn) cmdClose(ctx context.Context, tag string, dec *imapwire.Decoder) error {
	if !dec.ExpectCRLF() {
		return dec.Err()
	}
	sel := c.sel
	c.setState(stateAuthenticated)
	if sel.readOnly {
		return nil
	}
	// RFC 9051 §6.4.1: what carries \Deleted in the store, decided there.
	return c.expungeDeleted(ctx, sel, nil)
}

// cmdUnselect: RFC 9051 §6.4.2 (RFC 3691).
func (c *conn) cmdUnselect(ctx context.Context, tag string, dec *imapwire.Decoder) error {
	if !dec.ExpectCRLF() {
		return dec.Err()
	}
	c.setState(stateAuthenticated)
	return nil
}
