package stream

import (
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzNormalise checks NormalizeTrend on any name: it does not fail, and
// what it returns is a valid trend that normalises to itself.
func FuzzNormalise(f *testing.F) {
	for _, s := range []string{
		"golang", "  Climate   Change ", "#GoLang", "ΣΟΦΙΑ", "Straße", "\u212A", "\u0345", "\u023A",
		"café", "cafe\u0301", "\u200bgo", "go\u00a0lang", "!!!", "#", "", "\xff", strings.Repeat("ab ", 30),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		once, err := NormalizeTrend(name)
		if err != nil {
			return
		}
		twice, err := NormalizeTrend(once)
		if err != nil || twice != once {
			t.Fatalf("NormalizeTrend(%q) = %q, which normalises to %q, %v", name, once, twice, err)
		}
	})
}

// whitespace lists runs of white space, each of which separates words as
// well as any other.
var whitespace = []string{" ", "  ", "\t", "\n", "\r\n", " \t\n", "\u00a0", "\u2003", "\u3000", "\u0085", "\u1680", "\u2028"}

// spaceRuns returns where the runs of white space in text are.
func spaceRuns(text string) []Span {
	var runs []Span
	for i, r := range text {
		if !unicode.IsSpace(r) {
			continue
		}
		if n := len(runs); n > 0 && runs[n-1].End == i {
			runs[n-1].End = i + utf8.RuneLen(r)
		} else {
			runs = append(runs, Span{Start: i, End: i + utf8.RuneLen(r)})
		}
	}
	return runs
}

// FuzzMatcher checks matching any text against any trend: it does not
// fail; what matches is a trend given, in order, once; replacing one run
// of white space in the text by another changes no match; and the trend
// a hashtag of the text names (by the rune-by-rune reading of the
// hashtag rules) matches the text.
func FuzzMatcher(f *testing.F) {
	seeds := []struct {
		text, trend string
		run, space  uint8
	}{
		{"I love #GoLang", "golang", 0, 0},
		{"climate  change\tis real", "Climate Change", 0, 8},
		{"climate\u3000change", "climate change", 0, 0},
		{"ΣΟΦΙΑ σοφίας", "σοφια", 0, 2},
		{"Cafe\u0301 \u2764\uFE0F", "café", 0, 3},
		{"\xff\xfe go", "#go", 0, 5},
		{"a \u0301 b", "a", 0, 1},
		{"go \u0345x", "\u0345", 0, 4},
		{"#می\u200cخواهم now", "می", 0, 0},
		{"https://go.dev/#golang #rust", "rust", 1, 6},
		{"＃東京 today", "東京", 0, 7},
	}
	for _, s := range seeds {
		f.Add(s.text, s.trend, s.run, s.space)
	}
	f.Fuzz(func(t *testing.T, text, trend string, run, space uint8) {
		trends := []string{"go", "climate change"}
		if normal, err := NormalizeTrend(trend); err == nil {
			trends = append(trends, normal)
		}
		m := NewMatcher(trends)
		got := m.Match(text)
		for i, g := range got {
			at := slices.Index(m.Trends(), g)
			if at < 0 || i > 0 && at <= slices.Index(m.Trends(), got[i-1]) {
				t.Fatalf("Match(%q) = %q: a trend not given, out of order or twice", text, got)
			}
		}

		if runs := spaceRuns(text); len(runs) > 0 {
			r := runs[int(run)%len(runs)]
			other := text[:r.Start] + whitespace[int(space)%len(whitespace)] + text[r.End:]
			if again := m.Match(other); !slices.Equal(again, got) {
				t.Fatalf("Match(%q) = %q, but Match(%q), the same with other white space, = %q", text, got, other, again)
			}
		}

		for _, sp := range spansRuneByRune(text) {
			_, hash := utf8.DecodeRuneInString(text[sp.Start:])
			tag, err := NormalizeTrend(text[sp.Start+hash : sp.End])
			if err != nil {
				continue // too long, or with a joiner, which no trend holds
			}
			if got := NewMatcher([]string{tag}).Match(text); !slices.Equal(got, []string{tag}) {
				t.Fatalf("the hashtag %q of %q names the trend %q, which matches %q", text[sp.Start:sp.End], text, tag, got)
			}
		}
	})
}
