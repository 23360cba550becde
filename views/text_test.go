package views

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/a-h/templ"

	"github.com/tweetstreamer/tweetstreamer/stream"
)

func TestSegmentText(t *testing.T) {
	plain := func(s string) textSegment { return textSegment{Kind: segmentPlain, Text: s} }
	tag := func(s string) textSegment { return textSegment{Kind: segmentHashtag, Text: s} }
	link := func(s, href string) textSegment {
		return textSegment{Kind: segmentLink, Text: s, Href: templ.SafeURL(href)}
	}
	tests := []struct {
		name string
		text string
		want []textSegment
	}{
		{"empty text has no segments", "", nil},
		{"plain text is one segment", "hello gophers", []textSegment{plain("hello gophers")}},
		{"a URL becomes a link", "see https://go.dev/blog now", []textSegment{plain("see "), link("https://go.dev/blog", "https://go.dev/blog"), plain(" now")}},
		{"a URL at the start and end", "http://a.example", []textSegment{link("http://a.example", "http://a.example")}},
		{"an upper-case scheme is linked", "HTTP://A.example/x", []textSegment{link("HTTP://A.example/x", "http://A.example/x")}},
		{"trailing punctuation stays text", "read https://go.dev/doc.", []textSegment{plain("read "), link("https://go.dev/doc", "https://go.dev/doc"), plain(".")}},
		{"an unbalanced closing parenthesis stays text", "(https://go.dev/x)", []textSegment{plain("("), link("https://go.dev/x", "https://go.dev/x"), plain(")")}},
		{"a balanced parenthesis stays in the URL", "https://en.example/Go_(language)", []textSegment{link("https://en.example/Go_(language)", "https://en.example/Go_(language)")}},
		{"a URL ends at a quote", `http://ok.example/"onmouseover="x`, []textSegment{link("http://ok.example/", "http://ok.example/"), plain(`"onmouseover="x`)}},
		{"a URL ends at an angle bracket", "https://a.example/<script>", []textSegment{link("https://a.example/", "https://a.example/"), plain("<script>")}},
		{"a bare scheme is text", "http:// and https://", []textSegment{plain("http:// and https://")}},
		{"a refused URL is text, hashtag and all", "https://user@evil.example/#tag", []textSegment{plain("https://user@evil.example/#tag")}},
		{"javascript is never linked", "javascript:alert(1) JaVaScRiPt:alert(1)", []textSegment{plain("javascript:alert(1) JaVaScRiPt:alert(1)")}},
		{"a scheme inside a word is text", "xhttp://a.example", []textSegment{plain("xhttp://a.example")}},
		{"a hashtag gets its own segment", "I love #golang!", []textSegment{plain("I love "), tag("#golang"), plain("!")}},
		{"hashtags may hold digits, underscores and other scripts", "#go_1 #café #日本", []textSegment{tag("#go_1"), plain(" "), tag("#café"), plain(" "), tag("#日本")}},
		{"a number is not a hashtag", "we are #1", []textSegment{plain("we are #1")}},
		{"a # inside a word is not a hashtag", "C# and F#", []textSegment{plain("C# and F#")}},
		{"a lone # is text", "# and ##", []textSegment{plain("# and ##")}},
		{"HTML stays text", "<script>alert(1)</script>", []textSegment{plain("<script>alert(1)</script>")}},
		{"the full-width hash starts a hashtag", "＃golang now", []textSegment{tag("＃golang"), plain(" now")}},
		{"a hash after a slash is a link fragment, not a hashtag", "example.com/#top", []textSegment{plain("example.com/#top")}},
		{"a hash in an HTML entity is not a hashtag", "it&#39;s", []textSegment{plain("it&#39;s")}},
		{"a hashtag running into another hash is none", "#a#b", []textSegment{plain("#a#b")}},
		{"a hashtag running into a scheme is none, and the URL is linked", "#http://x", []textSegment{plain("#"), link("http://x", "http://x")}},
		{"a zero-width non-joiner stays inside a hashtag", "#می\u200cخواهم!", []textSegment{tag("#می\u200cخواهم"), plain("!")}},
		{"a joiner at a hashtag's end is left out", "#go\u200d now", []textSegment{tag("#go"), plain("\u200d now")}},
		{"a fragment in a link is no hashtag", "https://go.dev/x#frag #go", []textSegment{link("https://go.dev/x#frag", "https://go.dev/x#frag"), plain(" "), tag("#go")}},
		{"a hash in a www. address is no hashtag", "www.example.com/#frag", []textSegment{plain("www.example.com/#frag")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := segmentText(tt.text, nil)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("segmentText(%q)\n got %#v\nwant %#v", tt.text, got, tt.want)
			}
		})
	}
}

