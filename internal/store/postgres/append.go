package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/postern/postern/internal/store"
	"github.com/postern/postern/internal/store/body"
	"github.com/postern/postern/internal/store/sqlrow"
)

var _ store.Replacer = (*Session)(nil)

// spooled is an append request whose body is durable in the body store
// and that waits for its index rows.
type spooled struct {
	*body.Prepared
	name string
	uid  store.UID // the UID asked for (store.IdentifiedAppend); 0: the next
	uidl string    // the POP3 unique-id to keep, or ""
}

// Append adds messages to a mailbox, all or none, and returns once they
// are durable: each body is first written on its own through the shared
// pipeline (body.Prepare), then one transaction indexes them all.
func (ss *Session) Append(ctx context.Context, mailbox store.MailboxID, reqs ...store.AppendRequest) ([]store.AppendResult, error) {
	if err := ss.checkOpen(); err != nil {
		return nil, err
	}
	if len(reqs) == 0 {
		return nil, nil
	}
	if _, err := ss.mailboxByID(ctx, ss.s.pool, mailbox, false); err != nil {
		return nil, err
	}
	var results []store.AppendResult
	err := ss.spoolAndIndex(ctx, reqs, func(t *wtx, spool []*spooled) error {
		var err error
		results, err = ss.index(ctx, t, mailbox, spool)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("append: %w", err)
	}
	return results, nil
}

// spoolAndIndex writes the bodies of reqs, then runs indexFn in one
// transaction. Bodies of a transaction that failed are removed; one whose
// commit's fate is unknown is left for Reclaim's sweep, which removes it
// only if no content row names it.
func (ss *Session) spoolAndIndex(ctx context.Context, reqs []store.AppendRequest, indexFn func(t *wtx, spool []*spooled) error) error {
	spool := make([]*spooled, 0, len(reqs))
	keep := false
	defer func() {
		if keep {
			return
		}
		for _, sp := range spool {
			ss.s.bodies.Remove(context.Background(), sp.name)
		}
	}()
	for i, req := range reqs {
		sp, err := ss.s.spool(ctx, req)
		if err != nil {
			return fmt.Errorf("message %d of %d: %w", i+1, len(reqs), err)
		}
		spool = append(spool, sp)
	}
	err := ss.tx(ctx, func(t *wtx) error { return indexFn(t, spool) })
	if err == nil {
		keep = true
	}
	return err
}

// spool runs one request through the append pipeline into a new body.
func (s *Store) spool(ctx context.Context, req store.AppendRequest) (*spooled, error) {
	w, err := s.bodies.Create(ctx)
	if err != nil {
		return nil, err
	}
	p, err := body.Prepare(ctx, w, req, s.now())
	if err != nil {
		w.Abort()
		return nil, err
	}
	// PostgreSQL indexes in the delivering transaction (docs/scale-out.md):
	// its GIN indexes defer their own work (fastupdate's pending list).
	p.IndexDoc(w)
	sp := &spooled{Prepared: p, name: body.NewName()}
	if err := w.Commit(ctx, sp.name); err != nil {
		return nil, err
	}
	return sp, nil
}

// index inserts the content and message rows of spooled messages in t,
// assigning UIDs from the locked mailbox row and one new MODSEQ.
func (ss *Session) index(ctx context.Context, t *wtx, mailbox store.MailboxID, spool []*spooled) ([]store.AppendResult, error) {
	if err := ss.lockAccount(ctx, t); err != nil {
		return nil, err
	}
	mb, err := ss.mailboxByID(ctx, t, mailbox, true)
	if err != nil {
		return nil, err
	}
	uids, err := assignUIDs(ctx, t, mb, spool)
	if err != nil {
		return nil, err
	}
	if err := checkImportKeys(ctx, t, mailbox, spool); err != nil {
		return nil, err
	}
	var octets int64
	for _, sp := range spool {
		octets += sp.Size
	}
	if err := t.checkQuota(ctx, ss.account, octets, int64(len(spool))); err != nil {
		return nil, err
	}
	modseq, err := t.bumpModSeq(ctx, mailbox)
	if err != nil {
		return nil, err
	}
	results := make([]store.AppendResult, len(spool))
	chs := make([]store.Change, len(spool))
	for i, sp := range spool {
		mi := store.MessageInfo{UID: uids[i], ModSeq: modseq, Flags: sp.Flags, InternalDate: sp.Date, Size: sp.Size}
		if mi.EmailID, err = t.insertMessage(ctx, mailbox, mi, sp); err != nil {
			return nil, err
		}
		if err := assignThread(ctx, t, ss.account, mi.EmailID, sp.Thread); err != nil {
			return nil, err
		}
		results[i] = store.AppendResult{UIDValidity: mb.UIDValidity, UID: mi.UID, EmailID: mi.EmailID, ModSeq: modseq, Size: sp.Size}
		chs[i] = store.ChangeAdd{Mailbox: mailbox, Info: mi}
	}
	if _, err := t.Exec(ctx, `UPDATE mailbox SET uidnext = $1 WHERE id = $2`, int64(uids[len(uids)-1])+1, mailbox); err != nil {
		return nil, err
	}
	ss.publish(t, chs...)
	return results, nil
}

// insertMessage inserts a content row for sp and a message row for it.
func (t *wtx) insertMessage(ctx context.Context, mailbox store.MailboxID, mi store.MessageInfo, sp *spooled) (store.EmailID, error) {
	var contentID int64
	err := t.QueryRow(ctx, `INSERT INTO content (body, size, sha256, part, vms, is_foreign, foreign_head, preview)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`, sp.name, sp.Size, sp.Sum, sp.PartBin, sp.VMS, sp.Foreign, sp.Head, sp.Preview).Scan(&contentID)
	if err != nil {
		return 0, fmt.Errorf("insert content: %w", err)
	}
	if err := insertSearch(ctx, t, contentID, sp.Doc); err != nil {
		return 0, err
	}
	var id store.EmailID
	err = t.QueryRow(ctx, `INSERT INTO message (mailbox, uid, modseq, flags, seen, deleted, internal_date, internal_zone, size, content, import_key, pop3_uidl, saved)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`,
		mailbox, int64(mi.UID), int64(mi.ModSeq), flagArray(mi.Flags), mi.Flags.Has(store.FlagSeen), mi.Flags.Has(store.FlagDeleted),
		sqlrow.TimeToInt(mi.InternalDate), zoneOf(mi.InternalDate), mi.Size, contentID, nullString(sp.ImportKey), nullString(sp.uidl), t.s.now().UnixNano()).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("insert message: %w", err)
	}
	return id, nil
}

