package observe

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// ConnInfo describes one open connection, for `postern ctl connections`.
type ConnInfo struct {
	ID     uint64
	Proto  string
	Remote string
	User   string // "" before authentication
	Since  time.Time
}

// Conns is the registry of open connections shared by every protocol
// server of a process. It also hands out connection ids, which are unique
// and increasing across protocols, so log lines and trace files of
// different protocols never share a cid.
type Conns struct {
	next atomic.Uint64
	mu   sync.Mutex
	open map[uint64]*ConnInfo
}

// NewConns returns an empty registry.
func NewConns() *Conns { return &Conns{open: make(map[uint64]*ConnInfo)} }

// Add registers a new connection and returns its id.
func (c *Conns) Add(proto, remote string, since time.Time) uint64 {
	id := c.next.Add(1)
	c.mu.Lock()
	c.open[id] = &ConnInfo{ID: id, Proto: proto, Remote: remote, Since: since}
	c.mu.Unlock()
	return id
}

// SetUser records the authenticated user of connection id.
func (c *Conns) SetUser(id uint64, user string) {
	c.mu.Lock()
	if ci := c.open[id]; ci != nil {
		ci.User = user
	}
	c.mu.Unlock()
}

// Remove forgets connection id.
func (c *Conns) Remove(id uint64) {
	c.mu.Lock()
	delete(c.open, id)
	c.mu.Unlock()
}

// List returns the open connections ordered by id.
func (c *Conns) List() []ConnInfo {
	c.mu.Lock()
	out := make([]ConnInfo, 0, len(c.open))
	for _, ci := range c.open {
		out = append(out, *ci)
	}
	c.mu.Unlock()
	slices.SortFunc(out, func(a, b ConnInfo) int { return int(a.ID) - int(b.ID) })
	return out
}

// Count returns how many connections of proto are open.
func (c *Conns) Count(proto string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, ci := range c.open {
		if ci.Proto == proto {
			n++
		}
	}
	return n
}
