package rooms

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gorilla/websocket"
)

// lockedWriteConn is a server connection whose writes take turns through
// a channel rather than the pipe's mutex, so that a write waiting for
// another is durably blocked and a synctest bubble's clock moves on.
// Deadlines go straight to the pipe, as they would to a socket.
type lockedWriteConn struct {
	net.Conn
	turn chan struct{}
}

func (c *lockedWriteConn) Write(p []byte) (int, error) {
	c.turn <- struct{}{}
	defer func() { <-c.turn }()
	return c.Conn.Write(p)
}

// wrappingListener hands the server each accepted connection wrapped.
type wrappingListener struct {
	net.Listener
	wrap func(net.Conn) net.Conn
}

func (l wrappingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return l.wrap(c), nil
}

// newTurnTakingPipeServer is newPipeServer whose server connections are
// lockedWriteConns.
func newTurnTakingPipeServer(t *testing.T, cfg Config) *testServer {
	t.Helper()
	l := &pipeListener{conns: make(chan net.Conn), closed: make(chan struct{})}
	wl := wrappingListener{Listener: l, wrap: func(c net.Conn) net.Conn {
		return &lockedWriteConn{Conn: c, turn: make(chan struct{}, 1)}
	}}
	s := serveHub(t, cfg, nil, func(h http.Handler) (string, func()) {
		srv := &http.Server{Handler: h}
		served := make(chan struct{})
		go func() {
			defer close(served)
			_ = srv.Serve(wl)
		}()
		return "http://pipe", func() {
			_ = srv.Close()
			<-served
		}
	})
	s.dialer = &websocket.Dialer{NetDialContext: l.dial}
	return s
}

// dialJoined connects a bare client, joins golang and reads up to the
// joined; the test's cleanup closes it.
func dialJoined(t *testing.T, s *testServer) *websocket.Conn {
	t.Helper()
	conn, _, err := s.dialer.Dial(s.wsURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := conn.WriteMessage(websocket.TextMessage, []byte(`{"type":"join","room":"golang"}`)); err != nil {
		t.Fatal(err)
	}
	for {
		_, data, err := conn.ReadMessage()
		if err != nil {
			t.Fatalf("reading up to joined: %v", err)
		}
		if strings.Contains(string(data), `"type":"joined"`) {
			return conn
		}
	}
}

// TestAPingFromAClientThatReadsSlowlyLeavesTheWriteItsWriteWait: the
// pong the websocket library answers a client's ping with goes out under
// the library's own deadline of one second; the frame the writer is still
// writing keeps WriteWait. A client that takes two seconds to read a
// frame, and pings meanwhile, is slow, not gone.
func TestAPingFromAClientThatReadsSlowlyLeavesTheWriteItsWriteWait(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		s := newTurnTakingPipeServer(t, Config{FlushInterval: -1, StatsInterval: time.Hour, PongWait: time.Hour, WriteWait: time.Minute})
		// A bare client: nothing reads for it but the test.
		conn := dialJoined(t, s)
		synctest.Wait()

		// The client reads nothing now: the writer waits in its write.
		id := s.publish("golang")
		synctest.Wait()
		// The client pings; the library answers from the reader, and its
		// answer waits for the writer's frame.
		if err := conn.WriteControl(websocket.PingMessage, []byte("still here"), time.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		// Two seconds on the bubble's clock: past the pong's deadline,
		// well within WriteWait.
		time.Sleep(2 * time.Second)
		synctest.Wait()

		if n := s.hub.Metrics().ConnectionsClosed[DisconnectGone.Name]; n != 0 {
			t.Errorf("%d connections closed as gone two seconds into a write of a minute's WriteWait", n)
		}
		_, data, err := conn.ReadMessage()
		if err != nil {
			t.Fatalf("the client, reading again, got %v instead of the tweet", err)
		}
		if !strings.Contains(string(data), id) {
			t.Errorf("got %s, want the tweet %s", data, id)
		}
	})
}

// rawClient is a WebSocket client that reads frames as they come off the
// wire, whatever came before them, the close frame included.
type rawClient struct {
	t    testing.TB
	conn net.Conn
	br   *bufio.Reader
}

func dialRaw(t testing.TB, s *testServer) *rawClient {
	t.Helper()
	u, err := url.Parse(s.url)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	req := "GET /ws HTTP/1.1\r\nHost: " + u.Host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade answered %s", resp.Status)
	}
	return &rawClient{t: t, conn: conn, br: br}
}

