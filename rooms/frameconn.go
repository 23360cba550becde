package rooms

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// An idle connection's largest cost is the goroutine that waits for the
// client's next message: blocked inside the websocket library's read, its
// stack grows to 8 KiB and stays there. The reader therefore waits on the
// socket itself, on a stack that stays at its first 2 KiB: it peeks at the
// next frame's header, discards pongs itself, and hands a whole message to
// the library (on a short-lived goroutine) only once one has begun to
// arrive. frameConn lets the library read exactly that message and nothing
// after it, so that nothing waits unseen in the library's buffer while the
// reader waits on the socket.
//
// Anything unusual (a ping from the client, a fragmented message, a header
// split across packets, a platform where the socket cannot be peeked at)
// turns the connection over to the library for good, which reads and
// checks every frame as it always would.

// frameConn is the connection the websocket library reads from and writes
// to.
type frameConn struct {
	net.Conn
	raw syscall.RawConn // nil when the socket cannot be peeked at
	// budget is how many more bytes the library may read; -1 for no limit.
	// The reader sets it before it starts the goroutine that reads, which
	// alone uses it until it is done.
	budget int
	// handedOver counts the connections that stopped peeking.
	handedOver *atomic.Int64
	// vectored is set when a list of buffers goes out in one system call
	// under the socket's write lock (see writeBuffers).
	vectored bool
	// answered is set once the library has written its answer to the
	// upgrade; deflate says whether that answer accepted permessage-deflate.
	answered, deflate bool
	// closeMu orders the writer's frames after a close frame the library
	// writes (its answer to a frame that breaks the rules, or the writer's
	// own close): once closeSent, no data frame follows (RFC 6455 §5.5.1).
	closeMu   sync.Mutex
	closeSent bool
}

func newFrameConn(conn net.Conn, handedOver *atomic.Int64) *frameConn {
	fc := &frameConn{Conn: conn, budget: -1, handedOver: handedOver}
	_, fc.vectored = conn.(*net.TCPConn)
	if canPeek {
		if sc, ok := conn.(syscall.Conn); ok {
			if raw, err := sc.SyscallConn(); err == nil {
				fc.raw, fc.budget = raw, 0
			}
		}
	}
	return fc
}

// Read gives the library at most the bytes of the message the reader has
// seen begin.
func (fc *frameConn) Read(p []byte) (int, error) {
	if fc.budget < 0 {
		return fc.Conn.Read(p)
	}
	if fc.budget == 0 {
		// The library wants more than the message it was given: trust it
		// from now on.
		fc.handOver()
		return fc.Conn.Read(p)
	}
	if len(p) > fc.budget {
		p = p[:fc.budget]
	}
	n, err := fc.Conn.Read(p)
	fc.budget -= n
	return n, err
}

// deflateAccepted is how the library's answer to an upgrade accepts
// permessage-deflate; it accepts it only without context takeover.
var deflateAccepted = []byte("\r\nSec-WebSocket-Extensions: permessage-deflate")

// Write notes, from the library's answer to the upgrade (its first write),
// whether the connection compresses: what the client was told is what it
// decompresses.
func (fc *frameConn) Write(p []byte) (int, error) {
	if !fc.answered {
		fc.answered = true
		fc.deflate = bytes.Contains(p, deflateAccepted)
		return fc.Conn.Write(p)
	}
	if len(p) > 0 && p[0]&0x0f == websocketClose {
		// The library writes each control frame whole, in one call.
		fc.closeMu.Lock()
		defer fc.closeMu.Unlock()
		fc.closeSent = true
	}
	return fc.Conn.Write(p)
}

// errAfterClose is what writeBuffers returns, having written nothing,
// once a close frame is out.
var errAfterClose = errors.New("rooms: a close frame went out before these frames")

