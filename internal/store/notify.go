package store

import (
	"crypto/rand"
	"encoding/binary"
	"sync"
)

// Notifier carries committed changes from the session that made them to
// the other sessions of the same account. It is an interface because the
// stream must later cross processes (IMAP Max-Connections rollover) and
// machines (a PostgreSQL store with LISTEN/NOTIFY); [NewLocalNotifier] is the
// in-process implementation.
type Notifier interface {
	// Subscribe registers a new subscriber for an account's changes.
	Subscribe(account AccountID) Subscription
	// Publish delivers changes, in order, to every subscriber of the
	// account except the one whose ID is from (0 = deliver to all). It never
	// blocks on a subscriber.
	Publish(account AccountID, from uint64, changes []Change)
}

// Subscription is one subscriber's queue of changes.
type Subscription interface {
	// ID identifies the subscription, for Publish's from argument. IDs are
	// unique across processes and machines, never 0: a change that
	// crossed from another node names its session's subscription, which
	// must not be mistaken for a local one.
	ID() uint64
	// Ready receives a value whenever changes are waiting. It has a buffer
	// of one, so a wake-up is never lost and never blocks the publisher.
	Ready() <-chan struct{}
	// Take returns the waiting changes in publication order and empties the
	// queue.
	Take() []Change
	// Close unsubscribes. Take returns nil afterwards.
	Close()
}

// NewLocalNotifier returns a Notifier for the sessions of one process.
func NewLocalNotifier() Notifier {
	return &localNotifier{nextID: NewSubscriptionIDBase(), subs: make(map[AccountID]map[uint64]*localSub)}
}

// NewSubscriptionIDBase returns where a notifier starts numbering its
// subscriptions: 64 random bits, so that the IDs of two notifiers, in
// one process or on two machines, overlap only if 2^64 random draws
// collide within the number of subscriptions they hand out.
func NewSubscriptionIDBase() uint64 {
	var b [8]byte
	rand.Read(b[:])
	return binary.BigEndian.Uint64(b[:]) >> 1 // room to count up without wrapping to 0
}

type localNotifier struct {
	mu     sync.Mutex
	nextID uint64
	subs   map[AccountID]map[uint64]*localSub
}

type localSub struct {
	n       *localNotifier
	account AccountID
	id      uint64
	ready   chan struct{}

	mu      sync.Mutex
	pending []Change
	closed  bool
}

func (n *localNotifier) Subscribe(account AccountID) Subscription {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.nextID++
	s := &localSub{n: n, account: account, id: n.nextID, ready: make(chan struct{}, 1)}
	if n.subs[account] == nil {
		n.subs[account] = make(map[uint64]*localSub)
	}
	n.subs[account][s.id] = s
	return s
}

func (n *localNotifier) Publish(account AccountID, from uint64, changes []Change) {
	if len(changes) == 0 {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for id, s := range n.subs[account] {
		if id != from {
			s.push(changes)
		}
	}
}

func (n *localNotifier) remove(s *localSub) {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.subs[s.account], s.id)
	if len(n.subs[s.account]) == 0 {
		delete(n.subs, s.account)
	}
}

func (s *localSub) push(changes []Change) {
	s.mu.Lock()
	if !s.closed {
		s.pending = append(s.pending, changes...)
	}
	s.mu.Unlock()
	select {
	case s.ready <- struct{}{}:
	default:
	}
}

func (s *localSub) ID() uint64             { return s.id }
func (s *localSub) Ready() <-chan struct{} { return s.ready }

func (s *localSub) Take() []Change {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.pending
	s.pending = nil
	return c
}

func (s *localSub) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.pending = nil
	s.mu.Unlock()
	s.n.remove(s)
}
