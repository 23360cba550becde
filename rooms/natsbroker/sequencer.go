package natsbroker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/nats-io/nats.go"

	"github.com/tweetstreamer/tweetstreamer/rooms"
	"github.com/tweetstreamer/tweetstreamer/stream"
)

// Sequencer is the ingest node's broker: a rooms.MemoryBroker, which gives
// every room its epoch and seqs and keeps its history, whose every tweet
// and retract also goes out once on the room's subject, in seq order. It
// answers the web nodes' history requests from that history.
type Sequencer struct {
	conn    *Conn
	mem     *rooms.MemoryBroker
	log     *slog.Logger
	handler rooms.BrokerHandler

	mu     sync.Mutex
	epochs map[string]string // each room's epoch, for its retracts
}

var _ rooms.Broker = (*Sequencer)(nil)

// NewSequencer returns the broker of an ingest node on conn, keeping the
// last history tweets of each room.
func NewSequencer(conn *Conn, history int, logger *slog.Logger) *Sequencer {
	if logger == nil {
		logger = slog.Default()
	}
	return &Sequencer{conn: conn, mem: rooms.NewMemoryBroker(history), log: logger, epochs: make(map[string]string)}
}

// Register implements rooms.Broker.
func (s *Sequencer) Register(h rooms.BrokerHandler) {
	s.handler = h
	s.mem.Register(relay{s})
}

// Publish implements rooms.Broker.
func (s *Sequencer) Publish(room string, build func(uint64) rooms.Pub) error {
	return s.mem.Publish(room, build)
}

// Retract implements rooms.Broker.
func (s *Sequencer) Retract(room, source, id string) error { return s.mem.Retract(room, source, id) }

// Subscribe implements rooms.Broker: the ingest node has every room.
func (s *Sequencer) Subscribe(context.Context, string) error { return nil }

// Unsubscribe implements rooms.Broker.
func (s *Sequencer) Unsubscribe(string) error { return nil }

// History implements rooms.Broker.
func (s *Sequencer) History(ctx context.Context, room string, since uint64) (rooms.History, error) {
	return s.mem.History(ctx, room, since)
}

// RemoveHistory implements rooms.Broker.
func (s *Sequencer) RemoveHistory(room string) error {
	s.mu.Lock()
	delete(s.epochs, room)
	s.mu.Unlock()
	return s.mem.RemoveHistory(room)
}

// relay is what the memory broker delivers to: it publishes on NATS, then
// hands on to the hub. The memory broker calls it with the room's lock
// held, so a room's messages go out in seq order.
type relay struct{ s *Sequencer }

func (r relay) HandlePub(room, epoch string, p rooms.Pub) {
	r.s.mu.Lock()
	r.s.epochs[room] = epoch
	r.s.mu.Unlock()
	// The full message goes on NATS: each web node makes the variants its
	// members read from it, once per room.
	frame := p.FullFrame()
	buf := appendPub(make([]byte, 0, len(frame)+32), epoch, p.Seq, frame)
	if err := r.s.conn.nc.Publish(RoomSubject(room), buf); err != nil {
		// The web nodes see the jump in seq and fetch the tweet.
		r.s.log.Warn("publishing a tweet on NATS", "room", room, "seq", p.Seq, "err", err)
	}
	if r.s.handler != nil {
		r.s.handler.HandlePub(room, epoch, p)
	}
}

func (r relay) HandleRetract(room string, seq uint64, id string) {
	r.s.mu.Lock()
	epoch := r.s.epochs[room]
	r.s.mu.Unlock()
	if err := r.s.conn.nc.Publish(RoomSubject(room), appendRetract(nil, epoch, seq, id)); err != nil {
		r.s.log.Warn("publishing a retract on NATS", "room", room, "seq", seq, "err", err)
	}
	if r.s.handler != nil {
		r.s.handler.HandleRetract(room, seq, id)
	}
}

func (r relay) HandleReset(room string, h rooms.History) {
	if r.s.handler != nil {
		r.s.handler.HandleReset(room, h)
	}
}

func (r relay) HandleSkipped(room string, from, to uint64) {
	if r.s.handler != nil {
		r.s.handler.HandleSkipped(room, from, to)
	}
}

