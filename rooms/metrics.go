package rooms

import (
	"bytes"
	"slices"
	"sync/atomic"
	"time"
)

// Metrics is a snapshot of what a hub counts, for monitoring. Counters
// (the uint64 fields, the maps and the histogram) only grow over the hub's
// life; the int fields are what holds now. The hub keeps them with atomic
// adds, once per publish or per frame written rather than per member where
// it can, so that counting costs the fan-out next to nothing.
type Metrics struct {
	// Connections is the WebSocket connections open now.
	Connections int
	// ConnectionsOpened counts the connections accepted, and
	// ConnectionsCompressed those of them that negotiated
	// permessage-deflate.
	ConnectionsOpened, ConnectionsCompressed uint64
	// RefusedFull and RefusedPerIP count the upgrades refused past
	// MaxConns and past MaxConnsPerIP.
	RefusedFull, RefusedPerIP uint64
	// ConnectionsClosed counts the connections ended, by the Name of the
	// Disconnect that ended them; every name in Disconnects is present.
	ConnectionsClosed map[string]uint64
	// Rooms is the rooms the hub holds now, CustomRooms how many of them
	// a join or a page added (the others are the configured trends).
	Rooms, CustomRooms int
	// Memberships is the connections in rooms now, summed over the rooms:
	// a connection in three rooms counts three times.
	Memberships int
	// TweetsRouted counts the tweets published into rooms, once per room:
	// a tweet that matched two trends counts twice. Only a hub that
	// sequences its rooms publishes; a following hub counts none.
	TweetsRouted uint64
	// Deliveries counts the live tweet messages queued for members: for
	// each tweet a room received, its members that were not paused.
	// Backlogs and replays are not counted.
	Deliveries uint64
	// FramesWritten and BytesWritten count the WebSocket data frames
	// written to clients and their payload bytes (frame headers left out;
	// a compressed frame's bytes as they went on the wire).
	FramesWritten, BytesWritten uint64
	// MessagesCompressed counts the messages compressed to be shared by
	// the connections that read compressed frames: a tweet once per room
	// and variant, however many members read it.
	MessagesCompressed uint64
	// SkippedTweets counts the tweets reported to clients in `skipped`
	// messages, whatever the cause: a queue that overflowed, a resume
	// that jumped to live, history that no longer held them.
	SkippedTweets uint64
	// SlowWrites counts the writes that found tweets dropped from their
	// connection's queue since the one before: each is a client that
	// could not keep up and was sent `skipped`.
	SlowWrites uint64
	// Recovered and NotRecovered count the joins with since: whether
	// everything since could be replayed.
	Recovered, NotRecovered uint64
	// ClientErrors counts the `error` messages sent, by code; every code
	// in ErrorCodes is present.
	ClientErrors map[string]uint64
	// Latency is the time from a tweet's ingestion to the write of the
	// frame that carries it, observed once per frame (see LatencyBuckets).
	Latency Histogram
}

// Add adds o's counts and connections to m, for a node of several hubs;
// the rooms stay m's, since the hubs of one node share them.
func (m *Metrics) Add(o Metrics) {
	m.Connections += o.Connections
	m.ConnectionsOpened += o.ConnectionsOpened
	m.ConnectionsCompressed += o.ConnectionsCompressed
	m.RefusedFull += o.RefusedFull
	m.RefusedPerIP += o.RefusedPerIP
	for k, v := range o.ConnectionsClosed {
		m.ConnectionsClosed[k] += v
	}
	m.Memberships += o.Memberships
	m.TweetsRouted += o.TweetsRouted
	m.Deliveries += o.Deliveries
	m.FramesWritten += o.FramesWritten
	m.BytesWritten += o.BytesWritten
	m.MessagesCompressed += o.MessagesCompressed
	m.SkippedTweets += o.SkippedTweets
	m.SlowWrites += o.SlowWrites
	m.Recovered += o.Recovered
	m.NotRecovered += o.NotRecovered
	for k, v := range o.ClientErrors {
		m.ClientErrors[k] += v
	}
	for j, v := range o.Latency.Counts {
		m.Latency.Counts[j] += v
	}
	m.Latency.Sum += o.Latency.Sum
}

// Disconnects lists every reason the server ends a connection, for the
// counts of Metrics.ConnectionsClosed.
var Disconnects = [...]Disconnect{
	DisconnectShutdown, DisconnectTooSlow, DisconnectBadData, DisconnectUnsupported, DisconnectProtocol, DisconnectTooBig, DisconnectRoomless, DisconnectInternal, DisconnectGone,
}

// ErrorCodes lists every code of an `error` message, for the counts of
// Metrics.ClientErrors.
var ErrorCodes = [...]string{
	CodeBadRequest, CodeBadRoom, CodeTooManyRooms, CodeTooManyTrends, CodeRateLimited, CodeNotJoined, CodeUnavailable, CodeInternal,
}

// LatencyBuckets are the upper bounds of Metrics.Latency's buckets: from
// well under a flush interval (20 ms by default) to writeWait, past which
// a write has failed anyway.
var LatencyBuckets = [...]time.Duration{
	time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond, 10 * time.Millisecond,
	25 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond, 250 * time.Millisecond,
	500 * time.Millisecond, time.Second, 2500 * time.Millisecond, 5 * time.Second, 10 * time.Second,
}

// Histogram is a snapshot of a histogram over LatencyBuckets.
type Histogram struct {
	// Counts holds, for each bucket of LatencyBuckets, the observations
	// at or below its bound and above the one before (not cumulative);
	// the last element, one past the buckets, counts those above them all.
	// Their sum is the number of observations.
	Counts []uint64
	// Sum is the total of the observations.
	Sum time.Duration
}

