package pop3server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"time"

	"github.com/postern/postern/internal/mail11"
	msgparse "github.com/postern/postern/internal/message"
	"github.com/postern/postern/internal/store"
)

// message is one message of the session's snapshot. What the client sees
// of it is prefix followed by the stored content from offset skip on: the
// view (conn.view) fixes both at login, so every command agrees.
type message struct {
	info store.MessageInfo
	uidl string
	ref  store.ContentRef // opens the content without an index query; nil: ask the store
	// refAsked: resolveContent has looked for ref (found or not).
	refAsked bool
	prefix   []byte // header bytes the view sends before the stored content
	skip     int64  // octets at the start of the stored content the view leaves out
	body     int64  // offset in the stored content where TOP counts body lines; -1: ask the store
	size     int64  // octets RETR sends before dot-stuffing: prefix + content[skip:], or prefix + notice
	notice   []byte // foreign message: sent after prefix instead of the content (mail11.ForeignNotice)
	deleted  bool   // DELE'd in this session; undone by RSET
	read     bool   // RETR'd in this session
	gone     bool   // expunged or moved away by another session
}

// maildrop is the snapshot of the served mailbox taken at login (RFC
// 1939 §4: message numbers and sizes do not change during the session).
type maildrop struct {
	mailbox store.Mailbox
	msgs    []*message
}

// makeUIDL builds a message's unique-id when it has no kept one:
// store.DefaultUIDL, the original's user name plus arrival date.
func makeUIDL(account string, info store.MessageInfo) string {
	return store.DefaultUIDL(account, info)
}

