package observe

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Disconnect says how a connection ended, for the disconnect counters.
// Every closed connection counts in exactly one of them, so
// Normal + Abnormal + ClientTimeouts = Total − Current.
type Disconnect int

// Ways a connection ends.
const (
	DisconnectNormal   Disconnect = iota // the client logged out (QUIT, LOGOUT)
	DisconnectAbnormal                   // I/O error, protocol abuse, server shutdown
	DisconnectTimeout                    // the client was idle past the timeout
)

// Stats are the counters of one protocol server, the XTND STATS fields
// (§5) shared with postern ctl stats. "Threads" are connections: the
// original served each connection with a thread. Methods are safe for
// concurrent use and cheap (atomics; the user registry takes a mutex).
type Stats struct {
	start time.Time
	now   func() time.Time

	currentThreads      atomic.Int64
	totalThreads        atomic.Int64
	maxThreads          atomic.Int64
	tooManyThreads      atomic.Int64
	normalDisconnects   atomic.Int64
	abnormalDisconnects atomic.Int64
	clientTimeouts      atomic.Int64
	blockedSockets      atomic.Int64
	retrievedMessages   atomic.Int64
	retrievedOctets     atomic.Int64
	minOctets           atomic.Int64 // -1 until the first retrieval
	maxOctets           atomic.Int64
	authFailures        atomic.Int64
	// SMTP and LMTP: messages taken in and where their recipients went.
	receivedMessages atomic.Int64
	receivedOctets   atomic.Int64
	deliveredRcpts   atomic.Int64
	queuedRcpts      atomic.Int64
	failedRcpts      atomic.Int64

	usersMu sync.Mutex
	users   map[string]int // user name → open sessions
}

// NewStats returns zeroed counters whose start time is now(); nil now
// means time.Now.
func NewStats(now func() time.Time) *Stats {
	if now == nil {
		now = time.Now
	}
	s := &Stats{start: now(), now: now, users: make(map[string]int)}
	s.minOctets.Store(-1)
	return s
}

// ConnOpened counts a new connection and updates the peak.
func (s *Stats) ConnOpened() {
	cur := s.currentThreads.Add(1)
	s.totalThreads.Add(1)
	storeMax(&s.maxThreads, cur)
}

// ConnClosed counts the end of a connection opened with ConnOpened.
func (s *Stats) ConnClosed(how Disconnect) {
	s.currentThreads.Add(-1)
	switch how {
	case DisconnectNormal:
		s.normalDisconnects.Add(1)
	case DisconnectTimeout:
		s.clientTimeouts.Add(1)
	default:
		s.abnormalDisconnects.Add(1)
	}
}

// TooManyThreads counts a connection refused because Max-Connections (or
// the process limit) was reached. Such a connection is not ConnOpened.
func (s *Stats) TooManyThreads() { s.tooManyThreads.Add(1) }

// BlockedSocket counts a write that blocked past its deadline because the
// client stopped reading.
func (s *Stats) BlockedSocket() { s.blockedSockets.Add(1) }

// AuthFailure counts a failed authentication.
func (s *Stats) AuthFailure() { s.authFailures.Add(1) }

// Retrieved counts one message sent to a client (POP RETR, IMAP FETCH of
// a full body) of the given size.
func (s *Stats) Retrieved(octets int64) {
	s.retrievedMessages.Add(1)
	s.retrievedOctets.Add(octets)
	storeMax(&s.maxOctets, octets)
	for {
		cur := s.minOctets.Load()
		if cur >= 0 && cur <= octets || s.minOctets.CompareAndSwap(cur, octets) {
			return
		}
	}
}

// Received counts a message taken in over SMTP or LMTP (its data read in
// full and handed to delivery) of the given size.
func (s *Stats) Received(octets int64) {
	s.receivedMessages.Add(1)
	s.receivedOctets.Add(octets)
}

// Delivered counts n local deliveries (one per account a message reached).
func (s *Stats) Delivered(n int) { s.deliveredRcpts.Add(int64(n)) }

// Queued counts n remote recipients handed to the outbound queue.
func (s *Stats) Queued(n int) { s.queuedRcpts.Add(int64(n)) }

// FailedRecipients counts n recipients whose delivery failed after the data.
func (s *Stats) FailedRecipients(n int) { s.failedRcpts.Add(int64(n)) }