func TestSegmentTextMarksMatchedWords(t *testing.T) {
	plain := func(s string) textSegment { return textSegment{Kind: segmentPlain, Text: s} }
	mark := func(s string) textSegment { return textSegment{Kind: segmentMatch, Text: s} }
	tag := func(s string) textSegment { return textSegment{Kind: segmentHashtag, Text: s} }
	markedTag := func(parts ...textPart) textSegment {
		var text strings.Builder
		for _, p := range parts {
			text.WriteString(p.Text)
		}
		return textSegment{Kind: segmentHashtag, Text: text.String(), Parts: parts}
	}
	part := func(s string) textPart { return textPart{Text: s} }
	marked := func(s string) textPart { return textPart{Text: s, Match: true} }
	link := func(s string) textSegment {
		return textSegment{Kind: segmentLink, Text: s, Href: templ.SafeURL(s)}
	}
	tests := []struct {
		name    string
		text    string
		matched []string
		want    []textSegment
	}{
		{"no matched trend marks nothing", "I love golang", nil, []textSegment{plain("I love golang")}},
		{"a matched word is marked", "I love golang!", []string{"golang"}, []textSegment{plain("I love "), mark("golang"), plain("!")}},
		{"case is folded", "GoLang, GOLANG and golang", []string{"golang"}, []textSegment{mark("GoLang"), plain(", "), mark("GOLANG"), plain(" and "), mark("golang")}},
		{"accented words fold too", "Café or CAFÉ", []string{"café"}, []textSegment{mark("Café"), plain(" or "), mark("CAFÉ")}},
		{"other scripts fold too", "ΣΟΦΙΑ σοφια", []string{"σοφια"}, []textSegment{mark("ΣΟΦΙΑ"), plain(" "), mark("σοφια")}},
		{"a matched hashtag's body is marked inside its span", "I love #GoLang", []string{"golang"}, []textSegment{plain("I love "), markedTag(part("#"), marked("GoLang"))}},
		{"a hashtag trend marks the bare word too", "#golang and golang", []string{"#golang"}, []textSegment{markedTag(part("#"), marked("golang")), plain(" and "), mark("golang")}},
		{"a full-width hashtag is marked the same way", "＃golang", []string{"golang"}, []textSegment{markedTag(part("＃"), marked("golang"))}},
		{"only the matched word of a hashtag is marked", "#می\u200cخواهم", []string{"خواهم"}, []textSegment{markedTag(part("#می\u200c"), marked("خواهم"))}},
		{"an unmatched hashtag is not marked", "#rust golang", []string{"golang"}, []textSegment{tag("#rust"), plain(" "), mark("golang")}},
		{"each word of a trend of several words is marked", "Climate is changing: change now, climate!", []string{"climate change"},
			[]textSegment{mark("Climate"), plain(" is changing: "), mark("change"), plain(" now, "), mark("climate"), plain("!")}},
		{"no part of a longer word is marked", "golangers love go_lang and golang2", []string{"golang"}, []textSegment{plain("golangers love go_lang and golang2")}},
		{"a match inside a URL is not marked", "https://golang.example/golang golang", []string{"golang"}, []textSegment{link("https://golang.example/golang"), plain(" "), mark("golang")}},
		{"a match inside a refused URL is not marked", "https://u@golang.example/ golang", []string{"golang"}, []textSegment{plain("https://u@golang.example/"), plain(" "), mark("golang")}},
		{"a trend not among the matched is not marked", "go and rust", []string{"rust"}, []textSegment{plain("go and "), mark("rust")}},
		{"words of several matched trends are marked", "go and rust", []string{"rust", "go"}, []textSegment{mark("go"), plain(" and "), mark("rust")}},
		{"HTML around a match stays text", "<b>golang</b>", []string{"golang"}, []textSegment{plain("<b>"), mark("golang"), plain("</b>")}},
		{"a combining accent stays with its word", "cafe\u0301 time", []string{"cafe\u0301"}, []textSegment{mark("cafe\u0301"), plain(" time")}},
		{"a word at the very end is marked whole", "so golang", []string{"golang"}, []textSegment{plain("so "), mark("golang")}},
		{"invalid UTF-8 separates words", "\xffgolang\xfe", []string{"golang"}, []textSegment{plain("\xff"), mark("golang"), plain("\xfe")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := segmentText(tt.text, tt.matched)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("segmentText(%q, %q)\n got %#v\nwant %#v", tt.text, tt.matched, got, tt.want)
			}
		})
	}
}

