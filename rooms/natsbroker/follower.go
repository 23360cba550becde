package natsbroker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/nats-io/nats.go"

	"github.com/tweetstreamer/tweetstreamer/rooms"
)

// Follower is a web node's broker. It subscribes to a room's subject while
// the hub has members in it, keeps a warm ring of the room's latest tweets
// so that most joins and recoveries never leave the node, and asks the
// ingest node for what the ring lacks. A seq that jumps, or a reconnection,
// makes it fetch the missing tweets; what it cannot fetch is delivered as
// skipped, never as a silent gap.
type Follower struct {
	conn    *Conn
	log     *slog.Logger
	handler rooms.BrokerHandler

	mu    sync.Mutex
	rooms map[string]*followed

	// received counts the room messages that reached this node, for the
	// tests and the operators: a node gets only its rooms' traffic.
	received atomic.Uint64
	// fills counts the outcomes of fillLocked.
	fills fillCounters
}

var _ rooms.Broker = (*Follower)(nil)

// followed is one subscribed room. Its mutex orders what the room
// delivers, and guards the rest.
type followed struct {
	name string
	sub  *nats.Subscription

	mu sync.Mutex
	// gone is set when the room is unsubscribed: a callback that runs
	// after that (nats.go may still be delivering) does nothing. It is
	// set without the lock, which a fetch may hold for a while.
	gone atomic.Bool
	// filling is set while a fill holds the lock across a fetch from the
	// ingest node; otherwise the lock is held only while a tweet is
	// delivered, and a history request waits for it.
	filling atomic.Bool
	// seeded is set once the ring holds the ingest node's history; what
	// arrives before waits in early.
	seeded bool
	early  [][]byte
	epoch  string
	seq    uint64
	ring   *rooms.Ring
	// mirror is set while the ring holds everything the ingest node holds
	// of the room, with no hole: it can answer a fresh join.
	mirror bool
}

// NewFollower returns the broker of a web node on conn.
func NewFollower(conn *Conn, logger *slog.Logger) *Follower {
	if logger == nil {
		logger = slog.Default()
	}
	f := &Follower{conn: conn, log: logger, rooms: make(map[string]*followed)}
	conn.whenReconnected(f.catchUpAll)
	return f
}

// Received returns how many room messages reached this node.
func (f *Follower) Received() uint64 { return f.received.Load() }

// Register implements rooms.Broker.
func (f *Follower) Register(h rooms.BrokerHandler) { f.handler = h }

// Publish implements rooms.Broker: a web node does not sequence.
func (f *Follower) Publish(string, func(uint64) rooms.Pub) error { return rooms.ErrNotSequencer }

// Retract implements rooms.Broker: a web node does not sequence.
func (f *Follower) Retract(string, string, string) error { return rooms.ErrNotSequencer }

// Subscribe implements rooms.Broker: it subscribes to the room's subject,
// waits until the server has the subscription, then fills the warm ring
// from the ingest node. Tweets that arrive meanwhile follow, without the
// ones the history had.
func (f *Follower) Subscribe(ctx context.Context, room string) error {
	f.mu.Lock()
	if _, ok := f.rooms[room]; ok {
		f.mu.Unlock()
		return nil
	}
	fr := &followed{name: room, ring: rooms.NewRing(0)}
	sub, err := f.conn.nc.Subscribe(RoomSubject(room), func(m *nats.Msg) { f.receive(fr, m.Data) })
	if err != nil {
		f.mu.Unlock()
		return fmt.Errorf("natsbroker: subscribing to %q: %w", room, err)
	}
	fr.sub = sub
	f.rooms[room] = fr
	f.mu.Unlock()

	flushCtx, cancel := context.WithTimeout(ctx, requestTimeout)
	err = f.conn.nc.FlushWithContext(flushCtx)
	cancel()
	if err != nil {
		f.drop(room, fr)
		return fmt.Errorf("natsbroker: subscribing to %q: %w", room, err)
	}
	hist, err := f.fetch(ctx, room, 0)
	if err != nil {
		f.drop(room, fr)
		return err
	}
	fr.mu.Lock()
	defer fr.mu.Unlock()
	fr.epoch, fr.seq, fr.ring, fr.mirror = hist.Epoch, hist.Seq, rooms.NewRing(hist.cap), true
	for _, p := range hist.Pubs {
		fr.ring.Push(p)
	}
	fr.seeded = true
	early := fr.early
	fr.early = nil
	for _, data := range early {
		f.applyLocked(fr, data)
	}
	return nil
}

// Unsubscribe implements rooms.Broker.
func (f *Follower) Unsubscribe(room string) error {
	f.mu.Lock()
	fr := f.rooms[room]
	f.mu.Unlock()
	if fr == nil {
		return nil
	}
	return f.drop(room, fr)
}

