package rooms

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"

	"github.com/tweetstreamer/tweetstreamer/stream"
)

// Timing and size rules of a connection.
const (
	// writeWait bounds every write: a client that cannot take a frame in
	// this time is gone, and its connection is closed.
	writeWait = 10 * time.Second
	// maxMessageSize is the read limit. Client messages are small JSON
	// objects; a larger frame closes the connection with 1009.
	maxMessageSize = 4096
	// maxFrameBytes caps one server frame; a longer batch of queued messages
	// goes out in several frames.
	maxFrameBytes = 64 << 10
	// closeGrace is how long the writer waits, after its close frame, for
	// the client's close before it closes the socket anyway.
	closeGrace = time.Second
)

// Liveness: variables for the tests only, which cannot wait a minute.
var (
	// pongWait is how long the reader waits for any message or pong before
	// it gives the client up.
	pongWait = 60 * time.Second
	// pingPeriod must be less than pongWait, so that a healthy client's pong
	// arrives before the read deadline passes.
	pingPeriod = pongWait * 9 / 10
)

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
	stopped   bool
	closeCode int           // close frame the writer sends when it stops; 0 for none
	closeText string        // its reason
	wake      chan struct{} // capacity 1: a pending wake-up for the writer
	readDone  chan struct{} // closed when the reader stops reading
	writers   sync.WaitGroup

	batch []entry // owned by the writer

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
		c.stop(websocket.ClosePolicyViolation, "too slow")
		return
	}
	c.markLocked()
	c.mu.Unlock()
}

// markLocked has the writer write at the hub's next flush, or at once when
// writes are not batched.
func (c *client) markLocked() {
	if c.dirty {
		return
	}
	if c.hub.markDirty(c) {
		c.dirty = true
	} else {
		c.wakeWriterLocked()
	}
}

// flushNow wakes the writer for what is queued; the hub calls it at each
// flush for the connections marked dirty. Where no writer runs and
// mayStart is false, the connection stays dirty and it reports kept.
func (c *client) flushNow(mayStart bool) (started, kept bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped || (!c.writing && c.q.len() == 0 && !c.pingDue) {
		// Stopped, or a writer took it all since it was marked.
		c.dirty = false
		return false, false
	}
	if !c.writing && !mayStart {
		return false, true
	}
	c.dirty = false
	started = !c.writing
	c.wakeWriterLocked()
	return started, false
}

// ping asks the writer to send a ping at the next flush.
func (c *client) ping() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.stopped {
		c.pingDue = true
		c.markLocked()
	}
}

// sweep ends the writer if it wrote nothing since the last sweep.
func (c *client) sweep() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.writing && !c.wrote && !c.stopped {
		c.idleExit = true
		c.wakeWriterLocked()
	}
	c.wrotePrev, c.wrote = c.wrote, false
}

// wakeWriterLocked starts the writer, or wakes the one that runs.
func (c *client) wakeWriterLocked() {
	if !c.writing {
		c.writing = true
		c.writers.Add(1)
		c.hub.writersStarted.Add(1)
		go c.writeLoop()
	}
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// stop ends the connection: the writer sends a close frame with code (none
// when zero) and closes the socket, which ends the reader. Only the first
// call counts.
func (c *client) stop(code int, text string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return
	}
	c.stopped, c.closeCode, c.closeText = true, code, text
	c.q.take(nil)
	if c.writing || code != 0 {
		c.wakeWriterLocked()
	}
}

// writeLoop owns every write to the socket but the read limit's close frame,
// which the websocket library writes itself. Each wake-up writes everything
// queued in one frame (or a few, for a long batch): one system call for many
// messages is what lets a busy connection keep up. It waits on its own
// channels only, so a flush costs the hub one wake-up per dirty connection.
// A writer whose write was the connection's first in two sweeps returns as
// soon as nothing is left, so that a message to every member of a crowd of
// quiet connections (room stats, a ping) does not leave a goroutine behind
// for each; a connection written to more often is busy, and its writer
// stays until a sweep finds it idle. It also returns when a write fails,
// or once stopped, after the close frame.
func (c *client) writeLoop() {
	defer c.writers.Done()
	for {
		<-c.wake
		c.mu.Lock()
		if c.stopped {
			code, text := c.closeCode, c.closeText
			c.mu.Unlock()
			c.sendClose(code, text)
			return
		}
		if c.q.len() == 0 && !c.pingDue {
			if c.idleExit {
				c.writing, c.idleExit, c.batch = false, false, nil
				c.q.release()
				c.mu.Unlock()
				return
			}
			c.mu.Unlock()
			continue
		}
		c.batch = c.q.take(c.batch[:0])
		ping, busy := c.pingDue, c.wrote || c.wrotePrev
		c.pingDue, c.idleExit, c.wrote = false, false, true
		c.mu.Unlock()

		err := c.writeBatch(c.batch)
		clear(c.batch)
		if err == nil && ping {
			err = c.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait))
		}
		if err != nil {
			c.logWriteError(err)
			c.stop(0, "")
			// The reader may be waiting for a client that is gone.
			_ = c.conn.Close()
			return
		}
		if !busy && c.endIfDone() {
			return
		}
	}
}