// hashtagAgreementTexts are texts on which the two readings of a hashtag
// used to differ, before the card took its hashtags from stream.
var hashtagAgreementTexts = []string{
	"see example.com/#top and /#/route",
	"＃golang today",
	"it&#39;s &#x27; fine",
	"#a#b #c＃d",
	"#http://x #https://example.com",
	"#می\u200cخواهم #go\u200c now #a\u200d",
	"we are #1 in #2024",
	"C# and F# and x#y",
	"https://go.dev/page#section and #real",
	"www.example.com/?x=1#frag #yes",
	"#go,https://go.dev/#x",
	"(#a) [#b] \"#c\" 🔥#d @#e ❤\ufe0f#love",
	"#cafe\u0301 #\u0301go #\ufe0f\u20e3",
	"\xff#go\xfe#ok",
	"https://user@evil.example/#tag #after",
	"http://ok.example/\"#quoted #next",
}

func TestCardHashtagsAreStreamHashtags(t *testing.T) {
	// No text here spells a tag twice, so stream.Hashtags, which lists
	// each tag once, lists every hashtag segment.
	for _, text := range hashtagAgreementTexts {
		t.Run(text, func(t *testing.T) {
			var shown []string
			for _, seg := range segmentText(text, nil) {
				if seg.Kind != segmentHashtag {
					continue
				}
				tag, ok := strings.CutPrefix(seg.Text, "#")
				if !ok {
					tag, ok = strings.CutPrefix(seg.Text, "＃")
				}
				if !ok {
					t.Errorf("hashtag segment %q does not start with a hash", seg.Text)
				}
				shown = append(shown, tag)
			}
			if want := stream.Hashtags(text); !slices.Equal(shown, want) {
				t.Errorf("the card shows hashtags %q, stream.Hashtags finds %q", shown, want)
			}
		})
	}
}

// FuzzSegmentText checks what every split must keep: the segments join back
// into the text, every link's target is one httpURL accepts, a hashtag's
// parts join back into it, and the hashtags shown are stream's.
func FuzzSegmentText(f *testing.F) {
	for _, s := range []string{
		"see https://go.dev/x, #go", "(http://a.example/(b)))", "#1 C# #_ #é",
		"http://ok.example/\"onmouseover=\"x", "https://\xff", "javascript:alert(1)",
		"#go #Go_a a#b example.com/#go ＃go", "https://go.example/#go go", "#می\u200cgo",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var joined strings.Builder
		var tags []string
		for _, seg := range segmentText(s, []string{"go", "a b"}) {
			if seg.Text == "" {
				t.Fatalf("segmentText(%q) has an empty segment", s)
			}
			joined.WriteString(seg.Text)
			if seg.Kind == segmentLink {
				if href, ok := httpURL(string(seg.Href)); !ok || href != seg.Href {
					t.Fatalf("segmentText(%q) links to %q, which httpURL does not accept as is", s, seg.Href)
				}
			} else if seg.Href != "" {
				t.Fatalf("segmentText(%q) gives a %v segment a target", s, seg.Kind)
			}
			if seg.Kind == segmentHashtag {
				tags = append(tags, seg.Text)
			}
			if seg.Parts != nil {
				var parts strings.Builder
				for _, p := range seg.Parts {
					parts.WriteString(p.Text)
				}
				if seg.Kind != segmentHashtag || parts.String() != seg.Text {
					t.Fatalf("segmentText(%q) cuts a %v segment %q into %+v", s, seg.Kind, seg.Text, seg.Parts)
				}
			}
		}
		if joined.String() != s {
			t.Fatalf("segments of %q join to %q", s, joined.String())
		}
		// No URL ever holds one of stream's hashtags, so the card shows
		// every one of them.
		var want []string
		for _, sp := range stream.HashtagSpans(s) {
			want = append(want, s[sp.Start:sp.End])
		}
		if !slices.Equal(tags, want) {
			t.Fatalf("segmentText(%q) shows hashtags %q, stream finds %q", s, tags, want)
		}
	})
}

func TestACardDecoratesAtMostMaxDecoratedPieces(t *testing.T) {
	for _, unit := range []string{"#go ", "go ", "https://a.example/go ", "#a http://b.example "} {
		text := strings.Repeat(unit, 300)
		segs := segmentText(text, []string{"go"})
		var b strings.Builder
		decorated := 0
		for _, s := range segs {
			b.WriteString(s.Text)
			if s.Kind != segmentPlain {
				decorated++
			}
		}
		if b.String() != text {
			t.Fatalf("%q: the segments do not give the text back", unit)
		}
		if decorated != maxDecorated {
			t.Fatalf("%q ×300: %d decorated pieces, want the first %d", unit, decorated, maxDecorated)
		}
		if last := segs[len(segs)-1]; last.Kind != segmentPlain || !strings.HasSuffix(text, last.Text) {
			t.Fatalf("%q: the text after the last decorated piece is not plain", unit)
		}
	}
}
