package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"time"

	"github.com/postern/postern/internal/store"
	"github.com/postern/postern/internal/store/body"
)

var _ store.ContentLocator = (*Session)(nil)

// contentRef is a message's content file, resolved once: a session that
// reads many messages opens each without another index query.
type contentRef struct {
	ss   *Session
	file string
	size int64
}

// Open opens the content file. A file reclaimed since the ref was made
// (its message was expunged) is store.ErrNoSuchMessage.
func (r contentRef) Open() (store.Content, error) {
	defer observe("open_content_ref", time.Now())
	if err := r.ss.checkOpen(); err != nil {
		return nil, err
	}
	f, err := body.OpenReadOnly(r.ss.s.contentPath(r.file))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("content %s: %w", r.file, store.ErrNoSuchMessage)
	}
	if err != nil {
		return nil, err
	}
	return content{f, r.size}, nil
}

// ContentRefs resolves the content files of the messages in uids, in one
// read per chunk of UIDs, and calls fn for each in ascending UID order.
func (ss *Session) ContentRefs(ctx context.Context, mailbox store.MailboxID, uids []store.UID, fn func(store.UID, store.ContentRef) error) error {
	defer observe("content_refs", time.Now())
	if err := ss.checkOpen(); err != nil {
		return err
	}
	refs, err := selectByUIDs(ctx, ss.s.rdb, ss.ownedQuery(`SELECT m.uid, c.file, c.size`), mailbox, normalizeUIDs(uids), ss.scanRef)
	if err != nil {
		return err
	}
	if len(refs) == 0 {
		return ss.checkMailbox(ctx, mailbox)
	}
	for _, r := range refs {
		if err := fn(r.uid, r.ref); err != nil {
			return err
		}
	}
	return nil
}

// ownedQuery completes a select list into a query over the messages of a
// mailbox of the session's account, joined with their content, for
// selectByUIDs: the ownership check costs no query of its own.
func (ss *Session) ownedQuery(columns string) string {
	return columns + ` FROM message m JOIN content c ON c.id = m.content JOIN mailbox b ON b.id = m.mailbox
		WHERE m.mailbox = ? AND b.account = ` + strconv.FormatInt(int64(ss.account), 10) + ` AND %s ORDER BY m.uid`
}

// checkMailbox tells, after a read found none of the messages asked for,
// a missing mailbox (store.ErrNoSuchMailbox) from missing messages (nil).
func (ss *Session) checkMailbox(ctx context.Context, mailbox store.MailboxID) error {
	_, err := ss.mailboxByID(ctx, ss.s.rdb, mailbox)
	return err
}

type uidRef struct {
	uid store.UID
	ref contentRef
}

func (ss *Session) scanRef(rows *sql.Rows) (uidRef, store.UID, error) {
	r := uidRef{ref: contentRef{ss: ss}}
	err := rows.Scan(&r.uid, &r.ref.file, &r.ref.size)
	return r, r.uid, err
}

// MessageDataRefs is MessageData with each message's content ref, from
// the same reads. Like MessageData it reads in chunks and calls fn only
// between queries.
func (ss *Session) MessageDataRefs(ctx context.Context, mailbox store.MailboxID, uids []store.UID, fn func(store.MessageData, store.ContentRef) error) error {
	defer observe("message_data_refs", time.Now())
	if err := ss.checkOpen(); err != nil {
		return err
	}
	query := ss.ownedQuery(`SELECT ` + infoColumns + `, c.part, c.vms, c.is_foreign, c.foreign_head, c.file, c.size`)
	found := false
	uids = normalizeUIDs(uids)
	for len(uids) > 0 {
		n := min(len(uids), messageDataChunk)
		chunk := uids[:n]
		uids = uids[n:]
		batch, err := selectByUIDs(ctx, ss.s.rdb, query, mailbox, chunk, ss.scanDataRef)
		if err != nil {
			return err
		}
		found = found || len(batch) > 0
		for _, d := range batch {
			if err := fn(d.md, d.ref); err != nil {
				return err
			}
		}
	}
	if !found {
		return ss.checkMailbox(ctx, mailbox)
	}
	return nil
}

type dataRef struct {
	md  store.MessageData
	ref contentRef
}

func (ss *Session) scanDataRef(rows *sql.Rows) (dataRef, store.UID, error) {
	var partData, vmsData []byte
	d := dataRef{ref: contentRef{ss: ss}}
	mi, err := scanInfo(rows, &partData, &vmsData, &d.md.Foreign, &d.md.ForeignHead, &d.ref.file, &d.ref.size)
	if err != nil {
		return d, 0, err
	}
	d.md.Info = mi
	if d.md.Part, d.md.VMS, err = decodeStructure(partData, vmsData); err != nil {
		return d, 0, fmt.Errorf("message uid %d: %w", mi.UID, err)
	}
	return d, mi.UID, nil
}
