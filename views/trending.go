package views

import (
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/tweetstreamer/tweetstreamer/stream"
)

// trendingLabel is how the "trending now" list shows a tag: as a hashtag,
// unless it holds a space (a trends API may list a phrase).
func trendingLabel(tag string) string {
	if strings.ContainsFunc(tag, unicode.IsSpace) {
		return tag
	}
	return "#" + tag
}

// trendingTags returns the tags worth listing: those with a name.
func trendingTags(tags []stream.TagCount) []stream.TagCount {
	out := make([]stream.TagCount, 0, len(tags))
	for _, t := range tags {
		if strings.TrimSpace(t.Tag) != "" {
			out = append(out, t)
		}
	}
	return out
}

// windowText says how far back the list counts, as "last 10 min"; "" for a
// window of zero.
func windowText(window time.Duration) string {
	s := int64(window / time.Second)
	switch {
	case s <= 0:
		return ""
	case s%3600 == 0:
		return fmt.Sprintf("last %d h", s/3600)
	case s%60 == 0:
		return fmt.Sprintf("last %d min", s/60)
	default:
		return fmt.Sprintf("last %d s", s)
	}
}
