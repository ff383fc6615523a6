package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/postern/postern/internal/store"
	"github.com/postern/postern/internal/store/body"
	"github.com/postern/postern/internal/store/sqlrow"
)

// spooled is an append request whose content is durable in msg/ and that
// waits for its index rows.
type spooled struct {
	*body.Prepared
	file string    // content file name
	uid  store.UID // the UID asked for (store.IdentifiedAppend); 0: the next
	uidl string    // the POP3 unique-id to keep, or ""
}

// Append adds messages to a mailbox, all or none, and returns once they
// are durable. Each request's content is first made durable on its own
// (spooled, fsynced and renamed into msg/, with no lock held); then one
// short transaction indexes them all; and only then are the other sessions
// told. See the package documentation for the crash analysis.
//
// Content that is not a message at all (message.ErrMalformed: empty, or a
// first line that is no header field) is refused; broken MIME is not.
func (ss *Session) Append(ctx context.Context, mailbox store.MailboxID, reqs ...store.AppendRequest) ([]store.AppendResult, error) {
	defer observe("append", time.Now())
	if err := ss.checkOpen(); err != nil {
		return nil, err
	}
	if len(reqs) == 0 {
		return nil, nil
	}
	// Fail fast, before reading any content. The transaction checks again.
	if err := ss.appendPrecheck(ctx, mailbox, reqs); err != nil {
		return nil, err
	}
	var results []store.AppendResult
	err := ss.spoolAndIndex(ctx, reqs, func(w *wtx, spool []*spooled) error {
		var err error
		results, err = ss.index(ctx, w, mailbox, spool)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("append: %w", err)
	}
	return results, nil
}

// spoolAndIndex makes the content of reqs durable, then runs indexFn in
// one write transaction to index it. The content files are removed when
// the transaction certainly did not commit.
func (ss *Session) spoolAndIndex(ctx context.Context, reqs []store.AppendRequest, indexFn func(w *wtx, spool []*spooled) error) error {
	spool := make([]*spooled, 0, len(reqs))
	keep := false // whether the content files must stay
	defer func() {
		for _, sp := range spool {
			if !keep {
				os.Remove(ss.s.contentPath(sp.file))
			}
			ss.s.unpend(sp.file)
		}
	}()
	spoolStart := time.Now()
	for i, req := range reqs {
		sp, err := ss.s.spool(ctx, req)
		if err != nil {
			return fmt.Errorf("message %d of %d: %w", i+1, len(reqs), err)
		}
		spool = append(spool, sp)
	}
	observe("append_spool", spoolStart)
	indexStart := time.Now()
	defer observe("append_index", indexStart)
	err := ss.write(ctx, func(w *wtx) error { return indexFn(w, spool) })
	switch {
	case err == nil:
		keep = true
		ss.s.pokeIndexer()
		return nil
	case errors.Is(err, errCommit):
		// The commit may have reached the disk after all: leave the files
		// to the orphan sweep, which removes them only if unreferenced.
		keep = true
	}
	return err
}

// appendPrecheck checks the mailbox, the import keys and that the account
// is not full already (the messages' sizes are not known yet) with a read.
func (ss *Session) appendPrecheck(ctx context.Context, mailbox store.MailboxID, reqs []store.AppendRequest) error {
	if _, err := ss.mailboxByID(ctx, ss.s.rdb, mailbox); err != nil {
		return err
	}
	q, err := ss.s.quota(ctx, ss.s.rdb, ss.account)
	if err != nil {
		return err
	}
	if !q.Fits(0, int64(len(reqs))) {
		return fmt.Errorf("append %d messages: %w", len(reqs), store.ErrOverQuota)
	}
	for _, req := range reqs {
		if req.ImportKey == "" {
			continue
		}
		if err := checkImportKey(ctx, ss.s.rdb, mailbox, req.ImportKey); err != nil {
			return err
		}
	}
	return nil
}

func checkImportKey(ctx context.Context, q querier, mailbox store.MailboxID, key string) error {
	var dup bool
	err := q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM message WHERE mailbox = ? AND import_key = ?)`, mailbox, key).Scan(&dup)
	if err == nil && dup {
		err = fmt.Errorf("append import key %q: %w", key, store.ErrDuplicate)
	}
	return err
}

// index inserts the content and message rows of spooled messages, in one
// transaction, with one new MODSEQ. A message gets the UID it asks for
// (sp.uid, store.IdentityImporter) or else the next one; UIDNEXT follows.
func (ss *Session) index(ctx context.Context, w *wtx, mailbox store.MailboxID, spool []*spooled) ([]store.AppendResult, error) {
	mb, err := ss.mailboxByID(ctx, w, mailbox)
	if err != nil {
		return nil, err
	}
	uids, err := assignUIDs(ctx, w, mb, spool)
	if err != nil {
		return nil, err
	}
	if err := checkImportKeys(ctx, w, mailbox, spool); err != nil {
		return nil, err
	}
	var octets int64
	for _, sp := range spool {
		octets += sp.Size
	}
	if err := w.checkQuota(ctx, ss.account, octets, int64(len(spool))); err != nil {
		return nil, err
	}
	modseq, err := w.bumpModSeq(ctx, mailbox)
	if err != nil {
		return nil, err
	}
	insContent := w.StmtContext(ctx, ss.s.stmtInsertContent)
	insMessage := w.StmtContext(ctx, ss.s.stmtInsertMessage)
	saved := ss.s.now().UnixNano() // RFC 8514 §3: the save date
	results := make([]store.AppendResult, len(spool))
	chs := make([]store.Change, len(spool))
	for i, sp := range spool {
		var contentID int64
		if err := insContent.QueryRowContext(ctx, sp.file, sp.Size, sp.Sum, sp.PartBin, sp.VMS, sp.Foreign, sp.Head, sp.Preview).Scan(&contentID); err != nil {
			return nil, fmt.Errorf("insert content: %w", err)
		}
		// The search index entry is made after acknowledgement (indexer.go).
		if _, err := w.ExecContext(ctx, `INSERT INTO search_pending (content) VALUES (?)`, contentID); err != nil {
			return nil, fmt.Errorf("queue for the search index: %w", err)
		}
		mi := store.MessageInfo{UID: uids[i], ModSeq: modseq, Flags: sp.Flags, InternalDate: sp.Date, Size: sp.Size}
		err := insMessage.QueryRowContext(ctx, mailbox, mi.UID, modseq, formatFlags(sp.Flags), sp.Flags.Has(store.FlagSeen),
			sp.Flags.Has(store.FlagDeleted), sqlrow.TimeToInt(sp.Date), zoneOf(sp.Date), sp.Size, contentID,
			nullString(sp.ImportKey), nullString(sp.uidl), saved).Scan(&mi.EmailID)
		if err != nil {
			return nil, fmt.Errorf("insert message: %w", err)
		}
		if err := assignThread(ctx, w, ss.account, mi.EmailID, sp.Thread); err != nil {
			return nil, err
		}
		results[i] = store.AppendResult{UIDValidity: mb.UIDValidity, UID: mi.UID, EmailID: mi.EmailID, ModSeq: modseq, Size: sp.Size}
		chs[i] = store.ChangeAdd{Mailbox: mailbox, Info: mi}
	}
	if _, err := w.ExecContext(ctx, `UPDATE mailbox SET uidnext = ? WHERE id = ?`, int64(uids[len(uids)-1])+1, mailbox); err != nil {
		return nil, err
	}
	w.publish(ss.account, ss.sub.ID(), chs...)
	return results, nil
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
			err := q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM message WHERE mailbox = ? AND uid = ?)`, mb.ID, sp.uid).Scan(&taken)
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

