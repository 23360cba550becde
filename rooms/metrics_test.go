package rooms

import (
	"bufio"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tweetstreamer/tweetstreamer/stream"
)

func TestEveryDisconnectAndErrorCodeHasItsOwnName(t *testing.T) {
	seen := map[string]bool{}
	for _, d := range Disconnects {
		if d.Name == "" || seen[d.Name] {
			t.Errorf("disconnect %+v: its name is empty or taken", d)
		}
		seen[d.Name] = true
	}
	seen = map[string]bool{}
	for _, code := range ErrorCodes {
		if code == "" || seen[code] {
			t.Errorf("error code %q is empty or listed twice", code)
		}
		seen[code] = true
	}
}

func TestIngestedAtIsReadFromTheTweetOrItsFrame(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)
	tw := stream.Tweet{ID: "1", Source: "test", Text: `a "quoted" ingested_at`, IngestedAt: at, CreatedAt: at.Add(-time.Second)}
	frame := fullFrame(&tw, []string{"golang"}, `<p>"ingested_at":"2000-01-01T00:00:00Z"</p>`, []byte(`"golang"`), 7)
	for _, tt := range []struct {
		name string
		pub  Pub
		want int64
	}{
		{"with the tweet", Pub{Frame: frame, Tweet: &tw}, at.UnixNano()},
		{"from the frame alone, as a follower has it", Pub{Frame: frame}, at.UnixNano()},
		{"from a frame that carries none", Pub{Frame: []byte(`{"type":"tweet"}`)}, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.pub.ingestedAt(); got != tt.want {
				t.Errorf("ingestedAt = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestLatencyIsCountedInTheBucketOfItsBound(t *testing.T) {
	var h latencyHistogram
	h.observe(time.Millisecond)     // at the first bound: in the first bucket
	h.observe(3 * time.Millisecond) // in the third
	h.observe(time.Minute)          // above every bound
	s := h.snapshot()
	if s.Counts[0] != 1 || s.Counts[2] != 1 || s.Counts[len(s.Counts)-1] != 1 || s.Sum != time.Minute+4*time.Millisecond {
		t.Errorf("snapshot %+v", s)
	}
}

// closingHijacker starts the hub's shutdown as the upgrade hijacks the
// connection: after the connection was admitted, before it is registered.
type closingHijacker struct {
	http.ResponseWriter
	hub *Hub
}

func (w closingHijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.hub.mu.Lock()
	w.hub.closing = true
	w.hub.mu.Unlock()
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// TestConnectionsCompressedCountsOnlyConnectionsOpened: a connection
// upgraded while the hub starts closing is closed at once with 1001 and
// is not counted opened; nor is it counted among the opened connections
// that compress, which are a part of them.
func TestConnectionsCompressedCountsOnlyConnectionsOpened(t *testing.T) {
	t.Parallel()
	s := serveHub(t, Config{}, nil, func(h http.Handler) (string, func()) {
		hub := h.(*Hub)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hub.ServeHTTP(closingHijacker{ResponseWriter: w, hub: hub}, r)
		}))
		return srv.URL, srv.Close
	})
	c := s.dialBy(t, &websocket.Dialer{EnableCompression: true}, "", nil)
	if err := c.closeError(); !websocket.IsCloseError(err, websocket.CloseGoingAway) {
		t.Fatalf("closed with %v, want 1001", err)
	}
	m := s.hub.Metrics()
	if m.ConnectionsOpened != 0 || m.ConnectionsCompressed != 0 {
		t.Errorf("%d connections opened, %d of them compressing; want none of either", m.ConnectionsOpened, m.ConnectionsCompressed)
	}
}
