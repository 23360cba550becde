package stream

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestHashtags(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []string
	}{
		{"none in plain text", "just words here", nil},
		{"none in the empty text", "", nil},
		{"one, without its hash", "I love #golang", []string{"golang"}},
		{"at the very start", "#golang rocks", []string{"golang"}},
		{"several, in order", "#b then #a then #c", []string{"b", "a", "c"}},
		{"trailing punctuation is not part of it", "so #good! and #fine, (#ok). #end…", []string{"good", "fine", "ok", "end"}},
		{"digits and underscores inside", "#go_1 #web3 #2fast", []string{"go_1", "web3", "2fast"}},
		{"other scripts", "#café #日本 #москва #العربية", []string{"café", "日本", "москва", "العربية"}},
		{"combining marks inside", "#cafe\u0301 time", []string{"cafe\u0301"}},
		{"a zero-width non-joiner inside a word", "#می\u200cخواهم", []string{"می\u200cخواهم"}},
		{"a joiner at the end is left out", "#go\u200c now", []string{"go"}},
		{"the full-width hash", "＃東京 today", []string{"東京"}},
		{"after punctuation, emoji and mentions", "(#a) [#b] \"#c\" 🔥#d @#e", []string{"a", "b", "c", "d", "e"}},
		{"after a variation selector", "❤\ufe0f#love", []string{"love"}},
		{"duplicates keep the first spelling", "#GoLang #golang #GOLANG", []string{"GoLang"}},
		{"duplicates fold as trends do", "#ΣΟΦΙΑ #σοφια #Straße #STRASSE", []string{"ΣΟΦΙΑ", "Straße", "STRASSE"}},
		{"a number is not a hashtag", "we are #1 in #2024", nil},
		{"digits and underscores alone are not a hashtag", "#_ #1_000 #__", nil},
		{"a lone hash is nothing", "# and ## and #!", nil},
		{"a hash after a letter is not a hashtag", "C# and F# and x#y", nil},
		{"a hash after a digit or underscore is not a hashtag", "1#a _#b", nil},
		{"a hash after an ampersand is an entity, not a hashtag", "&#39; &#x27;", nil},
		{"a hash after a slash is a link fragment", "see example.com/#top and /#/route", nil},
		{"a hash right after another starts one", "##go", []string{"go"}},
		{"a hashtag running into another hash is none", "#a#b #c＃d", nil},
		{"a hashtag running into a scheme is none", "#https://example.com", nil},
		{"the keycap emoji is not a hashtag", "#\ufe0f\u20e3 #\u20e3x", nil},
		{"a mark right after the hash starts nothing", "#\u0301go", nil},
		{"a fragment in a link is not a hashtag", "https://example.com/page#section and #real", []string{"real"}},
		{"a hash in a link's query is not a hashtag", "http://a.example/?q=x&y=#nope", nil},
		{"any scheme is a link", "ftp://x.example/#a git+ssh://h/#b", nil},
		{"a link without scheme from www.", "www.example.com/?x=1#frag #yes", []string{"yes"}},
		{"WWW in capitals is a link too", "WWW.EXAMPLE.COM/?#frag", nil},
		{"a hashtag right before a link counts", "#go,https://go.dev/#x", []string{"go"}},
		{"a hashtag after a link counts", "https://go.dev/ #golang", []string{"golang"}},
		{"the link ends at any space", "https://a.example/x\u3000#tag", []string{"tag"}},
		{"invalid UTF-8 separates", "\xff#go\xfe#ok", []string{"go", "ok"}},
		{"newlines separate", "line\n#one\n#two", []string{"one", "two"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Hashtags(tt.text); !slices.Equal(got, tt.want) {
				t.Errorf("Hashtags(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

func TestHashtagSpans(t *testing.T) {
	tests := []struct {
		name string
		text string
		// want is the text of each span, hash included.
		want []string
	}{
		{"none in plain text", "just words here", nil},
		{"a span holds the hash", "I love #golang!", []string{"#golang"}},
		{"a span holds the full-width hash", "＃golang and ＃東京", []string{"＃golang", "＃東京"}},
		{"a tag written twice has two spans", "#go #Go #go", []string{"#go", "#Go", "#go"}},
		{"a hash after a slash is a link fragment", "example.com/#top", nil},
		{"a hash after an ampersand is an entity", "it&#39;s &#x27;", nil},
		{"a hashtag running into another hash is none", "#a#b", nil},
		{"a hashtag running into a scheme is none", "#http://x", nil},
		{"a zero-width non-joiner inside is kept", "#می\u200cخواهم", []string{"#می\u200cخواهم"}},
		{"a zero-width joiner at the end is left out", "#go\u200d now", []string{"#go"}},
		{"a joiner right after the hash starts nothing", "#\u200dgo", nil},
		{"a number is not a hashtag", "#1 and #2024", nil},
		{"a fragment in a link is not a hashtag", "https://go.dev/x#frag #go", []string{"#go"}},
		{"a www. address is a link", "www.go.dev/#frag #go", []string{"#go"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, sp := range HashtagSpans(tt.text) {
				got = append(got, tt.text[sp.Start:sp.End])
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("HashtagSpans(%q) holds %q, want %q", tt.text, got, tt.want)
			}
		})
	}
	t.Run("spans are byte offsets", func(t *testing.T) {
		want := []Span{{Start: 4, End: 13}, {Start: 14, End: 17}} // "日" and "＃" are 3 bytes each
		if got := HashtagSpans("日 ＃golang #go"); !slices.Equal(got, want) {
			t.Errorf("HashtagSpans = %v, want %v", got, want)
		}
	})
}

func TestHashtagsAreTheSpansWithoutHash(t *testing.T) {
	text := "#GoLang ＃東京 #golang C# #1 #a#b https://x.example/#y #café"
	var fromSpans []string
	for _, sp := range HashtagSpans(text) {
		tag := strings.TrimPrefix(strings.TrimPrefix(text[sp.Start:sp.End], "#"), "＃")
		if !slices.ContainsFunc(fromSpans, func(t string) bool { return foldString(t) == foldString(tag) }) {
			fromSpans = append(fromSpans, tag)
		}
	}
	if got := Hashtags(text); !slices.Equal(got, fromSpans) {
		t.Errorf("Hashtags = %q, the spans give %q", got, fromSpans)
	}
}

func TestHashtagsDeduplicatesLongLists(t *testing.T) {
	var text strings.Builder
	var want []string
	for i := range 3 * maxLinearTags {
		fmt.Fprintf(&text, "#Tag%d ", i)
		want = append(want, fmt.Sprintf("Tag%d", i))
	}
	for i := range 3 * maxLinearTags {
		fmt.Fprintf(&text, "#TAG%d ", i)
	}
	if got := Hashtags(text.String()); !slices.Equal(got, want) {
		t.Errorf("Hashtags = %q, want %q", got, want)
	}
}

func TestHashtagsAreValidTrends(t *testing.T) {
	// A hashtag names a room: what Hashtags finds, NormalizeTrend accepts
	// (when it is short enough), and the matcher finds in the text.
	text := "#GoLang #café #日本 #web_3 #москва #Straße"
	for _, tag := range Hashtags(text) {
		t.Run(tag+" is a trend that matches the text", func(t *testing.T) {
			trend, err := NormalizeTrend(tag)
			if err != nil {
				t.Fatalf("NormalizeTrend(%q): %v", tag, err)
			}
			if got := NewMatcher([]string{trend}).Match(text); !slices.Equal(got, []string{trend}) {
				t.Errorf("trend %q matches %q, want it to match", trend, got)
			}
		})
	}
}

// FuzzHashtags checks what holds of any text: HashtagSpans gives spans in
// order, apart, each starting with a hash; and every tag Hashtags returns is
// a piece of the text that holds a letter, starts with no mark or "#", and
// is not found twice.
func FuzzHashtags(f *testing.F) {
	for _, s := range []string{
		"#go #Go #GO", "C# #1 #_a", "https://x.example/#a #b", "www.x#y",
		"#a#b", "＃東京", "#می\u200cخواهم", "#\u200c", "\xff#\xfe", "&#39;",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		end := 0
		for _, sp := range HashtagSpans(s) {
			if sp.Start < end || sp.End <= sp.Start || sp.End > len(s) {
				t.Fatalf("HashtagSpans(%q) gives %v after %d", s, sp, end)
			}
			if tag := s[sp.Start:sp.End]; !strings.HasPrefix(tag, "#") && !strings.HasPrefix(tag, "＃") {
				t.Fatalf("HashtagSpans(%q) gives %q, without its hash", s, tag)
			}
			end = sp.End
		}
		seen := map[string]bool{}
		for _, tag := range Hashtags(s) {
			if !strings.Contains(s, tag) {
				t.Fatalf("Hashtags(%q) returned %q, which is not in the text", s, tag)
			}
			if !strings.ContainsFunc(tag, unicode.IsLetter) {
				t.Fatalf("Hashtags(%q) returned %q, which has no letter", s, tag)
			}
			if strings.HasPrefix(tag, "#") || strings.HasPrefix(tag, "＃") {
				t.Fatalf("Hashtags(%q) returned %q, with its hash", s, tag)
			}
			key := foldString(tag)
			if seen[key] {
				t.Fatalf("Hashtags(%q) returned %q twice", s, tag)
			}
			seen[key] = true
		}
	})
}

// BenchmarkHashtags measures Hashtags on a post of about 200 characters
// with a link, a mention and three hashtags, one of them repeated.
func BenchmarkHashtags(b *testing.B) {
	text := "Reading https://go.dev/blog/go1.26#generics about #golang & friends; " +
		"@gopher says the new #GC is faster. Café talk at #GopherCon, #GoLang meetup!"
	b.ReportAllocs()
	for b.Loop() {
		Hashtags(text)
	}
}

// spansRuneByRune is HashtagSpans as it reads the rules, one rune at a
// time, without skipping the bytes that start nothing: what the real one
// must agree with.
func spansRuneByRune(text string) []Span {
	var spans []Span
	prev := ' '
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		switch {
		case r == ':' && strings.HasPrefix(text[i:], "://") && isSchemeEnd(prev),
			!continuesHashtag(prev) && hasPrefixFold(text[i:], "www."):
			i += linkEnd(text[i:])
		case (r == '#' || r == '＃') && startsHashtag(prev):
			body := i + size
			end := body + hashtagBodyLength(text[body:])
			if end > body && !endsBadly(text[end:]) {
				spans = append(spans, Span{Start: i, End: end})
			}
			i = max(end, body)
		default:
			prev = r
			i += size
			continue
		}
		prev, _ = utf8.DecodeLastRuneInString(text[:i])
	}
	return spans
}

// FuzzHashtagSpansSkipsOnlyWhatStartsNothing checks that skipping ahead to
// the bytes that may start a hashtag or a link finds what reading every
// rune finds.
func FuzzHashtagSpansSkipsOnlyWhatStartsNothing(f *testing.F) {
	for _, s := range []string{
		"#go #Go", "C# and F#", "x://y #a", "see www.x.example/#a then #b", "Www.x #c",
		"\xe2\x82#a", "a\u0301#b", "＃東京 ＃", "\uf000#a", "#a#b", "&#39; #x", "é#é",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, want := HashtagSpans(s), spansRuneByRune(s)
		if !slices.Equal(got, want) {
			t.Fatalf("HashtagSpans(%q) = %v, reading every rune gives %v", s, got, want)
		}
	})
}
