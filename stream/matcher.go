package stream

import (
	"slices"
	"sync"
)

// Matcher finds the trends a text matches, with the semantics of Twitter's
// track filter: case-insensitive with Unicode case folding, whole words only,
// "#go" and "go" alike matching both "#go" and "go" in the text, and a trend
// of several words matching when all of them occur, in any order.
//
// It tokenises a text once and looks each word up, so a match costs about
// the same with ten trends as with ten thousand. A Matcher is immutable and
// safe for concurrent use.
type Matcher struct {
	trends []string
	// words maps each word of any trend to the trends that contain it.
	words map[string]wordEntry
	// need is, per trend, how many distinct words it has.
	need []int
}

type wordEntry struct {
	id     int   // dense id of the word, for de-duplicating hits
	trends []int // indexes into Matcher.trends
}

// NewMatcher builds a matcher for trends, which must already be normalised
// (see NormalizeTrend); duplicates are ignored.
func NewMatcher(trends []string) *Matcher {
	m := &Matcher{words: make(map[string]wordEntry)}
	for _, t := range trends {
		if slices.Contains(m.trends, t) {
			continue
		}
		words := trendWords(t)
		if len(words) == 0 {
			continue
		}
		id := len(m.trends)
		m.trends = append(m.trends, t)
		m.need = append(m.need, len(words))
		for _, w := range words {
			e, ok := m.words[w]
			if !ok {
				e.id = len(m.words)
			}
			e.trends = append(e.trends, id)
			m.words[w] = e
		}
	}
	return m
}

// Trends returns the trends this matcher matches, in the order given to
// NewMatcher. The caller must not modify the slice.
func (m *Matcher) Trends() []string { return m.trends }

// matchScratch is the per-call working memory of Match, pooled so that a
// match allocates nothing but its result.
type matchScratch struct {
	buf    []byte
	hits   []int // word ids seen in this text
	counts []int // per trend: distinct words seen (only trends with need > 1)
	seen   []int // trends touched, to reset counts
	out    []int // matched trend indexes
}

var scratchPool = sync.Pool{New: func() any { return new(matchScratch) }}

// Match returns the trends text matches, in the matcher's order, or nil.
func (m *Matcher) Match(text string) []string {
	if len(m.trends) == 0 {
		return nil
	}
	s := scratchPool.Get().(*matchScratch)
	defer scratchPool.Put(s)
	s.hits, s.seen, s.out = s.hits[:0], s.seen[:0], s.out[:0]
	if len(s.counts) < len(m.trends) {
		s.counts = make([]int, len(m.trends))
	}
	s.buf = tokenize(text, s.buf, func(w []byte) {
		e, ok := m.words[string(w)]
		if !ok || slices.Contains(s.hits, e.id) {
			return
		}
		s.hits = append(s.hits, e.id)
		for _, t := range e.trends {
			if m.need[t] == 1 {
				s.out = append(s.out, t)
				continue
			}
			if s.counts[t] == 0 {
				s.seen = append(s.seen, t)
			}
			s.counts[t]++
			if s.counts[t] == m.need[t] {
				s.out = append(s.out, t)
			}
		}
	})
	for _, t := range s.seen {
		s.counts[t] = 0
	}
	if len(s.out) == 0 {
		return nil
	}
	slices.Sort(s.out)
	matched := make([]string, len(s.out))
	for i, t := range s.out {
		matched[i] = m.trends[t]
	}
	return matched
}
