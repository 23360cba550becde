package rooms

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// gatedConn is a server socket whose frame writes of chosen opcodes wait
// until the test opens their gate. It embeds the TCP connection, so the
// server still peeks at it and can shut its write side.
type gatedConn struct {
	*net.TCPConn
	answered  atomic.Bool  // the upgrade's answer, the first write, is out
	deadlines atomic.Int64 // SetWriteDeadline calls once armed
	armed     atomic.Bool
	mu        sync.Mutex
	gates     map[byte]chan struct{} // by opcode; closed once open
}

func (c *gatedConn) gate(op byte) chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gates[op]
}

// hold makes frames of op wait until open(op).
func (c *gatedConn) hold(op byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gates == nil {
		c.gates = make(map[byte]chan struct{})
	}
	c.gates[op] = make(chan struct{})
	c.armed.Store(true)
}

func (c *gatedConn) open(op byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if g := c.gates[op]; g != nil {
		close(g)
		delete(c.gates, op)
	}
}

func (c *gatedConn) openAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for op, g := range c.gates {
		close(g)
		delete(c.gates, op)
	}
}

func (c *gatedConn) Write(p []byte) (int, error) {
	if !c.answered.Swap(true) {
		return c.TCPConn.Write(p)
	}
	if len(p) > 0 {
		if g := c.gate(p[0] & 0x0f); g != nil {
			<-g
		}
	}
	return c.TCPConn.Write(p)
}

func (c *gatedConn) SetWriteDeadline(t time.Time) error {
	if c.armed.Load() {
		c.deadlines.Add(1)
	}
	return c.TCPConn.SetWriteDeadline(t)
}

// newGatedTestServer is newTestServer whose server sockets are gatedConns,
// handed to the test on conns as they are accepted.
func newGatedTestServer(t *testing.T, cfg Config) (*testServer, <-chan *gatedConn) {
	t.Helper()
	conns := make(chan *gatedConn, 16)
	s := serveHub(t, cfg, nil, func(h http.Handler) (string, func()) {
		srv := httptest.NewUnstartedServer(h)
		srv.Listener = wrappingListener{Listener: srv.Listener, wrap: func(c net.Conn) net.Conn {
			gc := &gatedConn{TCPConn: c.(*net.TCPConn)}
			conns <- gc
			return gc
		}}
		srv.Start()
		return srv.URL, srv.Close
	})
	return s, conns
}

// readUpToJoined reads frames until the joined.
func (c *rawClient) readUpToJoined() {
	c.t.Helper()
	for {
		op, payload, err := c.frame()
		if err != nil {
			c.t.Fatalf("reading up to joined: %v", err)
		}
		if op == websocket.TextMessage && strings.Contains(string(payload), `"type":"joined"`) {
			return
		}
	}
}

// readClose reads frames up to the close frame and returns its code, then
// checks the stream ends.
func (c *rawClient) readClose() int {
	c.t.Helper()
	for {
		op, payload, err := c.frame()
		if err != nil {
			c.t.Fatalf("the connection ended with %v before a close frame", err)
		}
		if op != websocket.CloseMessage {
			continue
		}
		if len(payload) < 2 {
			c.t.Fatalf("a close frame of %d bytes", len(payload))
		}
		code := int(binary.BigEndian.Uint16(payload))
		if _, _, err := c.frame(); !errors.Is(err, io.EOF) {
			c.t.Errorf("after the close frame: %v, want the end of the stream", err)
		}
		return code
	}
}

// The library answers a frame that breaks the rules with its own 1002,
// from the reader, while the writer has a pong to send: the pong's write
// fails with ErrCloseSent, which is no failed socket. The writer leaves
// the end to the reader's stop, so the client's later bytes are read, and
// the client reads the close frame, then the end of the stream.
func TestAWriteAfterTheLibrarysCloseDoesNotResetTheConnection(t *testing.T) {
	t.Parallel()
	s, conns := newGatedTestServer(t, Config{FlushInterval: -1, StatsInterval: time.Hour, PongWait: time.Hour})
	c := dialRaw(t, s)
	gc := <-conns
	t.Cleanup(gc.openAll)
	c.write(joinFrame("golang"))
	c.readUpToJoined()
	sc := onlyClient(t, s.hub)

	// The writer waits inside the write of a tweet, holding closeMu.
	gc.hold(websocket.TextMessage)
	gc.hold(websocket.CloseMessage)
	s.publish("golang")
	eventually(t, "the writer is in its write", func() bool { return gc.deadlines.Load() >= 1 })

	// A ping, which leaves a pong for the writer, and another tweet.
	c.write(clientFrame(true, websocket.PingMessage, "p"))
	eventually(t, "a pong is due", func() bool {
		sc.mu.Lock()
		defer sc.mu.Unlock()
		return sc.pongDue
	})
	s.publish("golang")

	// A frame with a reserved bit, which the library answers with 1002
	// from the reader, and more after it.
	bad := clientFrame(true, websocket.TextMessage, `{"type":"join","room":"rust"}`)
	bad[0] |= 0x20
	more := clientFrame(true, websocket.TextMessage, strings.Repeat("y", 2*maxMessageSize))
	c.write(append(append(bad, more...), more...))
	eventually(t, "the library's close waits for the writer", func() bool { return gc.deadlines.Load() >= 2 })

	// The writer's tweet goes out; the writer takes the next tweet and the
	// pong while the library's close is on its way.
	gc.open(websocket.TextMessage)
	eventually(t, "the writer took the pong", func() bool {
		sc.mu.Lock()
		defer sc.mu.Unlock()
		return !sc.pongDue && sc.q.len() == 0
	})
	gc.open(websocket.CloseMessage)

	eventually(t, "the server lets go of the connection", func() bool {
		s.hub.mu.RLock()
		defer s.hub.mu.RUnlock()
		return len(s.hub.clients) == 0
	})
	if code := c.readClose(); code != websocket.CloseProtocolError {
		t.Errorf("closed with %d, want %d", code, websocket.CloseProtocolError)
	}
	m := s.hub.Metrics()
	if m.ConnectionsClosed[DisconnectProtocol.Name] != 1 {
		t.Errorf("closed: %v, want one %s", m.ConnectionsClosed, DisconnectProtocol.Name)
	}
}
