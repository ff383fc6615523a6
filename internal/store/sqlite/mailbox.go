package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/postern/postern/internal/store"
)

const sep = string(store.HierarchySeparator)

// Mailboxes lists the account's mailboxes, ordered by name.
func (ss *Session) Mailboxes(ctx context.Context) ([]store.Mailbox, error) {
	defer observe("mailboxes", time.Now())
	if err := ss.checkOpen(); err != nil {
		return nil, err
	}
	rows, err := ss.s.rdb.QueryContext(ctx, `SELECT `+mailboxColumns+` FROM mailbox m WHERE m.account = ? ORDER BY m.name`, ss.account)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var mbs []store.Mailbox
	for rows.Next() {
		m, err := scanMailbox(rows)
		if err != nil {
			return nil, err
		}
		mbs = append(mbs, m.Mailbox)
	}
	return mbs, rows.Err()
}

// Mailbox looks a mailbox up by name.
func (ss *Session) Mailbox(ctx context.Context, name string) (store.Mailbox, error) {
	defer observe("mailbox", time.Now())
	if err := ss.checkOpen(); err != nil {
		return store.Mailbox{}, err
	}
	name, err := store.CanonicalMailboxName(name)
	if err != nil {
		return store.Mailbox{}, err
	}
	m, err := mailboxByName(ctx, ss.s.rdb, ss.account, name)
	return m.Mailbox, err
}