// AddUser records a logged-in session of user.
func (s *Stats) AddUser(user string) {
	s.usersMu.Lock()
	s.users[user]++
	s.usersMu.Unlock()
}

// RemoveUser ends a session recorded with AddUser.
func (s *Stats) RemoveUser(user string) {
	s.usersMu.Lock()
	defer s.usersMu.Unlock()
	if s.users[user] <= 1 {
		delete(s.users, user)
		return
	}
	s.users[user]--
}

// StatsSnapshot is a copy of the counters at one instant, with the
// derived fields XTND STATS shows.
type StatsSnapshot struct {
	Start               time.Time     `json:"start"`
	Now                 time.Time     `json:"now"`
	CPU                 time.Duration `json:"cpu_ns"` // process CPU time, user + system
	CurrentThreads      int64         `json:"current_threads"`
	TotalThreads        int64         `json:"total_threads"`
	MaxThreads          int64         `json:"max_threads"`
	TooManyThreads      int64         `json:"too_many_threads"`
	NormalDisconnects   int64         `json:"normal_disconnects"`
	AbnormalDisconnects int64         `json:"abnormal_disconnects"`
	ClientTimeouts      int64         `json:"client_timeouts"`
	BlockedSockets      int64         `json:"blocked_sockets"`
	RetrievedMessages   int64         `json:"retrieved_messages"`
	RetrievedOctets     int64         `json:"retrieved_octets"`
	AverageOctets       int64         `json:"average_octets"` // 0 when nothing was retrieved
	MinOctets           int64         `json:"min_octets"`     // 0 when nothing was retrieved
	MaxOctets           int64         `json:"max_octets"`
	AuthFailures        int64         `json:"auth_failures"`
	// SMTP and LMTP.
	ReceivedMessages    int64 `json:"received_messages"`
	ReceivedOctets      int64 `json:"received_octets"`
	DeliveredRecipients int64 `json:"delivered_recipients"`
	QueuedRecipients    int64 `json:"queued_recipients"`
	FailedRecipients    int64 `json:"failed_recipients"`
	// CurrentUsers lists logged-in sessions' user names, sorted; a user
	// with two sessions appears twice, as each thread did in the original.
	CurrentUsers []string `json:"current_users"`
}

// Snapshot returns the counters now. Counters are read one by one, so a
// snapshot taken while connections come and go may be off by one between
// fields.
func (s *Stats) Snapshot() StatsSnapshot {
	snap := StatsSnapshot{
		Start:               s.start,
		Now:                 s.now(),
		CPU:                 CPUTime(),
		CurrentThreads:      s.currentThreads.Load(),
		TotalThreads:        s.totalThreads.Load(),
		MaxThreads:          s.maxThreads.Load(),
		TooManyThreads:      s.tooManyThreads.Load(),
		NormalDisconnects:   s.normalDisconnects.Load(),
		AbnormalDisconnects: s.abnormalDisconnects.Load(),
		ClientTimeouts:      s.clientTimeouts.Load(),
		BlockedSockets:      s.blockedSockets.Load(),
		RetrievedMessages:   s.retrievedMessages.Load(),
		RetrievedOctets:     s.retrievedOctets.Load(),
		MinOctets:           max(s.minOctets.Load(), 0),
		MaxOctets:           s.maxOctets.Load(),
		AuthFailures:        s.authFailures.Load(),
		ReceivedMessages:    s.receivedMessages.Load(),
		ReceivedOctets:      s.receivedOctets.Load(),
		DeliveredRecipients: s.deliveredRcpts.Load(),
		QueuedRecipients:    s.queuedRcpts.Load(),
		FailedRecipients:    s.failedRcpts.Load(),
	}
	if snap.RetrievedMessages > 0 {
		snap.AverageOctets = snap.RetrievedOctets / snap.RetrievedMessages
	}
	s.usersMu.Lock()
	for u, n := range s.users {
		for range n {
			snap.CurrentUsers = append(snap.CurrentUsers, u)
		}
	}
	s.usersMu.Unlock()
	slices.Sort(snap.CurrentUsers)
	return snap
}

// storeMax raises a to v if v is larger.
func storeMax(a *atomic.Int64, v int64) {
	for {
		cur := a.Load()
		if v <= cur || a.CompareAndSwap(cur, v) {
			return
		}
	}
}