// keptUIDLs returns the unique-ids the store keeps for messages imported
// from another server (store.UIDLKeeper), so that a client that left
// mail there finds it under the unique-ids it knows (docs/migration.md);
// nil when the store keeps none.
func keptUIDLs(ctx context.Context, sess store.Session, mbox store.MailboxID) (map[store.UID]string, error) {
	uk, ok := sess.(store.UIDLKeeper)
	if !ok {
		return nil, nil
	}
	var kept map[store.UID]string
	err := uk.POP3UIDLs(ctx, mbox, func(u store.UID, uidl string) error {
		if kept == nil {
			kept = make(map[store.UID]string)
		}
		kept[u] = uidl
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read kept unique-ids: %w", err)
	}
	return kept, nil
}

// viewInput is what the Mail11 view needs of a stored message besides
// its index data: its OpenVMS envelope (stored, or derived from its own
// header; nil for plain RFC 5322 mail) and the end of its stored header
// block (-1 when the store has no structure for it).
type viewInput struct {
	env       *store.VMSEnvelope
	bodyStart int64
	foreign   bool // store.MessageData.Foreign
}

// view sets what the client sees of a message: the header bytes sent
// before the stored content, the stored octets left out, where TOP counts
// body lines, and the total size. Every read (LIST, STAT, RETR, TOP) uses
// what it sets, so sizes stay exact.
//
// Without the Mail11 view (in nil) the stored content is served whole,
// after the Send-ID headers if on. With it, mail11.Decide chooses: the
// message's own header (served the same way), or the header rebuilt by
// mail11.POPHeader (with the Send-ID fields at its end) followed by the
// stored content after its own header block when the message has none
// (an imported VMS message: a lone CRLF, then the body), or by the whole
// stored content when it has one, as mail11's package doc specifies.
//
// A foreign message (hp-system §1.6) is never sent: the client gets the
// rebuilt header (from its envelope, stored or derived) and the notice
// mail11.ForeignNotice as its body.
func (c *conn) view(m *message, in *viewInput) {
	o := &c.s.opts
	m.prefix, m.skip, m.body, m.notice = nil, 0, -1, nil
	switch {
	case in != nil && in.foreign && in.env != nil:
		m.prefix = mail11.POPHeader(in.env, mail11.POPOptions{
			Options:       *o.Mail11,
			SendIDHeaders: o.SendIDHeaders,
			Server:        c.s.serverID(),
			ID:            m.uidl,
		})
		m.notice = []byte(mail11.ForeignNotice)
		m.size = int64(len(m.prefix) + len(m.notice))
		return
	case in == nil || mail11.Decide(in.env, o.IgnoreMail11Headers):
		if o.SendIDHeaders {
			m.prefix = []byte("X-POP3-Server: " + c.s.serverID() + "\r\n" +
				"X-POP3-ID: " + m.uidl + "\r\n")
		}
		if in != nil {
			m.body = in.bodyStart
		}
	default:
		m.prefix = mail11.POPHeader(in.env, mail11.POPOptions{
			Options:       *o.Mail11,
			SendIDHeaders: o.SendIDHeaders,
			Server:        c.s.serverID(),
			ID:            m.uidl,
		})
		m.body = 0
		if !in.env.OwnHeader {
			m.skip = min(max(in.bodyStart, 0), m.info.Size)
			m.body = m.skip
		}
	}
	m.size = int64(len(m.prefix)) + m.info.Size - m.skip
}

// serverID is the X-POP3-Server value: host name, product and version.
func (s *Server) serverID() string {
	return s.opts.Hostname + " Postern POP3 " + s.opts.Version
}

// viewInputs reads what the Mail11 view needs of every message in infos,
// in one store call. Mail without an OpenVMS envelope (it came by SMTP,
// LMTP or deliver) gets one derived from its own header, read from the
// store (the header block only), as VMS SMTP would have filled it in.
// With Ignore-Mail11-Headers on that read is skipped: a derived envelope
// always has an SMTP From and the message's own header, so mail11.Decide
// keeps the own header whatever the envelope says; then only the
// messages with a stored envelope or foreign content need their data, and
// a store that lists them (store.ViewDataLister) spares loading the
// others' (issue 15), which are served as stored.
//
// The result has an entry for each message whose data was asked for: nil
// when the message was removed meanwhile.
func (c *conn) viewInputs(ctx context.Context, sess store.Session, mbox store.MailboxID, infos []store.MessageInfo) (map[store.UID]*viewInput, error) {
	uids := make([]store.UID, len(infos))
	for i, info := range infos {
		uids[i] = info.UID
	}
	if vl, ok := sess.(store.ViewDataLister); ok && c.s.opts.IgnoreMail11Headers {
		special, err := vl.ViewDataUIDs(ctx, mbox)
		if err != nil {
			return nil, fmt.Errorf("messages with view data: %w", err)
		}
		// Those of the snapshot: infos may be cut by Message-Maximum.
		uids = slices.DeleteFunc(special, func(u store.UID) bool {
			_, found := slices.BinarySearchFunc(infos, u, func(in store.MessageInfo, u store.UID) int { return cmp.Compare(in.UID, u) })
			return !found
		})
	}
	out := make(map[store.UID]*viewInput, len(uids))
	for _, u := range uids {
		out[u] = nil
	}
	headerStart := make(map[store.UID]int64)
	// The view looks at the top-level part alone (where the header ends):
	// a store that can load only that spares decoding every structure.
	load := sess.MessageData
	if l, ok := sess.(store.TopDataLoader); ok {
		load = l.MessageDataTop
	}
	err := load(ctx, mbox, uids, func(d store.MessageData) error {
		in := &viewInput{env: d.VMS, bodyStart: -1, foreign: d.Foreign}
		if d.Part != nil {
			in.bodyStart = d.Part.BodyStart
			headerStart[d.Info.UID] = d.Part.HeaderStart
		}
		out[d.Info.UID] = in
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("message structure: %w", err)
	}
	for _, info := range infos {
		in := out[info.UID]
		if in == nil || in.env != nil || c.s.opts.IgnoreMail11Headers && !in.foreign {
			continue
		}
		hdr, err := readHeader(ctx, sess, mbox, info.UID, headerStart[info.UID], in.bodyStart)
		if errors.Is(err, store.ErrNoSuchMessage) {
			out[info.UID] = nil
			continue
		}
		if err != nil {
			// The message is still served, with its own header (a
			// foreign one: with its content); only the view of this
			// one message is lost.
			c.log.LogAttrs(ctx, slog.LevelError, "pop3 read message header failed",
				slog.Uint64("uid", uint64(info.UID)), slog.Any("err", err))
			continue
		}
		in.env = mail11.DeriveEnvelope(hdr, info.InternalDate)
	}
	return out, nil
}

// readHeader reads and parses the stored header block [start, end) of one
// message.
func readHeader(ctx context.Context, sess store.Session, mbox store.MailboxID, uid store.UID, start, end int64) (msgparse.Header, error) {
	content, err := sess.OpenContent(ctx, mbox, uid)
	if err != nil {
		return nil, err
	}
	defer content.Close()
	end = min(end, content.Size())
	start = min(start, end)
	hdr, err := msgparse.ReadHeader(io.NewSectionReader(content, start, end-start), 0)
	if errors.Is(err, msgparse.ErrHeaderTooLarge) {
		err = nil // derive from the fields read, as SMTP would have stored them
	}
	return hdr, err
}

// openMaildrop opens the account's mail, takes the maildrop lock and the
// snapshot. On error nothing stays open.
func (c *conn) openMaildrop(ctx context.Context, acct store.Account) (err error) {
	sess, err := c.s.opts.Store.Open(ctx, acct.ID)
	if err != nil {
		return fmt.Errorf("open session: %w", err)
	}
	defer func() {
		if err != nil {
			if c.release != nil {
				c.release()
				c.release = nil
			}
			sess.Close()
		}
	}()
	c.release, err = sess.LockMaildrop(ctx)
	if errors.Is(err, store.ErrInUse) {
		return userError{code: codeInUse, msg: fmt.Sprintf("maildrop of %q is in use by another session", acct.Name)}
	}
	if err != nil {
		return fmt.Errorf("lock maildrop: %w", err)
	}
	name := store.MailboxInbox
	if c.s.opts.UseMailFolder {
		if err := moveAll(ctx, sess); err != nil {
			return err
		}
		name = store.MailboxMail
	}
	mbox, err := sess.Mailbox(ctx, name)
	if err != nil {
		return fmt.Errorf("open mailbox %s: %w", name, err)
	}
	c.expireRetrieved(ctx, acct, mbox)
	infos, err := sess.Messages(ctx, mbox.ID)
	if err != nil {
		return fmt.Errorf("list mailbox %s: %w", name, err)
	}
	// Message-Maximum: the session sees the oldest n messages; the rest
	// wait for a later session (hp-system §1.6 [INF]).
	if max := c.s.opts.MessageMaximum; max > 0 && len(infos) > max {
		infos = infos[:max]
	}
	var inputs map[store.UID]*viewInput
	if c.s.opts.Mail11 != nil {
		if inputs, err = c.viewInputs(ctx, sess, mbox.ID, infos); err != nil {
			return err
		}
	}
	kept, err := keptUIDLs(ctx, sess, mbox.ID)
	if err != nil {
		return err
	}
	drop := &maildrop{mailbox: mbox, msgs: make([]*message, len(infos))}
	for i, info := range infos {
		m := &message{info: info, uidl: kept[info.UID]}
		if m.uidl == "" {
			m.uidl = makeUIDL(acct.Name, info)
		}
		in, asked := inputs[info.UID]
		if asked && in == nil {
			m.gone = true // removed since Messages
		}
		c.view(m, in)
		drop.msgs[i] = m
	}
	if err := resolveContent(ctx, sess, drop, 0); err != nil {
		return err
	}
	sess.Changes().Take()
	c.session, c.drop = sess, drop
	return nil
}

// refWindow is how many messages' content one store read resolves.
const refWindow = 1000

// resolveContent finds the content of the messages of the snapshot from
// index from on, refWindow of them, in one store read, when the store
// can, so that RETR and TOP open a message without an index query each:
// the maildrop is fixed for the session (RFC 1939 §4) and stored content
// never changes. Login resolves the first window and each later window
// is resolved by the first read in it (issue 15: a login on 100,000
// messages need not look up 100,000 contents a client may never read).
// A message missing from the answer keeps no ref and is looked up when
// read.
func resolveContent(ctx context.Context, sess store.Session, drop *maildrop, from int) error {
	loc, ok := sess.(store.ContentLocator)
	if !ok || from >= len(drop.msgs) {
		return nil
	}
	window := drop.msgs[from:min(from+refWindow, len(drop.msgs))]
	uids := make([]store.UID, len(window))
	for i, m := range window {
		m.refAsked = true
		uids[i] = m.info.UID
	}
	// Both lists ascend by UID (Session.Messages, ContentRefs): one walk.
	next := 0
	err := loc.ContentRefs(ctx, drop.mailbox.ID, uids, func(uid store.UID, ref store.ContentRef) error {
		for next < len(window) && window[next].info.UID < uid {
			next++
		}
		if next < len(window) && window[next].info.UID == uid {
			window[next].ref = ref
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("resolve message content: %w", err)
	}
	return nil
}

// moveAll moves every INBOX message into Mail (Use-Mail-Folder).
func moveAll(ctx context.Context, sess store.Session) error {
	inbox, err := sess.Mailbox(ctx, store.MailboxInbox)
	if err != nil {
		return fmt.Errorf("open INBOX: %w", err)
	}
	mail, err := sess.Mailbox(ctx, store.MailboxMail)
	if err != nil {
		return fmt.Errorf("open Mail: %w", err)
	}
	infos, err := sess.Messages(ctx, inbox.ID)
	if err != nil || len(infos) == 0 {
		return err
	}
	uids := make([]store.UID, len(infos))
	for i, m := range infos {
		uids[i] = m.UID
	}
	if _, err := sess.Move(ctx, inbox.ID, uids, mail.ID); err != nil {
		return fmt.Errorf("move INBOX to Mail: %w", err)
	}
	return nil
}

// syncChanges applies the changes other sessions committed since the
// last command: messages they removed are marked gone. The snapshot keeps
// its numbering and sizes (RFC 1939 §4); draining also keeps the
// subscription's queue short.
func (c *conn) syncChanges() {
	if c.session == nil {
		return
	}
	var gone map[store.UID]bool
	for _, ch := range c.session.Changes().Take() {
		if ex, ok := ch.(store.ChangeExpunge); ok && ex.Mailbox == c.drop.mailbox.ID {
			if gone == nil {
				gone = map[store.UID]bool{}
			}
			for _, u := range ex.UIDs {
				gone[u] = true
			}
		}
	}
	if len(gone) == 0 {
		return // the common case: no walk of the maildrop per command
	}
	for _, m := range c.drop.msgs {
		if gone[m.info.UID] {
			m.gone = true
		}
	}
}

// updateTimeout bounds the UPDATE state's store work, which runs even if
// the client has gone.
const updateTimeout = time.Minute

// update is the UPDATE state (RFC 1939 §6): remove the DELE'd messages,
// record the first retrieval of the read ones (EXPIRE N), then move read,
// undeleted mail from INBOX to Mail unless Leave-In-Newmail, then
// Purge-Reclaim. A foreign message is never removed (hp-system §1.6):
// retrieved or DELE'd, it moves to Mail, Leave-In-Newmail or not, and is
// not marked retrieved (its content was never sent).
func (c *conn) update() error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), updateTimeout)
	defer cancel()
	var del, read, foreign []store.UID
	for _, m := range c.drop.msgs {
		switch {
		case m.gone:
		case m.notice != nil:
			if m.deleted || m.read {
				foreign = append(foreign, m.info.UID)
			}
		case m.deleted, m.read && c.s.opts.Expire.zero(): // EXPIRE 0: RFC 2449 §6.7
			del = append(del, m.info.UID)
		case m.read:
			read = append(read, m.info.UID)
		}
	}
	id := c.drop.mailbox.ID
	if len(del) > 0 {
		if _, err := c.session.Expunge(ctx, id, del); err != nil {
			return fmt.Errorf("expunge %d messages: %w", len(del), err)
		}
	}
	c.markRetrieved(ctx, read) // EXPIRE N: the clock starts at the first retrieval
	if c.s.opts.LeaveInNewmail {
		read = nil
	}
	if read = append(read, foreign...); len(read) > 0 && c.drop.mailbox.Name == store.MailboxInbox {
		slices.Sort(read)
		if err := c.moveRead(ctx, read); err != nil {
			// The deletions are done; mail left in INBOX loses nothing.
			c.log.LogAttrs(ctx, slog.LevelError, "pop3 move read mail failed", slog.Any("err", err))
		}
	}
	if len(del) > 0 && c.s.opts.PurgeReclaim {
		n, err := c.s.opts.Store.Reclaim(ctx)
		if err != nil {
			c.log.LogAttrs(ctx, slog.LevelError, "pop3 purge-reclaim failed", slog.Any("err", err))
		} else {
			c.log.LogAttrs(ctx, slog.LevelDebug, "pop3 purge-reclaim done", slog.Int("files", n))
		}
	}
	return nil
}

func (c *conn) moveRead(ctx context.Context, uids []store.UID) error {
	mail, err := c.session.Mailbox(ctx, store.MailboxMail)
	if err != nil {
		return fmt.Errorf("open Mail: %w", err)
	}
	if _, err := c.session.Move(ctx, c.drop.mailbox.ID, uids, mail.ID); err != nil {
		return fmt.Errorf("move %d read messages to Mail: %w", len(uids), err)
	}
	return nil
}

// closeMaildrop releases the lock and the session.
func (c *conn) closeMaildrop() {
	if c.release != nil {
		c.release()
		c.release = nil
	}
	if c.session != nil {
		c.session.Close()
		c.session = nil
		c.s.stats.RemoveUser(c.account.Name)
	}
}