// checkImportKeys fails with ErrDuplicate when two requests share an
// import key or one is in the mailbox already.
func checkImportKeys(ctx context.Context, q querier, mailbox store.MailboxID, spool []*spooled) error {
	keys := make(map[string]bool)
	for _, sp := range spool {
		if sp.ImportKey == "" {
			continue
		}
		if keys[sp.ImportKey] {
			return fmt.Errorf("append import key %q: %w", sp.ImportKey, store.ErrDuplicate)
		}
		keys[sp.ImportKey] = true
		var dup bool
		err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM message WHERE mailbox = $1 AND import_key = $2)`, mailbox, sp.ImportKey).Scan(&dup)
		if err != nil {
			return err
		}
		if dup {
			return fmt.Errorf("append import key %q: %w", sp.ImportKey, store.ErrDuplicate)
		}
	}
	return nil
}

// Replace appends req to mailbox and expunges message uid of from in one
// transaction (RFC 8508 §3.4); the old message goes first, so the quota
// check sees only the net change.
func (ss *Session) Replace(ctx context.Context, mailbox store.MailboxID, req store.AppendRequest, from store.MailboxID, uid store.UID) (store.AppendResult, error) {
	if err := ss.checkOpen(); err != nil {
		return store.AppendResult{}, err
	}
	if _, err := ss.mailboxByID(ctx, ss.s.pool, mailbox, false); err != nil {
		return store.AppendResult{}, err
	}
	var res store.AppendResult
	err := ss.spoolAndIndex(ctx, []store.AppendRequest{req}, func(t *wtx, spool []*spooled) error {
		if err := ss.lockAccount(ctx, t); err != nil {
			return err
		}
		// Both mailboxes locked in ID order before either is written.
		for _, id := range []store.MailboxID{min(mailbox, from), max(mailbox, from)} {
			if _, err := ss.mailboxByID(ctx, t, id, true); err != nil {
				return err
			}
		}
		if err := ss.expungeOne(ctx, t, from, uid); err != nil {
			return err
		}
		results, err := ss.index(ctx, t, mailbox, spool)
		if err != nil {
			return err
		}
		res = results[0]
		return nil
	})
	if err != nil {
		return store.AppendResult{}, fmt.Errorf("replace: %w", err)
	}
	return res, nil
}

// expungeOne removes message uid of mailbox in t with a new MODSEQ;
// store.ErrNoSuchMessage when it is not there.
func (ss *Session) expungeOne(ctx context.Context, t *wtx, mailbox store.MailboxID, uid store.UID) error {
	var one int
	err := t.QueryRow(ctx, `SELECT 1 FROM message WHERE mailbox = $1 AND uid = $2`, mailbox, int64(uid)).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("message %d: %w", uid, store.ErrNoSuchMessage)
	} else if err != nil {
		return err
	}
	modseq, err := t.bumpModSeq(ctx, mailbox)
	if err != nil {
		return err
	}
	if err := t.expunge(ctx, mailbox, []store.UID{uid}, modseq); err != nil {
		return err
	}
	ss.publish(t, store.ChangeExpunge{Mailbox: mailbox, UIDs: []store.UID{uid}, ModSeq: modseq})
	return nil
}

// nullString is s, or NULL for "".
func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// assignUIDs gives each spooled message its UID: the one it asks for,
// which must not be below the next (RFC 9051 §2.3.1.1: UIDs ascend as
// messages are added), or the next.
func assignUIDs(ctx context.Context, q querier, mb mailboxRow, spool []*spooled) ([]store.UID, error) {
	uids := make([]store.UID, len(spool))
	next := int64(mb.UIDNext)
	for i, sp := range spool {
		if sp.uid != 0 && int64(sp.uid) < next {
			var taken bool
			err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM message WHERE mailbox = $1 AND uid = $2)`, mb.ID, int64(sp.uid)).Scan(&taken)
			switch {
			case err != nil:
				return nil, err
			case taken:
				return nil, fmt.Errorf("append UID %d: %w", sp.uid, store.ErrDuplicate)
			}
			return nil, fmt.Errorf("append UID %d to %q (UIDNEXT %d): %w", sp.uid, mb.Name, next, store.ErrUIDOrder)
		}
		if sp.uid != 0 {
			next = int64(sp.uid)
		}
		if next > maxUID {
			return nil, fmt.Errorf("mailbox %q: UIDs exhausted: %w", mb.Name, store.ErrNotAllowed)
		}
		uids[i] = store.UID(next)
		next++
	}
	return uids, nil
}