// endIfDone ends the writer if nothing waits to be written.
func (c *client) endIfDone() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.q.len() > 0 || c.pingDue || c.stopped {
		return false
	}
	c.writing, c.idleExit, c.batch = false, false, nil
	c.q.release()
	return true
}

// sendClose writes the close frame, when code is not zero, then closes the
// socket, which ends the reader.
func (c *client) sendClose(code int, text string) {
	if code != 0 {
		msg := websocket.FormatCloseMessage(code, text)
		if c.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second)) == nil {
			// Closing the socket with the client's data unread resets it,
			// which can discard the close frame before the client reads it:
			// wait for the client's close, which ends the reader.
			t := time.NewTimer(closeGrace)
			select {
			case <-c.readDone:
			case <-t.C:
			}
			t.Stop()
		}
	}
	_ = c.conn.Close()
}

// writeBatch writes queued messages, joined by "\n", in as few frames as
// maxFrameBytes allows.
func (c *client) writeBatch(batch []entry) error {
	if len(batch) == 0 {
		return nil
	}
	if err := c.conn.SetWriteDeadline(time.Now().Add(writeWait)); err != nil {
		return err
	}
	w, err := c.conn.NextWriter(websocket.TextMessage)
	if err != nil {
		return err
	}
	size := 0
	for i := range batch {
		e := &batch[i]
		frame := e.frame
		if e.skip {
			frame = encode(skippedMessage{Type: "skipped", Room: e.room.name, FromSeq: e.from, ToSeq: e.to, Count: e.count})
		}
		if size > 0 && size+len(frame) > maxFrameBytes {
			if err := w.Close(); err != nil {
				return err
			}
			if w, err = c.conn.NextWriter(websocket.TextMessage); err != nil {
				return err
			}
			size = 0
		}
		if size > 0 {
			if _, err := w.Write(newline); err != nil {
				return err
			}
			size++
		}
		if _, err := w.Write(frame); err != nil {
			return err
		}
		size += len(frame)
	}
	return w.Close()
}

var newline = []byte{'\n'}

func (c *client) logWriteError(err error) {
	if !errors.Is(err, websocket.ErrCloseSent) && !errors.Is(err, net.ErrClosed) {
		c.log().Debug("write failed", "err", err)
	}
}

// readLoop starts reading client messages. Until the connection ends, a
// goroutine waits for the next message (awaitMessage), then another reads
// and handles it (readMessage) and starts the next wait: the wait, which is
// what an idle connection does, keeps a small stack, and the depth of
// handling a message goes with the goroutine that did it. Messages are
// still handled one at a time, in order. The last one out ends the
// connection (finishReading).
func (c *client) readLoop() {
	c.conn.SetReadLimit(maxMessageSize)
	_ = c.conn.SetReadDeadline(time.Now().Add(pongWait))
	c.conn.SetPongHandler(func(string) error {
		return c.conn.SetReadDeadline(time.Now().Add(pongWait))
	})
	go c.await()
}

func (c *client) await() {
	if c.awaitMessage() {
		go c.readMessage()
		return
	}
	c.finishReading()
}

// finishReading takes the client out of every room, waits for its writer,
// closes the socket and lets the hub forget it.
func (c *client) finishReading() {
	close(c.readDone)
	now := time.Now()
	for _, r := range c.rooms {
		r.drop(c, now)
	}
	c.stop(0, "")
	c.writers.Wait()
	_ = c.conn.Close()
	c.hub.forget(c)
}

// awaitMessage waits until the client's next message begins to arrive,
// discarding pongs, and lets the library read that message. Where the
// reader does not peek, it returns at once and the library waits instead.
// It returns false if a pong cannot be read: the connection is over.
func (c *client) awaitMessage() bool {
	fc := c.fc
	for fc.peeking() {
		kind, size := fc.awaitFrame()
		switch kind {
		case framePong:
			if fc.discard(size) != nil {
				return false
			}
			_ = fc.SetReadDeadline(time.Now().Add(pongWait))
		case frameMessage:
			fc.budget = size
			return true
		case frameEnd:
			// The library reads the same end, and reports it.
			fc.budget = -1
			return true
		default:
			fc.handOver()
			return true
		}
	}
	return true
}

