package stream

import (
	"fmt"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestMatcherMatch(t *testing.T) {
	tests := []struct {
		name   string
		trends []string
		text   string
		want   []string
	}{
		// Case.
		{"matches the same case", []string{"golang"}, "I love golang", []string{"golang"}},
		{"ignores ASCII case", []string{"golang"}, "I love GoLang", []string{"golang"}},
		{"folds accented capitals", []string{"café"}, "CAFÉ open", []string{"café"}},
		{"folds Greek capitals", []string{"σοφια"}, "ΣΟΦΙΑ", []string{"σοφια"}},
		{"folds final sigma", []string{"σοφιασ"}, "της σοφίας", nil}, // accents differ
		{"folds final sigma to sigma", []string{"λογοσ"}, "ΛΟΓΟΣ λογος", []string{"λογοσ"}},
		{"folds the Kelvin sign", []string{"kelvin"}, "\u212Aelvin", []string{"kelvin"}},

		// Whole words.
		{"refuses a longer word", []string{"golang"}, "golangers unite", nil},
		{"refuses a word ending in the trend", []string{"golang"}, "gogolang", nil},
		{"refuses a trend that is a prefix of a word", []string{"go"}, "going gopher", nil},
		{"refuses a word joined by an underscore", []string{"go"}, "go_lang", nil},
		{"refuses a word joined by a digit", []string{"go"}, "go2", nil},
		{"refuses a word joined by a combining mark", []string{"cafe"}, "cafe\u0301", nil},
		{"keeps a combining mark in the word", []string{"cafe\u0301"}, "Cafe\u0301!", []string{"cafe\u0301"}},
		{"matches a word after a variation selector", []string{"go"}, "\u2764\uFE0Fgo", []string{"go"}},
		{"matches a word before a variation selector", []string{"go"}, "go\uFE0F", []string{"go"}},
		{"matches a mark that folds to a letter", []string{"ι"}, "\u0345 \u0399", []string{"ι"}},

		// Hashtags and mentions.
		{"a word trend matches a hashtag", []string{"go"}, "learning #go today", []string{"go"}},
		{"a hashtag trend matches a word", []string{"#go"}, "learning go today", []string{"#go"}},
		{"a hashtag trend matches a hashtag", []string{"#go"}, "#Go!", []string{"#go"}},
		{"a word trend matches a mention", []string{"golang"}, "thanks @golang", []string{"golang"}},
		{"a mention trend matches a word", []string{"@golang"}, "golang rocks", []string{"@golang"}},
		{"a hashtag and a word trend both match", []string{"#go", "go"}, "go", []string{"#go", "go"}},

		// Several words.
		{"all the words in order", []string{"climate change"}, "climate change now", []string{"climate change"}},
		{"all the words in any order", []string{"climate change"}, "change the climate", []string{"climate change"}},
		{"all the words anywhere", []string{"climate change"}, "#Climate is the #CHANGE we need", []string{"climate change"}},
		{"not when a word is missing", []string{"climate change"}, "climate climate climate", nil},
		{"not when a word is only a prefix", []string{"climate change"}, "climate changes", nil},
		{"a repeated word counts once", []string{"climate change"}, "change change", nil},
		{"a trend repeating a word needs it once", []string{"go go"}, "go", []string{"go go"}},
		{"three words", []string{"a b c"}, "c, b and a", []string{"a b c"}},
		{"words shared with another trend", []string{"climate change", "change", "climate"}, "change", []string{"change"}},
		{"words shared with other trends all match", []string{"climate change", "change", "climate"}, "climate change", []string{"climate change", "change", "climate"}},
		{"overlapping several-word trends", []string{"a b", "b c", "a c"}, "a b", []string{"a b"}},
		{"a trend made of punctuated words", []string{"covid-19"}, "19 cases of COVID", []string{"covid-19"}},

		// Several trends.
		{"results follow the trends' order", []string{"zig", "go", "rust"}, "rust go zig", []string{"zig", "go", "rust"}},
		{"only the matching trends", []string{"zig", "go", "rust"}, "go and rust", []string{"go", "rust"}},
		{"duplicate trends count once", []string{"go", "go"}, "go", []string{"go"}},

		// Separators.
		{"punctuation separates words", []string{"go"}, "(go)", []string{"go"}},
		{"emoji separate words", []string{"go", "rust"}, "go🔥rust", []string{"go", "rust"}},
		{"apostrophes separate words", []string{"don"}, "don't", []string{"don"}},
		{"URLs are words too", []string{"golang"}, "https://golang.org/doc", []string{"golang"}},
		{"invalid UTF-8 separates words", []string{"go"}, "\xffgo\xfe", []string{"go"}},

		// Nothing to match.
		{"no trends", nil, "go", nil},
		{"the empty text", []string{"go"}, "", nil},
		{"a text of separators only", []string{"go"}, "  #@!?🔥 ... \n", nil},
		{"a text shorter than any trend word", []string{"golang"}, "go", nil},
		{"a text that folding lengthens", []string{"ⱥ"}, "Ⱥ", []string{"ⱥ"}},
		{"a trend without a word is ignored", []string{"!!!", "go"}, "!!! go", []string{"go"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewMatcher(tt.trends)
			if got := m.Match(tt.text); !slices.Equal(got, tt.want) {
				t.Errorf("NewMatcher(%q).Match(%q) = %q, want %q", tt.trends, tt.text, got, tt.want)
			}
		})
	}
}

func TestMatcherTrends(t *testing.T) {
	m := NewMatcher([]string{"zig", "go", "!!!", "zig", "climate change"})
	want := []string{"zig", "go", "climate change"}
	if got := m.Trends(); !slices.Equal(got, want) {
		t.Errorf("Trends() = %q, want %q: order kept, duplicates and names without a word dropped", got, want)
	}
}

// TestMatcherSuccessiveTexts checks that nothing of one text leaks into the
// next, including from a matcher that shares the pooled working memory.
func TestMatcherSuccessiveTexts(t *testing.T) {
	big := NewMatcher([]string{"climate change", "go", "a b c"})
	small := NewMatcher([]string{"change"})
	steps := []struct {
		m    *Matcher
		text string
		want []string
	}{
		{big, "climate", nil},
		{big, "change", nil},
		{small, "climate", nil},
		{big, "a b", nil},
		{big, "c", nil},
		{big, "climate change go", []string{"climate change", "go"}},
		{small, "change", []string{"change"}},
		{big, "go", []string{"go"}},
		{big, "change", nil},
	}
	for i, s := range steps {
		if got := s.m.Match(s.text); !slices.Equal(got, s.want) {
			t.Errorf("step %d: Match(%q) = %q, want %q", i, s.text, got, s.want)
		}
	}
}

func TestMatcherManyTrends(t *testing.T) {
	const n = 10000
	trends := make([]string, n)
	for i := range trends {
		switch i % 3 {
		case 0:
			trends[i] = fmt.Sprintf("word%d", i)
		case 1:
			trends[i] = fmt.Sprintf("#tag%d", i)
		default:
			trends[i] = fmt.Sprintf("first%d second%d", i, i)
		}
	}
	m := NewMatcher(trends)
	if got := len(m.Trends()); got != n {
		t.Fatalf("len(Trends()) = %d, want %d", got, n)
	}
	tests := []struct {
		name, text string
		want       []string
	}{
		{"the first trend", "WORD0", []string{"word0"}},
		{"the last trend", "second9998 and first9998", []string{"first9998 second9998"}},
		{"a hashtag as a word", "tag4 #tag7", []string{"#tag4", "#tag7"}},
		{"half a trend", "first5", nil},
		{"a word of no trend", "word1", nil},
		{"many at once, in trend order", "#word9999 tag1 word3", []string{"#tag1", "word3", "word9999"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := m.Match(tt.text); !slices.Equal(got, tt.want) {
				t.Errorf("Match(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
	t.Run("every trend in one text", func(t *testing.T) {
		if got := m.Match(strings.Join(trends, " ")); !slices.Equal(got, trends) {
			t.Errorf("Match(all trends) matched %d trends, want %d", len(got), n)
		}
	})
}

func TestMatcherAllocations(t *testing.T) {
	if raceEnabled() {
		t.Skip("the race detector makes sync.Pool drop items at random")
	}
	m := NewMatcher(benchTrends(1000))
	miss := "Nothing here matches: just the usual café chatter, #tbt and @someone 🔥 https://t.co/x"
	hit := "Everything " + strings.ToUpper(m.Trends()[0]) + " today"
	m.Match(miss) // fill the pool
	if got := testing.AllocsPerRun(100, func() { m.Match(miss) }); got != 0 {
		t.Errorf("Match of a text matching nothing: %v allocations, want 0", got)
	}
	if got := testing.AllocsPerRun(100, func() { m.Match(hit) }); got > 1 {
		t.Errorf("Match of a matching text: %v allocations, want at most 1 (the result)", got)
	}
}

// raceEnabled reports whether the test binary was built with -race.
func raceEnabled() bool {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range info.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

func TestMatcherConcurrentUse(t *testing.T) {
	m := NewMatcher([]string{"go", "climate change", "#rust"})
	texts := map[string][]string{
		"go and rust":              {"go", "#rust"},
		"change of climate":        {"climate change"},
		"nothing":                  nil,
		"Go, climate, CHANGE, go!": {"go", "climate change"},
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 500 {
				for text, want := range texts {
					if got := m.Match(text); !slices.Equal(got, want) {
						t.Errorf("Match(%q) = %q, want %q", text, got, want)
						return
					}
				}
			}
		})
	}
	wg.Wait()
}

func FuzzMatch(f *testing.F) {
	seeds := []struct{ text, trend string }{
		{"I love #GoLang", "golang"},
		{"climate change", "climate change"},
		{"ΣΟΦΙΑ σοφίας", "σοφια"},
		{"Cafe\u0301 \u2764\uFE0F", "café"},
		{"\xff\xfe go", "#go"},
		{"", "!!!"},
		{"a\u0301\u0301 b", "A\u0301\u0301"},
		{"\u212A \u017F \u1E9E", "k s ß"},
		{"0", "\u0345"},
		{"0", "\u023A"},
	}
	for _, s := range seeds {
		f.Add(s.text, s.trend)
	}
	f.Fuzz(func(t *testing.T, text, trend string) {
		m := NewMatcher([]string{trend, "go", "climate change"})
		got := m.Match(text) // must not panic
		for _, g := range got {
			if !slices.Contains(m.Trends(), g) {
				t.Fatalf("Match(%q) = %q, which holds a trend not given", text, got)
			}
		}
		if !slices.IsSortedFunc(got, func(a, b string) int {
			return slices.Index(m.Trends(), a) - slices.Index(m.Trends(), b)
		}) || len(slices.Compact(slices.Clone(got))) != len(got) {
			t.Fatalf("Match(%q) = %q, not in trend order or repeated", text, got)
		}

		normal, err := NormalizeTrend(trend)
		if err != nil {
			return
		}
		m = NewMatcher([]string{normal})
		for _, text := range []string{trend, normal, strings.ToUpper(trend), "#" + trend + "!"} {
			if got := m.Match(text); !slices.Equal(got, []string{normal}) {
				t.Fatalf("NewMatcher([%q]).Match(%q) = %q, want the trend itself", normal, text, got)
			}
		}
	})
}
