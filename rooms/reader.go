package rooms

import (
	"errors"
	"io"
	"net"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
)

// readLoop starts reading client messages. Until the connection ends, a
// goroutine waits for the next message (awaitMessage), then another reads
// and handles it (readMessage) and starts the next wait: the wait, which is
// what an idle connection does, keeps a small stack, and the depth of
// handling a message goes with the goroutine that did it. Messages are
// still handled one at a time, in order. The last one out ends the
// connection (finishReading).
//
// The library's own answers (a pong to a ping, the close that answers a
// close) would be written from here, beside
// the writer's frames and under a deadline of their own, which would cut
// short a write in progress; the writer makes them instead. The read
// limit is readClientMessage's; the library's, on the bytes of the wire,
// only stops a compressed message that is long there and short once
// decompressed. That 1009, and the 1002 for a frame that breaks the rules
// (a close code no one may send among them), the library still writes
// itself, from here, as the connection ends, and frameConn drops any frame
// of the writer's that would follow it.
func (c *client) readLoop() {
	c.conn.SetReadLimit(maxWireMessageSize)
	_ = c.conn.SetReadDeadline(time.Now().Add(c.hub.cfg.PongWait))
	c.conn.SetPongHandler(func(string) error {
		return c.conn.SetReadDeadline(time.Now().Add(c.hub.cfg.PongWait))
	})
	c.conn.SetPingHandler(func(payload string) error {
		c.answerPing(payload)
		return nil
	})
	c.conn.SetCloseHandler(func(code int, _ string) error {
		c.closedByClient(code)
		return nil
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
	c.stop(DisconnectGone)
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
		case frameBadClose:
			// The library would take it for a close without a code,
			// and answer with one.
			c.log().Info("closing connection: a close frame of one byte")
			c.stop(DisconnectProtocol)
			c.linger()
			return false
		case framePong:
			if fc.discard(size) != nil {
				return false
			}
			_ = fc.SetReadDeadline(time.Now().Add(c.hub.cfg.PongWait))
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

// errTooBig is a message past maxMessageSize: counted as it is read, so
// once decompressed for a compressed one, which 4 KiB on the wire can make
// a thousand times as long.
var errTooBig = errors.New("rooms: a message over the read limit")

// readClientMessage reads the next message whole, and no more than
// maxMessageSize bytes of it, decompressed if it was compressed.
func (c *client) readClientMessage() (int, []byte, error) {
	kind, r, err := c.conn.NextReader()
	if err != nil {
		return kind, nil, err
	}
	data, err := io.ReadAll(io.LimitReader(r, maxMessageSize+1))
	if err == nil && len(data) > maxMessageSize {
		err = errTooBig
	}
	return kind, data, err
}

// readMessage reads one client message and handles it, then starts the
// wait for the next one, or ends the connection.
func (c *client) readMessage() {
	more, linger := false, false
	defer func() {
		// This goroutine is not net/http's: a panic here would take the
		// whole server down instead of this one connection.
		if v := recover(); v != nil {
			c.log().Error("handling a client message failed", "panic", v)
			c.stop(DisconnectInternal)
			more, linger = false, true
		}
		if more {
			go c.await()
			return
		}
		if linger {
			c.linger()
		}
		c.finishReading()
	}()
	kind, data, err := c.readClientMessage()
	if err != nil {
		linger = c.readFailed(err)
		return
	}
	if kind != websocket.TextMessage {
		// The protocol's messages are text; RFC 6455 §7.4.1 gives 1003 for
		// a kind of data the endpoint does not take.
		c.log().Info("closing connection: a binary message")
		c.stop(DisconnectUnsupported)
		linger = true
		return
	}
	if !utf8.Valid(data) {
		// JSON's decoder would take it, with U+FFFD for the bad bytes,
		// and a join would make a room of a name the client never sent.
		c.log().Info("closing connection: a text message that is not UTF-8")
		c.stop(DisconnectBadData)
		linger = true
		return
	}
	_ = c.conn.SetReadDeadline(time.Now().Add(c.hub.cfg.PongWait))
	c.handle(data)
	more = true
}

// readFailed ends the connection for err, which reading a message
// returned, and reports whether the client may still be sending: true
// when the server is the one to close, false when the client closed or
// the socket failed.
func (c *client) readFailed(err error) (linger bool) {
	var closeErr *websocket.CloseError
	var netErr net.Error
	switch {
	case errors.Is(err, errTooBig):
		c.log().Info("closing connection: a message over the read limit", "limit", maxMessageSize)
		c.stop(DisconnectTooBig)
	case errors.Is(err, websocket.ErrReadLimit):
		// The library has sent its 1009 already.
		c.log().Info("closing connection: a message over the read limit on the wire", "limit", maxWireMessageSize)
		c.stop(DisconnectTooBig)
	case errors.As(err, &closeErr):
		// The client's close, or the end of the stream (1006).
		if websocket.IsUnexpectedCloseError(err, websocket.CloseGoingAway, websocket.CloseNormalClosure, websocket.CloseNoStatusReceived) {
			c.log().Debug("connection ended", "err", err)
		}
		return false
	case errors.As(err, &netErr), errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed):
		c.log().Debug("connection ended", "err", err)
		return false
	default:
		// A frame that breaks the rules, which the library has answered
		// with 1002, or a compressed message that does not inflate.
		c.log().Info("closing connection: a protocol error", "err", err)
		c.stop(DisconnectProtocol)
	}
	return true
}

// linger reads and drops whatever the client still sends, until it closes
// its side or closeGrace passes, for a reader that stops before the
// client's close. Closing a socket with data unread resets the connection,
// and the reset can discard the close frame before the client reads it;
// the writer, once it has sent that frame, shuts its side of the socket,
// which tells the client the server is done.
func (c *client) linger() {
	conn := c.fc.Conn
	if conn.SetReadDeadline(time.Now().Add(closeGrace)) == nil {
		_, _ = io.Copy(io.Discard, conn)
	}
}
