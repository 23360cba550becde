package jetstream

import "time"

const (
	// peakEventRate is the event rate, per second, the recent-ID set is
	// sized for: several times the 25 to 40 posts a second Jetstream
	// carries, so that a rewind's repeats are still remembered at a peak.
	peakEventRate = 200
	// minRecentIDs keeps the set useful with a tiny or no rewind: the
	// events at the cursor itself come again after every reconnection.
	minRecentIDs = 1024
	// maxRecentIDs bounds the set's memory (a few MiB) whatever the rewind.
	maxRecentIDs = 1 << 16
)

// recentCapacity is how many IDs to remember for a rewind: the events of
// the rewind window at peakEventRate, and minRecentIDs more.
func recentCapacity(rewind time.Duration) int {
	n := rewind.Seconds()*peakEventRate + minRecentIDs
	return int(min(n, maxRecentIDs))
}

// recentIDs remembers the last IDs added to it, up to a fixed number, to
// drop the repeats of a resumed subscription. It is not safe for
// concurrent use.
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
	if _, ok := r.set[id]; ok || id == "" {
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
