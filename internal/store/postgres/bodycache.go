package postgres

import (
	"bytes"
	"container/list"
	"sync"
)

// bodyCacheBytes bounds a node's cache of bodies read from the database
// (docs/scale-out.md). Only bodies of one chunk or less are kept, so a
// large attachment never pushes out hundreds of ordinary messages.
const bodyCacheBytes = 64 << 20

// bodyCache keeps recently read bodies by name, least recently used out
// first, bounded in octets. Bodies are immutable and names never reused,
// so an entry is never stale; Remove on this node drops it.
type bodyCache struct {
	max int

	mu    sync.Mutex
	size  int
	lru   *list.List // of *cacheEntry, most recent at the front
	names map[string]*list.Element
}

type cacheEntry struct {
	name string
	data []byte
}

func newBodyCache(max int) *bodyCache {
	return &bodyCache{max: max, lru: list.New(), names: make(map[string]*list.Element)}
}

// get returns the body of that name, if kept.
func (c *bodyCache) get(name string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.names[name]
	if !ok {
		return nil, false
	}
	c.lru.MoveToFront(e)
	return e.Value.(*cacheEntry).data, true
}

// put keeps a body, dropping the least recently used ones over the bound.
// The caller must not modify data afterwards.
func (c *bodyCache) put(name string, data []byte) {
	if len(data) > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.names[name]; ok {
		return
	}
	c.names[name] = c.lru.PushFront(&cacheEntry{name: name, data: data})
	c.size += len(data)
	for c.size > c.max {
		c.drop(c.lru.Back())
	}
}

// remove drops a body.
func (c *bodyCache) remove(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.names[name]; ok {
		c.drop(e)
	}
}

func (c *bodyCache) drop(e *list.Element) {
	ce := c.lru.Remove(e).(*cacheEntry)
	delete(c.names, ce.name)
	c.size -= len(ce.data)
}

// cachedContent is a body read from the cache.
type cachedContent struct{ *bytes.Reader }

func (cachedContent) Close() error { return nil }
