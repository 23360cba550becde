package stream

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// BenchmarkMatch measures one Match per tweet of a fixed corpus of about 200
// characters each: mostly words that match nothing, with mentions, links,
// punctuation, emoji and accented words, and a trend word in one tweet out
// of ten. It reports tweets/s so that the figure can be read against the
// rate a live stream delivers, and hits/tweet to show the corpus is realistic.
func BenchmarkMatch(b *testing.B) {
	for _, n := range []int{10, 1000, 10000} {
		b.Run(fmt.Sprintf("trends=%d", n), func(b *testing.B) {
			trends := benchTrends(n)
			m := NewMatcher(trends)
			tweets := benchTweets(trends, 1024)
			hits := 0
			for _, text := range tweets {
				hits += len(m.Match(text))
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				m.Match(tweets[i%len(tweets)])
				i++
			}
			b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "tweets/s")
			b.ReportMetric(float64(hits)/float64(len(tweets)), "hits/tweet")
		})
	}
}

// BenchmarkNewMatcher measures building a matcher, which Trends does on
// every Add and Remove.
func BenchmarkNewMatcher(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("trends=%d", n), func(b *testing.B) {
			trends := benchTrends(n)
			b.ReportAllocs()
			for b.Loop() {
				NewMatcher(trends)
			}
		})
	}
}

// benchFiller is everyday tweet vocabulary that no benchmark trend contains.
var benchFiller = strings.Fields(`the a to and of in is it you that for on was
with are this be at have not but what all just so they we can my your out
about like get one do if up no when time people now today new good love
think know really day see going want make more great thanks because back
still much only need got lol here right never please always everyone week
tonight morning watching reading tomorrow weekend Monday Friday World City
Team Game Music Video News Update Live Show happy amazing finally anyone
café naïve über façade Zürich São Paulo Ελλάδα Москва 東京 niño`)

// benchDecor is what tweets carry besides words.
var benchDecor = []string{
	"!", "?", "...", ",", ":", "😂", "🔥", "❤️", "👍🏽", "—", "(", ")", "&amp;",
	"https://t.co/x7Kq2ZpA9b", "@someone_else", "@news24", "RT", "#tbt", "#love",
	"2024", "10:30", "$5", "100%",
}

// benchTrends returns n distinct normalised trends built from made-up words,
// so that they never collide with benchFiller: most of one word, some
// hashtags, and one in eight of two words.
func benchTrends(n int) []string {
	r := rand.New(rand.NewPCG(1, uint64(n)))
	syllables := strings.Fields("ka zu mi ro te vash plon drik quem yor fa ne lix bro tup sen gal")
	word := func() string {
		var w strings.Builder
		for range 2 + r.IntN(3) {
			w.WriteString(syllables[r.IntN(len(syllables))])
		}
		return w.String()
	}
	seen := make(map[string]bool, n)
	trends := make([]string, 0, n)
	for len(trends) < n {
		t := word()
		switch k := r.IntN(8); {
		case k == 0:
			t += " " + word()
		case k < 3:
			t = "#" + t
		}
		if !seen[t] {
			seen[t] = true
			trends = append(trends, t)
		}
	}
	return trends
}

// benchTweets returns count tweets of about 200 characters; one in ten
// contains every word of one of trends, in mixed case.
func benchTweets(trends []string, count int) []string {
	r := rand.New(rand.NewPCG(2, uint64(len(trends))))
	tweets := make([]string, count)
	for i := range tweets {
		var t strings.Builder
		hit := -1
		if r.IntN(10) == 0 {
			hit = r.IntN(len(trends))
		}
		for t.Len() < 190 {
			if t.Len() > 0 {
				t.WriteByte(' ')
			}
			switch k := r.IntN(20); {
			case hit >= 0 && k == 0:
				t.WriteString(strings.ToUpper(trends[hit][:1]) + trends[hit][1:])
				hit = -1
			case k < 4:
				t.WriteString(benchDecor[r.IntN(len(benchDecor))])
			default:
				t.WriteString(benchFiller[r.IntN(len(benchFiller))])
			}
		}
		tweets[i] = t.String()
	}
	return tweets
}
