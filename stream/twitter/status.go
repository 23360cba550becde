package twitter

import (
	"log/slog"
	"maps"
	"sync"
	"time"

	"github.com/tweetstreamer/tweetstreamer/stream"
)

// The keys of SourceStatus.Counts; Status reports every one, zero or not.
const (
	// countTweets counts the tweets passed on to the sink.
	countTweets = "tweets"
	// countDeletes counts the deletion notices passed on as retractions.
	countDeletes = "deletes"
	// countReconnects counts the connections attempted after the first
	// of a Stream call, because the one before failed or ended; it is
	// the key every live source counts them under.
	countReconnects = stream.CountReconnects
	// countRetracks counts the connections opened beside the current one
	// to follow a change of the trend set.
	countRetracks = "retracks"
	// countLimit sums the tweets Twitter matched but held back because
	// the stream was over its rate limit (limit notices).
	countLimit = "limit_undelivered"
	// countUnknown counts messages of a type the source does not know.
	countUnknown = "unknown_messages"
	// countIgnored counts messages of a known type the source has no use
	// for: scrub_geo, status_withheld, user_withheld, events.
	countIgnored = "ignored_messages"
	// countMalformed counts messages that are not JSON objects, and
	// tweets or notices without what the source needs (an ID, an author).
	countMalformed = "malformed_messages"
	// countOversized counts messages longer than maxMessageBytes.
	countOversized = "oversized_messages"
	// countStallWarnings counts Twitter's warnings that the source reads
	// too slowly.
	countStallWarnings = "stall_warnings"
	// countDisconnects counts Twitter's disconnect messages.
	countDisconnects = "disconnects"
	// countStalls counts streams dropped after StallTimeout without a byte.
	countStalls = "stalls"
	// countDuplicates counts tweets dropped because they had just been
	// delivered: both streams of a retrack carry them.
	countDuplicates = "duplicates"
	// countUntracked is how many trends are left out of the track for
	// being longer than Twitter allows.
	countUntracked = "untracked_trends"
)

// countKeys lists every key of SourceStatus.Counts, so that Status shows
// a counter at zero rather than leave it out.
var countKeys = []string{
	countTweets, countDeletes, countReconnects, countRetracks, countLimit, countUnknown, countIgnored,
	countMalformed, countOversized, countStallWarnings, countDisconnects, countStalls, countDuplicates, countUntracked,
}

// statusBoard is the source's state, which Status reads from other
// goroutines. It logs each change of state once.
type statusBoard struct {
	logger *slog.Logger

	mu     sync.Mutex
	status stream.SourceStatus // Counts unused
	counts map[string]int64
}

// newStatusBoard returns a board that reports SourceConnecting since now
// until the first set, which it logs whatever the state.
func newStatusBoard(logger *slog.Logger, now time.Time) *statusBoard {
	return &statusBoard{
		logger: logger,
		status: stream.SourceStatus{Since: now},
		counts: make(map[string]int64, len(countKeys)),
	}
}

// set moves to state at now, with retryAt while backing off, and logs the
// move when the state changes, with attrs. A reason that is not empty
// becomes the last failure; it stays until the next one.
func (b *statusBoard) set(now time.Time, state stream.SourceState, retryAt time.Time, reason string, attrs ...any) {
	b.mu.Lock()
	changed := state != b.status.State
	if changed {
		b.status.State, b.status.Since = state, now
	}
	b.status.RetryAt = retryAt
	if reason != "" {
		b.status.Reason = reason
	}
	b.mu.Unlock()
	if !changed {
		return
	}
	switch state {
	case stream.SourceConnecting:
		b.logger.Info("twitter: connecting", attrs...)
	case stream.SourceConnected:
		b.logger.Info("twitter: connected", attrs...)
	case stream.SourceBackingOff:
		args := append([]any{"reason", reason, "retry_in", retryAt.Sub(now), "retry_at", retryAt}, attrs...)
		b.logger.Warn("twitter: stream down; reconnecting later", args...)
	case stream.SourceFailed:
		args := append([]any{"reason", reason}, attrs...)
		b.logger.Warn("twitter: stream failed", args...)
	}
}

// add adds n to the count key.
func (b *statusBoard) add(key string, n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.counts[key] += n
}

// setCount sets the count key to n.
func (b *statusBoard) setCount(key string, n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.counts[key] = n
}

// count returns the count key.
func (b *statusBoard) count(key string) int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.counts[key]
}

// snapshot returns a copy of the status, with its counts.
func (b *statusBoard) snapshot() stream.SourceStatus {
	b.mu.Lock()
	defer b.mu.Unlock()
	st := b.status
	if st.State == "" {
		st.State = stream.SourceConnecting
	}
	st.Counts = maps.Clone(b.counts)
	for _, k := range countKeys {
		st.Counts[k] += 0 // present, at zero if nothing was counted
	}
	return st
}
