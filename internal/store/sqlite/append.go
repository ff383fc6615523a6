package sqlite

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/postern/postern/internal/message"
	"github.com/postern/postern/internal/search"
	"github.com/postern/postern/internal/store"
)

// copyBufSize is the size of the buffer an append streams through.
const copyBufSize = 64 << 10

var copyBufs = sync.Pool{New: func() any { b := make([]byte, copyBufSize); return &b }}

// spooled is an append request whose content is durable in msg/ and that
// waits for its index rows.
type spooled struct {
	file      string // content file name
	size      int64
	sum       []byte // SHA-256 of the content
	part      []byte // message.Part, marshalled
	vms       []byte // store.VMSEnvelope as JSON, or nil
	foreign   bool   // store.AppendRequest.Foreign, or a NUL in the content
	head      []byte // foreign: the first octets of the body (store.MessageData.ForeignHead)
	flags     store.Flags
	date      time.Time
	importKey string
	doc       *search.Doc // what the search index keeps; nil: left unindexed
	uid       store.UID   // the UID asked for (store.IdentifiedAppend); 0: the next
	uidl      string      // the POP3 unique-id to keep, or ""
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
		octets += sp.size
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
	results := make([]store.AppendResult, len(spool))
	chs := make([]store.Change, len(spool))
	for i, sp := range spool {
		var contentID int64
		if err := insContent.QueryRowContext(ctx, sp.file, sp.size, sp.sum, sp.part, sp.vms, sp.foreign, sp.head).Scan(&contentID); err != nil {
			return nil, fmt.Errorf("insert content: %w", err)
		}
		if err := insertSearch(ctx, w, contentID, sp.doc); err != nil {
			return nil, err
		}
		mi := store.MessageInfo{UID: uids[i], ModSeq: modseq, Flags: sp.flags, InternalDate: sp.date, Size: sp.size}
		err := insMessage.QueryRowContext(ctx, mailbox, mi.UID, modseq, formatFlags(sp.flags), sp.flags.Has(store.FlagSeen),
			sp.flags.Has(store.FlagDeleted), timeToInt(sp.date), zoneOf(sp.date), sp.size, contentID,
			nullString(sp.importKey), nullString(sp.uidl)).Scan(&mi.EmailID)
		if err != nil {
			return nil, fmt.Errorf("insert message: %w", err)
		}
		results[i] = store.AppendResult{UIDValidity: mb.UIDValidity, UID: mi.UID, EmailID: mi.EmailID, ModSeq: modseq, Size: sp.size}
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
		if sp.importKey == "" {
			continue
		}
		if keys[sp.importKey] {
			return fmt.Errorf("append import key %q: %w", sp.importKey, store.ErrDuplicate)
		}
		keys[sp.importKey] = true
		if err := checkImportKey(ctx, q, mailbox, sp.importKey); err != nil {
			return err
		}
	}
	return nil
}

func nullString(s string) sql.NullString {
	return sql.NullString{String: s, Valid: s != ""}
}

const (
	insertContentSQL = `INSERT INTO content (file, size, sha256, part, vms, is_foreign, foreign_head) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`
	insertMessageSQL = `INSERT INTO message (mailbox, uid, modseq, flags, seen, deleted, internal_date, internal_zone, size, content, import_key, pop3_uidl)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`
)

