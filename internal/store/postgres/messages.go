package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/postern/postern/internal/message"
	"github.com/postern/postern/internal/store"
)

// messageDataChunk bounds the parsed structures MessageData holds at once.
const messageDataChunk = 256

const infoColumns = `m.uid, m.id, m.modseq, m.flags, m.internal_date, m.internal_zone, m.size`

// scanInfo scans the infoColumns followed by extra destinations.
func scanInfo(row pgx.Row, extra ...any) (store.MessageInfo, error) {
	var mi store.MessageInfo
	var uid, modseq int64
	var date int64
	var zone int32
	var flags []string
	dest := append([]any{&uid, &mi.EmailID, &modseq, &flags, &date, &zone, &mi.Size}, extra...)
	if err := row.Scan(dest...); err != nil {
		return mi, err
	}
	mi.UID, mi.ModSeq = store.UID(uid), store.ModSeq(modseq)
	if len(flags) > 0 {
		mi.Flags = flags
	}
	mi.InternalDate = zonedTime(date, int64(zone))
	return mi, nil
}

// uidArray is a UID list as a query argument.
func uidArray(uids []store.UID) []int64 {
	out := make([]int64, len(uids))
	for i, u := range uids {
		out[i] = int64(u)
	}
	return out
}

// normalizeUIDs returns uids sorted and without duplicates or zeros.
func normalizeUIDs(uids []store.UID) []store.UID {
	uids = slices.Clone(uids)
	slices.Sort(uids)
	uids = slices.Compact(uids)
	if len(uids) > 0 && uids[0] == 0 {
		uids = uids[1:]
	}
	return uids
}

// Messages returns the index data of every message in a mailbox, by UID.
func (ss *Session) Messages(ctx context.Context, mailbox store.MailboxID) ([]store.MessageInfo, error) {
	if err := ss.checkOpen(); err != nil {
		return nil, err
	}
	if _, err := ss.mailboxByID(ctx, ss.s.pool, mailbox, false); err != nil {
		return nil, err
	}
	rows, err := ss.s.pool.Query(ctx, `SELECT `+infoColumns+` FROM message m WHERE m.mailbox = $1 ORDER BY m.uid`, mailbox)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var infos []store.MessageInfo
	for rows.Next() {
		mi, err := scanInfo(rows)
		if err != nil {
			return nil, err
		}
		infos = append(infos, mi)
	}
	return infos, rows.Err()
}

// MessageData streams the structure and OpenVMS envelope of the messages
// in uids, in ascending UID order, a chunk per query; fn runs between
// queries.
func (ss *Session) MessageData(ctx context.Context, mailbox store.MailboxID, uids []store.UID, fn func(store.MessageData) error) error {
	return ss.messageData(ctx, mailbox, uids, (*message.Part).UnmarshalBinary, func(md store.MessageData, _ string) error { return fn(md) })
}

// MessageDataTop is MessageData with only the top-level part of each
// structure.
func (ss *Session) MessageDataTop(ctx context.Context, mailbox store.MailboxID, uids []store.UID, fn func(store.MessageData) error) error {
	return ss.messageData(ctx, mailbox, uids, (*message.Part).UnmarshalBinaryTop, func(md store.MessageData, _ string) error { return fn(md) })
}

// MessageDataRefs is MessageData with each message's ContentRef.
func (ss *Session) MessageDataRefs(ctx context.Context, mailbox store.MailboxID, uids []store.UID, fn func(store.MessageData, store.ContentRef) error) error {
	return ss.messageData(ctx, mailbox, uids, (*message.Part).UnmarshalBinary, func(md store.MessageData, name string) error {
		return fn(md, contentRef{ss: ss, name: name})
	})
}