// Status returns a mailbox's counts.
func (ss *Session) Status(ctx context.Context, id store.MailboxID) (store.MailboxStatus, error) {
	defer observe("status", time.Now())
	var st store.MailboxStatus
	err := ss.read(ctx, func(tx *sql.Tx) error {
		m, err := ss.mailboxByID(ctx, tx, id)
		if err != nil {
			return err
		}
		st.Mailbox = m.Mailbox
		// A large mailbox's snapshot, when the store holds one, counts
		// without reading every row (snapshot.go); it is not made here,
		// since reading the list whole costs more than this count.
		if ms, err := readMailboxState(ctx, tx, id, ss.account); err != nil {
			return err
		} else if snap, ok, err := ss.s.snaps.current(ctx, tx, id, ms); err != nil {
			return err
		} else if ok {
			c := snap.count(ms.firstRecent)
			c.Mailbox = st.Mailbox
			st = c
			return nil
		}
		return tx.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(1 - seen), 0), coalesce(sum(deleted), 0), coalesce(sum(size), 0),
				coalesce(sum(uid >= (SELECT first_recent FROM mailbox WHERE id = ?1)), 0), coalesce(sum(size * deleted), 0)
			FROM message WHERE mailbox = ?1`, id).Scan(&st.Messages, &st.Unseen, &st.Deleted, &st.Size, &st.Recent, &st.DeletedSize)
	})
	return st, err
}

// CreateMailbox creates a mailbox and its missing parents.
func (ss *Session) CreateMailbox(ctx context.Context, name, specialUse string) (store.Mailbox, error) {
	defer observe("create_mailbox", time.Now())
	if err := ss.checkOpen(); err != nil {
		return store.Mailbox{}, err
	}
	name, err := store.CanonicalMailboxName(name)
	if err != nil {
		return store.Mailbox{}, err
	}
	if err := validSpecialUse(specialUse); err != nil {
		return store.Mailbox{}, err
	}
	var mb store.Mailbox
	err = ss.write(ctx, func(w *wtx) error {
		if _, err := mailboxByName(ctx, w, ss.account, name); err == nil {
			return fmt.Errorf("create mailbox %q: %w", name, store.ErrMailboxExists)
		}
		if err := w.createParents(ctx, ss.account, ss.sub.ID(), name); err != nil {
			return err
		}
		m, err := w.createMailbox(ctx, ss.account, name, specialUse)
		if err != nil {
			return err
		}
		w.publish(ss.account, ss.sub.ID(), store.ChangeMailbox{Kind: store.MailboxCreated, ID: m.ID, Name: m.Name})
		mb = m.Mailbox
		return nil
	})
	return mb, err
}

func validSpecialUse(su string) error {
	switch su {
	case "", store.SpecialAll, store.SpecialArchive, store.SpecialDrafts, store.SpecialFlagged,
		store.SpecialJunk, store.SpecialSent, store.SpecialTrash:
		return nil
	}
	return fmt.Errorf("%w: unknown special-use attribute %q", store.ErrInvalidName, su)
}

// createParents creates the missing superiors of name (RFC 9051 §6.3.4),
// announcing each to the account's other sessions.
func (w *wtx) createParents(ctx context.Context, account store.AccountID, from uint64, name string) error {
	for i := range len(name) {
		if name[i] != store.HierarchySeparator {
			continue
		}
		parent := name[:i]
		if _, err := mailboxByName(ctx, w, account, parent); err == nil {
			continue
		}
		m, err := w.createMailbox(ctx, account, parent, "")
		if err != nil {
			return err
		}
		w.publish(account, from, store.ChangeMailbox{Kind: store.MailboxCreated, ID: m.ID, Name: m.Name})
	}
	return nil
}

// createMailbox inserts a mailbox row with a fresh UIDVALIDITY. The caller
// has checked that the name is free.
func (w *wtx) createMailbox(ctx context.Context, account store.AccountID, name, specialUse string) (mailboxRow, error) {
	uidValidity, err := w.newUIDValidity(ctx)
	if err != nil {
		return mailboxRow{}, err
	}
	// HIGHESTMODSEQ starts at 1: RFC 7162 §3.1.1 reserves 0.
	res, err := w.ExecContext(ctx, `INSERT INTO mailbox (account, name, uidvalidity, uidnext, highestmodseq, special_use)
		VALUES (?, ?, ?, 1, 1, ?)`, account, name, uidValidity, specialUse)
	if err != nil {
		return mailboxRow{}, fmt.Errorf("create mailbox %q: %w", name, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return mailboxRow{}, err
	}
	w.touch(store.MailboxID(id))
	return mailboxByName(ctx, w, account, name)
}

// newUIDValidity returns the UIDVALIDITY for a new mailbox: the option's,
// or the current Unix time raised past the last value handed out, so that a
// mailbox deleted and created again in the same second still gets a new one
// (RFC 9051 §2.3.1.1).
func (w *wtx) newUIDValidity(ctx context.Context) (uint32, error) {
	if f := w.s.opts.UIDValidity; f != nil {
		return f(), nil
	}
	var last int64
	err := w.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'uidvalidity'`).Scan(&last)
	if err != nil && err != sql.ErrNoRows {
		return 0, err
	}
	v := max(w.s.now().Unix(), last+1)
	if v > 0xffffffff {
		v = 1 // QUIRK: after 2106, wrap; uniqueness then rests on the sequence
	}
	_, err = w.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('uidvalidity', ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, v)
	return uint32(v), err
}

