package rooms

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/tweetstreamer/tweetstreamer/stream"
)

// benchClient is a client with no socket: its queue is drained by the
// benchmark, which stands in for the writer.
func benchClient(h *Hub) *client {
	return &client{hub: h, q: newQueue(h.cfg.QueueBytes), wake: make(chan struct{}, 1), writing: true}
}

// benchHub is a hub with one room, golang, whose cards are 300 bytes.
func benchHub(tb testing.TB) *Hub {
	tb.Helper()
	trends, _ := stream.NewTrends([]string{"golang"}, 1)
	html := "<article>" + strings.Repeat("x", 300) + "</article>"
	h, err := NewHub(Config{
		Trends: trends,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Render: func(stream.Tweet, []string) (string, error) { return html, nil },
	})
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

// joinBenchClients makes n socketless clients reading v, compressed when
// packed, and joins them to golang.
func joinBenchClients(tb testing.TB, h *Hub, n int, v variant, packed bool) []*client {
	tb.Helper()
	clients := make([]*client, n)
	for i := range clients {
		clients[i] = benchClient(h)
		clients[i].variant, clients[i].packed = v, packed
		if _, err := h.join(clients[i], "golang", "", nil, false); err != nil {
			tb.Fatal(err)
		}
	}
	return clients
}

// BenchmarkPublish measures one publish fanned out to every member of a
// room, for members reading each variant, plain or compressed: at most one
// render, one encode and one compression, then a shared frame queued per
// member. Allocations per publish must not grow with the member count.
func BenchmarkPublish(b *testing.B) {
	forms := []struct {
		v      variant
		packed bool
	}{{variantFull, false}, {variantCard, true}, {variantSeq, false}}
	for _, f := range forms {
		for _, members := range []int{1, 100, 1000} {
			name := fmt.Sprintf("%s/members=%d", f.v, members)
			if f.packed {
				name = fmt.Sprintf("%s-compressed/members=%d", f.v, members)
			}
			b.Run(name, func(b *testing.B) {
				h := benchHub(b)
				clients := joinBenchClients(b, h, members, f.v, f.packed)
				var batch []entry
				drain := func() {
					for _, c := range clients {
						c.mu.Lock()
						batch = c.q.take(batch[:0])
						c.mu.Unlock()
						select {
						case <-c.wake:
						default:
						}
					}
				}
				drain()
				tw := stream.Tweet{ID: "1", Source: "mock", Text: strings.Repeat("golang is fun ", 15), Author: stream.Author{Handle: "gopher", Name: "Gopher"}}
				matched := []string{"golang"}
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					h.Publish(tw, matched)
					drain()
				}
				b.ReportMetric(float64(b.N*members)/b.Elapsed().Seconds(), "deliveries/s")
			})
		}
	}
}
