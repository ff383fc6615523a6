package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/postern/postern/internal/store"
)

const sep = string(store.HierarchySeparator)

// Mailboxes lists the account's mailboxes, ordered by name (octet order).
func (ss *Session) Mailboxes(ctx context.Context) ([]store.Mailbox, error) {
	if err := ss.checkOpen(); err != nil {
		return nil, err
	}
	rows, err := ss.s.pool.Query(ctx, `SELECT `+mailboxColumns+` FROM mailbox m WHERE m.account = $1 ORDER BY m.name COLLATE "C"`, ss.account)
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
	if err := ss.checkOpen(); err != nil {
		return store.Mailbox{}, err
	}
	name, err := store.CanonicalMailboxName(name)
	if err != nil {
		return store.Mailbox{}, err
	}
	m, err := mailboxByName(ctx, ss.s.pool, ss.account, name)
	return m.Mailbox, err
}

// Status returns a mailbox's counts, from one snapshot.
func (ss *Session) Status(ctx context.Context, id store.MailboxID) (store.MailboxStatus, error) {
	var st store.MailboxStatus
	if err := ss.checkOpen(); err != nil {
		return st, err
	}
	m, err := ss.mailboxByID(ctx, ss.s.pool, id, false)
	if err != nil {
		return st, err
	}
	st.Mailbox = m.Mailbox
	err = ss.s.pool.QueryRow(ctx, `SELECT b.uidnext, b.highestmodseq, count(x.uid), count(x.uid) FILTER (WHERE NOT x.seen),
			count(x.uid) FILTER (WHERE x.deleted), coalesce(sum(x.size), 0),
			count(x.uid) FILTER (WHERE x.uid >= b.first_recent), coalesce(sum(x.size) FILTER (WHERE x.deleted), 0)
		FROM mailbox b LEFT JOIN message x ON x.mailbox = b.id WHERE b.id = $1
		GROUP BY b.id`, id).Scan(&st.UIDNext, &st.HighestModSeq, &st.Messages, &st.Unseen, &st.Deleted, &st.Size, &st.Recent, &st.DeletedSize)
	return st, err
}

// CreateMailbox creates a mailbox and its missing parents.
func (ss *Session) CreateMailbox(ctx context.Context, name, specialUse string) (store.Mailbox, error) {
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
	err = ss.tx(ctx, func(t *wtx) error {
		if err := ss.lockAccount(ctx, t); err != nil {
			return err
		}
		if _, err := mailboxByName(ctx, t, ss.account, name); err == nil {
			return fmt.Errorf("create mailbox %q: %w", name, store.ErrMailboxExists)
		}
		if err := ss.createParents(ctx, t, name); err != nil {
			return err
		}
		m, err := t.createMailbox(ctx, ss.account, name, specialUse)
		if err != nil {
			return err
		}
		ss.publish(t, store.ChangeMailbox{Kind: store.MailboxCreated, ID: m.ID, Name: m.Name})
		mb = m.Mailbox
		return nil
	})
	return mb, err
}

// lockAccount locks the session's account row: the mailbox tree's
// changes (create, rename, delete) and the quota checks of one account
// run one at a time, on every node.
func (ss *Session) lockAccount(ctx context.Context, q querier) error {
	_, err := q.Exec(ctx, `SELECT 1 FROM account WHERE id = $1 FOR UPDATE`, ss.account)
	return err
}

func validSpecialUse(su string) error {
	switch su {
	case "", store.SpecialAll, store.SpecialArchive, store.SpecialDrafts, store.SpecialFlagged,
		store.SpecialJunk, store.SpecialSent, store.SpecialTrash:
		return nil
	}
	return fmt.Errorf("%w: unknown special-use attribute %q", store.ErrInvalidName, su)
}

// createParents creates the missing superiors of name (RFC 9051 §6.3.4).
func (ss *Session) createParents(ctx context.Context, t *wtx, name string) error {
	for i := range len(name) {
		if name[i] != store.HierarchySeparator {
			continue
		}
		parent := name[:i]
		if _, err := mailboxByName(ctx, t, ss.account, parent); err == nil {
			continue
		}
		m, err := t.createMailbox(ctx, ss.account, parent, "")
		if err != nil {
			return err
		}
		ss.publish(t, store.ChangeMailbox{Kind: store.MailboxCreated, ID: m.ID, Name: m.Name})
	}
	return nil
}

