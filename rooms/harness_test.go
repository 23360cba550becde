package rooms

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tweetstreamer/tweetstreamer/stream"
)

// testServer is a hub served over HTTP: by httptest on 127.0.0.1, or over
// in-memory pipes inside a synctest bubble (newPipeServer).
type testServer struct {
	hub    *Hub
	trends *stream.Trends
	url    string // http://…
	wsURL  string // the same, ws://…
	dialer *websocket.Dialer
	// tweets numbers the tweets the test makes, so that every id is
	// unique on this server whatever other tests run beside it.
	tweets atomic.Int64
}

// newTestServer serves a hub for cfg, with trends as its configured rooms
// (golang and rust when none), on 127.0.0.1.
func newTestServer(t testing.TB, cfg Config, trends ...string) *testServer {
	t.Helper()
	return serveHub(t, cfg, trends, func(h http.Handler) (string, func()) {
		srv := httptest.NewServer(h)
		return srv.URL, srv.Close
	})
}

// newPipeServer is newTestServer over in-memory pipes, for a test inside
// a synctest bubble: a pipe, unlike a socket, blocks durably, so the
// bubble's clock moves on while the connections wait. The websocket
// library reads every pipe connection itself, as it does a socket that
// cannot be peeked at.
func newPipeServer(t *testing.T, cfg Config, trends ...string) *testServer {
	t.Helper()
	l := &pipeListener{conns: make(chan net.Conn), closed: make(chan struct{})}
	s := serveHub(t, cfg, trends, func(h http.Handler) (string, func()) {
		srv := &http.Server{Handler: h}
		served := make(chan struct{})
		go func() {
			defer close(served)
			_ = srv.Serve(l)
		}()
		return "http://pipe", func() {
			_ = srv.Close()
			<-served
		}
	})
	s.dialer = &websocket.Dialer{NetDialContext: l.dial}
	return s
}

// serveHub makes the hub for cfg, runs its Run loop, and serves it with
// serve, which returns the server's URL and how to stop it. The test's
// cleanup closes the hub, stops the server, then ends Run.
func serveHub(t testing.TB, cfg Config, trends []string, serve func(http.Handler) (url string, stop func())) *testServer {
	t.Helper()
	if len(trends) == 0 {
		trends = []string{"golang", "rust"}
	}
	ts, err := stream.NewTrends(trends, 10)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Trends = ts
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Render == nil {
		cfg.Render = func(tw stream.Tweet, _ []string) (string, error) { return "<article>" + tw.ID + "</article>", nil }
	}
	hub, err := NewHub(cfg)
	if err != nil {
		t.Fatal(err)
	}
	url, stop := serve(hub)
	runCtx, stopRun := context.WithCancel(context.Background())
	running := make(chan struct{})
	go func() {
		defer close(running)
		_ = hub.Run(runCtx)
	}()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := hub.Close(ctx); err != nil {
			t.Errorf("closing the hub: %v", err)
		}
		stop()
		stopRun()
		<-running
	})
	return &testServer{hub: hub, trends: ts, url: url, wsURL: "ws" + strings.TrimPrefix(url, "http"), dialer: websocket.DefaultDialer}
}

// pipeListener hands the server one end of a net.Pipe for each dial.
type pipeListener struct {
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

// dial is the client's dialer: it returns one end of a new pipe once the
// server has taken the other.
func (l *pipeListener) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	server, client := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.closed:
		return nil, net.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }

// publish publishes a tweet matching trends and returns its id.
func (s *testServer) publish(trends ...string) string {
	tw := s.tweet(strings.Join(trends, " "))
	tw.Author = stream.Author{Handle: "h"}
	s.hub.Publish(tw, trends)
	return tw.ID
}

// tweet returns a tweet of text with an id new on this server.
func (s *testServer) tweet(text string) stream.Tweet {
	return stream.Tweet{ID: fmt.Sprintf("t%d", s.tweets.Add(1)), Source: "test", Text: text}
}

