package stream

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode"
)

func TestNormalizeTrend(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"keeps a plain word", "golang", "golang"},
		{"folds ASCII case", "GoLang", "golang"},
		{"folds accented capitals", "Café", "café"},
		{"folds Greek capitals", "ΣΟΦΙΑ", "σοφια"},
		{"folds final sigma to sigma", "σοφίας", "σοφίασ"},
		{"folds the Kelvin sign to k", "\u212Aelvin", "kelvin"},
		{"folds the long s to s", "\u017Fun", "sun"},
		{"folds capital sharp s to sharp s", "STRA\u1E9EE", "straße"},
		{"folds Cyrillic capitals", "МОСКВА", "москва"},
		{"keeps scripts without case", "東京", "東京"},
		{"keeps the hash of a hashtag", "#GoLang", "#golang"},
		{"keeps the at of a mention", "@GoLang", "@golang"},
		{"trims surrounding space", "  go \t\n", "go"},
		{"collapses inner space", "climate   \t change", "climate change"},
		{"collapses Unicode spaces", "climate\u00A0\u3000change", "climate change"},
		{"keeps punctuation inside", "Covid-19!", "covid-19!"},
		{"keeps combining marks", "Cafe\u0301", "cafe\u0301"},
		{"keeps digits and underscores", "web_3_0", "web_3_0"},
		{"folds the iota subscript mark to iota", "\u0345", "ι"},
		{"keeps a name with one word among symbols", "!!! go !!!", "!!! go !!!"},
		{"accepts exactly the longest name", strings.Repeat("a", MaxTrendLen), strings.Repeat("a", MaxTrendLen)},
		{"counts characters, not bytes", strings.Repeat("é", MaxTrendLen), strings.Repeat("é", MaxTrendLen)},
		{"counts length after collapsing space", " " + strings.Repeat("ab   ", 20) + " ", strings.TrimSpace(strings.Repeat("ab ", 20))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NormalizeTrend(tt.in)
			if err != nil {
				t.Fatalf("NormalizeTrend(%q) = error %v, want %q", tt.in, err, tt.want)
			}
			if got != tt.want {
				t.Errorf("NormalizeTrend(%q) = %q, want %q", tt.in, got, tt.want)
			}
			again, err := NormalizeTrend(got)
			if err != nil || again != got {
				t.Errorf("NormalizeTrend(%q) = %q, %v: normalising twice must change nothing", got, again, err)
			}
		})
	}
}

func TestNormalizeTrendRefuses(t *testing.T) {
	tests := []struct {
		name, in, reason string
	}{
		{"the empty name", "", "needs a name"},
		{"a name of only space", " \t\n ", "needs a name"},
		{"a name over the longest", strings.Repeat("a", MaxTrendLen+1), "longer than 60"},
		{"a name over the longest in characters", strings.Repeat("é", MaxTrendLen+1), "longer than 60"},
		{"a huge name", strings.Repeat("go ", 1<<20), "longer than 60"},
		{"a NUL", "go\x00lang", "control character U+0000"},
		{"an escape", "go\x1b[31m", "control character U+001B"},
		{"a delete", "go\x7f", "control character U+007F"},
		{"a C1 control", "go\u0090", "control character U+0090"},
		{"a zero-width space", "go\u200Blang", "control character U+200B"},
		{"a zero-width joiner", "go\u200Dlang", "control character U+200D"},
		{"a right-to-left override", "\u202Egolang", "control character U+202E"},
		{"a byte order mark", "\uFEFFgolang", "control character U+FEFF"},
		{"a soft hyphen", "go\u00ADlang", "control character U+00AD"},
		{"invalid UTF-8", "go\xfflang", "not valid UTF-8"},
		{"a lone surrogate", "go\xed\xa0\x80", "not valid UTF-8"},
		{"only punctuation", "!!!", "no word"},
		{"a bare hash", "#", "no word"},
		{"a bare at", "@", "no word"},
		{"only emoji", "🔥🔥", "no word"},
		{"an emoji heart with its variation selector", "\u2764\uFE0F", "no word"},
		{"a lone combining mark", "\u0301", "no word"},
		{"a hash before a combining mark", "#\u0301", "no word"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NormalizeTrend(tt.in)
			if err == nil {
				t.Fatalf("NormalizeTrend(%q) = %q, want an error", tt.in, got)
			}
			if !errors.Is(err, ErrBadTrend) {
				t.Errorf("NormalizeTrend(%q) error %v does not wrap ErrBadTrend", tt.in, err)
			}
			if !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("NormalizeTrend(%q) error %q does not say %q", tt.in, err, tt.reason)
			}
			if got != "" {
				t.Errorf("NormalizeTrend(%q) = %q with an error, want \"\"", tt.in, got)
			}
		})
	}
}

