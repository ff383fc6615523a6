package postgres

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/postern/postern/internal/store"
)

// channel is the LISTEN/NOTIFY channel of change events.
const channel = "postern_changes"

// queueChannel carries an empty notification when the outbound queue has
// a message due now (store.QueueWaker).
const queueChannel = "postern_queue"

// maxPayload keeps a notification under PostgreSQL's 8000-octet limit.
const maxPayload = 7000

// notice is one notification: changes of one account, made by the
// subscription From (0: none).
type notice struct {
	A store.AccountID `json:"a"`
	F uint64          `json:"f,omitempty"`
	C []wireChange    `json:"c"`
}

// wireChange is a store.Change in JSON. T is the kind.
type wireChange struct {
	T     byte         `json:"t"`
	M     int64        `json:"m,omitempty"`
	UID   store.UID    `json:"u,omitempty"`
	UIDs  []store.UID  `json:"us,omitempty"`
	Mod   store.ModSeq `json:"s,omitempty"`
	Flags []string     `json:"fl,omitempty"`
	Email int64        `json:"e,omitempty"`
	Date  int64        `json:"d,omitempty"`
	Zone  int          `json:"z,omitempty"`
	Size  int64        `json:"n,omitempty"`
	Kind  int          `json:"k,omitempty"`
	Name  string       `json:"na,omitempty"`
	Old   string       `json:"o,omitempty"`
	Sub   bool         `json:"b,omitempty"`
	Ents  []string     `json:"me,omitempty"`
}

const (
	kindAdd = iota + 1
	kindFlags
	kindExpunge
	kindMailbox
	kindSubscription
	kindMetadata
)

func toWire(c store.Change) wireChange {
	switch c := c.(type) {
	case store.ChangeAdd:
		_, zone := c.Info.InternalDate.Zone()
		return wireChange{T: kindAdd, M: int64(c.Mailbox), UID: c.Info.UID, Mod: c.Info.ModSeq, Flags: c.Info.Flags,
			Email: int64(c.Info.EmailID), Date: c.Info.InternalDate.UnixNano(), Zone: zone, Size: c.Info.Size}
	case store.ChangeFlags:
		return wireChange{T: kindFlags, M: int64(c.Mailbox), UID: c.UID, Mod: c.ModSeq, Flags: c.Flags}
	case store.ChangeExpunge:
		return wireChange{T: kindExpunge, M: int64(c.Mailbox), UIDs: c.UIDs, Mod: c.ModSeq}
	case store.ChangeMailbox:
		return wireChange{T: kindMailbox, M: int64(c.ID), Kind: int(c.Kind), Name: c.Name, Old: c.OldName}
	case store.ChangeSubscription:
		return wireChange{T: kindSubscription, Name: c.Name, Sub: c.Subscribed}
	case store.ChangeMetadata:
		return wireChange{T: kindMetadata, M: int64(c.Mailbox), Ents: c.Entries}
	}
	panic("postgres: unknown change type")
}

func (w wireChange) change() store.Change {
	switch w.T {
	case kindAdd:
		flags := store.Flags(w.Flags)
		if flags == nil {
			flags = store.Flags{}
		}
		return store.ChangeAdd{Mailbox: store.MailboxID(w.M), Info: store.MessageInfo{UID: w.UID, EmailID: store.EmailID(w.Email),
			ModSeq: w.Mod, Flags: flags, InternalDate: zonedTime(w.Date, int64(w.Zone)), Size: w.Size}}
	case kindFlags:
		flags := store.Flags(w.Flags)
		if flags == nil {
			flags = store.Flags{}
		}
		return store.ChangeFlags{Mailbox: store.MailboxID(w.M), UID: w.UID, ModSeq: w.Mod, Flags: flags}
	case kindExpunge:
		return store.ChangeExpunge{Mailbox: store.MailboxID(w.M), UIDs: w.UIDs, ModSeq: w.Mod}
	case kindMailbox:
		return store.ChangeMailbox{Kind: store.MailboxChangeKind(w.Kind), ID: store.MailboxID(w.M), Name: w.Name, OldName: w.Old}
	case kindSubscription:
		return store.ChangeSubscription{Name: w.Name, Subscribed: w.Sub}
	case kindMetadata:
		return store.ChangeMetadata{Mailbox: store.MailboxID(w.M), Entries: w.Ents}
	}
	return nil
}

