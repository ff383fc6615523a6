package admission

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"sync"
)

// Sharing a Table between processes. Under `postern serve` every worker
// generation serves the same sockets, and a draining generation still
// holds sessions while the next one accepts; Service-Limit,
// Max-Connections-Per-IP, Max-Preauth-Per-IP and the rate must count them
// together (docs/supervisor.md). So the supervisor keeps the Tables
// (TableServer) and each worker's Tables ask it per connection
// (Table.Share with a TableClient): admit, promote, release. One request
// and its answer at a time per worker, in order, on a socket of its own:
// a round trip on a Unix socket (tens of µs) per accepted connection.
// When a worker's socket ends (it exited, or was killed) the supervisor
// releases every slot it still held.

// A Remote holds a Table's counts in another process.
type Remote interface {
	// Admit takes a slot for a new connection from a, or says why not.
	// An error means the other process cannot be asked.
	Admit(a netip.Addr) (id uint64, why Reason, err error)
	// Promote moves slot id from pre-auth to authenticated.
	Promote(id uint64)
	// Release gives slot id back; preauth says whether it was still
	// pre-auth.
	Release(id uint64, preauth bool)
}

// Share makes t count in r from now on. Should r fail, t counts for its
// own process again, as it did before sharing: the caps then hold per
// process rather than not at all.
func (t *Table) Share(r Remote) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.remote = r
}

// SetLimits replaces t's caps; connections already admitted stay.
func (t *Table) SetLimits(l Limits) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.limits = l
}

// shareRequest is one line from a worker.
type shareRequest struct {
	Op      string     `json:"op"` // "table", "admit", "promote", "release"
	Table   string     `json:"table,omitempty"`
	Limits  *Limits    `json:"limits,omitempty"` // op table
	Addr    netip.Addr `json:"addr,omitzero"`
	ID      uint64     `json:"id,omitempty"`
	Preauth bool       `json:"preauth,omitempty"`
}

// shareAnswer answers every request.
type shareAnswer struct {
	ID     uint64 `json:"id,omitempty"`
	Reason Reason `json:"reason,omitempty"`
	Err    string `json:"err,omitempty"`
}

// TableServer holds the Tables every worker shares, by name.
type TableServer struct {
	mu     sync.Mutex
	tables map[string]*Table
}

// NewTableServer returns an empty TableServer.
func NewTableServer() *TableServer { return &TableServer{tables: map[string]*Table{}} }

// table returns the Table name, made with l, or given l when it exists (a
// worker started after a reload brings the new caps).
func (s *TableServer) table(name string, l Limits) *Table {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tables[name]
	if t == nil {
		t = NewTable(l, nil)
		s.tables[name] = t
	} else {
		t.SetLimits(l)
	}
	return t
}

// Count returns the live connections the Table name counts, for tests and
// statistics.
func (s *TableServer) Count(name string) int {
	s.mu.Lock()
	t := s.tables[name]
	s.mu.Unlock()
	if t == nil {
		return 0
	}
	total, _, _ := t.Count(netip.Addr{})
	return total
}

// heldSlot is a slot a worker holds, and whether it is still pre-auth.
type heldSlot struct {
	slot    slot
	preauth bool
}

// Serve answers one worker on conn until it ends, then releases what that
// worker held.
func (s *TableServer) Serve(conn io.ReadWriter) error {
	tables := map[string]*Table{}
	held := map[uint64]*heldSlot{}
	var next uint64
	defer func() {
		for _, h := range held {
			h.slot.release(h.preauth)
		}
	}()
	sc := bufio.NewScanner(conn)
	enc := json.NewEncoder(conn)
	for sc.Scan() {
		var r shareRequest
		var a shareAnswer
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return fmt.Errorf("admission request: %w", err)
		}
		switch r.Op {
		case "table":
			if r.Limits == nil {
				a.Err = "table without limits"
				break
			}
			tables[r.Table] = s.table(r.Table, *r.Limits)
		case "admit":
			t := tables[r.Table]
			if t == nil {
				a.Err = "unknown table " + r.Table
				break
			}
			sl, why := t.admit(r.Addr)
			if why != "" {
				a.Reason = why
				break
			}
			next++
			held[next] = &heldSlot{slot: sl, preauth: true}
			a.ID = next
		case "promote":
			if h := held[r.ID]; h != nil && h.preauth {
				h.preauth = false
				h.slot.promote()
			}
		case "release":
			if h := held[r.ID]; h != nil {
				delete(held, r.ID)
				h.slot.release(h.preauth)
			}
		default:
			a.Err = "unknown admission request " + r.Op
		}
		if err := enc.Encode(a); err != nil {
			return err
		}
	}
	return sc.Err()
}

// TableClient is a worker's end of a TableServer's socket.
type TableClient struct {
	mu   sync.Mutex
	conn io.ReadWriter
	sc   *bufio.Scanner
	err  error // the socket failed: every request fails from then on
}

// NewTableClient returns a client on conn.
func NewTableClient(conn io.ReadWriter) *TableClient {
	return &TableClient{conn: conn, sc: bufio.NewScanner(conn)}
}

// errShareFailed is the error of every request after the socket failed.
var errShareFailed = errors.New("admission: the supervisor's tables cannot be reached")

// ask sends r and reads its answer.
func (c *TableClient) ask(r shareRequest) (shareAnswer, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return shareAnswer{}, c.err
	}
	b, _ := json.Marshal(r)
	if _, err := c.conn.Write(append(b, '\n')); err != nil {
		c.err = fmt.Errorf("%w: %v", errShareFailed, err)
		return shareAnswer{}, c.err
	}
	if !c.sc.Scan() {
		c.err = fmt.Errorf("%w: %v", errShareFailed, c.sc.Err())
		return shareAnswer{}, c.err
	}
	var a shareAnswer
	if err := json.Unmarshal(c.sc.Bytes(), &a); err != nil {
		c.err = fmt.Errorf("%w: %v", errShareFailed, err)
		return shareAnswer{}, c.err
	}
	if a.Err != "" {
		return a, errors.New(a.Err)
	}
	return a, nil
}

// Table registers the Table name with l in the supervisor and returns it
// as a Remote for Table.Share.
func (c *TableClient) Table(name string, l Limits) (Remote, error) {
	if _, err := c.ask(shareRequest{Op: "table", Table: name, Limits: &l}); err != nil {
		return nil, err
	}
	return &remoteTable{c: c, name: name}, nil
}

type remoteTable struct {
	c    *TableClient
	name string
}

func (t *remoteTable) Admit(a netip.Addr) (uint64, Reason, error) {
	ans, err := t.c.ask(shareRequest{Op: "admit", Table: t.name, Addr: a})
	return ans.ID, ans.Reason, err
}

func (t *remoteTable) Promote(id uint64) { t.c.ask(shareRequest{Op: "promote", ID: id}) }

func (t *remoteTable) Release(id uint64, preauth bool) {
	t.c.ask(shareRequest{Op: "release", ID: id, Preauth: preauth})
}
