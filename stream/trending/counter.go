// Package trending counts the hashtags of the stream for the page's
// "trending now" list: the tags most used in the last few minutes, in
// memory that stays bounded however many distinct tags the stream carries.
package trending

import (
	"cmp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tweetstreamer/tweetstreamer/stream"
)

// The defaults of Config.
const (
	DefaultWindow   = 10 * time.Minute
	DefaultBuckets  = 10
	DefaultCapacity = 256
)

// Config tunes a Counter. Memory is bounded by Buckets × Capacity counters
// of a tag each, whatever the stream.
type Config struct {
	// Window is how far back Top looks; zero or less means DefaultWindow.
	Window time.Duration
	// Buckets is how many slices of time the window is cut into; zero or
	// less means DefaultBuckets. Counts leave the window a bucket at a
	// time, so more buckets follow the window more closely.
	Buckets int
	// Capacity is how many tags each bucket counts at most; zero or less
	// means DefaultCapacity. A tag used more than 1/Capacity of a bucket's
	// observations is always counted, and every count is exact while a
	// bucket sees no more than Capacity distinct tags.
	Capacity int
}

// Counter counts hashtags over a sliding window of time, each bucket of it
// with a space-saving summary of at most Config.Capacity tags. Safe for
// concurrent use.
//
// A tag is counted, and reported in TagCount.Tag, in the form of a room
// name: normalised by stream.NormalizeTrend, without its "#". A room of
// that name follows the hashtag, since a trend matches a word with or
// without a "#" before it; with the "#" kept, "#golang" would be a second
// room for the same tweets beside "golang".
type Counter struct {
	width    int64 // of a bucket, in nanoseconds; at least 1
	capacity int

	mu   sync.Mutex
	ring []summary // bucket b is counted in ring[b mod len(ring)]
}

// New returns a Counter for cfg.
func New(cfg Config) *Counter {
	if cfg.Window <= 0 {
		cfg.Window = DefaultWindow
	}
	if cfg.Buckets <= 0 {
		cfg.Buckets = DefaultBuckets
	}
	if cfg.Capacity <= 0 {
		cfg.Capacity = DefaultCapacity
	}
	return &Counter{
		width:    max(int64(cfg.Window)/int64(cfg.Buckets), 1),
		capacity: cfg.Capacity,
		ring:     make([]summary, cfg.Buckets),
	}
}

