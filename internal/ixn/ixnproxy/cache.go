package ixnproxy

import (
	"container/list"
	"sync"
)

// cache remembers which node holds an interaction, for at most size
// interactions; the one learnt longest ago is forgotten first. It is safe
// for concurrent use.
type cache struct {
	size int
	mu   sync.Mutex
	byID map[string]*list.Element
	age  *list.List // of entry, oldest at the front
}

type entry struct {
	id   string
	node *node
}

func newCache(size int) *cache {
	return &cache{size: max(size, 1), byID: map[string]*list.Element{}, age: list.New()}
}

// get returns the node that holds id, or nil when the cache does not know.
func (c *cache) get(id string) *node {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byID[id]; ok {
		return e.Value.(entry).node
	}
	return nil
}

// put records that n holds id.
func (c *cache) put(id string, n *node) {
	if id == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byID[id]; ok {
		e.Value = entry{id, n}
		return
	}
	c.byID[id] = c.age.PushBack(entry{id, n})
	for c.age.Len() > c.size {
		old := c.age.Remove(c.age.Front()).(entry)
		delete(c.byID, old.id)
	}
}

// forget drops id (its interaction stopped).
func (c *cache) forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byID[id]; ok {
		c.age.Remove(e)
		delete(c.byID, id)
	}
}

// len returns how many interactions the cache knows.
func (c *cache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.age.Len()
}
