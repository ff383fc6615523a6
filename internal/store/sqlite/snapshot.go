package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"slices"
	"sync"

	"github.com/postern/postern/internal/store"
)

// Message-list snapshots (issue 15, docs/architecture.md "Large
// mailboxes"). Reading the index rows of a 100,000-message mailbox costs
// about 0.2 s of CPU, most of it stepping rows through the driver, and
// every SELECT and POP3 login of the mailbox asked for all of them. The
// store keeps the last list it read of each large mailbox, shared by the
// sessions of the process, and the next Messages of that mailbox reads
// only what changed since: the rows whose MODSEQ is above the snapshot's
// (new, moved in, flags changed) and the expunge log above it (removed,
// moved away). The proof that the result is the mailbox's list is read in
// the same read transaction, from the mailbox row: its UIDVALIDITY and
// expunge floor say whether the snapshot can be brought up to date at
// all, and its message count (used_messages, kept exact by triggers) must
// equal the result's. Anything else — a snapshot older than the expunge
// log, a count that disagrees (messages that left without a log entry, as
// when INBOX is renamed) — reads the whole list again.
const (
	// snapshotMin is the smallest mailbox kept by default
	// (Options.SnapshotMin): below it a whole read costs less than a
	// snapshot's memory is worth.
	snapshotMin = 10_000
	// snapshotBudget bounds the messages all snapshots hold together
	// (about 100 bytes each, flag lists shared); the least recently used
	// go first.
	snapshotBudget = 500_000
)

// snapshot is one mailbox's message list at one state of the mailbox.
// Its infos are never modified once stored; their Flags are shared.
type snapshot struct {
	uidValidity uint32
	highest     store.ModSeq // the mailbox's HIGHESTMODSEQ when read
	infos       []store.MessageInfo
	used        uint64 // snapshots.clock at the last use

	countOnce sync.Once
	counts    store.MailboxStatus // the counts of infos but Recent (counted)
}

// count returns the STATUS counts of the list (store.MailboxStatus
// without its Mailbox), computed once per snapshot: \Recent from the
// first UID no session claimed.
func (snap *snapshot) count(firstRecent store.UID) store.MailboxStatus {
	snap.countOnce.Do(func() {
		c := &snap.counts
		for _, in := range snap.infos {
			c.Messages++
			c.Size += in.Size
			if !in.Flags.Has(store.FlagSeen) {
				c.Unseen++
			}
			if in.Flags.Has(store.FlagDeleted) {
				c.Deleted++
				c.DeletedSize += in.Size
			}
		}
	})
	st := snap.counts
	i, _ := slices.BinarySearchFunc(snap.infos, firstRecent, func(in store.MessageInfo, u store.UID) int { return cmp.Compare(in.UID, u) })
	st.Recent = uint32(len(snap.infos) - i)
	return st
}

// snapshots holds the store's snapshots.
type snapshots struct {
	min   int // the smallest list kept
	mu    sync.Mutex
	boxes map[store.MailboxID]*snapshot
	held  int
	clock uint64
}

func (sn *snapshots) get(id store.MailboxID) *snapshot {
	sn.mu.Lock()
	defer sn.mu.Unlock()
	s := sn.boxes[id]
	if s != nil {
		sn.clock++
		s.used = sn.clock
	}
	return s
}

// put stores s as id's snapshot, unless the one held is newer; drops
// id's when s is too small; and evicts the least recently used past the
// budget.
func (sn *snapshots) put(id store.MailboxID, s *snapshot) {
	sn.mu.Lock()
	defer sn.mu.Unlock()
	old := sn.boxes[id]
	if old != nil && old.uidValidity == s.uidValidity && old.highest > s.highest {
		return // a read in an older transaction: keep the newer list
	}
	if old != nil {
		sn.held -= len(old.infos)
		delete(sn.boxes, id)
	}
	if len(s.infos) < max(sn.min, 1) || len(s.infos) > snapshotBudget {
		return
	}
	if sn.boxes == nil {
		sn.boxes = make(map[store.MailboxID]*snapshot)
	}
	sn.clock++
	s.used = sn.clock
	sn.boxes[id] = s
	sn.held += len(s.infos)
	for sn.held > snapshotBudget {
		var lru store.MailboxID
		var oldest *snapshot
		for b, x := range sn.boxes {
			if oldest == nil || x.used < oldest.used {
				lru, oldest = b, x
			}
		}
		sn.held -= len(oldest.infos)
		delete(sn.boxes, lru)
	}
}

