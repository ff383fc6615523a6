package postgres

import (
	"context"
	"sync"

	"github.com/postern/postern/internal/store"
)

// tracker is what the listener last told this node's sessions about each
// mailbox: after a lost connection, the resync publishes the difference
// between it and the database, so that no change committed while the
// listener was away is missed (a read by MODSEQ, RFC 7162 style).
type tracker struct {
	mu    sync.Mutex
	boxes map[store.MailboxID]boxState
}

// boxState is a mailbox as last published.
type boxState struct {
	account store.AccountID
	name    string
	uidnext store.UID    // above every UID published as added
	modseq  store.ModSeq // every change up to it was published
}

func loadTracker(ctx context.Context, q querier) (*tracker, error) {
	boxes, err := loadBoxes(ctx, q)
	if err != nil {
		return nil, err
	}
	return &tracker{boxes: boxes}, nil
}

func loadBoxes(ctx context.Context, q querier) (map[store.MailboxID]boxState, error) {
	rows, err := q.Query(ctx, `SELECT id, account, name, uidnext, highestmodseq FROM mailbox`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	boxes := make(map[store.MailboxID]boxState)
	for rows.Next() {
		var id store.MailboxID
		var b boxState
		var uidnext, modseq int64
		if err := rows.Scan(&id, &b.account, &b.name, &uidnext, &modseq); err != nil {
			return nil, err
		}
		b.uidnext, b.modseq = store.UID(uidnext), store.ModSeq(modseq)
		boxes[id] = b
	}
	return boxes, rows.Err()
}

// note records published changes.
func (k *tracker) note(account store.AccountID, chs []store.Change) {
	k.mu.Lock()
	defer k.mu.Unlock()
	raise := func(id store.MailboxID, ms store.ModSeq, next store.UID) {
		b, ok := k.boxes[id]
		if !ok {
			return
		}
		b.modseq = max(b.modseq, ms)
		b.uidnext = max(b.uidnext, next)
		k.boxes[id] = b
	}
	for _, c := range chs {
		switch c := c.(type) {
		case store.ChangeAdd:
			raise(c.Mailbox, c.Info.ModSeq, c.Info.UID+1)
		case store.ChangeFlags:
			raise(c.Mailbox, c.ModSeq, 0)
		case store.ChangeExpunge:
			raise(c.Mailbox, c.ModSeq, 0)
		case store.ChangeMailbox:
			switch c.Kind {
			case store.MailboxCreated:
				k.boxes[c.ID] = boxState{account: account, name: c.Name, uidnext: 1, modseq: 1}
			case store.MailboxDeleted:
				delete(k.boxes, c.ID)
			case store.MailboxRenamed:
				if b, ok := k.boxes[c.ID]; ok {
					b.name = c.Name
					k.boxes[c.ID] = b
				}
			}
		}
	}
}

// resync publishes, per account, what changed in the database since the
// tracker's state: mailboxes created, renamed and deleted, messages added
// (UID at or above the known UIDNEXT), flags changed and expunges, read
// by MODSEQ above the known one. A session that already had a change
// again finds it idempotent (a known UID, a MODSEQ not above its own).
func (l *listener) resync(ctx context.Context) error {
	now, err := loadBoxes(ctx, l.s.pool)
	if err != nil {
		return err
	}
	l.known.mu.Lock()
	old := l.known.boxes
	l.known.mu.Unlock()
	out := map[store.AccountID][]store.Change{}
	for id, b := range old {
		if _, ok := now[id]; !ok {
			out[b.account] = append(out[b.account], store.ChangeMailbox{Kind: store.MailboxDeleted, ID: id, Name: b.name})
		}
	}
	for id, n := range now {
		o, ok := old[id]
		switch {
		case !ok:
			out[n.account] = append(out[n.account], store.ChangeMailbox{Kind: store.MailboxCreated, ID: id, Name: n.name})
			o = boxState{account: n.account, name: n.name, uidnext: 1, modseq: 0}
		case o.name != n.name:
			out[n.account] = append(out[n.account], store.ChangeMailbox{Kind: store.MailboxRenamed, ID: id, Name: n.name, OldName: o.name})
		}
		if n.modseq > o.modseq {
			chs, err := l.messagesSince(ctx, id, o)
			if err != nil {
				return err
			}
			out[n.account] = append(out[n.account], chs...)
		}
	}
	l.known.mu.Lock()
	l.known.boxes = now
	l.known.mu.Unlock()
	for account, chs := range out {
		l.s.notify.Publish(account, 0, chs)
	}
	return nil
}

// messagesSince reads a mailbox's messages and expunges with a MODSEQ
// above o's, as changes: additions first in UID order, then flag
// changes, then the expunges.
func (l *listener) messagesSince(ctx context.Context, id store.MailboxID, o boxState) ([]store.Change, error) {
	rows, err := l.s.pool.Query(ctx, `SELECT `+infoColumns+` FROM message m WHERE m.mailbox = $1 AND m.modseq > $2 ORDER BY m.uid`,
		id, int64(o.modseq))
	if err != nil {
		return nil, err
	}
	var adds, flags []store.Change
	for rows.Next() {
		mi, err := scanInfo(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		if mi.UID >= o.uidnext {
			adds = append(adds, store.ChangeAdd{Mailbox: id, Info: mi})
		} else {
			flags = append(flags, store.ChangeFlags{Mailbox: id, UID: mi.UID, ModSeq: mi.ModSeq, Flags: mi.Flags})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	erows, err := l.s.pool.Query(ctx, `SELECT uid, modseq FROM expunged WHERE mailbox = $1 AND modseq > $2 ORDER BY modseq, uid`,
		id, int64(o.modseq))
	if err != nil {
		return nil, err
	}
	defer erows.Close()
	var gone []store.Change
	for erows.Next() {
		var uid, ms int64
		if err := erows.Scan(&uid, &ms); err != nil {
			return nil, err
		}
		if n := len(gone); n > 0 && gone[n-1].(store.ChangeExpunge).ModSeq == store.ModSeq(ms) {
			e := gone[n-1].(store.ChangeExpunge)
			e.UIDs = append(e.UIDs, store.UID(uid))
			gone[n-1] = e
			continue
		}
		gone = append(gone, store.ChangeExpunge{Mailbox: id, UIDs: []store.UID{store.UID(uid)}, ModSeq: store.ModSeq(ms)})
	}
	return append(append(adds, flags...), gone...), erows.Err()
}
