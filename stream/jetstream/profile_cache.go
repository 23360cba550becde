package jetstream

import (
	"container/list"
	"time"

	"github.com/tweetstreamer/tweetstreamer/stream"
)

// profileEntry is what the source knows of an author.
type profileEntry struct {
	author stream.Author
	// found says the author has a profile, in author; otherwise the
	// lookup found none or failed, and may be tried again at retryAt.
	found   bool
	retryAt time.Time
}

// profileCache keeps the entries of the authors seen most recently, up to
// a limit. It is not safe for concurrent use.
type profileCache struct {
	limit int
	order *list.List               // of *cacheItem, the most recently used first
	items map[string]*list.Element // by DID
}

type cacheItem struct {
	did   string
	entry profileEntry
}

func newProfileCache(limit int) *profileCache {
	return &profileCache{
		limit: max(limit, 1),
		order: list.New(),
		items: make(map[string]*list.Element),
	}
}

// get returns did's entry, and marks it used.
func (c *profileCache) get(did string) (profileEntry, bool) {
	el, ok := c.items[did]
	if !ok {
		return profileEntry{}, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*cacheItem).entry, true
}

// put sets did's entry, forgetting the least recently used entry when the
// cache is full.
func (c *profileCache) put(did string, e profileEntry) {
	if el, ok := c.items[did]; ok {
		el.Value.(*cacheItem).entry = e
		c.order.MoveToFront(el)
		return
	}
	if c.order.Len() >= c.limit {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.items, oldest.Value.(*cacheItem).did)
	}
	c.items[did] = c.order.PushFront(&cacheItem{did: did, entry: e})
}

// remove forgets did.
func (c *profileCache) remove(did string) {
	if el, ok := c.items[did]; ok {
		c.order.Remove(el)
		delete(c.items, did)
	}
}

// len is the number of entries.
func (c *profileCache) len() int { return c.order.Len() }
