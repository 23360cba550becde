package jetstream

import (
	"strconv"
	"testing"

	"github.com/tweetstreamer/tweetstreamer/stream"
	"github.com/tweetstreamer/tweetstreamer/stream/jetstream/jetstreamtest"
)

// discard is a Sink that drops everything.
type discard struct{}

func (discard) Tweet(stream.Tweet)     {}
func (discard) Retract(string, string) {}

// BenchmarkHandlePost measures decoding a typical post into a tweet, the
// work done for each of Jetstream's tens of posts a second.
func BenchmarkHandlePost(b *testing.B) {
	s := newTestSource(b)
	// More distinct posts than the recent-ID set holds, so none is a repeat.
	events := make([][]byte, 2*recentCapacity(s.rewind))
	for i := range events {
		events[i] = jetstreamtest.Post{
			TimeUS:   t0 + int64(i),
			DID:      alice,
			RKey:     "3kabc" + strconv.Itoa(i),
			Text:     "Reading https://go.dev/blog/synctest about #golang and testing concurrent code",
			Langs:    []string{"en"},
			HashTags: []string{"golang"},
			Links:    []string{"https://go.dev/blog/synctest"},
			Images:   []string{"bafkreibme22gw2h7y2h7tg2fhqotaqjucnbc24deqo72b6mkl2egezxhvy"},
		}.Event()
	}
	b.SetBytes(int64(len(events[0])))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		s.handle(events[i%len(events)], discard{})
		i++
	}
	if n := s.posts.Load(); n != int64(i) {
		b.Fatalf("%d posts of %d", n, i)
	}
}
