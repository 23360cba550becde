package stream

import (
	"slices"
	"testing"
)

func TestMatchSpans(t *testing.T) {
	tests := []struct {
		name   string
		text   string
		trends []string
		// want is the text of each span.
		want []string
	}{
		{"no trend finds nothing", "I love golang", nil, nil},
		{"a trend's word is found", "I love golang!", []string{"golang"}, []string{"golang"}},
		{"case is folded", "GoLang GOLANG golang", []string{"golang"}, []string{"GoLang", "GOLANG", "golang"}},
		{"accents fold with their letters", "Café CAFÉ café cafe", []string{"café"}, []string{"Café", "CAFÉ", "café"}},
		{"final sigma folds as sigma", "ΣΟΦΙΑΣ σοφιας", []string{"σοφιασ"}, []string{"ΣΟΦΙΑΣ", "σοφιας"}},
		{"a hashtag gives its bare word", "love #golang", []string{"golang"}, []string{"golang"}},
		{"a hashtag trend finds the bare word too", "#golang or golang", []string{"#golang"}, []string{"golang", "golang"}},
		{"each word of a trend of several words", "change the climate", []string{"climate change"}, []string{"change", "climate"}},
		{"words of several trends", "go and rust and zig", []string{"rust", "go"}, []string{"go", "rust"}},
		{"no part of a longer word", "golangers go_lang golang2 xgolang", []string{"golang"}, nil},
		{"a word at the end is whole", "so golang", []string{"golang"}, []string{"golang"}},
		{"a word ended by a rune of several bytes", "golang… and golang’s", []string{"golang"}, []string{"golang", "golang"}},
		{"a combining mark stays with its word", "cafe\u0301!", []string{"cafe\u0301"}, []string{"cafe\u0301"}},
		{"invalid UTF-8 separates words", "\xffgolang\xfe", []string{"golang"}, []string{"golang"}},
		{"a text that folds longer keeps its offsets", "Ⱥb ⱥb", []string{"ⱥb"}, []string{"Ⱥb", "ⱥb"}},
		{"a text that folds shorter keeps its offsets", "\u212Aelvin kelvin", []string{"kelvin"}, []string{"\u212Aelvin", "kelvin"}},
		{"a trend not given is not found", "go and rust", []string{"rust"}, []string{"rust"}},
		{"words inside a link count, as for matching", "https://golang.example/x", []string{"golang"}, []string{"golang"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, sp := range MatchSpans(tt.text, tt.trends) {
				got = append(got, tt.text[sp.Start:sp.End])
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("MatchSpans(%q, %q) holds %q, want %q", tt.text, tt.trends, got, tt.want)
			}
		})
	}
	t.Run("spans are byte offsets", func(t *testing.T) {
		want := []Span{{Start: 5, End: 11}, {Start: 13, End: 19}} // "日" is 3 bytes
		if got := MatchSpans("日 #golang, golang", []string{"golang"}); !slices.Equal(got, want) {
			t.Errorf("MatchSpans = %v, want %v", got, want)
		}
	})
}

func TestMatchSpansFindWhatMatchFinds(t *testing.T) {
	// A one-word trend is found in a text exactly when the text matches it.
	texts := []string{
		"I love #GoLang", "golangers", "Café time", "CAFÉ", "the climate", "ΣΟΦΙΑ",
		"\u212Aelvin", "go_lang", "x#golang", "https://golang.example/", "cafe\u0301",
	}
	trends := []string{"golang", "café", "climate", "σοφια", "kelvin", "go_lang"}
	m := NewMatcher(trends)
	for _, text := range texts {
		matched := m.Match(text)
		for _, trend := range trends {
			found := len(MatchSpans(text, []string{trend})) > 0
			if found != slices.Contains(matched, trend) {
				t.Errorf("%q: MatchSpans finds %q: %v, Match matches it: %v", text, trend, found, !found)
			}
		}
	}
}

// FuzzMatchSpans checks what holds of any text: spans come in order, apart,
// and each holds a whole word that folds to a word of the trends.
func FuzzMatchSpans(f *testing.F) {
	for _, s := range []string{
		"#GoLang golang", "Café CAFÉ", "\u212Aelvin", "Ⱥb", "\xffgo\xfe", "go\u0301 go\ufe0f",
		"\u0345go", "🔥go🔥", "go\u200cgo",
	} {
		f.Add(s, "go")
	}
	f.Fuzz(func(t *testing.T, s, trend string) {
		words := trendWords(trend)
		end := 0
		for _, sp := range MatchSpans(s, []string{trend}) {
			if sp.Start < end || sp.End <= sp.Start || sp.End > len(s) {
				t.Fatalf("MatchSpans(%q, %q) gives %v after %d", s, trend, sp, end)
			}
			end = sp.End
			got := trendWords(s[sp.Start:sp.End])
			if len(got) != 1 || !slices.Contains(words, got[0]) {
				t.Fatalf("MatchSpans(%q, %q) gives %q, whose words are %q, not one of %q", s, trend, s[sp.Start:sp.End], got, words)
			}
		}
	})
}

// BenchmarkMatchSpans measures finding the marked words of a post of about
// 200 characters for the two trends it matched.
func BenchmarkMatchSpans(b *testing.B) {
	text := "Reading https://go.dev/blog/go1.26#generics about #golang & friends; " +
		"@gopher says the new #GC is faster. Café talk at #GopherCon, #GoLang meetup!"
	trends := []string{"golang", "café talk"}
	b.ReportAllocs()
	for b.Loop() {
		MatchSpans(text, trends)
	}
}

// FuzzTokenizerSpan checks that the tokenizer says where each word is: the
// spans come in order, apart, and each holds exactly the word, which the
// text between them does not continue.
func FuzzTokenizerSpan(f *testing.F) {
	for _, s := range []string{
		"#GoLang, golang!", "Ⱥb \u212Aelvin", "\xffgo\xfe", "go\u0301 go\ufe0f", "\u0345go", "🔥go🔥", "go\u200cgo", "x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tok := tokenizer{text: s}
		end := 0
		for w, ok := tok.next(); ok; w, ok = tok.next() {
			sp := tok.span()
			if sp.Start < end || sp.End <= sp.Start || sp.End > tok.pos {
				t.Fatalf("in %q, word %q at %v after %d (pos %d)", s, w, sp, end, tok.pos)
			}
			end = sp.End
			again := tokenizer{text: s[sp.Start:sp.End]}
			if got, ok := again.next(); !ok || string(got) != string(w) || again.pos != sp.End-sp.Start {
				t.Fatalf("in %q, word %q at %v holds %q", s, w, sp, s[sp.Start:sp.End])
			}
		}
	})
}
