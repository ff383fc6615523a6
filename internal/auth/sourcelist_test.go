package auth

import (
	"testing"
	"time"
)

// TestCacheFlush: after Flush no login is a hit, and the cache works on.
func TestCacheFlush(t *testing.T) {
	c := NewCache(CacheOptions{TTL: time.Hour})
	c.put("alice", "k", "pw")
	c.put("bob", "k", "pw")
	if !c.hit("alice", "k", "pw") {
		t.Fatal("no hit before Flush")
	}
	c.Flush()
	if c.hit("alice", "k", "pw") || c.hit("bob", "k", "pw") || c.Len() != 0 {
		t.Errorf("after Flush: hit or %d entries", c.Len())
	}
	c.put("alice", "k", "pw")
	if !c.hit("alice", "k", "pw") {
		t.Error("no hit after a put following Flush")
	}
	var none *Cache
	none.Flush()
}

// TestSourceListSwap: Swap returns the old sources and Load sees the new.
func TestSourceListSwap(t *testing.T) {
	a, b := NewLocalSource(nil, nil, nil), NewLocalSource(nil, nil, nil)
	l := NewSourceList([]Source{a})
	old := l.Swap([]Source{b, a})
	if len(old) != 1 || old[0] != a {
		t.Errorf("Swap returned %v", old)
	}
	if got := l.Load(); len(got) != 2 || got[0] != b {
		t.Errorf("Load after Swap: %v", got)
	}
	if (*SourceList)(nil).Load() != nil {
		t.Error("a nil list has sources")
	}
}
