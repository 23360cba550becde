package rooms

import (
	"encoding/binary"
	"errors"
	"net"
	"time"

	"github.com/gorilla/websocket"
)

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
	if c.stopped || (!c.writing && !c.hasWorkLocked()) {
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

// writeLoop owns every write to the socket, pongs and the close that
// answers a client's close among them (see readLoop), but the close frame
// the websocket library writes when a client breaks the framing rules, as
// the connection ends. Each wake-up writes everything
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
			d := c.closeWith
			c.mu.Unlock()
			c.sendClose(d)
			return
		}
		if !c.hasWorkLocked() {
			if c.idleExit {
				c.writing, c.idleExit, c.batch, c.bufs = false, false, nil, nil
				c.q.release()
				c.mu.Unlock()
				return
			}
			c.mu.Unlock()
			continue
		}
		c.batch = c.q.take(c.batch[:0])
		dropped := c.q.takeDropped()
		ping, busy := c.pingDue, c.wrote || c.wrotePrev
		pong, pongDue := c.pong, c.pongDue
		c.pingDue, c.pongDue, c.pong, c.idleExit, c.wrote = false, false, "", false, true
		c.mu.Unlock()
		if dropped {
			c.hub.counters.slowWrites.Add(1)
		}

		err := c.writeBatch(c.batch)
		clear(c.batch)
		if err == nil && pongDue {
			err = c.conn.WriteControl(websocket.PongMessage, []byte(pong), time.Now().Add(c.hub.cfg.WriteWait))
		}
		if err == nil && ping {
			err = c.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.hub.cfg.WriteWait))
		}
		if errors.Is(err, websocket.ErrCloseSent) {
			// The library's close is out, from the reader, which stops
			// the connection next: sendClose then waits for the client.
			err = nil
		}
		if err != nil {
			c.logWriteError(err)
			c.stop(DisconnectGone)
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
	if c.hasWorkLocked() || c.stopped {
		return false
	}
	c.writing, c.idleExit, c.batch, c.bufs = false, false, nil, nil
	c.q.release()
	return true
}

// sendClose writes d's close frame, if it has one (or the close that
// answers the client's), then closes the socket, which ends the reader if
// it still runs: after a close frame of the server's own, only once the
// reader is done or closeGrace has passed.
func (c *client) sendClose(d Disconnect) {
	c.mu.Lock()
	echo := c.echo
	c.mu.Unlock()
	switch {
	case echo == websocket.CloseNoStatusReceived:
		// The client's close had no code: nor has the answer.
		_ = c.conn.WriteControl(websocket.CloseMessage, nil, time.Now().Add(time.Second))
	case echo != 0:
		msg := websocket.FormatCloseMessage(echo, "")
		_ = c.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
	case d.Code != 0:
		msg := websocket.FormatCloseMessage(d.Code, d.Reason)
		err := c.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
		if err == nil || errors.Is(err, websocket.ErrCloseSent) {
			// A close frame is out, this one or the library's. Closing the
			// socket with the client's data unread resets it, which can
			// discard the close frame before the client reads it: say the
			// server is done, and wait for the reader to end: on the
			// client's close, or, for a reader that lingers, at the end
			// of the client's stream.
			if cw, ok := c.fc.Conn.(interface{ CloseWrite() error }); ok {
				_ = cw.CloseWrite()
			}
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
// maxFrameBytes allows, all of them with one system call. The writer
// frames them itself rather than through the websocket library, which
// would copy every message into its buffer and write each 16 KiB apart,
// and could not send a message compressed once for many connections. The
// library's own writes (a pong, a close) are whole frames written at
// once, as these are, so the two never interleave within a frame.
func (c *client) writeBatch(batch []entry) error {
	if len(batch) == 0 {
		return nil
	}
	sep := newline
	if c.packed {
		sep = packedNewline
	}
	// The counts are added once per batch or per frame, never per
	// message: every writer adds to the same counters.
	bufs := c.bufs[:0]
	head := -1 // the index in bufs of the open frame's header
	size, skipped := 0, uint64(0)
	oldest := int64(0) // the ingestion of the frame's oldest live tweet
	// Each frame is counted once written, with the latency its write ended.
	type frameCount struct {
		size   int
		oldest int64
	}
	var counts []frameCount
	closeFrame := func() {
		if c.packed {
			last := &bufs[len(bufs)-1]
			*last = (*last)[:len(*last)-syncFlushTail]
			size -= syncFlushTail
		}
		bufs[head] = c.frameHeader(size)
		counts = append(counts, frameCount{size, oldest})
	}
	for i := range batch {
		e := &batch[i]
		frame := e.frame
		if e.skip {
			frame = encode(skippedMessage{Type: "skipped", Room: e.room.name, FromSeq: e.from, ToSeq: e.to, Count: e.skipped()})
		}
		if c.packed && (e.skip || !e.packed) {
			// A message for this connection alone.
			frame = deflateMessage(frame)
		}
		if head >= 0 && size+len(sep)+len(frame) > maxFrameBytes {
			closeFrame()
			head, size, oldest = -1, 0, 0
		}
		if head < 0 {
			head = len(bufs)
			bufs = append(bufs, nil)
		} else {
			bufs = append(bufs, sep)
			size += len(sep)
		}
		bufs = append(bufs, frame)
		size += len(frame)
		skipped += e.skipped()
		if e.ingestedAt != 0 && (oldest == 0 || e.ingestedAt < oldest) {
			oldest = e.ingestedAt
		}
	}
	closeFrame()
	if skipped > 0 {
		c.hub.counters.skipped.Add(skipped)
	}
	err := c.fc.writeBuffers(bufs, time.Now().Add(c.hub.cfg.WriteWait))
	clear(bufs)
	c.bufs = bufs[:0]
	if errors.Is(err, errAfterClose) {
		// The library closed the connection; the reader is stopping it.
		return nil
	}
	if err == nil {
		for _, f := range counts {
			c.countFrame(f.size, f.oldest)
		}
	}
	return err
}

// frameHeader returns the header of an unmasked text frame of size bytes,
// compressed for a connection that negotiated it (RFC 6455 §5.2, RFC 7692
// §6: RSV1 marks a compressed message).
func (c *client) frameHeader(size int) []byte {
	b0 := byte(0x80 | websocketText) // FIN, text
	if c.packed {
		b0 |= 0x40
	}
	var h []byte
	switch {
	case size < 126:
		h = append(make([]byte, 0, 2), b0, byte(size))
	case size <= 0xffff:
		h = append(make([]byte, 0, 4), b0, 126, byte(size>>8), byte(size))
	default:
		h = append(make([]byte, 0, 10), b0, 127)
		h = binary.BigEndian.AppendUint64(h, uint64(size))
	}
	return h
}

// countFrame counts a frame of size bytes with the latency of its oldest
// live tweet, ingested at oldest (Unix nanoseconds; zero when it carries
// none): the longest any tweet in it waited. One observation per frame
// keeps the cost off each member's messages.
func (c *client) countFrame(size int, oldest int64) {
	m := &c.hub.counters
	m.frames.Add(1)
	m.bytes.Add(uint64(size))
	if oldest != 0 {
		m.latency.observe(time.Duration(time.Now().UnixNano() - oldest))
	}
}

var newline = []byte{'\n'}

func (c *client) logWriteError(err error) {
	if !errors.Is(err, websocket.ErrCloseSent) && !errors.Is(err, net.ErrClosed) {
		c.log().Debug("write failed", "err", err)
	}
}
