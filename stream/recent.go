package stream

// RecentIDs remembers the last IDs added to it, up to a fixed number. A
// source that reconnects uses it to drop what its upstream sends again: a
// resumed subscription's rewind, the overlap of an old and a new stream.
// Its memory is bounded by the number. It is not safe for concurrent use.
type RecentIDs struct {
	ring []string // the IDs, oldest at next once the ring is full
	next int
	set  map[string]struct{}
}

// NewRecentIDs returns a set that remembers the last n IDs (at least one).
func NewRecentIDs(n int) *RecentIDs {
	n = max(n, 1)
	return &RecentIDs{ring: make([]string, n), set: make(map[string]struct{}, n)}
}

// Add remembers id, forgetting the oldest ID when full, and reports
// whether id was new. The empty string is never remembered, and always
// new: an item without an ID cannot be told apart from another.
func (r *RecentIDs) Add(id string) bool {
	if id == "" {
		return true
	}
	if _, ok := r.set[id]; ok {
		return false
	}
	if old := r.ring[r.next]; old != "" {
		delete(r.set, old)
	}
	r.ring[r.next] = id
	r.set[id] = struct{}{}
	r.next = (r.next + 1) % len(r.ring)
	return true
}

// Len is how many IDs it remembers.
func (r *RecentIDs) Len() int { return len(r.set) }
