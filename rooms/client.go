package rooms

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
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
	// pongWait is how long the reader waits for any message or pong before
	// it gives the client up.
	pongWait = 60 * time.Second
	// pingPeriod must be less than pongWait, so that a healthy client's pong
	// arrives before the read deadline passes.
	pingPeriod = pongWait * 9 / 10
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

// client is one WebSocket connection. Exactly two goroutines use its
// socket: the reader (the HTTP handler's goroutine) reads and handles client
// messages, and the writer, which the reader starts and waits for, drains
// the queue into frames. Rooms queue messages with send and never wait.
type client struct {
	hub  *Hub
	conn *websocket.Conn
	log  *slog.Logger

	mu        sync.Mutex
	q         queue
	stopped   bool
	closeCode int    // close frame the writer sends when it stops; 0 for none
	closeText string // its reason
	done      chan struct{}
	wake      chan struct{} // capacity 1: a pending wake-up for the writer
	readDone  chan struct{} // closed when the reader returns

	// Owned by the reader goroutine.
	rooms   map[string]*room
	limiter *rate.Limiter
}

func newClient(h *Hub, conn *websocket.Conn) *client {
	return &client{
		hub:      h,
		conn:     conn,
		log:      h.log.With("remote", conn.RemoteAddr().String()),
		q:        newQueue(h.cfg.QueueBytes),
		done:     make(chan struct{}),
		wake:     make(chan struct{}, 1),
		readDone: make(chan struct{}),
		rooms:    make(map[string]*room),
		limiter:  rate.NewLimiter(rate.Limit(h.cfg.MessageRate), max(int(2*h.cfg.MessageRate), 1)),
	}
}

// send queues e for the writer without waiting. A client whose queue is past
// its hard limit is not reading at all, and is disconnected.
func (c *client) send(e entry) {
	c.mu.Lock()
	if c.stopped {
		c.mu.Unlock()
		return
	}
	ok := c.q.push(e)
	c.mu.Unlock()
	if !ok {
		c.stop(websocket.ClosePolicyViolation, "too slow")
		return
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
	close(c.done)
}

// writeLoop owns every write to the socket but the read limit's close frame,
// which the websocket library writes itself. It runs until stop, or until a
// write fails, and closes the socket as it returns.
func (c *client) writeLoop() {
	ping := time.NewTicker(pingPeriod)
	defer func() {
		ping.Stop()
		c.conn.Close()
	}()
	var batch []entry
	for {
		select {
		case <-c.wake:
			// Wait for the hub's next flush, so that what arrives meanwhile
			// joins this write: one frame and one system call for many
			// messages is what lets a connection keep up.
			select {
			case <-c.hub.nextFlush():
			case <-c.done:
				continue
			}
			c.mu.Lock()
			batch = c.q.take(batch[:0])
			c.mu.Unlock()
			err := c.writeBatch(batch)
			clear(batch)
			if err != nil {
				c.logWriteError(err)
				c.stop(0, "")
				return
			}
		case <-ping.C:
			if err := c.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait)); err != nil {
				c.logWriteError(err)
				c.stop(0, "")
				return
			}
		case <-c.done:
			c.mu.Lock()
			code, text := c.closeCode, c.closeText
			c.mu.Unlock()
			if code != 0 {
				msg := websocket.FormatCloseMessage(code, text)
				if c.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second)) == nil {
					// Closing the socket with the client's data unread
					// resets it, which can discard the close frame before
					// the client reads it: wait for the client's close,
					// which ends the reader.
					t := time.NewTimer(closeGrace)
					select {
					case <-c.readDone:
					case <-t.C:
					}
					t.Stop()
				}
			}
			return
		}
	}
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
		c.log.Debug("write failed", "err", err)
	}
}

// readLoop reads client messages until the connection ends, then takes the
// client out of every room.
func (c *client) readLoop() {
	defer close(c.readDone)
	c.conn.SetReadLimit(maxMessageSize)
	_ = c.conn.SetReadDeadline(time.Now().Add(pongWait))
	c.conn.SetPongHandler(func(string) error {
		return c.conn.SetReadDeadline(time.Now().Add(pongWait))
	})
	for {
		_, data, err := c.conn.ReadMessage()
		if err != nil {
			switch {
			case errors.Is(err, websocket.ErrReadLimit):
				c.log.Info("closing connection: message over the read limit", "limit", maxMessageSize)
			case websocket.IsUnexpectedCloseError(err, websocket.CloseGoingAway, websocket.CloseNormalClosure, websocket.CloseNoStatusReceived):
				c.log.Debug("connection ended", "err", err)
			}
			break
		}
		_ = c.conn.SetReadDeadline(time.Now().Add(pongWait))
		c.handle(data)
	}
	now := time.Now()
	for _, r := range c.rooms {
		r.drop(c, now)
	}
	c.stop(0, "")
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
	r, joined := c.rooms[name]
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
	if !joined {
		c.sendError(CodeNotJoined, "not in this room", name)
		return
	}
	switch m.Type {
	case "leave":
		r.leave(c, time.Now())
		delete(c.rooms, name)
	case "pause":
		r.pause(c)
	case "resume":
		r.resume(c, m.Mode == "live")
	}
}

func (c *client) join(name string, m *clientMessage) {
	if r, ok := c.rooms[name]; ok {
		r.join(c, m.Epoch, m.Since)
		return
	}
	if len(c.rooms) >= c.hub.cfg.MaxRoomsPerConn {
		c.sendError(CodeTooManyRooms, fmt.Sprintf("a connection can be in at most %d rooms", c.hub.cfg.MaxRoomsPerConn), name)
		return
	}
	r, err := c.hub.join(c, name, m.Epoch, m.Since)
	if err != nil {
		code := CodeBadRoom
		if errors.Is(err, stream.ErrTooManyTrends) {
			code = CodeTooManyTrends
		}
		c.sendError(code, err.Error(), name)
		return
	}
	c.rooms[name] = r
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
