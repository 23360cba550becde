package stream

import (
	"context"
	"time"
)

// SourceState is where a live source stands with its upstream.
type SourceState string

// The states a StatusReporter reports.
const (
	SourceConnecting SourceState = "connecting"  // opening its stream
	SourceConnected  SourceState = "connected"   // receiving
	SourceBackingOff SourceState = "backing_off" // waiting to reconnect, until RetryAt
	SourceFailed     SourceState = "failed"      // given up: Reason says why
)

// SourceStatus is what a live source tells about its upstream: in the logs,
// in /healthz and as a banner on the page.
type SourceStatus struct {
	State SourceState `json:"state"`
	// Since is when it entered State.
	Since time.Time `json:"since"`
	// RetryAt is when it reconnects, while backing off.
	RetryAt time.Time `json:"retry_at,omitzero"`
	// Reason is the last failure, in a few words; never a secret.
	Reason string `json:"reason,omitempty"`
	// Counts are the source's own counters, such as matches the upstream
	// could not deliver or messages of unknown types.
	Counts map[string]int64 `json:"counts,omitempty"`
}

// A StatusReporter is a Source that knows more about its upstream than the
// ingester sees. Status is called from other goroutines, often.
type StatusReporter interface {
	Status() SourceStatus
}

// TagCount is a hashtag, without the "#", and how often it was seen.
type TagCount struct {
	Tag   string `json:"tag"`
	Count int    `json:"count"`
}

// A Trender is a Source whose upstream has a trends API of its own, which
// the "trending now" list uses instead of counting hashtags itself.
type Trender interface {
	Trending(ctx context.Context) ([]TagCount, error)
}
