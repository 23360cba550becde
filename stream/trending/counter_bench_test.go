package trending

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// BenchmarkObserve measures one Observe: of a tag the counter holds
// already, of tags drawn from a huge vocabulary (most of them evict a
// counter), of a tag that needs Unicode folding, and from many goroutines
// at once.
func BenchmarkObserve(b *testing.B) {
	zipfTags := func(n int) []string {
		rng := rand.New(rand.NewPCG(1, 2))
		zipf := rand.NewZipf(rng, 1.1, 2, 1_000_000)
		tags := make([]string, n)
		for i := range tags {
			tags[i] = fmt.Sprintf("Tag%d", zipf.Uint64())
		}
		return tags
	}
	cases := []struct {
		name string
		tags []string
	}{
		{"held", []string{"#GoLang"}},
		{"zipf", zipfTags(1 << 16)},
		{"unicode", []string{"#Café"}},
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			c := New(Config{})
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				c.Observe(bc.tags[i%len(bc.tags)], t0)
				i++
			}
		})
	}
	b.Run("parallel", func(b *testing.B) {
		c := New(Config{})
		tags := zipfTags(1 << 16)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				c.Observe(tags[i%len(tags)], t0)
				i++
			}
		})
	})
}

// BenchmarkTop measures Top over full buckets, as the server calls it to
// refresh the list.
func BenchmarkTop(b *testing.B) {
	c := New(Config{})
	for i := range 100_000 {
		c.Observe(fmt.Sprintf("tag%d", i%5000), t0.Add(time.Duration(i)*time.Millisecond))
	}
	now := t0.Add(100 * time.Second)
	b.ReportAllocs()
	for b.Loop() {
		c.Top(20, now)
	}
}
