package rooms

import (
	"bytes"
	"context"
	"errors"

	"github.com/tweetstreamer/tweetstreamer/stream"
)

// Position is where a room's stream stands: the epoch of its sequence and
// the seq of its latest tweet. Seqs count from one within an epoch; a new
// epoch starts them again.
type Position struct {
	Epoch string
	Seq   uint64
}

// Pub is one tweet published in a room, as a broker carries and keeps it.
type Pub struct {
	// Seq is the tweet's place in the room's epoch.
	Seq uint64
	// Frame is the encoded `tweet` message in full, as a broker carries it
	// between nodes. A Pub the hub publishes leaves it nil and carries its
	// message in every variant instead (see FullFrame).
	Frame []byte
	// ID identifies the tweet within its source, for a retract.
	ID string
	// Tweet and Matched are the tweet and every trend it matched, for a
	// page that renders history. A broker that carries only the frame
	// leaves Tweet nil, and the hub decodes the frame when it needs them.
	Tweet   *stream.Tweet
	Matched []string
	// Retracted marks a tweet its source withdrew: its seq stays taken, so
	// history remains contiguous, but it is sent to no one, and Frame and
	// Tweet are nil.
	Retracted bool

	// msg is the message of a tweet the hub published, in every variant,
	// made as members need them: a broker that keeps the Pub keeps it too,
	// so a backlog reuses what live members had made.
	msg *tweetMessage
}

// FullFrame returns the tweet message in full (see Frame), which a broker
// that carries bytes sends.
func (p *Pub) FullFrame() []byte {
	if p.Frame != nil || p.msg == nil {
		return p.Frame
	}
	return p.msg.form(variantFull, false)
}

// FramePub is the publication at seq of a tweet message in full, as a
// broker that carries bytes receives it. A broker that keeps it (in a Ring)
// and delivers it should keep and deliver this one Pub: its copies share
// the message's other variants, made once for live members and backlogs
// alike.
func FramePub(seq uint64, frame []byte) Pub {
	m := newTweetMessage(nil, nil, seq, nil)
	m.plain[variantFull] = frame
	return Pub{Seq: seq, Frame: frame, msg: m}
}

// message returns p's message in every variant, in the room of roomJSON.
// A Pub made of bytes alone gets one made from its frame, which the caller
// shares among the members it queues it for.
func (p *Pub) message(roomJSON []byte, counters *hubCounters) *tweetMessage {
	if p.msg == nil {
		m := newTweetMessage(nil, roomJSON, p.Seq, counters)
		m.plain[variantFull] = p.Frame
		return m
	}
	p.msg.mu.Lock()
	defer p.msg.mu.Unlock()
	switch {
	case p.msg.roomJSON == nil:
		// A FramePub learns its room when a room first reads it.
		p.msg.roomJSON, p.msg.counters = roomJSON, counters
	case !bytes.Equal(p.msg.roomJSON, roomJSON):
		// Another room's: its variants carry another name.
		m := newTweetMessage(p.msg.parts, roomJSON, p.Seq, counters)
		if p.Frame != nil {
			m.plain[variantFull] = p.Frame
		}
		return m
	}
	return p.msg
}

// History is what a broker keeps of a room: where the room stands, and
// the tweets it still holds after a seq.
type History struct {
	Position
	// Oldest is the seq of the oldest tweet kept, zero when none is: a
	// recovery from since is complete when since+1 >= Oldest.
	Oldest uint64
	// Pubs are the tweets after the seq asked for, oldest first, the
	// retracted ones among them.
	Pubs []Pub
}

// covers reports whether h holds every tweet of epoch after since.
func (h *History) covers(epoch string, since uint64) bool {
	if epoch != h.Epoch || since > h.Seq {
		return false
	}
	if h.Oldest == 0 {
		return since == h.Seq
	}
	return since+1 >= h.Oldest
}

// Broker carries the rooms' tweets between the node that sequences them
// and the nodes whose members read them. It owns each room's position and
// history; the hub owns what is per connection (members, queues, pauses,
// skips). A broker delivers to the hub's BrokerHandler, for each room in
// seq order, what is published in the rooms this node subscribes to.
// MemoryBroker is the single-process default.
type Broker interface {
	// Register gives the broker the handler for what it delivers. NewHub
	// calls it once, before any other method.
	Register(BrokerHandler)
	// Publish gives room its next seq, calls build with it, keeps the
	// publication build returns and delivers it. build is called before
	// Publish returns, at most once. A broker on a node that does not
	// sequence fails with ErrNotSequencer.
	Publish(room string, build func(seq uint64) Pub) error
	// Retract withdraws the tweet id of source from room's history, and
	// delivers the retraction when the room had it.
	Retract(room, source, id string) error
	// Subscribe starts delivering room's tweets to this node, and
	// Unsubscribe stops it. The hub subscribes a room while it has a
	// member on this node. An Unsubscribe that fails leaves the room
	// unsubscribed all the same, for the next Subscribe to start afresh.
	Subscribe(ctx context.Context, room string) error
	Unsubscribe(room string) error
	// History returns where room stands and the tweets it holds after
	// since. A room that has published nothing yet stands at seq zero of a
	// fresh epoch.
	History(ctx context.Context, room string, since uint64) (History, error)
	// RemoveHistory forgets room: the next tweet or history of that name
	// starts a new epoch. The hub calls it when it drops an idle custom
	// room.
	RemoveHistory(room string) error
}

// ErrNotSequencer is the error of Publish on a node that only reads rooms.
var ErrNotSequencer = errors.New("rooms: this node does not sequence tweets")

// BrokerHandler is what a broker delivers to: the hub. For each room, its
// methods are called in the order of the room's stream, never two at once.
type BrokerHandler interface {
	// HandlePub delivers one tweet of room's epoch, in seq order.
	HandlePub(room, epoch string, p Pub)
	// HandleRetract says that the tweet at seq was withdrawn.
	HandleRetract(room string, seq uint64, id string)
	// HandleReset says that room's stream started a new epoch, and gives
	// what the broker holds of it: every member starts over from it.
	HandleReset(room string, h History)
	// HandleSkipped says that the tweets from..to of room's epoch were
	// published but cannot be delivered: the broker lost them and could
	// not fetch them again.
	HandleSkipped(room string, from, to uint64)
}