// DeleteMailbox deletes a mailbox and its messages.
func (ss *Session) DeleteMailbox(ctx context.Context, name string) error {
	defer observe("delete_mailbox", time.Now())
	if err := ss.checkOpen(); err != nil {
		return err
	}
	name, err := store.CanonicalMailboxName(name)
	if err != nil {
		return err
	}
	if name == store.MailboxInbox {
		return fmt.Errorf("delete mailbox %q: %w", name, store.ErrNotAllowed)
	}
	return ss.write(ctx, func(w *wtx) error {
		m, err := mailboxByName(ctx, w, ss.account, name)
		if err != nil {
			return err
		}
		var children bool
		err = w.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM mailbox WHERE account = ? AND substr(name, 1, ?) = ?)`,
			ss.account, len(name)+1, name+sep).Scan(&children)
		if err != nil {
			return err
		}
		if children {
			return fmt.Errorf("delete mailbox %q: %w", name, store.ErrHasChildren)
		}
		// Cascades to the messages (releasing their content) and the
		// expunge log: the name's next mailbox has a new UIDVALIDITY.
		if _, err := w.ExecContext(ctx, `DELETE FROM mailbox WHERE id = ?`, m.ID); err != nil {
			return err
		}
		w.touch(m.ID)
		w.publish(ss.account, ss.sub.ID(), store.ChangeMailbox{Kind: store.MailboxDeleted, ID: m.ID, Name: m.Name})
		return nil
	})
}

// RenameMailbox renames a mailbox and its inferiors, keeping their IDs and
// UIDVALIDITY. Renaming INBOX moves its messages instead.
func (ss *Session) RenameMailbox(ctx context.Context, from, to string) error {
	defer observe("rename_mailbox", time.Now())
	if err := ss.checkOpen(); err != nil {
		return err
	}
	from, err := store.CanonicalMailboxName(from)
	if err != nil {
		return err
	}
	to, err = store.CanonicalMailboxName(to)
	if err != nil {
		return err
	}
	if to == from || strings.HasPrefix(to, from+sep) {
		return fmt.Errorf("rename mailbox %q to %q: %w", from, to, store.ErrNotAllowed)
	}
	return ss.write(ctx, func(w *wtx) error {
		src, err := mailboxByName(ctx, w, ss.account, from)
		if err != nil {
			return err
		}
		if _, err := mailboxByName(ctx, w, ss.account, to); err == nil {
			return fmt.Errorf("rename mailbox %q to %q: %w", from, to, store.ErrMailboxExists)
		}
		if err := w.createParents(ctx, ss.account, ss.sub.ID(), to); err != nil {
			return err
		}
		if from == store.MailboxInbox {
			return ss.renameInbox(ctx, w, src, to)
		}
		return ss.renameTree(ctx, w, src, to)
	})
}

// renameTree renames src and its inferiors.
func (ss *Session) renameTree(ctx context.Context, w *wtx, src mailboxRow, to string) error {
	rows, err := w.QueryContext(ctx, `SELECT id, name FROM mailbox WHERE account = ? AND (name = ? OR substr(name, 1, ?) = ?)
		ORDER BY name`, ss.account, src.Name, len(src.Name)+1, src.Name+sep)
	if err != nil {
		return err
	}
	type rename struct {
		id       store.MailboxID
		old, new string
	}
	var renames []rename
	for rows.Next() {
		var r rename
		if err := rows.Scan(&r.id, &r.old); err != nil {
			rows.Close()
			return err
		}
		r.new = to + r.old[len(src.Name):]
		renames = append(renames, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, r := range renames {
		if _, err := mailboxByName(ctx, w, ss.account, r.new); err == nil {
			return fmt.Errorf("rename mailbox %q to %q: %w", r.old, r.new, store.ErrMailboxExists)
		}
		if _, err := w.ExecContext(ctx, `UPDATE mailbox SET name = ? WHERE id = ?`, r.new, r.id); err != nil {
			return err
		}
		w.touch(r.id)
		w.publish(ss.account, ss.sub.ID(), store.ChangeMailbox{Kind: store.MailboxRenamed, ID: r.id, Name: r.new, OldName: r.old})
	}
	return nil
}

// renameInbox moves every message of INBOX into a new mailbox named to,
// leaving INBOX empty and its inferiors alone (RFC 9051 §6.3.6). The
// messages keep their UIDs and EmailIDs: the new mailbox has its own
// UIDVALIDITY and takes over INBOX's UIDNEXT. In INBOX they are logged as
// expunged.
func (ss *Session) renameInbox(ctx context.Context, w *wtx, inbox mailboxRow, to string) error {
	dst, err := w.createMailbox(ctx, ss.account, to, "")
	if err != nil {
		return err
	}
	w.publish(ss.account, ss.sub.ID(), store.ChangeMailbox{Kind: store.MailboxCreated, ID: dst.ID, Name: dst.Name})
	uids, err := queryUIDs(ctx, w, inbox.ID)
	if err != nil || len(uids) == 0 {
		return err
	}
	inboxModSeq, err := w.bumpModSeq(ctx, inbox.ID)
	if err != nil {
		return err
	}
	dstModSeq := inbox.HighestModSeq + 1
	stmts := []struct {
		q    string
		args []any
	}{
		{`INSERT OR REPLACE INTO expunged (mailbox, uid, modseq, at) SELECT mailbox, uid, ?, ? FROM message WHERE mailbox = ?`,
			[]any{inboxModSeq, w.s.now().UnixNano(), inbox.ID}},
		// RFC 8514 §3: the messages are saved in the new mailbox now.
		{`UPDATE message SET mailbox = ?, modseq = ?, saved = ? WHERE mailbox = ?`, []any{dst.ID, dstModSeq, w.s.now().UnixNano(), inbox.ID}},
		// The messages keep their recency: what no session claimed in INBOX
		// is unclaimed in the new mailbox.
		{`UPDATE mailbox SET uidnext = ?, highestmodseq = ?, first_recent = (SELECT first_recent FROM mailbox WHERE id = ?) WHERE id = ?`,
			[]any{inbox.UIDNext, dstModSeq, inbox.ID, dst.ID}},
	}
	for _, st := range stmts {
		if _, err := w.ExecContext(ctx, st.q, st.args...); err != nil {
			return err
		}
	}
	w.publish(ss.account, ss.sub.ID(), store.ChangeExpunge{Mailbox: inbox.ID, UIDs: uids, ModSeq: inboxModSeq})
	return nil
}

// bumpModSeq raises a mailbox's HIGHESTMODSEQ by one and returns it: the
// MODSEQ of the change being made.
func (w *wtx) bumpModSeq(ctx context.Context, id store.MailboxID) (store.ModSeq, error) {
	var ms store.ModSeq
	err := w.QueryRowContext(ctx, `UPDATE mailbox SET highestmodseq = highestmodseq + 1 WHERE id = ? RETURNING highestmodseq`, id).Scan(&ms)
	if err == nil {
		w.touch(id)
	}
	return ms, err
}

func queryUIDs(ctx context.Context, q querier, mailbox store.MailboxID) ([]store.UID, error) {
	return queryUIDList(ctx, q, `SELECT uid FROM message WHERE mailbox = ? ORDER BY uid`, mailbox)
}

// queryUIDList runs query, whose one column is a UID, and returns its rows.
func queryUIDList(ctx context.Context, q querier, query string, args ...any) ([]store.UID, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var uids []store.UID
	for rows.Next() {
		var u store.UID
		if err := rows.Scan(&u); err != nil {
			return nil, err
		}
		uids = append(uids, u)
	}
	return uids, rows.Err()
}

// SetSubscribed adds or removes a subscription by name.
func (ss *Session) SetSubscribed(ctx context.Context, name string, subscribed bool) error {
	defer observe("set_subscribed", time.Now())
	if err := ss.checkOpen(); err != nil {
		return err
	}
	name, err := store.CanonicalMailboxName(name)
	if err != nil {
		return err
	}
	return ss.write(ctx, func(w *wtx) error {
		q := `DELETE FROM subscription WHERE account = ? AND name = ?`
		if subscribed {
			q = `INSERT OR IGNORE INTO subscription (account, name) VALUES (?, ?)`
		}
		res, err := w.ExecContext(ctx, q, ss.account, name)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err == nil && n > 0 {
			w.publish(ss.account, ss.sub.ID(), store.ChangeSubscription{Name: name, Subscribed: subscribed})
		}
		return nil
	})
}

// Subscriptions lists the subscribed names, ordered.
func (ss *Session) Subscriptions(ctx context.Context) ([]string, error) {
	defer observe("subscriptions", time.Now())
	if err := ss.checkOpen(); err != nil {
		return nil, err
	}
	rows, err := ss.s.rdb.QueryContext(ctx, `SELECT name FROM subscription WHERE account = ? ORDER BY name`, ss.account)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		names = append(names, n)
	}
	return names, rows.Err()
}