func TestTrendWords(t *testing.T) {
	tests := []struct {
		name, text string
		want       []string
	}{
		{"nothing in the empty text", "", nil},
		{"nothing in separators only", " #@!?.,;:()[]—…🔥 \t\n", nil},
		{"folds case", "GoLang", []string{"golang"}},
		{"splits on space", "climate change", []string{"climate", "change"}},
		{"splits on hash and at", "#go@golang", []string{"go", "golang"}},
		{"splits on punctuation", "go,rust;zig.", []string{"go", "rust", "zig"}},
		{"splits on apostrophes", "don't", []string{"don", "t"}},
		{"splits on hyphens", "covid-19", []string{"covid", "19"}},
		{"splits on emoji", "go🔥rust", []string{"go", "rust"}},
		{"splits on zero-width joiners", "go\u200Drust", []string{"go", "rust"}},
		{"splits on invalid UTF-8", "go\xffrust", []string{"go", "rust"}},
		{"splits on curly quotes", "“go”", []string{"go"}},
		{"keeps digits and underscores", "web_3_0 2024", []string{"web_3_0", "2024"}},
		{"keeps other scripts' digits", "٢٠٢٤", []string{"٢٠٢٤"}},
		{"keeps combining marks in the word", "Cafe\u0301 ok", []string{"cafe\u0301", "ok"}},
		{"drops a combining mark after a separator", "#\u0301go", []string{"go"}},
		{"drops variation selectors", "go\uFE0F \u2764\uFE0Fgo", []string{"go"}},
		{"drops the parts of a keycap emoji", "1\uFE0F\u20E3", []string{"1"}},
		{"drops skin tones", "👍🏽go", []string{"go"}},
		{"starts a word with a mark that folds to a letter", "#\u0345", []string{"ι"}},
		{"counts a repeated word once", "go Go GO #go", []string{"go"}},
		{"keeps first-seen order", "b a b c a", []string{"b", "a", "c"}},
		{"folds to the shared form", "ΣΟΦΙΑ σοφια σοφιας", []string{"σοφια", "σοφιασ"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := trendWords(tt.text); !slices.Equal(got, tt.want) {
				t.Errorf("trendWords(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

// TestFoldRune checks every rune: case variants fold to one form, folding
// twice changes nothing, and folding keeps a rune in or out of words. A new
// Unicode version in the standard library is checked by the same test.
func TestFoldRune(t *testing.T) {
	for r := rune(0); r <= unicode.MaxRune; r++ {
		f := foldRune(r)
		if foldRune(f) != f {
			t.Errorf("foldRune(%U) = %U, but foldRune(%U) = %U", r, f, f, foldRune(f))
		}
		if isWordRune(f) != isWordRune(r) {
			t.Errorf("isWordRune(%U) = %v but isWordRune(foldRune) = %v", r, isWordRune(r), isWordRune(f))
		}
		for v := unicode.SimpleFold(r); v != r; v = unicode.SimpleFold(v) {
			if foldRune(v) != f {
				t.Errorf("foldRune(%U) = %U, but its case variant %U folds to %U", r, f, v, foldRune(v))
			}
		}
	}
}

// TestWordRune checks that the tables behind wordRune agree with
// isWordRune and foldRune for every rune.
func TestWordRune(t *testing.T) {
	for r := rune(0); r <= unicode.MaxRune; r++ {
		f, mark, ok := wordRune(r)
		if ok != isWordRune(r) {
			t.Errorf("wordRune(%U) says word = %v, isWordRune says %v", r, ok, !ok)
			continue
		}
		if !ok {
			continue
		}
		if want := foldRune(r); f != want || mark != unicode.IsMark(want) {
			t.Errorf("wordRune(%U) = %U, mark %v; want %U, mark %v", r, f, mark, want, unicode.IsMark(want))
		}
	}
	for c := range rune(len(asciiWord)) {
		want := byte(0)
		if isWordRune(c) {
			want = byte(foldRune(c))
		}
		if asciiWord[c] != want {
			t.Errorf("asciiWord[%q] = %q, want %q", c, asciiWord[c], want)
		}
	}
}
