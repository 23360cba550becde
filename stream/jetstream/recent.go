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
