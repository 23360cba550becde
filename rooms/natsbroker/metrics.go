package natsbroker

import "sync/atomic"

// ConnMetrics is a snapshot of a node's link to NATS, for monitoring.
type ConnMetrics struct {
	// Connected is whether the link is up now.
	Connected bool
	// Reconnects counts the times the link came back after a loss.
	Reconnects uint64
}

// Metrics returns a snapshot of the link.
func (c *Conn) Metrics() ConnMetrics {
	return ConnMetrics{Connected: c.nc.IsConnected(), Reconnects: c.nc.Stats().Reconnects}
}

// FollowerMetrics counts how a web node filled the holes in its rooms'
// streams (a seq that jumped, a reconnection), by outcome; each fill has
// exactly one.
type FollowerMetrics struct {
	// Filled counts the fills that fetched every tweet missing.
	Filled uint64
	// Skipped counts the fills that delivered some or all of the tweets
	// missing as skipped: the ingest node no longer had them, or could
	// not be asked.
	Skipped uint64
	// Reset counts the fills that found the room in a new epoch, and
	// started its members over.
	Reset uint64
}

// fillCounters are the counts of FollowerMetrics.
type fillCounters struct {
	filled, skipped, reset atomic.Uint64
}

// Metrics returns a snapshot of the follower's fills.
func (f *Follower) Metrics() FollowerMetrics {
	return FollowerMetrics{Filled: f.fills.filled.Load(), Skipped: f.fills.skipped.Load(), Reset: f.fills.reset.Load()}
}
