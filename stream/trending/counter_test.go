package trending

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tweetstreamer/tweetstreamer/stream"
)

// t0 starts a minute, so that with the default configuration (ten buckets
// of a minute) it starts a bucket too.
var t0 = time.Date(2026, 2, 11, 9, 30, 0, 0, time.UTC)

// observe counts each tag the given number of times at now.
func observe(c *Counter, now time.Time, counts map[string]int) {
	for tag, n := range counts {
		for range n {
			c.Observe(tag, now)
		}
	}
}

func tc(tag string, count int) stream.TagCount { return stream.TagCount{Tag: tag, Count: count} }

func wantTop(t *testing.T, got []stream.TagCount, want ...stream.TagCount) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("Top = %v, want %v", got, want)
	}
}

func TestNewAppliesDefaults(t *testing.T) {
	tests := []struct {
		name              string
		cfg               Config
		width             time.Duration
		buckets, capacity int
	}{
		{"the zero config takes every default", Config{}, time.Minute, 10, 256},
		{"negative values take the defaults", Config{Window: -1, Buckets: -1, Capacity: -1}, time.Minute, 10, 256},
		{"values of its own are kept", Config{Window: time.Hour, Buckets: 4, Capacity: 8}, 15 * time.Minute, 4, 8},
		{"a window shorter than its buckets gets buckets of 1ns", Config{Window: 3, Buckets: 10}, 1, 10, 256},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(tt.cfg)
			if time.Duration(c.width) != tt.width || len(c.ring) != tt.buckets || c.capacity != tt.capacity {
				t.Errorf("New(%+v): width %v, %d buckets, capacity %d; want %v, %d, %d",
					tt.cfg, time.Duration(c.width), len(c.ring), c.capacity, tt.width, tt.buckets, tt.capacity)
			}
		})
	}
}

func TestTopCountsExactlyWhenTheVocabularyFits(t *testing.T) {
	c := New(Config{})
	observe(c, t0, map[string]int{"golang": 5, "rust": 2, "zig": 1})
	observe(c, t0.Add(3*time.Minute), map[string]int{"golang": 1, "rust": 4, "python": 3})
	observe(c, t0.Add(9*time.Minute+59*time.Second), map[string]int{"zig": 2})
	now := t0.Add(9*time.Minute + 59*time.Second)

	t.Run("counts add up over the buckets, highest first and ties by tag", func(t *testing.T) {
		wantTop(t, c.Top(10, now), tc("golang", 6), tc("rust", 6), tc("python", 3), tc("zig", 3))
	})
	t.Run("n limits the list", func(t *testing.T) {
		wantTop(t, c.Top(2, now), tc("golang", 6), tc("rust", 6))
	})
	t.Run("n of zero or less gives nothing", func(t *testing.T) {
		wantTop(t, c.Top(0, now))
		wantTop(t, c.Top(-1, now))
	})
	t.Run("a counter that saw nothing gives nothing", func(t *testing.T) {
		wantTop(t, New(Config{}).Top(10, now))
	})
	t.Run("a time before the observations leaves them out", func(t *testing.T) {
		wantTop(t, c.Top(10, t0.Add(time.Minute)), tc("golang", 5), tc("rust", 2), tc("zig", 1))
	})
}

