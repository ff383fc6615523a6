package postgres

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/postern/postern/internal/store"
	"github.com/postern/postern/internal/store/body"
	"github.com/postern/postern/internal/store/postgres/pgtest"
)

// TestBodyCacheBound: the cache holds at most its bound in octets,
// dropping the least recently used body first, and never a body larger
// than the bound.
func TestBodyCacheBound(t *testing.T) {
	c := newBodyCache(10)
	c.put("a", []byte("1234"))
	c.put("b", []byte("5678"))
	c.get("a") // b is now the least recently used
	c.put("c", []byte("90"))
	c.put("d", []byte("xy"))
	if _, ok := c.get("b"); ok {
		t.Error("b kept past the bound; want it dropped as least recently used")
	}
	for _, n := range []string{"a", "c", "d"} {
		if _, ok := c.get(n); !ok {
			t.Errorf("%s dropped; want kept", n)
		}
	}
	if c.size > c.max {
		t.Errorf("size %d over the bound %d", c.size, c.max)
	}
	c.put("big", make([]byte, 11))
	if _, ok := c.get("big"); ok || c.size > c.max {
		t.Errorf("a body over the bound was kept (size %d)", c.size)
	}
}

// TestBodiesCached: a small body opened twice reads the same octets (the
// second time from the cache), and once removed is gone for Open.
func TestBodiesCached(t *testing.T) {
	ctx := t.Context()
	s := openStore(t, pgtest.New(t), Options{})
	data := []byte("Subject: cached\r\n\r\nbody\r\n")
	w, err := s.bodies.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	name := body.NewName()
	if err := w.Commit(ctx, name); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		c, err := s.bodies.Open(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(io.NewSectionReader(c, 0, c.Size()))
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("open %d: %q, %v; want %q", i, got, err, data)
		}
		c.Close()
	}
	if _, ok := s.bodies.(dbBodies).cache.get(name); !ok {
		t.Error("a body of one chunk not kept in the cache")
	}
	if err := s.bodies.Remove(ctx, name); err != nil {
		t.Fatal(err)
	}
	if _, err := s.bodies.Open(ctx, name); !errors.Is(err, store.ErrNoSuchMessage) {
		t.Errorf("Open after Remove: %v; want ErrNoSuchMessage", err)
	}
}
