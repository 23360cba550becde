package rooms

import (
	"encoding/binary"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gorilla/websocket"
)

func TestParseFrameHeader(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		head       []byte
		deflate    bool
		kind, size int
	}{
		{"masked text", []byte{0x81, 0x80 | 20}, false, frameMessage, 26},
		{"masked binary", []byte{0x82, 0x80 | 125}, false, frameMessage, 131},
		{"16-bit length", []byte{0x81, 0x80 | 126, 0x01, 0x00}, false, frameMessage, 8 + 256},
		{"16-bit length, cut short", []byte{0x81, 0x80 | 126, 0x01}, false, frameOther, 0},
		{"64-bit length", []byte{0x81, 0x80 | 127, 0, 0}, false, frameOther, 0},
		{"close", []byte{0x88, 0x80 | 2}, false, frameMessage, 8},
		{"pong", []byte{0x8a, 0x80}, false, framePong, 6},
		{"pong with payload", []byte{0x8a, 0x80 | 4}, false, framePong, 10},
		{"ping", []byte{0x89, 0x80}, false, frameOther, 0},
		{"close of one byte", []byte{0x88, 0x80 | 1}, false, frameBadClose, 2 + 4 + 1},
		{"first of several frames", []byte{0x01, 0x80 | 3}, false, frameOther, 0},
		{"continuation", []byte{0x80, 0x80 | 3}, false, frameOther, 0},
		{"unmasked", []byte{0x81, 20}, false, frameOther, 0},
		{"reserved bit", []byte{0xc1, 0x80 | 20}, false, frameOther, 0},
		{"compressed text, compression negotiated", []byte{0xc1, 0x80 | 20}, true, frameMessage, 26},
		{"compressed binary, compression negotiated", []byte{0xc2, 0x80 | 20}, true, frameMessage, 26},
		{"RSV2, compression negotiated", []byte{0xa1, 0x80 | 20}, true, frameOther, 0},
		{"compressed close, compression negotiated", []byte{0xc8, 0x80 | 2}, true, frameOther, 0},
		{"compressed pong, compression negotiated", []byte{0xca, 0x80}, true, frameOther, 0},
		{"unknown opcode", []byte{0x83, 0x80 | 1}, false, frameOther, 0},
		{"one byte", []byte{0x81}, false, frameOther, 0},
		{"nothing", nil, false, frameOther, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kind, size := parseFrameHeader(tt.head, tt.deflate)
			if kind != tt.kind || size != tt.size {
				t.Errorf("parseFrameHeader(% x) = %d, %d; want %d, %d", tt.head, kind, size, tt.kind, tt.size)
			}
		})
	}
}

// clientFrame builds one masked client frame.
func clientFrame(fin bool, op byte, payload string) []byte {
	b := []byte{op, 0x80}
	if fin {
		b[0] |= 0x80
	}
	switch n := len(payload); {
	case n <= 125:
		b[1] |= byte(n)
	default:
		b[1] |= 126
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	}
	mask := [4]byte{0x12, 0x34, 0x56, 0x78}
	b = append(b, mask[:]...)
	for i := range len(payload) {
		b = append(b, payload[i]^mask[i%4])
	}
	return b
}

func joinFrame(room string) []byte {
	return clientFrame(true, websocket.TextMessage, `{"type":"join","room":"`+room+`"}`)
}