// drop unsubscribes fr and forgets it.
func (f *Follower) drop(room string, fr *followed) error {
	f.mu.Lock()
	if f.rooms[room] == fr {
		delete(f.rooms, room)
	}
	f.mu.Unlock()
	fr.gone.Store(true)
	if err := fr.sub.Unsubscribe(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
		return fmt.Errorf("natsbroker: unsubscribing from %q: %w", room, err)
	}
	return nil
}

// RemoveHistory implements rooms.Broker: a room no longer followed keeps
// no ring.
func (f *Follower) RemoveHistory(room string) error { return f.Unsubscribe(room) }

// History implements rooms.Broker: from the warm ring when it holds what
// is asked for, else from the ingest node.
func (f *Follower) History(ctx context.Context, room string, since uint64) (rooms.History, error) {
	f.mu.Lock()
	fr := f.rooms[room]
	f.mu.Unlock()
	// A fill holds the room across a fetch: then the ingest node answers,
	// within ctx. (One that begins while this waits holds it at most
	// fetchTimeout.)
	if fr != nil && !fr.filling.Load() {
		fr.mu.Lock()
		h, ok := fr.fromRingLocked(since)
		fr.mu.Unlock()
		if ok {
			return h, nil
		}
	}
	h, err := f.fetch(ctx, room, since)
	return h.History, err
}

// fromRingLocked answers a history request from the warm ring, when it can.
func (fr *followed) fromRingLocked(since uint64) (rooms.History, bool) {
	// A since past the ring's newest (the client was on a node further
	// on) is the ingest node's to answer.
	if !fr.seeded || fr.gone.Load() || since > fr.seq {
		return rooms.History{}, false
	}
	oldest := fr.ring.Oldest()
	switch {
	case fr.mirror:
	case since == fr.seq:
	case oldest > 0 && since+1 >= oldest:
	default:
		return rooms.History{}, false
	}
	return rooms.History{
		Position: rooms.Position{Epoch: fr.epoch, Seq: fr.seq},
		Oldest:   oldest,
		Pubs:     fr.ring.AppendAfter(nil, since),
	}, true
}

// fetched is a history from the ingest node, with the size of its ring.
type fetched struct {
	rooms.History
	cap int
}

// fetch asks the ingest node for room's history after since, page after
// page.
func (f *Follower) fetch(ctx context.Context, room string, since uint64) (fetched, error) {
	var out fetched
	pages := maxPages
	for page := 0; ; page++ {
		var reply historyReply
		if err := f.conn.request(ctx, historySubject, historyRequest{Room: room, Since: since}, &reply); err != nil {
			return fetched{}, err
		}
		if reply.Error != nil {
			return fetched{}, fmt.Errorf("natsbroker: the history of %q: %w", room, reply.Error)
		}
		if page == 0 {
			out.Epoch, out.Oldest, out.cap = reply.Epoch, reply.Oldest, reply.Cap
			pages = max(pages, reply.Cap+1) // a page holds one tweet at least
		} else if reply.Epoch != out.Epoch {
			return fetched{}, fmt.Errorf("natsbroker: the history of %q changed epoch while read", room)
		}
		out.Seq = reply.Seq
		for _, p := range reply.Pubs {
			if len(out.Pubs) > 0 && p.Seq != out.Pubs[len(out.Pubs)-1].Seq+1 {
				// The ring moved on between two pages: start from here.
				out.Pubs, out.Oldest = out.Pubs[:0], p.Seq
			}
			pub := rooms.Pub{Seq: p.Seq, Retracted: true}
			if !p.Retracted {
				pub = rooms.FramePub(p.Seq, []byte(p.Frame))
			}
			out.Pubs = append(out.Pubs, pub)
			since = p.Seq
		}
		if !reply.More || len(reply.Pubs) == 0 {
			return out, nil
		}
		if page+1 == pages {
			return fetched{}, fmt.Errorf("natsbroker: the history of %q is longer than %d pages", room, pages)
		}
	}
}

// Bounds of what the follower does for one room.
const (
	// maxPages bounds the pages of one history: far more than any
	// -history.
	maxPages = 64
	// maxEarly bounds the messages kept while a subscription's history is
	// read.
	maxEarly = 4096
	// fetchTimeout bounds a fetch of what a subscription missed.
	fetchTimeout = 2 * requestTimeout
)

// receive handles one message of a followed room's subject.
func (f *Follower) receive(fr *followed, data []byte) {
	f.received.Add(1)
	fr.mu.Lock()
	defer fr.mu.Unlock()
	if fr.gone.Load() {
		return
	}
	if !fr.seeded {
		if len(fr.early) == maxEarly {
			// Dropped here, the oldest come back as a gap to fill.
			fr.early = slices.Delete(fr.early, 0, 1)
		}
		fr.early = append(fr.early, data)
		return
	}
	f.applyLocked(fr, data)
}

