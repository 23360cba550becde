package views

import (
	"reflect"
	"strings"
	"testing"

	"github.com/a-h/templ"
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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := segmentText(tt.text)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("segmentText(%q)\n got %#v\nwant %#v", tt.text, got, tt.want)
			}
		})
	}
}

// FuzzSegmentText checks what every split must keep: the segments join back
// into the text, and every link's target is one httpURL accepts.
func FuzzSegmentText(f *testing.F) {
	for _, s := range []string{
		"see https://go.dev/x, #go", "(http://a.example/(b)))", "#1 C# #_ #é",
		"http://ok.example/\"onmouseover=\"x", "https://\xff", "javascript:alert(1)",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var joined strings.Builder
		for _, seg := range segmentText(s) {
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
		}
		if joined.String() != s {
			t.Fatalf("segments of %q join to %q", s, joined.String())
		}
	})
}
