package rooms

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// MemoryBroker sequences and keeps every room's tweets in this process:
// the broker of a single-process server, and the store behind an ingest
// node. Every room is delivered to the handler whether subscribed or not,
// so Subscribe and Unsubscribe do nothing.
type MemoryBroker struct {
	size    int
	epoch   string        // this broker's epoch; rooms add a generation
	gen     atomic.Uint64 // room generations, so a re-created room gets a new epoch
	handler BrokerHandler

	mu    sync.RWMutex
	rooms map[string]*memoryRoom
}

var _ Broker = (*MemoryBroker)(nil)

// memoryRoom is one room's stream. Its mutex orders the room's deliveries.
type memoryRoom struct {
	epoch string
	mu    sync.Mutex
	seq   uint64
	ring  *Ring
}

// NewMemoryBroker returns a broker that keeps the last history tweets of
// each room; zero or less keeps none.
func NewMemoryBroker(history int) *MemoryBroker {
	return &MemoryBroker{size: max(history, 0), epoch: newEpoch(), rooms: make(map[string]*memoryRoom)}
}

// newEpoch returns a short random epoch, different for every process.
func newEpoch() string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

// Register implements Broker.
func (b *MemoryBroker) Register(h BrokerHandler) { b.handler = h }

// HistorySize returns how many tweets the broker keeps per room.
func (b *MemoryBroker) HistorySize() int { return b.size }

func (b *MemoryBroker) room(name string) *memoryRoom {
	b.mu.RLock()
	r := b.rooms[name]
	b.mu.RUnlock()
	if r != nil {
		return r
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if r := b.rooms[name]; r != nil {
		return r
	}
	r = &memoryRoom{epoch: b.epoch + strconv.FormatUint(b.gen.Add(1), 36), ring: NewRing(b.size)}
	b.rooms[name] = r
	return r
}

// Publish implements Broker. The handler gets the publication before
// Publish returns, with the room's lock held, so deliveries keep seq order.
func (b *MemoryBroker) Publish(room string, build func(seq uint64) Pub) error {
	r := b.room(room)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq++
	p := build(r.seq)
	p.Seq = r.seq
	r.ring.Push(p)
	if b.handler != nil {
		b.handler.HandlePub(room, r.epoch, p)
	}
	return nil
}

// Retract implements Broker.
func (b *MemoryBroker) Retract(room, source, id string) error {
	b.mu.RLock()
	r := b.rooms[room]
	b.mu.RUnlock()
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	seq := r.ring.Retract(func(p *Pub) bool { return p.ID == id && p.Tweet != nil && p.Tweet.Source == source })
	if seq != 0 && b.handler != nil {
		b.handler.HandleRetract(room, seq, id)
	}
	return nil
}

// Subscribe implements Broker: every room is delivered anyway.
func (b *MemoryBroker) Subscribe(context.Context, string) error { return nil }

// Unsubscribe implements Broker.
func (b *MemoryBroker) Unsubscribe(string) error { return nil }

// History implements Broker.
func (b *MemoryBroker) History(_ context.Context, room string, since uint64) (History, error) {
	r := b.room(room)
	r.mu.Lock()
	defer r.mu.Unlock()
	return History{
		Position: Position{Epoch: r.epoch, Seq: r.seq},
		Oldest:   r.ring.Oldest(),
		Pubs:     r.ring.AppendAfter(nil, since),
	}, nil
}

// RemoveHistory implements Broker.
func (b *MemoryBroker) RemoveHistory(room string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.rooms, room)
	return nil
}