// msg is any server message, decoded loosely.
type msg struct {
	Type      string          `json:"type"`
	Room      string          `json:"room"`
	Epoch     string          `json:"epoch"`
	Seq       uint64          `json:"seq"`
	Recovered *bool           `json:"recovered"`
	Members   int             `json:"members"`
	Matched   []string        `json:"matched"`
	Tweet     *stream.Tweet   `json:"tweet"`
	HTML      string          `json:"html"`
	ID        string          `json:"id"`
	FromSeq   uint64          `json:"from_seq"`
	ToSeq     uint64          `json:"to_seq"`
	Count     uint64          `json:"count"`
	Code      string          `json:"code"`
	Message   string          `json:"message"`
	PerMinute *int            `json:"per_minute"`
	Held      *uint64         `json:"held"`
	Trends    json.RawMessage `json:"trends"`
	// IngestedAt is the seq variant's ingested_at.
	IngestedAt string `json:"ingested_at"`
	// raw is the message as it came.
	raw []byte
}

func (m msg) String() string {
	switch m.Type {
	case "tweet":
		return fmt.Sprintf("tweet %s#%d", m.Room, m.Seq)
	case "error":
		return fmt.Sprintf("error %s %s", m.Code, m.Room)
	case "skipped":
		return fmt.Sprintf("skipped %s %d-%d", m.Room, m.FromSeq, m.ToSeq)
	}
	return m.Type + " " + m.Room
}

// testClient is a gorilla client. Its reader goroutine splits frames into
// messages and keeps them, however many, for the test, which reads them
// with timeouts: the reader never waits for the test.
type testClient struct {
	t    *testing.T
	conn *websocket.Conn
	resp *http.Response // the answer to the upgrade
	// arrived has a token once the reader has kept a message, or ended,
	// since the test last looked.
	arrived chan struct{}
	inboxMu sync.Mutex
	inbox   []msg // read and not yet taken
	ended   bool  // the reader stopped, for finalErr
	// finalErr is why the reader stopped.
	finalErr error
	// skipNoise drops stats and trends messages, which arrive on timers.
	skipNoise bool
	unread    []msg // messages put back by expectJoined
	// gate stops the reader while a test holds it, to make a slow client.
	gate sync.Mutex
	// frames counts the frames read.
	frames atomic.Int64
}

// dial connects a client. Each of setup runs on it before its reader
// starts: the reader alone calls the connection's handlers, and a gate
// locked here stops it before it reads anything.
func (s *testServer) dial(t *testing.T, setup ...func(*testClient)) *testClient {
	t.Helper()
	return s.dialWith(t, nil, setup...)
}

// dialWith is dial with header sent in the upgrade request.
func (s *testServer) dialWith(t *testing.T, header http.Header, setup ...func(*testClient)) *testClient {
	t.Helper()
	return s.dialBy(t, s.dialer, "", header, setup...)
}

// dialBy is dial through dialer, with query (such as "tweet=card") added
// to the URL and header sent in the upgrade request.
func (s *testServer) dialBy(t *testing.T, dialer *websocket.Dialer, query string, header http.Header, setup ...func(*testClient)) *testClient {
	t.Helper()
	url := s.wsURL
	if query != "" {
		url += "?" + query
	}
	conn, resp, err := dialer.Dial(url, header)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	c := &testClient{t: t, conn: conn, resp: resp, arrived: make(chan struct{}, 1), skipNoise: true}
	for _, f := range setup {
		f(c)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c.gate.Lock()
			c.gate.Unlock()
			_, data, err := conn.ReadMessage()
			c.frames.Add(1)
			if err != nil {
				// As a client does once the connection is over, which
				// is what a server that lingers for the client's last
				// bytes waits for.
				conn.Close()
				c.inboxMu.Lock()
				c.ended, c.finalErr = true, err
				c.inboxMu.Unlock()
				c.signal()
				return
			}
			var ms []msg
			for _, line := range bytes.Split(data, []byte("\n")) {
				var m msg
				if err := json.Unmarshal(line, &m); err != nil {
					m = msg{Type: "INVALID JSON: " + string(line)}
				}
				m.raw = line
				ms = append(ms, m)
			}
			c.inboxMu.Lock()
			c.inbox = append(c.inbox, ms...)
			c.inboxMu.Unlock()
			c.signal()
		}
	}()
	t.Cleanup(func() {
		conn.Close()
		<-done
	})
	return c
}