// spool makes one request's content durable under msg/: it streams the
// content through the CRLF normaliser into a file in tmp/, counting,
// hashing and parsing it on the way, fsyncs the file, renames it to its
// content path and fsyncs that directory. No lock is held meanwhile.
func (s *Store) spool(ctx context.Context, req store.AppendRequest) (_ *spooled, err error) {
	sp := &spooled{importKey: req.ImportKey, date: req.InternalDate}
	if sp.flags, err = store.CanonicalFlags(req.Flags); err != nil {
		return nil, err
	}
	if sp.date.IsZero() {
		sp.date = s.now()
	}
	if req.VMS != nil {
		if sp.vms, err = json.Marshal(req.VMS); err != nil {
			return nil, err
		}
	}
	tmp, err := os.CreateTemp(filepath.Join(s.dir, spoolDir), "append-*")
	if err != nil {
		return nil, err
	}
	defer func() {
		if tmp != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	var nul nulDetector
	part, sum, size, err := writeContent(ctx, io.MultiWriter(tmp, &nul), req)
	if err != nil {
		return nil, err
	}
	sp.sum, sp.size = sum, size
	sp.foreign = req.Foreign || bool(nul)
	if sp.foreign {
		if sp.head, err = readHead(tmp, part.BodyStart, size); err != nil {
			return nil, fmt.Errorf("read foreign message head: %w", err)
		}
	}
	if sp.part, err = part.MarshalBinary(); err != nil {
		return nil, fmt.Errorf("encode structure: %w", err)
	}
	// The search index's entry, from the file just written (in the page
	// cache). A failure leaves the message unindexed, never unstored.
	sp.doc, _ = search.Extract(tmp, size, part, store.KeptHeaderFields)
	if err := tmp.Sync(); err != nil {
		return nil, err
	}
	if err := tmp.Close(); err != nil {
		return nil, err
	}
	sp.file = newContentName()
	// Pending before it appears in msg/, so that Reclaim never takes it
	// for an orphan.
	s.pend(sp.file)
	dst := s.contentPath(sp.file)
	if err := os.Rename(tmp.Name(), dst); err != nil {
		s.unpend(sp.file)
		return nil, err
	}
	tmp = nil
	if err := syncDir(filepath.Dir(dst)); err != nil {
		os.Remove(dst)
		s.unpend(sp.file)
		return nil, err
	}
	return sp, nil
}

// writeContent streams req.Content, CRLF-normalised unless req.Exact, into f while parsing
// it in a second goroutine, and returns the structure, the SHA-256 and the
// size. Memory stays flat: one buffer here, the parser's bounded buffers
// there.
func writeContent(ctx context.Context, f io.Writer, req store.AppendRequest) (*message.Part, []byte, int64, error) {
	pr, pw := io.Pipe()
	type parsed struct {
		part *message.Part
		err  error
	}
	done := make(chan parsed, 1)
	go func() {
		part, err := message.Parse(pr)
		if err != nil {
			pr.CloseWithError(err) // stops the copy below
		} else {
			_, err = io.Copy(io.Discard, pr) // Parse reads to EOF; be sure
		}
		done <- parsed{part, err}
	}()
	h := sha256.New()
	src := req.Content
	if !req.Exact {
		src = message.NewCRLFReader(src)
	}
	size, copyErr := copyLimited(ctx, io.MultiWriter(f, h, pw), src, req.MaxSize)
	pw.CloseWithError(copyErr)
	res := <-done
	switch {
	case res.err != nil && errors.Is(res.err, message.ErrMalformed):
		return nil, nil, 0, res.err
	case copyErr != nil:
		return nil, nil, 0, copyErr
	case res.err != nil:
		return nil, nil, 0, res.err
	}
	return res.part, h.Sum(nil), size, nil
}

// readHead returns the first store.ForeignHeadSize octets (or fewer) of
// the body, from start on, of the content written to f.
func readHead(f io.ReaderAt, start, size int64) ([]byte, error) {
	n := max(0, min(size-start, store.ForeignHeadSize))
	head := make([]byte, n)
	if _, err := f.ReadAt(head, start); err != nil && err != io.EOF {
		return nil, err
	}
	return head, nil
}

// nulDetector is a writer that notes whether a NUL octet went through it:
// content with one is foreign (store.AppendRequest.Foreign).
type nulDetector bool

func (d *nulDetector) Write(p []byte) (int, error) {
	if !*d && bytes.IndexByte(p, 0) >= 0 {
		*d = true
	}
	return len(p), nil
}

// copyLimited copies r to w, failing with store.ErrTooBig as soon as more
// than limit octets (if limit > 0) have come.
func copyLimited(ctx context.Context, w io.Writer, r io.Reader, limit int64) (int64, error) {
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	buf := *bp
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		k, rerr := r.Read(buf)
		if k > 0 {
			n += int64(k)
			if limit > 0 && n > limit {
				return n, fmt.Errorf("%w: more than %d octets", store.ErrTooBig, limit)
			}
			if _, err := w.Write(buf[:k]); err != nil {
				return n, err
			}
		}
		if rerr == io.EOF {
			return n, nil
		}
		if rerr != nil {
			return n, rerr
		}
	}
}

// newContentName returns a fresh content file name: 128 random bits in
// hex. Names are never reused, so a file is never replaced in place.
func newContentName() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// contentPath is where the content file of that name lives.
func (s *Store) contentPath(name string) string {
	return filepath.Join(s.dir, contentDir, name[:2], name)
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