func TestObserveNormalisesTags(t *testing.T) {
	tests := []struct {
		name string
		tags []string
		want []stream.TagCount
	}{
		{"with or without hash, in any case, as one tag",
			[]string{"golang", "#GoLang", "GOLANG", "＃golang", " #golang\t"}, []stream.TagCount{tc("golang", 5)}},
		{"other scripts folded as trends are",
			[]string{"Café", "#CAFÉ", "café", "ΣΟΦΙΑ", "σοφιας"}, []stream.TagCount{tc("café", 3), tc("σοφια", 1), tc("σοφιασ", 1)}},
		{"digits and underscores kept", []string{"Web_3", "web_3"}, []stream.TagCount{tc("web_3", 2)}},
		{"nothing that is not a trend",
			[]string{"", " ", "#", "##", "!!!", "go\u200blang", "\xff", strings.Repeat("a", stream.MaxTrendLen+1)}, nil},
		{"nothing of several words", []string{"go lang", "#go #lang"}, nil},
		{"the longest trend", []string{strings.Repeat("A", stream.MaxTrendLen)},
			[]stream.TagCount{tc(strings.Repeat("a", stream.MaxTrendLen), 1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(Config{})
			for _, tag := range tt.tags {
				c.Observe(tag, t0)
			}
			wantTop(t, c.Top(10, t0), tt.want...)
		})
	}
}

func TestTagsAreTheRoomsThatFollowThem(t *testing.T) {
	// Joining a room named by a TagCount.Tag must follow the hashtag: the
	// name is what NormalizeTrend makes of it, and its trend matches the
	// hashtag in a text.
	texts := []string{"Loving #GoLang today", "#Café au lait", "#日本 #web_3"}
	c := New(Config{})
	for _, text := range texts {
		c.ObserveTweet(&stream.Tweet{Text: text, IngestedAt: t0})
	}
	top := c.Top(10, t0)
	if len(top) != 4 {
		t.Fatalf("Top = %v, want 4 tags", top)
	}
	for _, tag := range top {
		t.Run(tag.Tag, func(t *testing.T) {
			room, err := stream.NormalizeTrend(tag.Tag)
			if err != nil || room != tag.Tag {
				t.Fatalf("NormalizeTrend(%q) = %q, %v; want it unchanged", tag.Tag, room, err)
			}
			matched := 0
			for _, text := range texts {
				matched += len(stream.NewMatcher([]string{room}).Match(text))
			}
			if matched != 1 {
				t.Errorf("room %q matches %d texts, want 1", room, matched)
			}
		})
	}
}

func TestFoldASCIIWordIsNormalizeTrend(t *testing.T) {
	for _, tag := range []string{"a", "Z", "go", "GoLang", "web_3", "_", "2024", "ABC_def_09", strings.Repeat("X", stream.MaxTrendLen)} {
		t.Run(tag, func(t *testing.T) {
			var buf [stream.MaxTrendLen]byte
			got, ok := foldASCIIWord(tag, &buf)
			want, err := stream.NormalizeTrend(tag)
			if !ok || err != nil || string(got) != want {
				t.Errorf("foldASCIIWord(%q) = %q, %v; NormalizeTrend gives %q, %v", tag, got, ok, want, err)
			}
		})
	}
	for _, tag := range []string{"", "go lang", "café", "a-b", strings.Repeat("x", stream.MaxTrendLen+1)} {
		t.Run(tag+" is left to NormalizeTrend", func(t *testing.T) {
			var buf [stream.MaxTrendLen]byte
			if got, ok := foldASCIIWord(tag, &buf); ok {
				t.Errorf("foldASCIIWord(%q) = %q, want it refused", tag, got)
			}
		})
	}
}

func TestObserveTweet(t *testing.T) {
	tests := []struct {
		name  string
		tweet stream.Tweet
		want  []stream.TagCount
	}{
		{"finds the hashtags in the text when the source lists none",
			stream.Tweet{Text: "#go and #rust, #Go again", IngestedAt: t0},
			[]stream.TagCount{tc("go", 1), tc("rust", 1)}},
		{"takes the source's tags when it lists them",
			stream.Tweet{Text: "#go", Tags: []string{"golang", "GoLang", "#zig"}, IngestedAt: t0},
			[]stream.TagCount{tc("golang", 1), tc("zig", 1)}},
		{"counts nothing when the source says there are none",
			stream.Tweet{Text: "#go", Tags: []string{}, IngestedAt: t0}, nil},
		{"counts at the time the tweet arrived",
			stream.Tweet{Text: "#go", IngestedAt: t0.Add(-20 * time.Minute)}, nil},
		{"skips tags that are no trend",
			stream.Tweet{Tags: []string{"", "go lang", "ok"}, IngestedAt: t0}, []stream.TagCount{tc("ok", 1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(Config{})
			c.ObserveTweet(&tt.tweet)
			wantTop(t, c.Top(10, t0), tt.want...)
		})
	}
}

func TestOldBucketsExpire(t *testing.T) {
	c := New(Config{Window: 10 * time.Minute, Buckets: 10})
	c.Observe("old", t0)
	c.Observe("newer", t0.Add(5*time.Minute))

	steps := []struct {
		name string
		at   time.Duration // after t0
		want []stream.TagCount
	}{
		{"both count within the window", 9*time.Minute + 59*time.Second, []stream.TagCount{tc("newer", 1), tc("old", 1)}},
		{"the first bucket leaves the window a window later", 10 * time.Minute, []stream.TagCount{tc("newer", 1)}},
		{"the second leaves in its turn", 15 * time.Minute, nil},
		{"nothing comes back a long time later", 24 * time.Hour, nil},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			wantTop(t, c.Top(10, t0.Add(s.at)), s.want...)
		})
	}

	t.Run("a new observation takes the place of an expired bucket", func(t *testing.T) {
		now := t0.Add(10 * time.Minute) // the slot of t0's bucket
		c.Observe("fresh", now)
		wantTop(t, c.Top(10, now), tc("fresh", 1), tc("newer", 1))
	})
	t.Run("an observation older than the window is ignored", func(t *testing.T) {
		c.Observe("late", t0) // its slot now counts t0+10m
		wantTop(t, c.Top(10, t0.Add(10*time.Minute)), tc("fresh", 1), tc("newer", 1))
	})
	t.Run("an expired bucket frees its counters when reused", func(t *testing.T) {
		if got := c.counters(); got != 2 { // "fresh" and "newer"
			t.Errorf("%d counters held, want 2", got)
		}
	})
}

