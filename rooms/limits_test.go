package rooms

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// dialAs opens a connection that claims to come from ip (through the test
// server's ClientIP, which reads X-Test-IP); it returns the refusal's
// response when the upgrade is refused.
func (s *testServer) dialAs(t *testing.T, ip string) (*websocket.Conn, *http.Response) {
	t.Helper()
	conn, resp, err := websocket.DefaultDialer.Dial(s.wsURL, http.Header{"X-Test-IP": {ip}})
	if err != nil {
		if resp == nil {
			t.Fatalf("dial: %v", err)
		}
		return nil, resp
	}
	t.Cleanup(func() { conn.Close() })
	return conn, nil
}

func testClientIP(r *http.Request) string { return r.Header.Get("X-Test-IP") }

func TestConnectionLimits(t *testing.T) {
	t.Parallel()
	t.Run("past MaxConns an upgrade gets 503 and Retry-After, and a slot freed is taken again", func(t *testing.T) {
		s := newTestServer(t, Config{MaxConns: 2, ClientIP: testClientIP})
		first, _ := s.dialAs(t, "192.0.2.1")
		s.dialAs(t, "192.0.2.2")
		_, resp := s.dialAs(t, "192.0.2.3")
		if resp == nil || resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("third connection: %+v, want 503 with Retry-After", resp)
		}
		first.Close()
		eventually(t, "a freed slot is taken", func() bool {
			conn, _, err := websocket.DefaultDialer.Dial(s.wsURL, nil)
			if err != nil {
				return false
			}
			conn.Close()
			return true
		})
	})

	t.Run("past MaxConnsPerIP an upgrade gets 429; other addresses and loopback are not held back", func(t *testing.T) {
		s := newTestServer(t, Config{MaxConnsPerIP: 2, ClientIP: testClientIP})
		s.dialAs(t, "198.51.100.7")
		s.dialAs(t, "198.51.100.7")
		_, resp := s.dialAs(t, "198.51.100.7")
		if resp == nil || resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("third connection from one address: %+v, want 429 with Retry-After", resp)
		}
		if _, resp := s.dialAs(t, "198.51.100.8"); resp != nil {
			t.Fatalf("another address was refused with %d", resp.StatusCode)
		}
		for range 3 {
			if _, resp := s.dialAs(t, "127.0.0.1"); resp != nil {
				t.Fatalf("loopback was refused with %d", resp.StatusCode)
			}
		}
	})

	t.Run("a connection may add MaxCustomTrendsPerConn trends, and join any that exist", func(t *testing.T) {
		s := newTestServer(t, Config{MaxCustomTrendsPerConn: 2})
		c := s.dial(t)
		c.join("elixir")
		c.join("zig")
		c.send(map[string]any{"type": "join", "room": "haskell"})
		m := c.expect("error", "haskell")
		if m.Code != CodeTooManyTrends || !strings.Contains(m.Message, "at most 2") {
			t.Fatalf("third custom trend: %+v, want too_many_trends saying at most 2", m)
		}
		if s.hub.Has("haskell") {
			t.Fatal("the refused trend was added")
		}
		c.join("golang") // configured
		other := s.dial(t)
		other.join("haskell")
		c.join("haskell") // exists now: joining it adds nothing
	})

	t.Run("a negative MaxCustomTrendsPerConn lets a connection add none", func(t *testing.T) {
		s := newTestServer(t, Config{MaxCustomTrendsPerConn: -1})
		c := s.dial(t)
		c.send(map[string]any{"type": "join", "room": "elixir"})
		if m := c.expect("error", "elixir"); m.Code != CodeTooManyTrends {
			t.Fatalf("got %+v, want too_many_trends", m)
		}
		c.join("golang")
	})

	t.Run("a connection in no room for RoomlessTimeout is closed with 1000; one in a room stays", func(t *testing.T) {
		s := newTestServer(t, Config{RoomlessTimeout: 200 * time.Millisecond, StatsInterval: 20 * time.Millisecond})
		member := s.dial(t)
		member.join("golang")
		idle := s.dial(t)
		left := s.dial(t)
		left.join("rust")
		left.send(map[string]any{"type": "leave", "room": "rust"})
		left.expect("left", "rust")
		for _, c := range []*testClient{idle, left} {
			var ce *websocket.CloseError
			if err := c.closeError(); !errors.As(err, &ce) || ce.Code != websocket.CloseNormalClosure || ce.Text != DisconnectRoomless.Reason {
				t.Fatalf("closed with %v, want 1000 %q", err, DisconnectRoomless.Reason)
			}
		}
		member.send(map[string]any{"type": "join", "room": "golang"})
		member.expect("joined", "golang") // still open: a repeated join is answered
	})
}
