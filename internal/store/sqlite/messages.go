package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/postern/postern/internal/message"
	"github.com/postern/postern/internal/store"
)

// Chunk sizes for statements over a set of UIDs. MessageData keeps its
// chunk small because it holds the parsed structures of a chunk in memory.
const (
	uidChunk         = 1000
	messageDataChunk = 256
)

const infoColumns = `m.uid, m.id, m.modseq, m.flags, m.internal_date, m.internal_zone, m.size`

// scanInfo scans the infoColumns followed by extra destinations.
func scanInfo(rows *sql.Rows, extra ...any) (store.MessageInfo, error) {
	var mi store.MessageInfo
	var flags string
	var date, zone int64
	dest := append([]any{&mi.UID, &mi.EmailID, &mi.ModSeq, &flags, &date, &zone, &mi.Size}, extra...)
	if err := rows.Scan(dest...); err != nil {
		return mi, err
	}
	mi.Flags = parseFlags(flags)
	mi.InternalDate = zonedTime(date, zone)
	return mi, nil
}

// parseFlags splits the stored flag list; it is canonical already.
func parseFlags(s string) store.Flags {
	if s == "" {
		return nil
	}
	return strings.Split(s, " ")
}

func formatFlags(f store.Flags) string { return strings.Join(f, " ") }