// serveHistory answers the web nodes' history requests until the
// subscription ends.
func (s *Sequencer) serveHistory() (*nats.Subscription, error) {
	return s.conn.nc.Subscribe(historySubject, func(m *nats.Msg) {
		reply := s.historyReply(m.Data)
		data, err := jsonMarshal(reply)
		if err == nil {
			err = m.Respond(data)
		}
		if err != nil {
			s.log.Warn("answering a history request", "err", err)
		}
	})
}

func (s *Sequencer) historyReply(data []byte) historyReply {
	var req historyRequest
	if err := decode(data, &req); err != nil || req.Room == "" {
		return historyReply{Error: &wireError{Code: codeInternal, Message: "a history request must name a room"}}
	}
	h, err := s.mem.History(context.Background(), req.Room, req.Since)
	if err != nil {
		s.log.Error("reading a room's history", "room", req.Room, "err", err)
		return historyReply{Error: &wireError{Code: codeInternal, Message: "internal error"}}
	}
	reply := historyReply{Epoch: h.Epoch, Seq: h.Seq, Oldest: h.Oldest, Cap: s.mem.HistorySize()}
	limit := maxReplyBytes
	if max := int(s.conn.nc.MaxPayload()); max > 0 {
		limit = min(limit, max/2)
	}
	size := 0
	for _, p := range h.Pubs {
		// Frames go in as they are (see jsonMarshal), with a few dozen
		// bytes of fields around each.
		frame := p.FullFrame()
		if size+len(frame)+64 > limit && len(reply.Pubs) > 0 {
			reply.More = true
			break
		}
		size += len(frame) + 64
		reply.Pubs = append(reply.Pubs, wirePub{Seq: p.Seq, Frame: frame, Retracted: p.Retracted})
	}
	return reply
}

// trendWanter is what the ingest node's hub does for a web node's join of
// a custom trend. *rooms.Hub implements it.
type trendWanter interface {
	// Want keeps the room for name; addr is the client's address, empty
	// here: the web node that asks has counted its own clients' trends.
	Want(name, addr string) error
}

// serveTrends answers the web nodes' requests to follow a custom trend.
func serveTrends(conn *Conn, hub trendWanter, logger *slog.Logger) (*nats.Subscription, error) {
	return conn.nc.Subscribe(trendSubject, func(m *nats.Msg) {
		var req trendRequest
		var reply trendReply
		if err := decode(m.Data, &req); err != nil {
			reply.Error = &wireError{Code: codeBadTrend, Message: "a trend request must name a trend"}
		} else if err := hub.Want(req.Trend, ""); err != nil {
			reply.Error = trendError(err)
		} else {
			reply.Added = true
		}
		data, err := jsonMarshal(reply)
		if err == nil {
			err = m.Respond(data)
		}
		if err != nil {
			logger.Warn("answering a trend request", "err", err)
		}
	})
}

// trendError turns a refusal of the trend set into one for the wire: a
// trend set's own refusal, which is meant for the client, or else
// "internal error", so nothing else of the ingest node crosses.
func trendError(err error) *wireError {
	var te *stream.TrendError
	switch {
	case !errors.As(err, &te):
		return &wireError{Code: codeInternal, Message: "internal error"}
	case errors.Is(te.Kind, stream.ErrTooManyTrends):
		return &wireError{Code: codeTooManyTrends, Message: te.Error()}
	default:
		return &wireError{Code: codeBadTrend, Message: te.Error()}
	}
}

// wireTrendError turns a refusal from the wire back into the error the
// trend set would have returned.
func wireTrendError(e *wireError) error {
	switch e.Code {
	case codeTooManyTrends:
		return &stream.TrendError{Kind: stream.ErrTooManyTrends, Reason: trimPrefix(e.Message, stream.ErrTooManyTrends)}
	case codeBadTrend:
		return &stream.TrendError{Kind: stream.ErrBadTrend, Reason: trimPrefix(e.Message, stream.ErrBadTrend)}
	default:
		return fmt.Errorf("natsbroker: the ingest node refused the trend: %w", e)
	}
}

func trimPrefix(msg string, sentinel error) string {
	p := sentinel.Error() + ": "
	if len(msg) >= len(p) && msg[:len(p)] == p {
		return msg[len(p):]
	}
	return msg
}