// current returns id's snapshot brought up to date in tx (and stored),
// or false when there is none or it cannot be (the caller reads whole).
func (sn *snapshots) current(ctx context.Context, tx *sql.Tx, id store.MailboxID, st mailboxState) (*snapshot, bool, error) {
	snap := sn.get(id)
	list, ok, err := snap.current(ctx, tx, id, st)
	if err != nil || !ok {
		return nil, false, err
	}
	if snap.highest != st.highest {
		snap = &snapshot{uidValidity: st.uidValidity, highest: st.highest, infos: list}
		sn.put(id, snap)
	}
	return snap, true, nil
}

// mailboxState is what proves a message list current, read from the
// mailbox row in the list's read transaction.
type mailboxState struct {
	uidValidity uint32
	highest     store.ModSeq
	floor       store.ModSeq // expunge_floor: the log is complete above it
	messages    int          // used_messages
	firstRecent store.UID
}

func readMailboxState(ctx context.Context, tx *sql.Tx, id store.MailboxID, account store.AccountID) (mailboxState, error) {
	var st mailboxState
	err := tx.QueryRowContext(ctx, `SELECT uidvalidity, highestmodseq, expunge_floor, used_messages, first_recent
		FROM mailbox WHERE id = ? AND account = ?`, id, account).
		Scan(&st.uidValidity, &st.highest, &st.floor, &st.messages, &st.firstRecent)
	return st, err
}

// current returns the mailbox's message list from snap, brought up to
// date in tx, or false when snap cannot be (the caller reads it whole).
func (snap *snapshot) current(ctx context.Context, tx *sql.Tx, id store.MailboxID, st mailboxState) ([]store.MessageInfo, bool, error) {
	if snap == nil || snap.uidValidity != st.uidValidity || snap.highest > st.highest || snap.highest < st.floor {
		return nil, false, nil
	}
	if snap.highest == st.highest {
		return snap.infos, len(snap.infos) == st.messages, nil
	}
	gone := map[store.UID]bool{}
	rows, err := tx.QueryContext(ctx, `SELECT uid FROM expunged WHERE mailbox = ? AND modseq > ?`, id, snap.highest)
	if err != nil {
		return nil, false, err
	}
	for rows.Next() {
		var u store.UID
		if err := rows.Scan(&u); err != nil {
			rows.Close()
			return nil, false, err
		}
		gone[u] = true
	}
	if err := closeRows(rows); err != nil {
		return nil, false, err
	}
	changed, err := readInfos(ctx, tx, `SELECT `+infoColumns+` FROM message m WHERE m.mailbox = ? AND m.modseq > ? ORDER BY m.uid`, 0, id, snap.highest)
	if err != nil {
		return nil, false, err
	}
	out := mergeInfos(snap.infos, changed, gone)
	return out, len(out) == st.messages, nil
}

// mergeInfos returns old without the UIDs in gone, with the entries of
// changed (ascending UID) replacing those of the same UID or inserted in
// UID order.
func mergeInfos(old, changed []store.MessageInfo, gone map[store.UID]bool) []store.MessageInfo {
	out := make([]store.MessageInfo, 0, len(old)+len(changed))
	i := 0
	for _, c := range changed {
		for ; i < len(old) && old[i].UID < c.UID; i++ {
			if !gone[old[i].UID] {
				out = append(out, old[i])
			}
		}
		if i < len(old) && old[i].UID == c.UID {
			i++
		}
		out = append(out, c)
	}
	for ; i < len(old); i++ {
		if !gone[old[i].UID] {
			out = append(out, old[i])
		}
	}
	return slices.Clip(out)
}

// readInfos reads infoColumns rows, sharing the Flags of equal flag
// lists: a mailbox holds few distinct ones, and 100,000 copies of
// "\Seen" are 100,000 allocations and most of a view's memory.
func readInfos(ctx context.Context, tx *sql.Tx, query string, sizeHint int, args ...any) ([]store.MessageInfo, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	infos := make([]store.MessageInfo, 0, sizeHint)
	shared := map[string]store.Flags{}
	var raw sql.RawBytes
	for rows.Next() {
		var mi store.MessageInfo
		var date, zone int64
		if err := rows.Scan(&mi.UID, &mi.EmailID, &mi.ModSeq, &raw, &date, &zone, &mi.Size); err != nil {
			rows.Close()
			return nil, err
		}
		f, ok := shared[string(raw)]
		if !ok {
			f = parseFlags(string(raw))
			shared[string(raw)] = f
		}
		mi.Flags = slices.Clip(f)
		mi.InternalDate = zonedTime(date, zone)
		infos = append(infos, mi)
	}
	return infos, closeRows(rows)
}

func closeRows(rows *sql.Rows) error {
	err := rows.Err()
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	return err
}