// checkImportKeys fails with store.ErrDuplicate when a spooled message's
// import key is in the mailbox already or twice in spool.
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
		if err := checkImportKey(ctx, q, mailbox, sp.ImportKey); err != nil {
			return err
		}
	}
	return nil
}

func nullString(s string) sql.NullString {
	return sql.NullString{String: s, Valid: s != ""}
}

const (
	insertContentSQL = `INSERT INTO content (file, size, sha256, part, vms, is_foreign, foreign_head, preview) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`
	insertMessageSQL = `INSERT INTO message (mailbox, uid, modseq, flags, seen, deleted, internal_date, internal_zone, size, content, import_key, pop3_uidl, saved)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`
)

// spool makes one request's content durable under msg/: it runs the
// request through the append pipeline (body.Prepare) into a file in tmp/,
// fsyncs the file, renames it to its content path and fsyncs that
// directory. No lock is held meanwhile.
func (s *Store) spool(ctx context.Context, req store.AppendRequest) (*spooled, error) {
	w, err := s.files.Create(ctx)
	if err != nil {
		return nil, err
	}
	p, err := body.Prepare(ctx, w, req, s.now())
	if err != nil {
		w.Abort()
		return nil, err
	}
	sp := &spooled{Prepared: p, file: body.NewName()}
	// Pending before it appears in msg/, so that Reclaim never takes it
	// for an orphan.
	s.pend(sp.file)
	if err := w.Commit(ctx, sp.file); err != nil {
		s.unpend(sp.file)
		return nil, err
	}
	return sp, nil
}

// contentPath is where the content file of that name lives.
func (s *Store) contentPath(name string) string {
	return s.files.Path(name)
}

func (s *Store) pend(name string) {
	s.pendingMu.Lock()
	s.pending[name] = struct{}{}
	s.pendingMu.Unlock()
}

func (s *Store) unpend(name string) {
	s.pendingMu.Lock()
	delete(s.pending, name)
	s.pendingMu.Unlock()
}

func (s *Store) isPending(name string) bool {
	s.pendingMu.Lock()
	defer s.pendingMu.Unlock()
	_, ok := s.pending[name]
	return ok
}