// applyLocked delivers one room message in order: a duplicate is dropped,
// a jump fetches what is missing first, and a new epoch starts the room
// over.
func (f *Follower) applyLocked(fr *followed, data []byte) {
	m, err := parseRoomMessage(data)
	if err != nil {
		f.log.Warn("a room message that does not parse", "room", fr.name, "err", err)
		return
	}
	if m.epoch != fr.epoch {
		if !f.resetLocked(fr, m.epoch) {
			return
		}
	}
	if m.retract {
		if m.seq <= fr.seq {
			fr.ring.Retract(func(p *rooms.Pub) bool { return p.Seq == m.seq })
			f.handler.HandleRetract(fr.name, m.seq, string(m.body))
		}
		return
	}
	if m.seq <= fr.seq {
		return
	}
	if m.seq > fr.seq+1 {
		f.fillLocked(fr, m.seq-1)
		if m.seq <= fr.seq {
			return
		}
	}
	p := rooms.FramePub(m.seq, m.body)
	fr.seq = m.seq
	fr.ring.Push(p)
	f.handler.HandlePub(fr.name, fr.epoch, p)
}

// fillLocked fetches and delivers the room's tweets after fr.seq up to
// upTo (zero: all there are); what the ingest node no longer has, or all of
// it when it cannot be asked, is delivered as skipped.
func (f *Follower) fillLocked(fr *followed, upTo uint64) {
	ctx, cancel := context.WithTimeout(context.Background(), fetchTimeout)
	fr.filling.Store(true)
	hist, err := f.fetch(ctx, fr.name, fr.seq)
	fr.filling.Store(false)
	cancel()
	if err == nil && hist.Epoch != fr.epoch {
		f.fills.reset.Add(1)
		f.startOverLocked(fr, hist)
		return
	}
	if err != nil {
		f.log.Warn("cannot fetch the tweets a room missed", "room", fr.name, "after", fr.seq, "err", err)
		f.fills.skipped.Add(1)
		if upTo > fr.seq {
			f.skipLocked(fr, upTo)
		}
		return
	}
	if upTo == 0 {
		upTo = hist.Seq
	}
	skipped := false
	defer func() {
		if skipped {
			f.fills.skipped.Add(1)
		} else {
			f.fills.filled.Add(1)
		}
	}()
	for _, p := range hist.Pubs {
		if p.Seq <= fr.seq || p.Seq > upTo {
			continue
		}
		if p.Seq > fr.seq+1 {
			skipped = true
			f.skipLocked(fr, p.Seq-1)
		}
		fr.seq = p.Seq
		fr.ring.Push(p)
		if p.Retracted {
			continue
		}
		f.handler.HandlePub(fr.name, fr.epoch, p)
	}
	if upTo > fr.seq {
		skipped = true
		f.skipLocked(fr, upTo)
	}
}

// skipLocked tells the hub that the tweets after fr.seq up to upTo are
// lost: the ring now has a hole, and answers only what follows it.
func (f *Follower) skipLocked(fr *followed, upTo uint64) {
	f.handler.HandleSkipped(fr.name, fr.seq+1, upTo)
	fr.seq = upTo
	fr.ring.Reset()
	fr.mirror = false
}

// resetLocked handles a message of another epoch than the room's: it asks
// the ingest node which epoch is current, and starts the room over when it
// is a new one. It reports whether the message belongs to the room's epoch
// now.
func (f *Follower) resetLocked(fr *followed, epoch string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), fetchTimeout)
	defer cancel()
	hist, err := f.fetch(ctx, fr.name, 0)
	if err != nil {
		f.log.Warn("a room changed epoch, and its history is out of reach", "room", fr.name, "err", err)
		return false
	}
	if hist.Epoch == fr.epoch {
		return false // a late message of an epoch gone by
	}
	f.startOverLocked(fr, hist)
	return epoch == fr.epoch
}

// startOverLocked makes hist, of a new epoch, the room's ring, and tells
// the hub, which starts every member over.
func (f *Follower) startOverLocked(fr *followed, hist fetched) {
	if hist.Seq == 0 && len(hist.Pubs) == 0 && hist.Epoch == "" {
		return
	}
	f.log.Info("a room started a new epoch", "room", fr.name, "epoch", hist.Epoch)
	fr.epoch, fr.seq, fr.ring, fr.mirror = hist.Epoch, hist.Seq, rooms.NewRing(hist.cap), true
	for _, p := range hist.Pubs {
		fr.ring.Push(p)
	}
	f.handler.HandleReset(fr.name, hist.History)
}

// catchUpAll fills every subscribed room's gap after a reconnection: what
// was published while this node was away.
func (f *Follower) catchUpAll() {
	f.mu.Lock()
	all := make([]*followed, 0, len(f.rooms))
	for _, fr := range f.rooms {
		all = append(all, fr)
	}
	f.mu.Unlock()
	for _, fr := range all {
		fr.mu.Lock()
		if fr.seeded && !fr.gone.Load() {
			f.fillLocked(fr, 0)
		}
		fr.mu.Unlock()
	}
}
