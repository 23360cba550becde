package jetstream

import (
	"sync"
	"time"

	"github.com/tweetstreamer/tweetstreamer/stream"
)

// statusBoard is the state of the source's connection, which Status reads
// from other goroutines.
type statusBoard struct {
	mu      sync.Mutex
	state   stream.SourceState
	since   time.Time
	retryAt time.Time
	reason  string
}

// set records state, retryAt (zero when not waiting), and reason unless
// it is empty: the last failure stays until the next one.
func (b *statusBoard) set(state stream.SourceState, retryAt time.Time, reason string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if state != b.state {
		b.state, b.since = state, time.Now()
	}
	b.retryAt = retryAt
	if reason != "" {
		b.reason = reason
	}
}

// snapshot returns the status, without counts.
func (b *statusBoard) snapshot() stream.SourceStatus {
	b.mu.Lock()
	defer b.mu.Unlock()
	return stream.SourceStatus{State: b.state, Since: b.since, RetryAt: b.retryAt, Reason: b.reason}
}