func (c *testClient) send(v any) {
	c.t.Helper()
	var data []byte
	switch v := v.(type) {
	case string:
		data = []byte(v)
	default:
		data, _ = json.Marshal(v)
	}
	if err := c.conn.WriteMessage(websocket.TextMessage, data); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

// next returns the next message, failing the test after a timeout.
func (c *testClient) next() msg {
	c.t.Helper()
	m, err := c.read(5 * time.Second)
	if err != nil {
		c.t.Fatalf("waiting for a message: %v", err)
	}
	return m
}

var errTimeout = errors.New("no message in time")

func (c *testClient) read(timeout time.Duration) (msg, error) {
	if len(c.unread) > 0 {
		m := c.unread[0]
		c.unread = c.unread[1:]
		return m, nil
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		m, ok, err := c.take()
		switch {
		case ok && c.skipNoise && (m.Type == "stats" || m.Type == "trends"):
			continue
		case ok:
			return m, nil
		case err != nil:
			return msg{}, err
		}
		select {
		case <-c.arrived:
		case <-timer.C:
			return msg{}, errTimeout
		}
	}
}

// take returns the oldest message kept; once none is left and the reader
// has ended, it returns why.
func (c *testClient) take() (m msg, ok bool, err error) {
	c.inboxMu.Lock()
	defer c.inboxMu.Unlock()
	if len(c.inbox) > 0 {
		m, c.inbox = c.inbox[0], c.inbox[1:]
		return m, true, nil
	}
	if c.ended {
		return msg{}, false, c.finalErr
	}
	return msg{}, false, nil
}

// signal leaves the test a token that something arrived.
func (c *testClient) signal() {
	select {
	case c.arrived <- struct{}{}:
	default:
	}
}

// closeError waits for the connection to end and returns why, dropping
// the messages before.
func (c *testClient) closeError() error {
	c.t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		c.inboxMu.Lock()
		c.inbox = nil
		ended, err := c.ended, c.finalErr
		c.inboxMu.Unlock()
		if ended {
			return err
		}
		select {
		case <-c.arrived:
		case <-timeout:
			c.t.Fatal("the connection stayed open")
		}
	}
}

// expectNothing asserts no message arrives for a short while.
func (c *testClient) expectNothing() {
	c.t.Helper()
	if m, err := c.read(150 * time.Millisecond); err == nil {
		c.t.Fatalf("got %v, want nothing", m)
	}
}

// join joins room and returns the joined message and the backlog seqs.
func (c *testClient) join(room string) (msg, []uint64) {
	c.t.Helper()
	c.send(map[string]any{"type": "join", "room": room})
	return c.expectJoined()
}

func (c *testClient) expectJoined() (msg, []uint64) {
	c.t.Helper()
	j := c.next()
	if j.Type != "joined" {
		c.t.Fatalf("got %v, want joined", j)
	}
	var seqs []uint64
	for range j.Seq {
		// The backlog follows; it can be shorter than seq, so read what
		// arrives at once.
		m, err := c.read(100 * time.Millisecond)
		if err != nil {
			break
		}
		if m.Type != "tweet" {
			c.unread = append([]msg{m}, c.unread...)
			break
		}
		seqs = append(seqs, m.Seq)
	}
	return j, seqs
}

// handled returns once the server has handled every message c sent
// before: a connection's messages are handled in order, and a pause of a
// room c is not in is refused, so the refusal comes after them all.
func (c *testClient) handled() {
	c.t.Helper()
	c.send(`{"type":"pause","room":"unjoined"}`)
	if m := c.next(); m.Type != "error" || m.Code != CodeNotJoined || m.Room != "unjoined" {
		c.t.Fatalf("got %v, want the refusal of a pause of a room not joined", m)
	}
}

// expect reads the next message and checks its type and room.
func (c *testClient) expect(typ, room string) msg {
	c.t.Helper()
	m := c.next()
	if m.Type != typ || m.Room != room {
		c.t.Fatalf("got %v (%+v), want %s %s", m, m, typ, room)
	}
	return m
}

// eventually polls cond for up to five seconds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	within(t, 5*time.Second, what, cond)
}

// within polls cond, every millisecond, until it holds; it fails the test
// once d has passed without.
func within(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	poll := time.NewTicker(time.Millisecond)
	defer poll.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting until %s", d, what)
		}
		<-poll.C
	}
}
