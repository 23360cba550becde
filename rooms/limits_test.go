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

// dialClient is dial for a client that claims to come from ip.
func (s *testServer) dialClient(t *testing.T, ip string) *testClient {
	t.Helper()
	return s.dialWith(t, http.Header{"X-Test-IP": {ip}})
}

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
		if n := s.hub.Metrics().RefusedFull; n != 1 {
			t.Errorf("RefusedFull = %d, want 1", n)
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
		if n := s.hub.Metrics().RefusedPerIP; n != 1 {
			t.Errorf("RefusedPerIP = %d, want 1", n)
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

	t.Run("an IPv6 host is counted by its /64, which it picks its addresses from", func(t *testing.T) {
		s := newTestServer(t, Config{MaxConnsPerIP: 2, ClientIP: testClientIP})
		s.dialAs(t, "2001:db8::1")
		s.dialAs(t, "2001:db8::2")
		if _, resp := s.dialAs(t, "2001:db8::ffff:3"); resp == nil || resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("a third address of one /64: %+v, want 429", resp)
		}
		if _, resp := s.dialAs(t, "2001:db8:0:1::1"); resp != nil {
			t.Fatalf("another /64 was refused with %d", resp.StatusCode)
		}
	})

	t.Run("one address may have added MaxCustomTrendsPerIP standing trends, by joins or pages", func(t *testing.T) {
		s := newTestServer(t, Config{MaxCustomTrendsPerIP: 2, ClientIP: testClientIP, IdleTrendTTL: 100 * time.Millisecond, StatsInterval: 20 * time.Millisecond})
		a := s.dialClient(t, "192.0.2.1")
		a.join("elixir")
		a.join("zig")
		b := s.dialClient(t, "192.0.2.1") // another connection, the same address
		b.send(map[string]any{"type": "join", "room": "haskell"})
		if m := b.expect("error", "haskell"); m.Code != CodeTooManyTrends || !strings.Contains(m.Message, "at most 2") {
			t.Fatalf("a third trend from one address: %+v, want too_many_trends saying at most 2", m)
		}
		if _, err := s.hub.Open("ocaml", "192.0.2.1"); err == nil {
			t.Fatal("a page added a trend past the address's limit")
		} else if e, ok := Refusal(err); !ok || e.Code != CodeTooManyTrends {
			t.Fatalf("a page past the limit: %v, want too_many_trends", err)
		}
		if s.hub.Has("haskell") || s.hub.Has("ocaml") {
			t.Fatal("a refused trend was added")
		}
		s.dialClient(t, "192.0.2.9").join("haskell") // another address
		b.join("haskell")                            // it stands now: joining it adds nothing
		b.join("golang")                             // configured
		if _, err := s.hub.Open("ocaml", "127.0.0.1"); err != nil {
			t.Fatalf("loopback is not counted, yet: %v", err)
		}

		a.send(map[string]any{"type": "leave", "room": "elixir"})
		a.expect("left", "elixir")
		eventually(t, "elixir idles away", func() bool { return !s.hub.Has("elixir") })
		b.join("erlang") // the address has one standing trend of its own again
	})

	t.Run("a negative MaxCustomTrendsPerIP lets no client add a trend", func(t *testing.T) {
		s := newTestServer(t, Config{MaxCustomTrendsPerIP: NoCustomTrends})
		c := s.dial(t)
		c.send(map[string]any{"type": "join", "room": "elixir"})
		if m := c.expect("error", "elixir"); m.Code != CodeTooManyTrends || !strings.Contains(m.Message, "only its own trends") {
			t.Fatalf("got %+v, want too_many_trends saying so", m)
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

func TestABinaryMessageClosesWith1003(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{})
	c := s.dial(t)
	if err := c.conn.WriteMessage(websocket.BinaryMessage, []byte(`{"type":"join","room":"golang"}`)); err != nil {
		t.Fatal(err)
	}
	var ce *websocket.CloseError
	if err := c.closeError(); !errors.As(err, &ce) || ce.Code != websocket.CloseUnsupportedData {
		t.Fatalf("closed with %v, want 1003", err)
	}
	if n := membersOf(s, "golang"); n != 0 {
		t.Fatalf("the binary join was taken: golang has %d members", n)
	}
}
