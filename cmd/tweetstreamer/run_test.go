package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// server is the real tweetstreamer, started by run inside the test.
type server struct {
	url    string // http://127.0.0.1:port
	cancel context.CancelFunc
	done   chan error
	logs   *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var servingLine = regexp.MustCompile(`serving on (http://\S+)`)

// start runs the server with args (after the program name) and env, and
// waits until it serves.
func start(t *testing.T, env map[string]string, args ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stdoutR, stdoutW := io.Pipe()
	s := &server{cancel: cancel, done: make(chan error, 1), logs: &syncBuffer{}}
	go func() {
		err := run(ctx, append([]string{"tweetstreamer", "-addr", "127.0.0.1:0"}, args...), environOf(env), stdoutW, s.logs)
		stdoutW.CloseWithError(errors.New("run returned"))
		s.done <- err
	}()
	line, err := bufio.NewReader(stdoutR).ReadString('\n')
	if err != nil {
		t.Fatalf("server did not start: %v\nlogs:\n%s", err, s.logs)
	}
	go func() { _, _ = io.Copy(io.Discard, stdoutR) }()
	m := servingLine.FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("unexpected first line %q", line)
	}
	s.url = m[1]
	t.Cleanup(func() { s.stop(t) })
	return s
}

// environOf returns env as os.Environ would list it.
func environOf(env map[string]string) []string {
	var environ []string
	for k, v := range env {
		environ = append(environ, k+"="+v)
	}
	return environ
}

// goroutinesRunning returns the stacks of the goroutines running now for
// which match is true.
func goroutinesRunning(match func(stack string) bool) []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var found []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if match(g) {
			found = append(found, g)
		}
	}
	return found
}

// stop cancels the server's context and returns run's error, once.
func (s *server) stop(t *testing.T) error {
	t.Helper()
	s.cancel()
	select {
	case err, ok := <-s.done:
		if ok {
			close(s.done)
			return err
		}
		return nil
	case <-time.After(5 * time.Second):
		t.Fatalf("server did not stop within 5 s\nlogs:\n%s", s.logs)
		return nil
	}
}

func (s *server) get(t *testing.T, path string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(s.url + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

type wsClient struct {
	t    *testing.T
	conn *websocket.Conn
	msgs []map[string]any
}

func (s *server) dial(t *testing.T) *wsClient {
	t.Helper()
	return s.dialBy(t, websocket.DefaultDialer, "")
}

// dialBy connects through dialer, with query (such as "tweet=card") added
// to the URL.
func (s *server) dialBy(t *testing.T, dialer *websocket.Dialer, query string) *wsClient {
	t.Helper()
	url := "ws" + strings.TrimPrefix(s.url, "http") + "/ws"
	if query != "" {
		url += "?" + query
	}
	conn, _, err := dialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &wsClient{t: t, conn: conn}
}

func (c *wsClient) send(v string) {
	c.t.Helper()
	if err := c.conn.WriteMessage(websocket.TextMessage, []byte(v)); err != nil {
		c.t.Fatal(err)
	}
}

// next returns the next message that is not stats or trends.
// next returns the next message, leaving out those that come on timers or
// to everyone (stats, trends, trending, source).
func (c *wsClient) next() map[string]any {
	c.t.Helper()
	return c.nextWhere(func(m map[string]any) bool {
		switch m["type"] {
		case "stats", "trends", "trending", "source":
			return false
		}
		return true
	})
}

// nextOfType returns the next message of type typ, leaving out the others.
func (c *wsClient) nextOfType(typ string) map[string]any {
	c.t.Helper()
	return c.nextWhere(func(m map[string]any) bool { return m["type"] == typ })
}

func (c *wsClient) nextWhere(want func(map[string]any) bool) map[string]any {
	c.t.Helper()
	for {
		for len(c.msgs) > 0 {
			m := c.msgs[0]
			c.msgs = c.msgs[1:]
			if want(m) {
				return m
			}
		}
		_ = c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, data, err := c.conn.ReadMessage()
		if err != nil {
			c.t.Fatalf("reading: %v", err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				c.t.Fatalf("not JSON: %q", line)
			}
			c.msgs = append(c.msgs, m)
		}
	}
}

// TestRunLeavesNoGoroutineBehind: when run returns, the ingester and the
// profiles' server have stopped, not merely been told to.
func TestRunLeavesNoGoroutineBehind(t *testing.T) {
	s := start(t, nil, "-debug-addr", "127.0.0.1:0", "-mock-rate", "200", "-trends", "golang")
	waitMatched(t, s, 1)
	m := regexp.MustCompile(`"serving profiles" addr=(\S+)`).FindStringSubmatch(s.logs.String())
	if m == nil {
		t.Fatalf("no profiles served:\n%s", s.logs)
	}
	resp, err := http.Get(m[1])
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", m[1], resp.Status)
	}
	http.DefaultClient.CloseIdleConnections()
	if err := s.stop(t); err != nil {
		t.Fatal(err)
	}
	left := goroutinesRunning(func(g string) bool {
		return strings.Contains(g, "stream.(*Ingester).Run") || strings.Contains(g, "tweetstreamer/stream.(*Mock)") ||
			strings.Contains(g, "net/http.(*Server).Serve(") // a server's accept loop, not the connections it made
	})
	if len(left) > 0 {
		t.Fatalf("%d goroutines of the server still run after run returned:\n%s", len(left), strings.Join(left, "\n\n"))
	}
}