func (ss *Session) messageData(ctx context.Context, mailbox store.MailboxID, uids []store.UID,
	unmarshal func(*message.Part, []byte) error, fn func(store.MessageData, string) error) error {
	if err := ss.checkOpen(); err != nil {
		return err
	}
	if _, err := ss.mailboxByID(ctx, ss.s.pool, mailbox, false); err != nil {
		return err
	}
	uids = normalizeUIDs(uids)
	for len(uids) > 0 {
		n := min(len(uids), messageDataChunk)
		batch, names, err := ss.readData(ctx, mailbox, uids[:n], unmarshal)
		if err != nil {
			return err
		}
		uids = uids[n:]
		for i, md := range batch {
			if err := fn(md, names[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

func (ss *Session) readData(ctx context.Context, mailbox store.MailboxID, uids []store.UID,
	unmarshal func(*message.Part, []byte) error) ([]store.MessageData, []string, error) {
	rows, err := ss.s.pool.Query(ctx, `SELECT `+infoColumns+`, c.part, c.vms, c.is_foreign, c.foreign_head, c.body
		FROM message m JOIN content c ON c.id = m.content WHERE m.mailbox = $1 AND m.uid = ANY($2) ORDER BY m.uid`,
		mailbox, uidArray(uids))
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var out []store.MessageData
	var names []string
	for rows.Next() {
		var partData, vmsData, head []byte
		var name string
		md := store.MessageData{}
		md.Info, err = scanInfo(rows, &partData, &vmsData, &md.Foreign, &head, &name)
		if err != nil {
			return nil, nil, err
		}
		if md.Foreign {
			md.ForeignHead = head
		}
		if md.Part, md.VMS, err = decodeStructure(partData, vmsData, unmarshal); err != nil {
			return nil, nil, fmt.Errorf("message uid %d: %w", md.Info.UID, err)
		}
		out = append(out, md)
		names = append(names, name)
	}
	return out, names, rows.Err()
}

func decodeStructure(partData, vmsData []byte, unmarshal func(*message.Part, []byte) error) (*message.Part, *store.VMSEnvelope, error) {
	var part *message.Part
	if partData != nil {
		part = new(message.Part)
		if err := unmarshal(part, partData); err != nil {
			return nil, nil, fmt.Errorf("decode structure: %w", err)
		}
	}
	var vms *store.VMSEnvelope
	if vmsData != nil {
		vms = new(store.VMSEnvelope)
		if err := json.Unmarshal(vmsData, vms); err != nil {
			return nil, nil, fmt.Errorf("decode vms envelope: %w", err)
		}
	}
	return part, vms, nil
}

// contentRef is a message's body, resolved once.
type contentRef struct {
	ss   *Session
	name string
}

// Open opens the body; one reclaimed since is store.ErrNoSuchMessage.
func (r contentRef) Open() (store.Content, error) {
	if err := r.ss.checkOpen(); err != nil {
		return nil, err
	}
	return r.ss.s.bodies.Open(context.Background(), r.name)
}

// ContentRefs resolves the bodies of the messages in uids in one read and
// calls fn for each in ascending UID order.
func (ss *Session) ContentRefs(ctx context.Context, mailbox store.MailboxID, uids []store.UID, fn func(store.UID, store.ContentRef) error) error {
	if err := ss.checkOpen(); err != nil {
		return err
	}
	if _, err := ss.mailboxByID(ctx, ss.s.pool, mailbox, false); err != nil {
		return err
	}
	rows, err := ss.s.pool.Query(ctx, `SELECT m.uid, c.body FROM message m JOIN content c ON c.id = m.content
		WHERE m.mailbox = $1 AND m.uid = ANY($2) ORDER BY m.uid`, mailbox, uidArray(normalizeUIDs(uids)))
	if err != nil {
		return err
	}
	type ref struct {
		uid  int64
		name string
	}
	var refs []ref
	for rows.Next() {
		var r ref
		if err := rows.Scan(&r.uid, &r.name); err != nil {
			rows.Close()
			return err
		}
		refs = append(refs, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, r := range refs {
		if err := fn(store.UID(r.uid), contentRef{ss: ss, name: r.name}); err != nil {
			return err
		}
	}
	return nil
}

// OpenContent opens the body of one message.
func (ss *Session) OpenContent(ctx context.Context, mailbox store.MailboxID, uid store.UID) (store.Content, error) {
	name, err := ss.contentOf(ctx, mailbox, uid)
	if err != nil {
		return nil, err
	}
	return ss.s.bodies.Open(ctx, name)
}

// ContentID returns the name of the body a message refers to.
func (ss *Session) ContentID(ctx context.Context, mailbox store.MailboxID, uid store.UID) (string, error) {
	return ss.contentOf(ctx, mailbox, uid)
}

func (ss *Session) contentOf(ctx context.Context, mailbox store.MailboxID, uid store.UID) (string, error) {
	if err := ss.checkOpen(); err != nil {
		return "", err
	}
	var name string
	err := ss.s.pool.QueryRow(ctx, `SELECT c.body FROM message m JOIN content c ON c.id = m.content JOIN mailbox b ON b.id = m.mailbox
		WHERE m.mailbox = $1 AND m.uid = $2 AND b.account = $3`, mailbox, int64(uid), ss.account).Scan(&name)
	if errors.Is(err, pgx.ErrNoRows) {
		if _, merr := ss.mailboxByID(ctx, ss.s.pool, mailbox, false); merr != nil {
			return "", merr
		}
		return "", fmt.Errorf("uid %d: %w", uid, store.ErrNoSuchMessage)
	}
	return name, err
}

// ExpungedSince returns the UIDs expunged from a mailbox after since, and
// whether the log still holds every one of them.
func (ss *Session) ExpungedSince(ctx context.Context, mailbox store.MailboxID, since store.ModSeq) ([]store.UID, bool, error) {
	if err := ss.checkOpen(); err != nil {
		return nil, false, err
	}
	var uids []store.UID
	var floor int64
	err := pgx.BeginTxFunc(ctx, ss.s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if _, err := ss.mailboxByID(ctx, tx, mailbox, false); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT expunge_floor FROM mailbox WHERE id = $1`, mailbox).Scan(&floor); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT uid FROM expunged WHERE mailbox = $1 AND modseq > $2 ORDER BY uid`, mailbox, int64(since))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var u int64
			if err := rows.Scan(&u); err != nil {
				return err
			}
			uids = append(uids, store.UID(u))
		}
		return rows.Err()
	})
	if err != nil {
		return nil, false, err
	}
	return uids, int64(since) >= floor, nil
}

// PruneExpunged removes the expunge log's entries logged before olderThan
// and raises each mailbox's expunge_floor to the highest MODSEQ it
// removed there, in one transaction.
func (s *Store) PruneExpunged(ctx context.Context, olderThan time.Time) (int, error) {
	var n int64
	err := s.tx(ctx, func(t *wtx) error {
		cut := olderThan.UnixNano()
		if _, err := t.Exec(ctx, `UPDATE mailbox SET expunge_floor = greatest(expunge_floor, e.top)
			FROM (SELECT mailbox, max(modseq) AS top FROM expunged WHERE at < $1 GROUP BY mailbox) e
			WHERE mailbox.id = e.mailbox`, cut); err != nil {
			return err
		}
		tag, err := t.Exec(ctx, `DELETE FROM expunged WHERE at < $1`, cut)
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("prune expunge log: %w", err)
	}
	return int(n), nil
}

var _ store.ViewDataLister = (*Session)(nil)

// ViewDataUIDs lists the messages of a mailbox whose content has an
// OpenVMS envelope or is foreign, filtered in the database (issue 15).
func (ss *Session) ViewDataUIDs(ctx context.Context, mailbox store.MailboxID) ([]store.UID, error) {
	if err := ss.checkOpen(); err != nil {
		return nil, err
	}
	if _, err := ss.mailboxByID(ctx, ss.s.pool, mailbox, false); err != nil {
		return nil, err
	}
	rows, err := ss.s.pool.Query(ctx, `SELECT m.uid FROM message m JOIN content c ON c.id = m.content
		WHERE m.mailbox = $1 AND (c.vms IS NOT NULL OR c.is_foreign) ORDER BY m.uid`, mailbox)
	if err != nil {
		return nil, err
	}
	uids, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.UID, error) {
		var u int64
		err := r.Scan(&u)
		return store.UID(u), err
	})
	return uids, err
}