// Observe counts one use of tag at now. The tag is normalised as a room
// name (see Counter), with or without its "#"; a tag that is not a valid
// trend, or holds a space, is ignored. Observe does not keep tag: it may be part
// of a larger string. An observation older than the window is ignored.
func (c *Counter) Observe(tag string, now time.Time) {
	tag = trimHash(tag)
	var buf [stream.MaxTrendLen]byte
	if key, ok := foldASCIIWord(tag, &buf); ok {
		c.mu.Lock()
		defer c.mu.Unlock()
		if s := c.summary(c.bucket(now)); s != nil {
			s.addBytes(key, c.capacity)
		}
		return
	}
	key, ok := normalizeTag(tag)
	if !ok {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.summary(c.bucket(now)); s != nil {
		s.add(key, c.capacity)
	}
}

// maxTagsPerTweet bounds what one tweet counts for: a post stuffed with
// hashtags counts for its first few, and costs no more than they do.
const maxTagsPerTweet = 32

// ObserveTweet counts the hashtags of t at t.IngestedAt, each once however
// often t uses it, up to maxTagsPerTweet of them: those the source listed
// in t.Tags or, when it did not say (nil Tags), those stream.Hashtags finds
// in t.Text. It fits stream.Ingester.Observe, and does not keep t.
func (c *Counter) ObserveTweet(t *stream.Tweet) {
	tags := t.Tags
	if tags == nil {
		tags = stream.Hashtags(t.Text)
	}
	if len(tags) == 0 {
		return
	}
	keys := make([]string, 0, min(len(tags), maxTagsPerTweet))
	for _, tag := range tags {
		key, ok := normalizeTag(trimHash(tag))
		if ok && !slices.Contains(keys, key) {
			keys = append(keys, key)
			if len(keys) == maxTagsPerTweet {
				break
			}
		}
	}
	if len(keys) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.summary(c.bucket(t.IngestedAt))
	if s == nil {
		return
	}
	for _, key := range keys {
		s.add(key, c.capacity)
	}
}

// Top returns the n tags counted most in the window that ends at now,
// highest count first and, among equal counts, by tag. A count is the sum
// over the window's buckets of each bucket's space-saving estimate, where a
// bucket that no longer holds the tag adds the most it can have counted:
// so a count is never below the true one, and is exact while every bucket
// saw no more than Config.Capacity distinct tags.
func (c *Counter) Top(n int, now time.Time) []stream.TagCount {
	if n <= 0 {
		return nil
	}
	// partial pairs each held tag with its count above its bucket's floor;
	// floors is the sum of the floors, which every tag is owed.
	var partial []stream.TagCount
	floors := 0
	c.mu.Lock()
	current := c.bucket(now)
	for i := range c.ring {
		s := &c.ring[i]
		if !s.used || s.bucket > current || s.bucket <= current-int64(len(c.ring)) {
			continue
		}
		f := s.floor()
		floors += f
		for _, k := range s.heap {
			partial = append(partial, stream.TagCount{Tag: k.tag, Count: k.count - f})
		}
	}
	c.mu.Unlock()

	slices.SortFunc(partial, func(a, b stream.TagCount) int { return strings.Compare(a.Tag, b.Tag) })
	merged := partial[:0]
	for _, tc := range partial {
		if last := len(merged) - 1; last >= 0 && merged[last].Tag == tc.Tag {
			merged[last].Count += tc.Count
		} else {
			merged = append(merged, tc)
		}
	}
	for i := range merged {
		merged[i].Count += floors
	}
	slices.SortStableFunc(merged, func(a, b stream.TagCount) int { return cmp.Compare(b.Count, a.Count) })
	if len(merged) > n {
		merged = merged[:n]
	}
	return slices.Clip(merged)
}

// bucket returns the number of the bucket that now falls in.
func (c *Counter) bucket(now time.Time) int64 {
	ns := int64(now.Sub(time.Unix(0, 0))) // saturates rather than overflows
	b := ns / c.width
	if ns%c.width < 0 {
		b-- // round down before 1970 too
	}
	return b
}

// summary returns the summary that counts bucket, emptied first when it
// last counted an older bucket, or nil when it already counts a newer one:
// bucket is then older than the window. c.mu must be held.
func (c *Counter) summary(bucket int64) *summary {
	n := int64(len(c.ring))
	s := &c.ring[((bucket%n)+n)%n]
	switch {
	case !s.used || s.bucket < bucket:
		s.reset(bucket)
	case s.bucket > bucket:
		return nil
	}
	return s
}

// counters returns how many counters c holds, which Config bounds.
func (c *Counter) counters() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for i := range c.ring {
		n += len(c.ring[i].heap)
	}
	return n
}

// trimHash returns tag without surrounding space and leading hashes.
func trimHash(tag string) string {
	return strings.TrimLeft(strings.TrimSpace(tag), "#＃")
}

// normalizeTag returns tag, without its "#", as a room name of its own:
// a string that NormalizeTrend allocated, or a copy of tag. It reports
// false for what is not a valid trend, and for a name of several words,
// which no hashtag is.
func normalizeTag(tag string) (string, bool) {
	var buf [stream.MaxTrendLen]byte
	if key, ok := foldASCIIWord(tag, &buf); ok {
		return string(key), true
	}
	trend, err := stream.NormalizeTrend(tag)
	if err != nil || strings.ContainsRune(trend, ' ') || strings.HasPrefix(trend, "#") {
		return "", false
	}
	return trend, true
}

// foldASCIIWord lower-cases tag into buf when it is made only of ASCII
// letters, digits and "_" and fits, which is then exactly what
// stream.NormalizeTrend returns for it, and reports false for anything
// else. It saves the allocations of NormalizeTrend on most tags.
func foldASCIIWord(tag string, buf *[stream.MaxTrendLen]byte) ([]byte, bool) {
	if tag == "" || len(tag) > len(buf) {
		return nil, false
	}
	for i := 0; i < len(tag); i++ {
		c := tag[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '_':
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		default:
			return nil, false
		}
		buf[i] = c
	}
	return buf[:len(tag)], true
}
