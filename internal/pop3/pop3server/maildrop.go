package pop3server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/postern/postern/internal/store"
)

// message is one message of the session's snapshot.
type message struct {
	info    store.MessageInfo
	uidl    string
	prefix  []byte // headers the view adds before the stored content
	size    int64  // octets RETR sends before dot-stuffing: prefix + content
	deleted bool   // DELE'd in this session; undone by RSET
	read    bool   // RETR'd in this session
	gone    bool   // expunged or moved away by another session
}

// maildrop is the snapshot of the served mailbox taken at login (RFC
// 1939 §4: message numbers and sizes do not change during the session).
type maildrop struct {
	mailbox store.Mailbox
	msgs    []*message
}

// uidlTimeFormat writes the arrival date inside a UIDL.
const uidlTimeFormat = "20060102150405"

// maxUIDL is the longest unique-id RFC 1939 §7 allows.
const maxUIDL = 70

// makeUIDL builds a message's unique-id from the original's idea, the
// account name and the arrival date, made unique by the EmailID, which a
// MOVE between INBOX and Mail keeps: "alice.20261125201247.42". Account
// names use only [a-z0-9._-], so every character is in 0x21-0x7E. A name
// too long for the 70-octet limit is cut; the EmailID keeps it unique.
func makeUIDL(account string, info store.MessageInfo) string {
	tail := "." + info.InternalDate.UTC().Format(uidlTimeFormat) + "." + strconv.FormatInt(int64(info.EmailID), 10)
	if len(account)+len(tail) > maxUIDL {
		account = account[:maxUIDL-len(tail)]
	}
	return account + tail
}

// view returns what the client sees of a message in addition to its
// stored content: the header prefix and the total size. Every read (LIST,
// STAT, RETR, TOP) goes through it, so a Mail11 view can plug in here and
// sizes stay exact.
func (c *conn) view(info store.MessageInfo, uidl string) (prefix []byte, size int64) {
	if c.s.opts.SendIDHeaders {
		prefix = []byte("X-POP3-Server: " + c.s.opts.Hostname + " Postern POP3 " + c.s.opts.Version + "\r\n" +
			"X-POP3-ID: " + uidl + "\r\n")
	}
	return prefix, int64(len(prefix)) + info.Size
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
	infos, err := sess.Messages(ctx, mbox.ID)
	if err != nil {
		return fmt.Errorf("list mailbox %s: %w", name, err)
	}
	// Message-Maximum: the session sees the oldest n messages; the rest
	// wait for a later session (hp-system §1.6 [INF]).
	if max := c.s.opts.MessageMaximum; max > 0 && len(infos) > max {
		infos = infos[:max]
	}
	drop := &maildrop{mailbox: mbox, msgs: make([]*message, len(infos))}
	for i, info := range infos {
		m := &message{info: info, uidl: makeUIDL(acct.Name, info)}
		m.prefix, m.size = c.view(info, m.uidl)
		drop.msgs[i] = m
	}
	sess.Changes().Take()
	c.session, c.drop = sess, drop
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
// then move read, undeleted mail from INBOX to Mail unless
// Leave-In-Newmail, then Purge-Reclaim.
func (c *conn) update() error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), updateTimeout)
	defer cancel()
	var del, read []store.UID
	for _, m := range c.drop.msgs {
		switch {
		case m.gone:
		case m.deleted:
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
	if len(read) > 0 && !c.s.opts.LeaveInNewmail && c.drop.mailbox.Name == store.MailboxInbox {
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