// TestClientFrames sends frames as they may come off the wire, several in
// one packet or one split over several, and checks the server reads each
// message whole, exactly once, and answers pings. Well-formed messages and
// pongs keep the reader peeking; anything else is left to the library.
func TestClientFrames(t *testing.T) {
	t.Parallel()
	if !canPeek {
		t.Log("this platform cannot peek at sockets: every read is the library's")
	}
	s := newTestServer(t, Config{})
	// handedOver checks how many more connections the library reads for
	// alone since the last call.
	var last int64
	handedOver := func(t *testing.T, want int64) {
		t.Helper()
		if !canPeek {
			return
		}
		got := s.hub.handedOver.Load()
		if got-last != want {
			t.Errorf("%d more connections left to the library, want %d", got-last, want)
		}
		last = got
	}
	raw := func(t *testing.T, c *testClient, b []byte) {
		t.Helper()
		if _, err := c.conn.NetConn().Write(b); err != nil {
			t.Fatal(err)
		}
	}
	// split writes first, waits until the server has seen it alone,
	// which leaves the connection to the library, then writes rest: the
	// two reach the server apart, as two packets would.
	split := func(t *testing.T, c *testClient, first, rest []byte) {
		t.Helper()
		raw(t, c, first)
		if canPeek {
			eventually(t, "the server sees the first part alone", func() bool { return s.hub.handedOver.Load() > last })
		}
		raw(t, c, rest)
	}
	concat := func(frames ...[]byte) []byte {
		var b []byte
		for _, f := range frames {
			b = append(b, f...)
		}
		return b
	}

	t.Run("two messages in one packet", func(t *testing.T) {
		c := s.dial(t)
		raw(t, c, concat(joinFrame("golang"), joinFrame("rust")))
		c.expect("joined", "golang")
		c.expect("joined", "rust")
		c.expectNothing()
		handedOver(t, 0)
	})
	t.Run("pongs before and between messages are taken", func(t *testing.T) {
		c := s.dial(t)
		pong := clientFrame(true, websocket.PongMessage, "")
		raw(t, c, pong)
		raw(t, c, concat(pong, joinFrame("golang"), clientFrame(true, websocket.PongMessage, "abc"), joinFrame("rust")))
		c.expect("joined", "golang")
		c.expect("joined", "rust")
		c.expectNothing()
		handedOver(t, 0)
	})
	t.Run("a ping is answered and reading goes on", func(t *testing.T) {
		pongs := make(chan string, 1)
		c := s.dial(t, func(c *testClient) {
			c.conn.SetPongHandler(func(data string) error { pongs <- data; return nil })
		})
		raw(t, c, clientFrame(true, websocket.PingMessage, "hello"))
		select {
		case got := <-pongs:
			if got != "hello" {
				t.Errorf("pong %q, want %q", got, "hello")
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no pong")
		}
		raw(t, c, joinFrame("golang"))
		c.expect("joined", "golang")
		handedOver(t, 1)
	})
	t.Run("a message in two frames", func(t *testing.T) {
		c := s.dial(t)
		split(t, c, clientFrame(false, websocket.TextMessage, `{"type":"join",`), clientFrame(true, 0, `"room":"golang"}`))
		c.expect("joined", "golang")
		raw(t, c, joinFrame("rust"))
		c.expect("joined", "rust")
		handedOver(t, 1)
	})
	t.Run("a header split across packets", func(t *testing.T) {
		c := s.dial(t)
		f := joinFrame("golang")
		split(t, c, f[:1], f[1:])
		c.expect("joined", "golang")
		raw(t, c, joinFrame("rust"))
		c.expect("joined", "rust")
		handedOver(t, 1)
	})
	t.Run("a message with a 16-bit length", func(t *testing.T) {
		c := s.dial(t)
		padded := `{"type":"join","room":"golang","pad":"` + strings.Repeat("x", 300) + `"}`
		raw(t, c, concat(clientFrame(true, websocket.TextMessage, padded), joinFrame("rust")))
		c.expect("joined", "golang")
		c.expect("joined", "rust")
		handedOver(t, 0)
	})
	t.Run("an unmasked frame is a protocol error", func(t *testing.T) {
		c := s.dial(t)
		raw(t, c, append([]byte{0x81, 2}, "{}"...))
		if err := c.closeError(); !websocket.IsCloseError(err, websocket.CloseProtocolError) {
			t.Fatalf("closed with %v, want 1002", err)
		}
	})
}

// TestWriterStartsBounded has a message for more idle members than one
// flush may start writers for: one flush starts no more than the bound,
// every member still gets the message, and the writers of quiet
// connections end right after their write, not at the next sweep. It runs
// on the bubble's clock, which the test moves past the hub's flushes and
// sweeps exactly.
func TestWriterStartsBounded(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		const flush = 20 * time.Millisecond
		// No stats tick: its messages would make the connections busy.
		// Every pipe is one address: room for them all.
		s := newPipeServer(t, Config{FlushInterval: flush, StatsInterval: time.Hour, MaxConnsPerIP: maxWriterStarts * 2})
		start := time.Now() // Run's tickers start now: the clock stands still until the test waits
		clients := make([]*testClient, maxWriterStarts+1)
		for i := range clients {
			clients[i] = s.dial(t)
		}
		for _, c := range clients {
			c.send(map[string]any{"type": "join", "room": "golang"})
		}
		for _, c := range clients {
			c.expectJoined()
		}
		noWriters := func() bool {
			s.hub.mu.RLock()
			defer s.hub.mu.RUnlock()
			for c := range s.hub.clients {
				c.mu.Lock()
				writing := c.writing
				c.mu.Unlock()
				if writing {
					return false
				}
			}
			return true
		}
		synctest.Wait()
		if !noWriters() {
			t.Fatal("writers still run after the joins were written")
		}
		// Quiet for two sweeps: no longer busy. The publish falls midway
		// between two flushes, so that one flush alone comes before the
		// count.
		time.Sleep(2*writerIdle + flush/2)
		if since := time.Since(start); since%flush != flush/2 || since > 3*writerIdle {
			t.Fatalf("the joins took %v: the flushes are not where the test expects them", since)
		}

		before := s.hub.writersStarted.Load()
		s.publish("golang")
		time.Sleep(flush)
		if n := s.hub.writersStarted.Load() - before; n != maxWriterStarts {
			t.Errorf("one flush started %d writers, want %d", n, maxWriterStarts)
		}
		for i, c := range clients {
			if m := c.next(); m.Type != "tweet" {
				t.Fatalf("client %d got %v, want the tweet", i, m)
			}
		}
		if n := s.hub.writersStarted.Load() - before; n != int64(len(clients)) {
			t.Errorf("%d writers started for %d members", n, len(clients))
		}
		// The sweep, once a second, ends a writer only after a second
		// without writing; these end at once.
		synctest.Wait()
		if time.Since(start) >= 3*writerIdle {
			t.Fatalf("the tweet took until %v, past the next sweep", time.Since(start))
		}
		if !noWriters() {
			t.Fatal("the writers of quiet connections outlived their write")
		}
	})
}