// readMessage reads one client message and handles it, then starts the
// wait for the next one, or ends the connection.
func (c *client) readMessage() {
	more := false
	defer func() {
		// This goroutine is not net/http's: a panic here would take the
		// whole server down instead of this one connection.
		if v := recover(); v != nil {
			c.log().Error("handling a client message failed", "panic", v)
			c.stop(websocket.CloseInternalServerErr, "internal error")
			more = false
		}
		if more {
			go c.await()
		} else {
			c.finishReading()
		}
	}()
	_, data, err := c.conn.ReadMessage()
	if err != nil {
		switch {
		case errors.Is(err, websocket.ErrReadLimit):
			c.log().Info("closing connection: message over the read limit", "limit", maxMessageSize)
		case websocket.IsUnexpectedCloseError(err, websocket.CloseGoingAway, websocket.CloseNormalClosure, websocket.CloseNoStatusReceived):
			c.log().Debug("connection ended", "err", err)
		}
		return
	}
	_ = c.conn.SetReadDeadline(time.Now().Add(pongWait))
	c.handle(data)
	more = true
}

// handle answers one client message. Every refusal is an `error` message;
// the connection stays open.
func (c *client) handle(data []byte) {
	if !c.limiter.Allow() {
		c.sendError(CodeRateLimited, "too many messages: slow down", "")
		return
	}
	var m clientMessage
	if err := json.Unmarshal(data, &m); err != nil {
		c.sendError(CodeBadRequest, "a message must be a JSON object with a \"type\"", "")
		return
	}
	switch m.Type {
	case "join", "leave", "pause", "resume":
	case "":
		c.sendError(CodeBadRequest, "a message must be a JSON object with a \"type\"", "")
		return
	default:
		c.sendError(CodeBadRequest, fmt.Sprintf("unknown message type %q", clip(m.Type)), "")
		return
	}
	if m.Room == nil {
		c.sendError(CodeBadRoom, "a room is required", "")
		return
	}
	name, err := stream.NormalizeTrend(*m.Room)
	if err != nil {
		c.sendError(CodeBadRoom, err.Error(), clip(*m.Room))
		return
	}
	i := c.roomIndex(name)
	switch m.Type {
	case "join":
		c.join(name, &m)
		return
	case "resume":
		if m.Mode != "" && m.Mode != "replay" && m.Mode != "live" {
			c.sendError(CodeBadRequest, `mode must be "replay" or "live"`, name)
			return
		}
	}
	if i < 0 {
		c.sendError(CodeNotJoined, "not in this room", name)
		return
	}
	r := c.rooms[i]
	switch m.Type {
	case "leave":
		r.leave(c, time.Now())
		c.rooms = slices.Delete(c.rooms, i, i+1)
	case "pause":
		r.pause(c)
	case "resume":
		r.resume(c, m.Mode == "live")
	}
}

func (c *client) join(name string, m *clientMessage) {
	if i := c.roomIndex(name); i >= 0 {
		c.rooms[i].join(c, m.Epoch, m.Since, m.Paused)
		return
	}
	if len(c.rooms) >= c.hub.cfg.MaxRoomsPerConn {
		c.sendError(CodeTooManyRooms, fmt.Sprintf("a connection can be in at most %d rooms", c.hub.cfg.MaxRoomsPerConn), name)
		return
	}
	r, err := c.hub.join(c, name, m.Epoch, m.Since, m.Paused)
	if err != nil {
		code := CodeBadRoom
		if errors.Is(err, stream.ErrTooManyTrends) {
			code = CodeTooManyTrends
		}
		c.sendError(code, err.Error(), name)
		return
	}
	c.rooms = append(c.rooms, r)
}

// roomIndex finds the room called name among the client's, or returns -1.
func (c *client) roomIndex(name string) int {
	return slices.IndexFunc(c.rooms, func(r *room) bool { return r.name == name })
}

func (c *client) sendError(code, message, room string) {
	c.send(entry{frame: encode(errorMessage{Type: "error", Code: code, Message: message, Room: room})})
}

// clip shortens a client's string for echoing it back.
func clip(s string) string {
	const max = 100
	if len(s) <= max {
		return s
	}
	s = s[:max]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