// createMailbox inserts a mailbox row with a fresh UIDVALIDITY.
func (t *wtx) createMailbox(ctx context.Context, account store.AccountID, name, specialUse string) (mailboxRow, error) {
	uidValidity, err := t.newUIDValidity(ctx)
	if err != nil {
		return mailboxRow{}, err
	}
	// HIGHESTMODSEQ starts at 1: RFC 7162 §3.1.1 reserves 0.
	_, err = t.Exec(ctx, `INSERT INTO mailbox (account, name, uidvalidity, uidnext, highestmodseq, special_use)
		VALUES ($1, $2, $3, 1, 1, $4)`, account, name, int64(uidValidity), specialUse)
	if isUnique(err) {
		return mailboxRow{}, fmt.Errorf("create mailbox %q: %w", name, store.ErrMailboxExists)
	}
	if err != nil {
		return mailboxRow{}, fmt.Errorf("create mailbox %q: %w", name, err)
	}
	return mailboxByName(ctx, t, account, name)
}

// newUIDValidity returns the UIDVALIDITY for a new mailbox: the option's,
// or the current Unix time raised past the last value handed out, read
// and written under the meta row's lock so that no two nodes hand out the
// same one (RFC 9051 §2.3.1.1).
func (t *wtx) newUIDValidity(ctx context.Context) (uint32, error) {
	if f := t.s.opts.UIDValidity; f != nil {
		return f(), nil
	}
	var v int64
	err := t.QueryRow(ctx, `UPDATE meta SET value = CASE WHEN greatest($1, value + 1) > 4294967295 THEN 1 ELSE greatest($1, value + 1) END
		WHERE key = 'uidvalidity' RETURNING value`, t.s.now().Unix()).Scan(&v)
	return uint32(v), err
}

