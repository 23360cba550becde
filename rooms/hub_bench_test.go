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

// BenchmarkPublish measures one publish fanned out to every member of a
// room: one render and one encode, then a shared frame queued per member.
// Allocations per publish must not grow with the member count.
func BenchmarkPublish(b *testing.B) {
	for _, members := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("members=%d", members), func(b *testing.B) {
			trends, _ := stream.NewTrends([]string{"golang"}, 1)
			html := "<article>" + strings.Repeat("x", 300) + "</article>"
			h, err := NewHub(Config{
				Trends: trends,
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
				Render: func(stream.Tweet, []string) (string, error) { return html, nil },
			})
			if err != nil {
				b.Fatal(err)
			}
			clients := make([]*client, members)
			for i := range clients {
				clients[i] = benchClient(h)
				if _, err := h.join(clients[i], "golang", "", nil, false); err != nil {
					b.Fatal(err)
				}
			}
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
