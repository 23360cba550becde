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
	// need is, per trend, how many distinct words it has.
	need []int32
	// words maps each word of any trend to its dense id, an index into
	// wordTrends.
	words map[string]int32
	// wordTrends lists, per word id, the trends that contain the word.
	wordTrends [][]int32
	// minLen and maxLen bound the length in bytes of any folded trend
	// word, so that many words of a text, and very long ones, are ruled out
	// before hashing them. (Not so the text: folding can lengthen it, as
	// "Ⱥ", two bytes, folds to "ⱥ", three.)
	minLen, maxLen int
}

// NewMatcher builds a matcher for trends, which must already be normalised
// (see NormalizeTrend); duplicates, and names without a word, are ignored.
func NewMatcher(trends []string) *Matcher {
	m := &Matcher{words: make(map[string]int32)}
	seen := make(map[string]bool, len(trends))
	for _, t := range trends {
		if seen[t] {
			continue
		}
		seen[t] = true
		words := trendWords(t)
		if len(words) == 0 {
			continue
		}
		id := int32(len(m.trends))
		m.trends = append(m.trends, t)
		m.need = append(m.need, int32(len(words)))
		for _, w := range words {
			wid, ok := m.words[w]
			if !ok {
				wid = int32(len(m.wordTrends))
				m.words[w] = wid
				m.wordTrends = append(m.wordTrends, nil)
				if m.minLen == 0 || len(w) < m.minLen {
					m.minLen = len(w)
				}
				m.maxLen = max(m.maxLen, len(w))
			}
			m.wordTrends[wid] = append(m.wordTrends[wid], id)
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
	tok tokenizer
	// wordSeen holds, per word id, the round of the last Match that saw
	// the word: a word counts once per text however often it occurs.
	wordSeen []uint32
	round    uint32
	counts   []int32 // per trend: distinct words seen (only trends with need > 1)
	touched  []int32 // trends whose count is not zero, to reset them
	out      []int32 // matched trend indexes
}

var scratchPool = sync.Pool{New: func() any { return new(matchScratch) }}

// maxPooledWord is the largest word buffer, in bytes, kept in the pool: a
// text with one huge word should not pin its memory for good.
const maxPooledWord = 4 << 10

// Match returns the trends text matches, in the matcher's order, or nil.
func (m *Matcher) Match(text string) []string {
	if len(m.trends) == 0 {
		return nil
	}
	s := scratchPool.Get().(*matchScratch)
	s.start(len(m.trends), len(m.wordTrends))
	s.tok.reset(text)
	for w, ok := s.tok.next(); ok; w, ok = s.tok.next() {
		if len(w) < m.minLen || len(w) > m.maxLen {
			continue
		}
		wid, ok := m.words[string(w)]
		if !ok || s.wordSeen[wid] == s.round {
			continue
		}
		s.wordSeen[wid] = s.round
		for _, t := range m.wordTrends[wid] {
			if m.need[t] == 1 {
				s.out = append(s.out, t)
				continue
			}
			if s.counts[t] == 0 {
				s.touched = append(s.touched, t)
			}
			s.counts[t]++
			if s.counts[t] == m.need[t] {
				s.out = append(s.out, t)
			}
		}
	}
	var matched []string
	if len(s.out) > 0 {
		slices.Sort(s.out)
		matched = make([]string, len(s.out))
		for i, t := range s.out {
			matched[i] = m.trends[t]
		}
	}
	s.finish()
	return matched
}

// start readies s for a matcher of this many trends and words.
func (s *matchScratch) start(trends, words int) {
	if len(s.counts) < trends {
		s.counts = make([]int32, trends)
	}
	if len(s.wordSeen) < words {
		s.wordSeen = make([]uint32, words)
	}
	s.round++
	if s.round == 0 { // wrapped: forget every earlier round
		clear(s.wordSeen)
		s.round = 1
	}
}

// finish resets what s.start does not and returns s to the pool.
func (s *matchScratch) finish() {
	for _, t := range s.touched {
		s.counts[t] = 0
	}
	s.touched, s.out = s.touched[:0], s.out[:0]
	if cap(s.tok.buf) > maxPooledWord {
		s.tok.buf = nil
	}
	s.tok.text = ""
	scratchPool.Put(s)
}