// DeleteMailbox deletes a mailbox and its messages.
func (ss *Session) DeleteMailbox(ctx context.Context, name string) error {
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
	return ss.tx(ctx, func(t *wtx) error {
		if err := ss.lockAccount(ctx, t); err != nil {
			return err
		}
		m, err := mailboxByName(ctx, t, ss.account, name)
		if err != nil {
			return err
		}
		var children bool
		err = t.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM mailbox WHERE account = $1 AND starts_with(name, $2))`,
			ss.account, name+sep).Scan(&children)
		if err != nil {
			return err
		}
		if children {
			return fmt.Errorf("delete mailbox %q: %w", name, store.ErrHasChildren)
		}
		if _, err := t.Exec(ctx, `DELETE FROM mailbox WHERE id = $1`, m.ID); err != nil {
			return err
		}
		ss.publish(t, store.ChangeMailbox{Kind: store.MailboxDeleted, ID: m.ID, Name: m.Name})
		return nil
	})
}

// RenameMailbox renames a mailbox and its inferiors, keeping their IDs and
// UIDVALIDITY. Renaming INBOX moves its messages instead.
func (ss *Session) RenameMailbox(ctx context.Context, from, to string) error {
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
	return ss.tx(ctx, func(t *wtx) error {
		if err := ss.lockAccount(ctx, t); err != nil {
			return err
		}
		src, err := mailboxByName(ctx, t, ss.account, from)
		if err != nil {
			return err
		}
		if _, err := mailboxByName(ctx, t, ss.account, to); err == nil {
			return fmt.Errorf("rename mailbox %q to %q: %w", from, to, store.ErrMailboxExists)
		}
		if err := ss.createParents(ctx, t, to); err != nil {
			return err
		}
		if from == store.MailboxInbox {
			return ss.renameInbox(ctx, t, src, to)
		}
		return ss.renameTree(ctx, t, src, to)
	})
}

// renameTree renames src and its inferiors.
func (ss *Session) renameTree(ctx context.Context, t *wtx, src mailboxRow, to string) error {
	rows, err := t.Query(ctx, `SELECT id, name FROM mailbox WHERE account = $1 AND (name = $2 OR starts_with(name, $3))
		ORDER BY name COLLATE "C"`, ss.account, src.Name, src.Name+sep)
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
		if _, err := mailboxByName(ctx, t, ss.account, r.new); err == nil {
			return fmt.Errorf("rename mailbox %q to %q: %w", r.old, r.new, store.ErrMailboxExists)
		}
		if _, err := t.Exec(ctx, `UPDATE mailbox SET name = $1 WHERE id = $2`, r.new, r.id); err != nil {
			return err
		}
		ss.publish(t, store.ChangeMailbox{Kind: store.MailboxRenamed, ID: r.id, Name: r.new, OldName: r.old})
	}
	return nil
}

// renameInbox moves every message of INBOX into a new mailbox named to,
// leaving INBOX empty and its inferiors alone (RFC 9051 §6.3.6). The
// messages keep their UIDs and EmailIDs; the new mailbox takes over
// INBOX's UIDNEXT. In INBOX they are logged as expunged.
func (ss *Session) renameInbox(ctx context.Context, t *wtx, inbox mailboxRow, to string) error {
	dst, err := t.createMailbox(ctx, ss.account, to, "")
	if err != nil {
		return err
	}
	ss.publish(t, store.ChangeMailbox{Kind: store.MailboxCreated, ID: dst.ID, Name: dst.Name})
	inboxModSeq, err := t.bumpModSeq(ctx, inbox.ID)
	if err != nil {
		return err
	}
	uids, err := queryUIDs(ctx, t, inbox.ID)
	if err != nil || len(uids) == 0 {
		return err
	}
	dstModSeq := inboxModSeq
	stmts := []struct {
		q    string
		args []any
	}{
		{`INSERT INTO expunged (mailbox, uid, modseq, at) SELECT mailbox, uid, $1, $2 FROM message WHERE mailbox = $3
			ON CONFLICT (mailbox, uid) DO UPDATE SET modseq = excluded.modseq, at = excluded.at`,
			[]any{inboxModSeq, t.s.now().UnixNano(), inbox.ID}},
		// RFC 8514 §3: the messages are saved in the new mailbox now.
		{`UPDATE message SET mailbox = $1, modseq = $2, saved = $4 WHERE mailbox = $3`, []any{dst.ID, dstModSeq, inbox.ID, t.s.now().UnixNano()}},
		{`UPDATE mailbox SET uidnext = i.uidnext, highestmodseq = $1, first_recent = i.first_recent
			FROM mailbox i WHERE i.id = $2 AND mailbox.id = $3`, []any{dstModSeq, inbox.ID, dst.ID}},
	}
	for _, st := range stmts {
		if _, err := t.Exec(ctx, st.q, st.args...); err != nil {
			return err
		}
	}
	ss.publish(t, store.ChangeExpunge{Mailbox: inbox.ID, UIDs: uids, ModSeq: inboxModSeq})
	return nil
}

// bumpModSeq raises a mailbox's HIGHESTMODSEQ by one and returns it: the
// MODSEQ of the change being made. The update locks the mailbox row until
// the commit, which orders the mailbox's writers on every node.
func (t *wtx) bumpModSeq(ctx context.Context, id store.MailboxID) (store.ModSeq, error) {
	var ms store.ModSeq
	err := t.QueryRow(ctx, `UPDATE mailbox SET highestmodseq = highestmodseq + 1 WHERE id = $1 RETURNING highestmodseq`, id).Scan(&ms)
	return ms, err
}

func queryUIDs(ctx context.Context, q querier, mailbox store.MailboxID) ([]store.UID, error) {
	rows, err := q.Query(ctx, `SELECT uid FROM message WHERE mailbox = $1 ORDER BY uid`, mailbox)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var uids []store.UID
	for rows.Next() {
		var u int64
		if err := rows.Scan(&u); err != nil {
			return nil, err
		}
		uids = append(uids, store.UID(u))
	}
	return uids, rows.Err()
}

// SetSubscribed adds or removes a subscription by name.
func (ss *Session) SetSubscribed(ctx context.Context, name string, subscribed bool) error {
	if err := ss.checkOpen(); err != nil {
		return err
	}
	name, err := store.CanonicalMailboxName(name)
	if err != nil {
		return err
	}
	return ss.tx(ctx, func(t *wtx) error {
		q := `DELETE FROM subscription WHERE account = $1 AND name = $2`
		if subscribed {
			q = `INSERT INTO subscription (account, name) VALUES ($1, $2) ON CONFLICT DO NOTHING`
		}
		tag, err := t.Exec(ctx, q, ss.account, name)
		if err != nil {
			return err
		}
		if tag.RowsAffected() > 0 {
			ss.publish(t, store.ChangeSubscription{Name: name, Subscribed: subscribed})
		}
		return nil
	})
}

// Subscriptions lists the subscribed names, ordered.
func (ss *Session) Subscriptions(ctx context.Context) ([]string, error) {
	if err := ss.checkOpen(); err != nil {
		return nil, err
	}
	rows, err := ss.s.pool.Query(ctx, `SELECT name FROM subscription WHERE account = $1 ORDER BY name COLLATE "C"`, ss.account)
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