// hubCounters are a hub's counters, kept with atomic adds. The fan-out's
// writers all add to them, so each is touched once per frame or per
// publish, never once per member message. The publishing side's and the
// writers' sit on cache lines of their own, so that a publish and a write
// on two cores do not take the same line from each other.
type hubCounters struct {
	// Added to by the publishing side.
	routed     atomic.Uint64
	deliveries atomic.Uint64
	// compressed counts the messages compressed for members to share.
	compressed atomic.Uint64
	_          cacheLinePad
	// Added to by the writers.
	frames     atomic.Uint64
	bytes      atomic.Uint64
	skipped    atomic.Uint64
	slowWrites atomic.Uint64
	latency    latencyHistogram
	_          cacheLinePad
	// Added to by connections' readers, seldom.
	opened atomic.Uint64
	// openedCompressed counts the connections opened that negotiated
	// permessage-deflate.
	openedCompressed atomic.Uint64
	refusedFull      atomic.Uint64
	refusedPerIP     atomic.Uint64
	closed           [len(Disconnects)]atomic.Uint64
	memberships      atomic.Int64
	recovered        atomic.Uint64
	notRecovered     atomic.Uint64
	clientErrors     [len(ErrorCodes)]atomic.Uint64
}

// cacheLinePad keeps what follows off the cache line of what precedes it,
// on CPUs whose lines are 64 bytes or less.
type cacheLinePad [64]byte

// countClosed counts a connection ended for d.
func (m *hubCounters) countClosed(d Disconnect) {
	if i := slices.Index(Disconnects[:], d); i >= 0 {
		m.closed[i].Add(1)
	}
}

// countError counts an `error` message with code.
func (m *hubCounters) countError(code string) {
	if i := slices.Index(ErrorCodes[:], code); i >= 0 {
		m.clientErrors[i].Add(1)
	}
}

// countRecovery counts a join with since, recovered or not.
func (m *hubCounters) countRecovery(recovered bool) {
	if recovered {
		m.recovered.Add(1)
	} else {
		m.notRecovered.Add(1)
	}
}

// latencyHistogram counts observations in LatencyBuckets with atomic adds:
// two per observation.
type latencyHistogram struct {
	counts [len(LatencyBuckets) + 1]atomic.Uint64
	sum    atomic.Int64 // nanoseconds
}

func (l *latencyHistogram) observe(d time.Duration) {
	i, _ := slices.BinarySearch(LatencyBuckets[:], d)
	l.counts[i].Add(1)
	l.sum.Add(int64(d))
}

func (l *latencyHistogram) snapshot() Histogram {
	h := Histogram{Counts: make([]uint64, len(l.counts))}
	for i := range l.counts {
		h.Counts[i] = l.counts[i].Load()
	}
	h.Sum = time.Duration(l.sum.Load())
	return h
}

// Metrics returns a snapshot of the hub's counters and of its rooms and
// connections now. It takes each room's lock briefly, so it suits a
// scrape every few seconds, not a loop.
func (h *Hub) Metrics() Metrics {
	c := &h.counters
	m := Metrics{
		ConnectionsOpened:     c.opened.Load(),
		ConnectionsCompressed: c.openedCompressed.Load(),
		MessagesCompressed:    c.compressed.Load(),
		RefusedFull:           c.refusedFull.Load(),
		RefusedPerIP:          c.refusedPerIP.Load(),
		ConnectionsClosed:     make(map[string]uint64, len(Disconnects)),
		Memberships:           int(c.memberships.Load()),
		TweetsRouted:          c.routed.Load(),
		Deliveries:            c.deliveries.Load(),
		FramesWritten:         c.frames.Load(),
		BytesWritten:          c.bytes.Load(),
		SkippedTweets:         c.skipped.Load(),
		SlowWrites:            c.slowWrites.Load(),
		Recovered:             c.recovered.Load(),
		NotRecovered:          c.notRecovered.Load(),
		ClientErrors:          make(map[string]uint64, len(ErrorCodes)),
		Latency:               c.latency.snapshot(),
	}
	for i, d := range Disconnects {
		m.ConnectionsClosed[d.Name] = c.closed[i].Load()
	}
	for i, code := range ErrorCodes {
		m.ClientErrors[code] = c.clientErrors[i].Load()
	}
	h.mu.RLock()
	m.Connections = len(h.clients)
	rs := slices.Clone(h.order)
	h.mu.RUnlock()
	m.Rooms = len(rs)
	for _, r := range rs {
		r.mu.Lock()
		if r.custom {
			m.CustomRooms++
		}
		r.mu.Unlock()
	}
	return m
}

// ingestedAtKey precedes a tweet frame's ingested_at. It cannot occur
// inside a JSON string, where every quote is escaped.
var ingestedAtKey = []byte(`"ingested_at":"`)

// ingestedAt returns when p's tweet was ingested, in Unix nanoseconds, or
// zero when it cannot tell. A broker that carries only the frame leaves
// Tweet nil: the time is then read from the frame, once per room the
// tweet reaches, never per member.
func (p *Pub) ingestedAt() int64 {
	if p.Tweet != nil {
		if p.Tweet.IngestedAt.IsZero() {
			return 0
		}
		return p.Tweet.IngestedAt.UnixNano()
	}
	i := bytes.Index(p.Frame, ingestedAtKey)
	if i < 0 {
		return 0
	}
	rest := p.Frame[i+len(ingestedAtKey):]
	end := bytes.IndexByte(rest, '"')
	if end < 0 {
		return 0
	}
	t, err := time.Parse(time.RFC3339Nano, string(rest[:end]))
	if err != nil {
		return 0
	}
	return t.UnixNano()
}