// TestLiveness: a client that answers pings stays, whether the reader
// peeks or the library reads for it; one that does not is closed once
// DefaultPongWait passes.
func TestLiveness(t *testing.T) {
	t.Parallel()
	t.Run("at the real timing, on a fake clock", func(t *testing.T) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			// No flush ticks: the clock has two minutes to cover.
			s := newPipeServer(t, Config{FlushInterval: -1})
			var pings atomic.Int64
			answering := s.dial(t, answerPings(&pings))
			silent := s.dial(t, func(c *testClient) {
				// It reads on, and answers no ping.
				c.conn.SetPingHandler(func(string) error { return nil })
			})
			// open reports whether c's connection is still up, on this
			// instant of the bubble's clock.
			open := func(c *testClient) bool {
				synctest.Wait()
				_, err := c.read(time.Nanosecond)
				return err == nil || errors.Is(err, errTimeout)
			}

			// Each sleep moves the bubble's clock, at once.
			time.Sleep(DefaultPongWait - time.Millisecond)
			if !open(silent) {
				t.Fatal("the client that answers no ping was closed before DefaultPongWait passed")
			}
			time.Sleep(2 * time.Millisecond)
			if open(silent) {
				t.Fatal("the client that answers no ping is still connected once DefaultPongWait passed")
			}
			time.Sleep(DefaultPongWait)
			answering.send(map[string]any{"type": "join", "room": "golang"})
			if m := answering.next(); m.Type != "joined" {
				t.Errorf("got %v, want joined: a client that answers pings stays", m)
			}
			if n := pings.Load(); n != 2 {
				t.Errorf("%d pings in two pongWaits, want 2", n)
			}
		})
	})

	// A reader that peeks at the socket waits on the real clock, so this
	// one waits a short PongWait of its own.
	t.Run("on sockets, with the reader peeking or not", func(t *testing.T) {
		t.Parallel()
		const wait = 2 * time.Second
		// Writes go out at once: a pong has a tenth of wait to come back.
		s := newTestServer(t, Config{PongWait: wait, FlushInterval: -1})
		var peekingPings, handedOverPings atomic.Int64
		peeking := s.dial(t, answerPings(&peekingPings))
		handedOver := s.dial(t, answerPings(&handedOverPings))
		if _, err := handedOver.conn.NetConn().Write(clientFrame(true, websocket.PingMessage, "")); err != nil {
			t.Fatal(err)
		}
		if canPeek {
			eventually(t, "the library reads for one connection", func() bool { return s.hub.handedOver.Load() == 1 })
		}
		// It reads nothing, so answers no ping: its reader stops before
		// its first read, as the library answers pings within a read.
		silent := s.dial(t, func(c *testClient) { c.gate.Lock() })
		defer silent.gate.Unlock()

		// Once the server has given up the silent client, the last to
		// connect, the others have outlived their first read deadline,
		// which only their pongs moved.
		within(t, 5*wait, "a ping is answered and the silent client is given up", func() bool {
			s.hub.mu.RLock()
			defer s.hub.mu.RUnlock()
			return peekingPings.Load() > 0 && handedOverPings.Load() > 0 && len(s.hub.clients) == 2
		})
		for name, c := range map[string]*testClient{"peeking": peeking, "handed over": handedOver} {
			c.send(map[string]any{"type": "join", "room": "golang"})
			if m := c.next(); m.Type != "joined" {
				t.Errorf("%s: got %v, want joined: a client that answers pings stays", name, m)
			}
		}
		silent.gate.Unlock()
		if err := silent.closeError(); err == nil {
			t.Error("the client that answered no ping is still connected")
		}
		silent.gate.Lock()
	})
}

// answerPings has a client answer each ping with a pong, as the websocket
// library does unless told otherwise, and count the pings it answered.
func answerPings(answered *atomic.Int64) func(*testClient) {
	return func(c *testClient) {
		c.conn.SetPingHandler(func(data string) error {
			err := c.conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(10*time.Second))
			if errors.Is(err, websocket.ErrCloseSent) {
				return nil
			}
			if err == nil {
				answered.Add(1)
			}
			return err
		})
	}
}