// Messages returns the index data of every message in a mailbox, by UID:
// from the mailbox's snapshot brought up to date when the store holds
// one, else read whole (snapshot.go). The Flags of the result may be
// shared with other callers' results.
func (ss *Session) Messages(ctx context.Context, mailbox store.MailboxID) ([]store.MessageInfo, error) {
	defer observe("messages", time.Now())
	var infos []store.MessageInfo
	err := ss.read(ctx, func(tx *sql.Tx) error {
		if _, err := ss.mailboxByID(ctx, tx, mailbox); err != nil {
			return err
		}
		st, err := readMailboxState(ctx, tx, mailbox, ss.account)
		if err != nil {
			return err
		}
		snap, ok, err := ss.s.snaps.current(ctx, tx, mailbox, st)
		if err != nil {
			return err
		}
		if ok {
			infos = snap.infos
			return nil
		}
		infos, err = readInfos(ctx, tx, `SELECT `+infoColumns+` FROM message m WHERE m.mailbox = ? ORDER BY m.uid`, st.messages, mailbox)
		if err == nil {
			ss.s.snaps.put(mailbox, &snapshot{uidValidity: st.uidValidity, highest: st.highest, infos: infos})
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	// The snapshot's entries are shared; the caller gets its own list.
	return slices.Clone(infos), nil
}

// MessageData streams the structure and OpenVMS envelope of the messages
// in uids, in ascending UID order. It reads in chunks, each one query, and
// calls fn only between queries: no read transaction stays open while fn
// writes to a client.
func (ss *Session) MessageData(ctx context.Context, mailbox store.MailboxID, uids []store.UID, fn func(store.MessageData) error) error {
	defer observe("message_data", time.Now())
	if err := ss.checkOpen(); err != nil {
		return err
	}
	if len(uids) == 1 {
		return ss.messageData1(ctx, mailbox, uids[0], fn)
	}
	return ss.messageData(ctx, mailbox, uids, messageDataChunk, scanMessageData, fn)
}

// MessageDataTop is MessageData with only the top-level part of each
// structure: Part.Parts is nil (it may be set for a single UID). It is for
// readers that need no more than the top-level envelope, offsets and
// sizes (FETCH ENVELOPE, RFC822.SIZE), and costs a fraction of the
// decoding, which also lets it read larger chunks.
func (ss *Session) MessageDataTop(ctx context.Context, mailbox store.MailboxID, uids []store.UID, fn func(store.MessageData) error) error {
	defer observe("message_data_top", time.Now())
	if err := ss.checkOpen(); err != nil {
		return err
	}
	if len(uids) == 1 {
		return ss.messageData1(ctx, mailbox, uids[0], fn)
	}
	return ss.messageData(ctx, mailbox, uids, uidChunk, scanMessageTop, fn)
}

// messageData runs MessageData's reads, chunkSize UIDs a query, with scan.
func (ss *Session) messageData(ctx context.Context, mailbox store.MailboxID, uids []store.UID, chunkSize int,
	scan func(*sql.Rows) (store.MessageData, store.UID, error), fn func(store.MessageData) error) error {
	if _, err := ss.mailboxByID(ctx, ss.s.rdb, mailbox); err != nil {
		return err
	}
	uids = normalizeUIDs(uids)
	for len(uids) > 0 {
		n := min(len(uids), chunkSize)
		chunk := uids[:n]
		uids = uids[n:]
		batch, err := selectByUIDs(ctx, ss.s.rdb, `SELECT `+infoColumns+`, c.part, c.vms, c.is_foreign, c.foreign_head FROM message m JOIN content c ON c.id = m.content
			WHERE m.mailbox = ? AND %s ORDER BY m.uid`, mailbox, chunk, scan)
		if err != nil {
			return err
		}
		for _, md := range batch {
			if err := fn(md); err != nil {
				return err
			}
		}
	}
	return nil
}

// messageData1SQL reads one message's data, checking in the same
// statement that the mailbox belongs to the session's account.
const messageData1SQL = `SELECT ` + infoColumns + `, c.part, c.vms, c.is_foreign, c.foreign_head FROM message m
	JOIN content c ON c.id = m.content JOIN mailbox b ON b.id = m.mailbox
	WHERE m.mailbox = ? AND m.uid = ? AND b.account = ?`

// messageData1 is MessageData for one UID, the per-message path of FETCH
// and SEARCH: one prepared statement, and a second lookup only when the
// message is missing (to tell a missing mailbox from a missing message).
func (ss *Session) messageData1(ctx context.Context, mailbox store.MailboxID, uid store.UID, fn func(store.MessageData) error) error {
	rows, err := ss.s.stmtMessageData1.QueryContext(ctx, mailbox, uid, ss.account)
	if err != nil {
		return err
	}
	var md store.MessageData
	found := rows.Next()
	if found {
		md, _, err = scanMessageData(rows)
	}
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = rows.Err()
	}
	switch {
	case err != nil:
		return err
	case found:
		return fn(md)
	}
	_, err = ss.mailboxByID(ctx, ss.s.rdb, mailbox)
	return err
}

func scanMessageData(rows *sql.Rows) (store.MessageData, store.UID, error) {
	return scanMessage(rows, (*message.Part).UnmarshalBinary)
}

func scanMessageTop(rows *sql.Rows) (store.MessageData, store.UID, error) {
	return scanMessage(rows, (*message.Part).UnmarshalBinaryTop)
}

// scanMessage scans a row of infoColumns, part and vms, decoding the part
// with unmarshal. The blobs are read in place (sql.RawBytes): decoding
// copies what it keeps.
func scanMessage(rows *sql.Rows, unmarshal func(*message.Part, []byte) error) (store.MessageData, store.UID, error) {
	var partData, vmsData sql.RawBytes
	var foreign bool
	var head []byte // copied by Scan
	mi, err := scanInfo(rows, &partData, &vmsData, &foreign, &head)
	if err != nil {
		return store.MessageData{}, 0, err
	}
	md := store.MessageData{Info: mi, Foreign: foreign, ForeignHead: head}
	if md.Part, md.VMS, err = decodeStructureWith(partData, vmsData, unmarshal); err != nil {
		return md, 0, fmt.Errorf("message uid %d: %w", mi.UID, err)
	}
	return md, mi.UID, nil
}

func decodeStructure(partData, vmsData []byte) (*message.Part, *store.VMSEnvelope, error) {
	return decodeStructureWith(partData, vmsData, (*message.Part).UnmarshalBinary)
}

func decodeStructureWith(partData, vmsData []byte, unmarshal func(*message.Part, []byte) error) (*message.Part, *store.VMSEnvelope, error) {
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

// content is a message's content file.
type content struct {
	*os.File
	size int64
}

func (c content) Size() int64 { return c.size }

// OpenContent opens the content file of one message.
func (ss *Session) OpenContent(ctx context.Context, mailbox store.MailboxID, uid store.UID) (store.Content, error) {
	defer observe("open_content", time.Now())
	file, size, err := ss.contentOf(ctx, mailbox, uid)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(ss.s.contentPath(file))
	if err != nil {
		return nil, fmt.Errorf("open content of uid %d: %w", uid, err)
	}
	return content{f, size}, nil
}

// ContentID returns the name of the content file a message refers to.
func (ss *Session) ContentID(ctx context.Context, mailbox store.MailboxID, uid store.UID) (string, error) {
	file, _, err := ss.contentOf(ctx, mailbox, uid)
	return file, err
}

// contentOfSQL finds a message's content file, checking in the same
// statement that the mailbox belongs to the session's account.
const contentOfSQL = `SELECT c.file, c.size FROM message m
	JOIN content c ON c.id = m.content JOIN mailbox b ON b.id = m.mailbox
	WHERE m.mailbox = ? AND m.uid = ? AND b.account = ?`

// contentOf is one prepared single-row read: it runs for every message a
// client fetches, so it takes no transaction and no second lookup unless
// the message is missing (then it tells a missing mailbox from a missing
// message).
func (ss *Session) contentOf(ctx context.Context, mailbox store.MailboxID, uid store.UID) (file string, size int64, err error) {
	if err := ss.checkOpen(); err != nil {
		return "", 0, err
	}
	err = ss.s.stmtContentOf.QueryRowContext(ctx, mailbox, uid, ss.account).Scan(&file, &size)
	if errors.Is(err, sql.ErrNoRows) {
		if _, merr := ss.mailboxByID(ctx, ss.s.rdb, mailbox); merr != nil {
			return "", 0, merr
		}
		return "", 0, fmt.Errorf("uid %d: %w", uid, store.ErrNoSuchMessage)
	}
	return file, size, err
}

// ExpungedSince returns the UIDs expunged from a mailbox after since, and
// whether the log still holds every one of them: it does when since is at
// or above the mailbox's expunge_floor (PruneExpunged).
func (ss *Session) ExpungedSince(ctx context.Context, mailbox store.MailboxID, since store.ModSeq) ([]store.UID, bool, error) {
	defer observe("expunged_since", time.Now())
	var uids []store.UID
	var floor store.ModSeq
	err := ss.read(ctx, func(tx *sql.Tx) error {
		uids = nil
		if _, err := ss.mailboxByID(ctx, tx, mailbox); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT expunge_floor FROM mailbox WHERE id = ?`, mailbox).Scan(&floor); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT uid FROM expunged WHERE mailbox = ? AND modseq > ? ORDER BY uid`, mailbox, since)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var u store.UID
			if err := rows.Scan(&u); err != nil {
				return err
			}
			uids = append(uids, u)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, false, err
	}
	return uids, since >= floor, nil
}

// PruneExpunged removes the expunge log's entries logged before olderThan
// and raises each mailbox's expunge_floor to the highest MODSEQ it
// removed there, in one transaction, so ExpungedSince never answers
// "complete" for a MODSEQ whose entries are gone.
func (s *Store) PruneExpunged(ctx context.Context, olderThan time.Time) (int, error) {
	defer observe("prune_expunged", time.Now())
	var n int64
	err := s.write(ctx, func(w *wtx) error {
		cut := olderThan.UnixNano()
		if _, err := w.ExecContext(ctx, `UPDATE mailbox SET expunge_floor = max(expunge_floor,
				(SELECT max(e.modseq) FROM expunged e WHERE e.mailbox = mailbox.id AND e.at < ?))
			WHERE id IN (SELECT DISTINCT e.mailbox FROM expunged e WHERE e.at < ?)`, cut, cut); err != nil {
			return err
		}
		res, err := w.ExecContext(ctx, `DELETE FROM expunged WHERE at < ?`, cut)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("prune expunge log: %w", err)
	}
	return int(n), nil
}

// normalizeUIDs returns uids sorted and without duplicates or zeros.
func normalizeUIDs(uids []store.UID) []store.UID {
	if slices.IsSorted(uids) {
		uids = slices.Compact(slices.Clone(uids))
	} else {
		uids = slices.Clone(uids)
		slices.Sort(uids)
		uids = slices.Compact(uids)
	}
	if len(uids) > 0 && uids[0] == 0 {
		uids = uids[1:]
	}
	return uids
}

// selectByUIDs runs query, whose %s is replaced by a condition on m.uid,
// over the sorted uids in chunks of at most uidChunk, scans each row with
// scan and returns the values of the rows whose UID is in uids, in the
// query's order. A dense chunk is read as one UID range (one index range
// scan), a sparse one with an IN list.
func selectByUIDs[T any](ctx context.Context, q querier, query string, mailbox store.MailboxID, uids []store.UID,
	scan func(*sql.Rows) (T, store.UID, error)) ([]T, error) {
	var out []T
	for len(uids) > 0 {
		n := min(len(uids), uidChunk)
		chunk := uids[:n]
		uids = uids[n:]
		lo, hi := chunk[0], chunk[n-1]
		var cond string
		args := []any{mailbox}
		if int64(hi-lo)+1 <= 4*int64(n) {
			cond = `m.uid BETWEEN ? AND ?`
			args = append(args, lo, hi)
		} else {
			cond = `m.uid IN (?` + strings.Repeat(`, ?`, n-1) + `)`
			for _, u := range chunk {
				args = append(args, u)
			}
		}
		var err error
		out, err = selectChunk(ctx, q, fmt.Sprintf(query, cond), args, chunk, out, scan)
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func selectChunk[T any](ctx context.Context, q querier, query string, args []any, chunk []store.UID, out []T,
	scan func(*sql.Rows) (T, store.UID, error)) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		v, uid, err := scan(rows)
		if err != nil {
			return nil, err
		}
		if _, ok := slices.BinarySearch(chunk, uid); ok {
			out = append(out, v)
		}
	}
	return out, rows.Err()
}
