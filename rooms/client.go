package rooms

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"
)

// Timing and size rules of a connection.
const (
	// maxMessageSize is the read limit. Client messages are small JSON
	// objects; a larger frame closes the connection with 1009.
	maxMessageSize = 4096
	// maxWireMessageSize bounds a client message on the wire: a
	// compressed one of maxMessageSize takes a few bytes more at worst,
	// and one much longer there is padding (deflate's empty blocks).
	maxWireMessageSize = maxMessageSize + 1024
	// maxFrameBytes caps one server frame; a longer batch of queued messages
	// goes out in several frames.
	maxFrameBytes = 64 << 10
	// closeGrace is how long the writer waits, after its close frame, for
	// the reader to end (on the client's close, or the end of its stream)
	// before it closes the socket anyway; and how long a reader that
	// stopped before the client's close reads on, dropping what comes.
	closeGrace = time.Second
)

// pingPeriod is how often every connection is pinged when the reader
// waits up to wait. It must be less than wait, so that a healthy client's
// pong arrives before the read deadline passes.
func pingPeriod(wait time.Duration) time.Duration { return wait * 9 / 10 }

// client is one WebSocket connection. Two goroutines use its socket: the
// reader, which reads and handles client messages, and the writer, which
// drains the queue into frames. The reader is a relay of short-lived
// goroutines: one waits for a message on a small stack, the next reads and
// handles it, then starts the next wait (see readLoop). The writer runs
// only while there is something to write: the hub starts or wakes it at the
// flush after a message is queued, and it ends once nothing is left (see
// writeLoop), so an idle connection costs one small goroutine. Rooms queue
// messages with send and never wait.
type client struct {
	hub  *Hub
	conn *websocket.Conn
	fc   *frameConn // the socket under conn

	mu        sync.Mutex
	q         queue
	dirty     bool // marked for the hub's next flush
	writing   bool // a writer goroutine runs
	wrote     bool // the writer wrote since the last sweep
	wrotePrev bool // and between the two sweeps before
	idleExit  bool // the writer is to end if it has nothing to write
	pingDue   bool // the writer is to send a ping
	// pong holds the payload of the client's last ping while the writer is
	// to answer it; pongDue says it is.
	pong    string
	pongDue bool
	// echo is the code of the client's close frame, which the writer
	// answers with the same code once stopped; zero when the client sent
	// none.
	echo      int
	stopped   bool
	closeWith Disconnect    // the close frame the writer sends when it stops
	wake      chan struct{} // capacity 1: a pending wake-up for the writer
	readDone  chan struct{} // closed when the reader stops reading
	writers   sync.WaitGroup

	batch []entry  // owned by the writer
	bufs  [][]byte // owned by the writer: a batch's frames, for one write

	ip string // the client address its limits count against
	// variant is what of each tweet the client reads, and packed whether
	// it negotiated permessage-deflate; both are set at the upgrade.
	variant variant
	packed  bool
	// roomlessSince is when the connection last was in no room, in Unix
	// nanoseconds; zero while it is in one. The reader sets it, the hub's
	// sweep reads it.
	roomlessSince atomic.Int64

	// Owned by the reader.
	rooms   []*room // at most MaxRoomsPerConn, in the order joined
	limiter *rate.Limiter
}

func newClient(h *Hub, conn *websocket.Conn, fc *frameConn) *client {
	return &client{
		hub:      h,
		conn:     conn,
		fc:       fc,
		q:        newQueue(h.cfg.QueueBytes),
		wake:     make(chan struct{}, 1),
		readDone: make(chan struct{}),
		limiter:  rate.NewLimiter(rate.Limit(h.cfg.MessageRate), max(int(2*h.cfg.MessageRate), 1)),
	}
}

// log returns the logger for this connection, built only when something is
// logged, so that idle connections do not each hold one.
func (c *client) log() *slog.Logger {
	return c.hub.log.With("remote", c.conn.RemoteAddr().String())
}

// send queues e for the writer without waiting: it goes out at the hub's
// next flush, with whatever else is queued by then. A client whose queue is
// past its hard limit is not reading at all, and is disconnected.
func (c *client) send(e entry) {
	c.mu.Lock()
	if c.stopped {
		c.mu.Unlock()
		return
	}
	if !c.q.push(e) {
		c.mu.Unlock()
		c.stop(DisconnectTooSlow)
		return
	}
	c.markLocked()
	c.mu.Unlock()
}

// growQueue raises the queue's limit to limit bytes.
func (c *client) growQueue(limit int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.q.grow(limit)
}

// stop ends the connection for d: the writer sends d's close frame (none
// for DisconnectGone), shuts its side of the socket, and closes it once
// the reader is done or closeGrace has passed, which ends the reader if it
// still runs. Only the first call counts.
func (c *client) stop(d Disconnect) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return
	}
	c.stopped, c.closeWith = true, d
	c.q.take(nil)
	if c.writing || d.Code != 0 || c.echo != 0 {
		c.wakeWriterLocked()
	}
}

// hasWorkLocked reports whether the writer has something to write.
func (c *client) hasWorkLocked() bool { return c.q.len() > 0 || c.pingDue || c.pongDue }

// answerPing has the writer answer the client's ping with a pong, as RFC
// 6455 §5.5.2 asks, at the next flush: the writer alone writes to the
// socket, so that no other write's deadline cuts short the one it is in.
func (c *client) answerPing(payload string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.stopped {
		c.pong, c.pongDue = payload, true
		c.markLocked()
	}
}

// closedByClient ends the connection for a close frame of the client's
// with code (websocket.CloseNoStatusReceived when it had none): the writer
// drops what is queued and answers with a close of the same code, after
// which nothing is written (RFC 6455 §5.5.1).
func (c *client) closedByClient(code int) {
	if code == websocket.CloseMandatoryExtension {
		// Only a client sends it (RFC 6455 §7.4.1): the answer is a
		// normal close.
		code = websocket.CloseNormalClosure
	}
	c.mu.Lock()
	if !c.stopped {
		c.echo = code
	}
	c.mu.Unlock()
	c.stop(DisconnectGone)
}

// queueRoom is how many more bytes the queue takes before it drops tweets.
func (c *client) queueRoom() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.q.limit - c.q.bytes
}
