package auth

import (
	"container/list"
	"context"
	"net/netip"
	"sync"
)

// fairQueue hands out the Hasher's slots for argon2 computations (each
// holds its Memory while it runs) fairly: waiters are served by priority
// class (a user who logged in from the address lately, then addresses
// without recent failures, then the rest), round-robin across source
// addresses within a class, and in arrival order within an address. A
// flood of guesses from many addresses therefore cannot push a clean
// address's login to the back of a first-come-first-served line (issue
// 12 finding 4), and one address with many connections gets one turn per
// round like any other.
type fairQueue struct {
	slots   int // immutable
	mu      sync.Mutex
	free    int
	classes [queueClasses]list.List    // of *keyQueue, front: next to serve
	keys    map[queueKey]*list.Element // waiting keys
}

// queueClasses is the number of priority classes (Throttle.Priority).
const queueClasses = 3

// queueKey is a waiter's source address within its class.
type queueKey struct {
	class int
	addr  netip.Prefix
}

// keyQueue is the waiters of one key, oldest first.
type keyQueue struct {
	key     queueKey
	waiters []*queueWaiter
}

type queueWaiter struct {
	ready   chan struct{}
	granted bool // set under mu when ready is closed
}

// queueTicket says where an attempt stands in the queue; it travels in
// the context of the hashing call.
type queueTicket struct {
	class int
	addr  netip.Prefix
}

type ticketKey struct{}

// withTicket returns ctx carrying t.
func withTicket(ctx context.Context, t queueTicket) context.Context {
	return context.WithValue(ctx, ticketKey{}, t)
}

// ticketOf returns the ticket in ctx, or the middle class with no address
// (CLI hashing, tests).
func ticketOf(ctx context.Context) queueTicket {
	if t, ok := ctx.Value(ticketKey{}).(queueTicket); ok {
		return t
	}
	return queueTicket{class: 1}
}

func newFairQueue(slots int) *fairQueue {
	return &fairQueue{slots: slots, free: slots, keys: map[queueKey]*list.Element{}}
}

// acquire waits for a slot in t's turn, or until ctx is done.
func (q *fairQueue) acquire(ctx context.Context, t queueTicket) (release func(), err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	q.mu.Lock()
	if q.free > 0 && len(q.keys) == 0 {
		q.free--
		q.mu.Unlock()
		return q.release, nil
	}
	w := &queueWaiter{ready: make(chan struct{})}
	k := queueKey{class: min(max(t.class, 0), queueClasses-1), addr: t.addr}
	el := q.keys[k]
	if el == nil {
		el = q.classes[k.class].PushBack(&keyQueue{key: k})
		q.keys[k] = el
	}
	kq := el.Value.(*keyQueue)
	kq.waiters = append(kq.waiters, w)
	q.mu.Unlock()

	select {
	case <-w.ready:
		return q.release, nil
	case <-ctx.Done():
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if w.granted { // the slot came as ctx ended: pass it on
		q.releaseLocked()
		return nil, ctx.Err()
	}
	q.remove(k, w)
	return nil, ctx.Err()
}

// remove takes a waiter that gave up out of its key's queue.
func (q *fairQueue) remove(k queueKey, w *queueWaiter) {
	el := q.keys[k]
	kq := el.Value.(*keyQueue)
	for i, x := range kq.waiters {
		if x == w {
			kq.waiters = append(kq.waiters[:i], kq.waiters[i+1:]...)
			break
		}
	}
	if len(kq.waiters) == 0 {
		q.classes[k.class].Remove(el)
		delete(q.keys, k)
	}
}

func (q *fairQueue) release() {
	q.mu.Lock()
	q.releaseLocked()
	q.mu.Unlock()
}

// releaseLocked gives the slot to the next waiter: the first key of the
// best class, which then goes to the back of its class's round.
func (q *fairQueue) releaseLocked() {
	for c := range q.classes {
		l := &q.classes[c]
		el := l.Front()
		if el == nil {
			continue
		}
		kq := el.Value.(*keyQueue)
		w := kq.waiters[0]
		kq.waiters = kq.waiters[1:]
		if len(kq.waiters) == 0 {
			l.Remove(el)
			delete(q.keys, kq.key)
		} else {
			l.MoveToBack(el)
		}
		w.granted = true
		close(w.ready)
		return
	}
	q.free++
}