// frame reads the next frame's opcode and payload; io.EOF once the
// server closed the connection.
func (c *rawClient) frame() (op byte, payload []byte, err error) {
	_ = c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	var h [2]byte
	if _, err := io.ReadFull(c.br, h[:]); err != nil {
		return 0, nil, err
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(c.br, b[:]); err != nil {
			return 0, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(c.br, b[:]); err != nil {
			return 0, nil, err
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(c.br, payload); err != nil {
		return 0, nil, err
	}
	return h[0] & 0x0f, payload, nil
}

func (c *rawClient) write(b []byte) {
	c.t.Helper()
	if _, err := c.conn.Write(b); err != nil {
		c.t.Fatal(err)
	}
}

// onlyClient returns the hub's one connection.
func onlyClient(t testing.TB, h *Hub) *client {
	t.Helper()
	h.mu.RLock()
	defer h.mu.RUnlock()
	if len(h.clients) != 1 {
		t.Fatalf("%d connections, want 1", len(h.clients))
	}
	for c := range h.clients {
		return c
	}
	return nil
}

// TestNoDataFrameFollowsTheCloseFrame: RFC 6455 §5.5.1 has an endpoint
// that sent a close frame send no more data frames. Here the websocket
// library answers the client's close from the reader, while a message is
// queued for the connection before its reader has left its rooms.
func TestNoDataFrameFollowsTheCloseFrame(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{FlushInterval: -1, StatsInterval: time.Hour})
	c := dialRaw(t, s)
	c.write(joinFrame("golang"))
	for {
		op, payload, err := c.frame()
		if err != nil {
			t.Fatalf("reading up to joined: %v", err)
		}
		if op == websocket.TextMessage && strings.Contains(string(payload), `"type":"joined"`) {
			break
		}
	}
	sc := onlyClient(t, s.hub)

	// Holding the room keeps the reader, once it has the client's close,
	// from leaving it, and so from stopping the connection.
	r := s.hub.room("golang")
	r.mu.Lock()
	locked := true
	defer func() {
		if locked {
			r.mu.Unlock()
		}
	}()
	c.write(clientFrame(true, websocket.CloseMessage, string(websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))))
	for {
		op, _, err := c.frame()
		if err != nil {
			t.Fatalf("reading up to the server's close: %v", err)
		}
		if op == websocket.CloseMessage {
			break
		}
	}
	// The server has sent its close frame. A message for every
	// connection comes now.
	if err := s.hub.Announce("notice", map[string]string{"text": "after the close"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the connection's queue is empty", func() bool {
		sc.mu.Lock()
		defer sc.mu.Unlock()
		return sc.q.len() == 0
	})
	r.mu.Unlock()
	locked = false

	for {
		op, payload, err := c.frame()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatalf("reading after the close: %v", err)
		}
		if op < websocket.CloseMessage {
			t.Fatalf("a data frame (opcode %d) after the close frame: %s", op, payload)
		}
	}
}

// TestTheLatencyOfAFrameIncludesItsWrite: the broadcast latency runs to
// the write of the frame that carries a tweet, so that a frame a client
// takes two seconds to read shows two seconds, and FramesWritten counts
// the frame once it is written.
func TestTheLatencyOfAFrameIncludesItsWrite(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		s := newPipeServer(t, Config{FlushInterval: -1, StatsInterval: time.Hour, PongWait: time.Hour, WriteWait: time.Minute})
		conn := dialJoined(t, s)
		synctest.Wait()
		before := s.hub.Metrics()

		tw := s.tweet("golang")
		tw.IngestedAt = time.Now()
		s.hub.Publish(tw, []string{"golang"})
		synctest.Wait() // the writer waits in its write: the client reads nothing
		if n := s.hub.Metrics().FramesWritten - before.FramesWritten; n != 0 {
			t.Errorf("%d frames counted written while the write waits for the client", n)
		}
		time.Sleep(2 * time.Second)
		if _, data, err := conn.ReadMessage(); err != nil || !strings.Contains(string(data), tw.ID) {
			t.Fatalf("got %s, %v; want the tweet", data, err)
		}
		synctest.Wait()
		after := s.hub.Metrics()
		if got := after.Latency.Sum - before.Latency.Sum; got < 2*time.Second {
			t.Errorf("latency %v for a tweet whose frame took two seconds to write", got)
		}
	})
}
