package rooms

import (
	"io"
	"strings"
	"testing"
	"time"
)

// BenchmarkWriteBatch writes a batch of one short message, as a
// connection in a large room gets at each flush, to a socket a goroutine
// drains: what the writer costs per frame besides the system call.
func BenchmarkWriteBatch(b *testing.B) {
	s := newTestServer(b, Config{FlushInterval: -1, StatsInterval: time.Hour}, "golang")
	c := dialRaw(b, s)
	c.write(joinFrame("golang"))
	for {
		op, payload, err := c.frame()
		if err != nil {
			b.Fatalf("reading up to joined: %v", err)
		}
		if op == 1 && strings.Contains(string(payload), `"type":"joined"`) {
			break
		}
	}
	_ = c.conn.SetReadDeadline(time.Time{})
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		_, _ = io.Copy(io.Discard, c.br)
	}()
	b.Cleanup(func() {
		c.conn.Close()
		<-drained
	})
	sc := onlyClient(b, s.hub)
	r := s.hub.room("golang")
	frame := []byte(`{"type":"tweet","room":"golang","seq":12345,"ingested_at":1764806400000000000}`)
	batch := []entry{{frame: frame, room: r, seq: 12345}}
	b.ReportAllocs()
	for b.Loop() {
		if err := sc.writeBatch(batch); err != nil {
			b.Fatal(err)
		}
	}
}