// encodeChanges turns changes into notification payloads of at most
// about maxPayload octets each, in order; a long expunge is split into
// several of the same MODSEQ, a long list of metadata entries into
// several of the same mailbox.
func encodeChanges(account store.AccountID, from uint64, chs []store.Change) []string {
	var out []string
	cur := notice{A: account, F: from}
	size := 0
	emit := func() {
		if len(cur.C) > 0 {
			b, _ := json.Marshal(cur)
			out = append(out, string(b))
		}
		cur.C, size = nil, 0
	}
	add := func(w wireChange) {
		b, _ := json.Marshal(w)
		if size+len(b) > maxPayload {
			emit()
		}
		cur.C = append(cur.C, w)
		size += len(b) + 1
	}
	for _, c := range chs {
		w := toWire(c)
		for w.T == kindExpunge && len(w.UIDs) > 500 {
			part := w
			part.UIDs = w.UIDs[:500]
			add(part)
			w.UIDs = w.UIDs[500:]
		}
		if w.T == kindMetadata {
			for _, part := range splitEntries(w) {
				add(part)
			}
			continue
		}
		add(w)
	}
	emit()
	return out
}

// maxNoticeEntries bounds the octets of entry names in one metadata
// change of a notification.
const maxNoticeEntries = maxPayload / 2

// splitEntries splits a metadata change into changes of the same mailbox
// whose entry names total at most maxNoticeEntries octets. A name longer
// than that alone (RFC 5464 sets no limit) cannot be sent: it is left out
// of the notification.
func splitEntries(w wireChange) []wireChange {
	var out []wireChange
	cur, size := w, 0
	cur.Ents = nil
	for _, e := range w.Ents {
		if len(e) > maxNoticeEntries {
			continue
		}
		if size+len(e) > maxNoticeEntries {
			out = append(out, cur)
			cur.Ents, size = nil, 0
		}
		cur.Ents = append(cur.Ents, e)
		size += len(e) + 3
	}
	if len(cur.Ents) > 0 {
		out = append(out, cur)
	}
	return out
}

// listener holds the connection that LISTENs for the changes every node
// commits and publishes them to this node's sessions.
type listener struct {
	s      *Store
	cfg    *pgx.ConnConfig
	cancel context.CancelFunc
	done   chan struct{}
	known  *tracker      // what this node was told, for the resync after a reconnect
	pid    atomic.Uint32 // the listening connection's backend (tests)
	// lost, when set (tests), runs when the connection is found lost,
	// before the reconnect.
	lost atomic.Pointer[func()]
}

// startListener connects and LISTENs before returning, so that every
// change committed after Open returns reaches this node.
func startListener(ctx context.Context, s *Store, cfg *pgx.ConnConfig) (*listener, error) {
	conn, err := listenConn(ctx, cfg)
	if err != nil {
		return nil, err
	}
	known, err := loadTracker(ctx, s.pool)
	if err != nil {
		conn.Close(ctx)
		return nil, err
	}
	lctx, cancel := context.WithCancel(context.Background())
	l := &listener{s: s, cfg: cfg, cancel: cancel, done: make(chan struct{}), known: known}
	go l.run(lctx, conn)
	return l, nil
}

func listenConn(ctx context.Context, cfg *pgx.ConnConfig) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, `LISTEN `+channel+`; LISTEN `+queueChannel); err != nil {
		conn.Close(ctx)
		return nil, err
	}
	return conn, nil
}

func (l *listener) stop() {
	l.cancel()
	<-l.done
}

// run delivers notifications until stopped. A lost connection is opened
// again (with a growing pause); the sessions are then told to resync,
// since what was committed meanwhile was not heard.
func (l *listener) run(ctx context.Context, conn *pgx.Conn) {
	defer close(l.done)
	pause := 100 * time.Millisecond
	for {
		err := l.receive(ctx, conn)
		conn.Close(context.Background())
		if ctx.Err() != nil {
			return
		}
		l.s.log.Warn("postgres: change listener lost its connection; reconnecting", "err", err)
		if f := l.lost.Load(); f != nil {
			(*f)()
		}
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(pause):
			}
			pause = min(2*pause, 5*time.Second)
			if conn, err = listenConn(ctx, l.cfg); err == nil {
				break
			}
		}
		pause = 100 * time.Millisecond
		if err := l.resync(ctx); err != nil {
			l.s.log.Error("postgres: resync after reconnect failed; sessions may miss changes until they select again", "err", err)
		}
	}
}

func (l *listener) receive(ctx context.Context, conn *pgx.Conn) error {
	l.pid.Store(conn.PgConn().PID())
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if n.Channel == queueChannel {
			select {
			case l.s.queueWake <- struct{}{}:
			default:
			}
			continue
		}
		var no notice
		if err := json.Unmarshal([]byte(n.Payload), &no); err != nil {
			l.s.log.Error("postgres: undecodable change notification", "err", err)
			continue
		}
		chs := make([]store.Change, 0, len(no.C))
		for _, w := range no.C {
			if c := w.change(); c != nil {
				chs = append(chs, c)
			}
		}
		l.known.note(no.A, chs)
		l.s.notify.Publish(no.A, no.F, chs)
	}
}