// writeBuffers writes bufs, whole frames, by the deadline and with one
// call to the socket, which holds its write lock for the whole of it: the
// library's own writes (a pong, a close) fall between frames, never
// inside one.
func (fc *frameConn) writeBuffers(bufs [][]byte, deadline time.Time) error {
	fc.closeMu.Lock()
	defer fc.closeMu.Unlock()
	if fc.closeSent {
		return errAfterClose
	}
	if err := fc.Conn.SetWriteDeadline(deadline); err != nil {
		return err
	}
	if fc.vectored {
		b := net.Buffers(bufs)
		_, err := b.WriteTo(fc.Conn)
		return err
	}
	_, err := fc.Conn.Write(bytes.Join(bufs, nil))
	return err
}

// peeking reports whether the reader waits on the socket itself.
func (fc *frameConn) peeking() bool { return fc.budget >= 0 }

// handOver leaves every read to the library from now on.
func (fc *frameConn) handOver() {
	fc.budget = -1
	fc.handedOver.Add(1)
}

// Kinds of client frame, from its first bytes.
const (
	frameOther   = iota // incomplete or unusual: the library reads it unaided
	frameMessage        // a whole message in one frame: text, binary or close
	framePong
	frameEnd // no frame: the socket failed or the client closed it
	// frameBadClose is a close frame with a one-byte payload: too short
	// for a code, too long for none (RFC 6455 §5.5.1), a protocol error.
	frameBadClose
)

// parseFrameHeader tells what kind of frame the bytes b start and, for a
// message or a pong, its whole length in bytes (header, mask and payload).
// It needs two bytes, four when the payload length takes 16 bits. On a
// connection that compresses (deflate), a text or binary frame may be
// compressed (RSV1), which the library then decompresses.
func parseFrameHeader(b []byte, deflate bool) (kind, size int) {
	if len(b) < 2 {
		return frameOther, 0
	}
	const (
		fin       = 0x80
		rsv1      = 0x40
		rsv       = 0x70
		masked    = 0x80
		maskBytes = 4
	)
	rsvAllowed := byte(0)
	if op := b[0] & 0x0f; deflate && (op == websocketText || op == websocketBinary) {
		rsvAllowed = rsv1
	}
	if b[0]&fin == 0 || b[0]&rsv&^rsvAllowed != 0 || b[1]&masked == 0 {
		return frameOther, 0
	}
	header, payload := 2+maskBytes, int(b[1]&0x7f)
	switch {
	case payload == 127:
		return frameOther, 0
	case payload == 126:
		if len(b) < 4 {
			return frameOther, 0
		}
		header, payload = 4+maskBytes, int(binary.BigEndian.Uint16(b[2:4]))
	}
	switch op := b[0] & 0x0f; {
	case op == websocketText || op == websocketBinary:
		return frameMessage, header + payload
	case op == websocketClose && payload == 1:
		return frameBadClose, header + payload
	case op == websocketClose && payload <= 125:
		return frameMessage, header + payload
	case op == websocketPong && payload <= 125:
		return framePong, header + payload
	}
	return frameOther, 0
}

// Frame opcodes (RFC 6455, section 5.2).
const (
	websocketText   = 1
	websocketBinary = 2
	websocketClose  = 8
	websocketPong   = 10
)

// awaitFrame waits until the client's next frame begins and tells what it
// is, or that the connection is over (the read deadline passed, the socket
// is closed, the client closed its side).
func (fc *frameConn) awaitFrame() (kind, size int) {
	var head [4]byte
	n, err := peek(fc.raw, head[:])
	if err != nil || n == 0 {
		return frameEnd, 0
	}
	return parseFrameHeader(head[:n], fc.deflate)
}

// discard reads and drops n bytes the reader has seen begin to arrive.
func (fc *frameConn) discard(n int) error {
	return drop(fc.raw, n)
}

// upgradeWriter hands the websocket library a frameConn when it hijacks
// the HTTP connection.
type upgradeWriter struct {
	http.ResponseWriter
	handedOver *atomic.Int64
	conn       *frameConn
}

func (w *upgradeWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	w.conn = newFrameConn(conn, w.handedOver)
	return w.conn, brw, nil
}

func (w *upgradeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