func TestTopNeverUndercounts(t *testing.T) {
	// Capacity 2: in the first bucket "c" takes the counter of "b", with
	// the count of "b" plus one; then "b" alone fills a second bucket.
	c := New(Config{Window: 2 * time.Minute, Buckets: 2, Capacity: 2})
	for _, tag := range []string{"a", "a", "a", "b", "c"} {
		c.Observe(tag, t0)
	}
	for range 5 {
		c.Observe("b", t0.Add(time.Minute))
	}
	// True counts: a 3, b 6, c 1. The first bucket no longer holds "b",
	// which it may have seen as often as its smallest count, 2; the second
	// never saw "a" or "c", and was never full.
	wantTop(t, c.Top(10, t0.Add(time.Minute)), tc("b", 7), tc("a", 3), tc("c", 2))
}

func TestHeavyHittersInAHugeVocabulary(t *testing.T) {
	const (
		vocabulary   = 1_000_000
		observations = 300_000
		capacity     = 64
		buckets      = 10
		top          = 10
	)
	c := New(Config{Window: 10 * time.Minute, Buckets: buckets, Capacity: capacity})
	rng := rand.New(rand.NewPCG(1, 2))
	zipf := rand.NewZipf(rng, 1.3, 2, vocabulary-1)
	truth := make(map[string]int)
	step := 10 * time.Minute / observations
	for i := range observations {
		tag := fmt.Sprintf("tag%d", zipf.Uint64())
		truth[tag]++
		c.Observe(tag, t0.Add(time.Duration(i)*step))
	}
	now := t0.Add(10*time.Minute - time.Nanosecond)

	if len(truth) < 10*buckets*capacity {
		t.Fatalf("the stream has %d distinct tags: too few to test bounded memory", len(truth))
	}
	t.Run("memory stays bounded by buckets × capacity", func(t *testing.T) {
		if got := c.counters(); got > buckets*capacity {
			t.Errorf("%d counters held, want at most %d", got, buckets*capacity)
		}
	})
	got := c.Top(top, now)
	t.Run("the heaviest tags are all found", func(t *testing.T) {
		heaviest := make([]string, 0, len(truth))
		for tag := range truth {
			heaviest = append(heaviest, tag)
		}
		slices.SortFunc(heaviest, func(a, b string) int { return truth[b] - truth[a] })
		for _, tag := range heaviest[:top] {
			if !slices.ContainsFunc(got, func(x stream.TagCount) bool { return x.Tag == tag }) {
				t.Errorf("%s, seen %d times, is missing from %v", tag, truth[tag], got)
			}
		}
	})
	t.Run("no count is below the true one", func(t *testing.T) {
		for _, x := range got {
			if x.Count < truth[x.Tag] {
				t.Errorf("%s counted %d, seen %d times", x.Tag, x.Count, truth[x.Tag])
			}
		}
	})
}

func TestConcurrentObserveAndTop(t *testing.T) {
	const (
		writers = 8
		each    = 2000
		tags    = 20
	)
	c := New(Config{})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				tag := fmt.Sprintf("tag%02d", (w+i)%tags)
				if i%2 == 0 {
					c.Observe(tag, t0)
				} else {
					c.ObserveTweet(&stream.Tweet{Tags: []string{tag}, IngestedAt: t0})
				}
			}
		})
	}
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for range 2 {
		readers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
					c.Top(5, t0)
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	readers.Wait()

	got := c.Top(tags+1, t0)
	if len(got) != tags {
		t.Fatalf("Top = %v, want %d tags", got, tags)
	}
	for _, x := range got {
		if x.Count != writers*each/tags {
			t.Errorf("%s counted %d, want %d", x.Tag, x.Count, writers*each/tags)
		}
	}
}

func TestObserveTweetCountsAtMostMaxTagsPerTweet(t *testing.T) {
	c := New(Config{})
	var text strings.Builder
	for i := range 20_000 {
		fmt.Fprintf(&text, "#t%d ", i)
	}
	now := time.Now()
	c.ObserveTweet(&stream.Tweet{Text: text.String(), IngestedAt: now})
	if got := c.Top(1000, now); len(got) != maxTagsPerTweet {
		t.Fatalf("a tweet with 20,000 hashtags counted %d, want %d", len(got), maxTagsPerTweet)
	}
}
