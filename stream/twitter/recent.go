package twitter

// recentTweetIDs is how many tweet IDs the source remembers to drop the
// tweets that both streams deliver while a retrack overlaps them. The
// overlap lasts one connection attempt, seconds at most; Twitter caps a
// filter stream near 50 tweets a second, so this covers over a minute of
// it for well under a MiB.
const recentTweetIDs = 4096

// recentIDs remembers the last IDs added to it, up to a fixed number. It
// is not safe for concurrent use.
type recentIDs struct {
	ring []string // the IDs, oldest at next once the ring is full
	next int
	set  map[string]struct{}
}

func newRecentIDs(n int) *recentIDs {
	n = max(n, 1)
	return &recentIDs{ring: make([]string, n), set: make(map[string]struct{}, n)}
}

// add remembers id, forgetting the oldest ID when full, and reports
// whether id was new. The empty string is never remembered.
func (r *recentIDs) add(id string) bool {
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
