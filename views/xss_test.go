package views

import (
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html"

	"github.com/tweetstreamer/tweetstreamer/stream"
)

// payloads are strings that would run script, add an attribute or smuggle a
// URL if any part of a card or page let them through unescaped.
var payloads = []string{
	`<script>alert(1)</script>`,
	`"><img src=x onerror=alert(1)>`,
	`'><svg onload=alert(1)>`,
	`javascript:alert(1)`,
	` JaVaScRiPt:alert(1)`,
	"java\tscript:alert(1)",
	`data:text/html,<script>alert(1)</script>`,
	`vbscript:msgbox(1)`,
	`http://ok.example/"onmouseover="x`,
	`https://ok.example/' onfocus='x' autofocus '`,
	`</textarea></title></style><script>alert(1)</script>`,
	`<!-- --><a href="javascript:alert(1)">x</a>`,
	`&lt;script&gt;alert(1)&lt;/script&gt;`,
	"#tag<script>alert(1)</script>",
	"see https://ok.example/<script>alert(1)</script>",
}

// xssTweet puts a payload in every string field of a tweet.
func xssTweet() stream.Tweet {
	return stream.Tweet{
		ID:     `"><script>alert("id")</script>`,
		Source: `" onclick="alert(1)`,
		Author: stream.Author{
			Handle:    `<img src=x onerror=alert(1)>`,
			Name:      `"><script>alert("name")</script>`,
			AvatarURL: `javascript:alert(1)`,
		},
		Text:         `<script>alert("text")</script> javascript:alert(1)`,
		URL:          `data:text/html,<script>alert(1)</script>`,
		Lang:         `en" onmouseover="alert(1)`,
		RetweetedBy:  &stream.Author{Handle: `"><svg onload=alert("rt")>`, AvatarURL: `javascript:alert(1)`},
		ThumbnailURL: ` JaVaScRiPt:alert("thumb")`,
		CreatedAt:    time.Date(2026, 2, 11, 9, 30, 5, 0, time.UTC),
	}
}

func TestCardRendersPayloadsInert(t *testing.T) {
	type field struct {
		name string
		set  func(*stream.Tweet, string)
		// shown is where the payload must appear as visible text, if anywhere.
		shown func(*goquery.Document) string
		// want is what shown must read, given the payload.
		want func(payload string) string
	}
	fields := []field{
		{"text", func(tw *stream.Tweet, p string) { tw.Text = p },
			func(d *goquery.Document) string { return d.Find(".text").Text() },
			func(p string) string { return p }},
		{"name", func(tw *stream.Tweet, p string) { tw.Author.Name = p },
			func(d *goquery.Document) string { return d.Find(".name").Text() },
			func(p string) string { return strings.TrimSpace(p) }},
		{"handle", func(tw *stream.Tweet, p string) { tw.Author.Handle = p },
			func(d *goquery.Document) string { return d.Find(".handle").Text() },
			func(p string) string { return "@" + strings.TrimSpace(p) }},
		{"URL", func(tw *stream.Tweet, p string) { tw.URL = p }, nil, nil},
		{"avatar URL", func(tw *stream.Tweet, p string) { tw.Author.AvatarURL = p }, nil, nil},
		{"language", func(tw *stream.Tweet, p string) { tw.Lang = p }, nil, nil},
		{"ID", func(tw *stream.Tweet, p string) { tw.ID = p },
			func(d *goquery.Document) string { return byTestID(d, "card").AttrOr("data-id", "") },
			func(p string) string { return p }},
		{"source", func(tw *stream.Tweet, p string) { tw.Source = p },
			func(d *goquery.Document) string { return byTestID(d, "card").AttrOr("data-source", "") },
			func(p string) string { return p }},
		{"retweeter's handle", func(tw *stream.Tweet, p string) { tw.RetweetedBy = &stream.Author{Handle: p} },
			func(d *goquery.Document) string { return byTestID(d, "retweeted-by").Text() },
			func(p string) string { return "retweeted by @" + strings.TrimSpace(p) }},
		{"retweeter's name", func(tw *stream.Tweet, p string) { tw.RetweetedBy = &stream.Author{Name: p} },
			func(d *goquery.Document) string { return byTestID(d, "retweeted-by").Text() },
			func(p string) string { return "retweeted by " + strings.TrimSpace(p) }},
		{"thumbnail URL", func(tw *stream.Tweet, p string) { tw.ThumbnailURL = p }, nil, nil},
	}
	for _, f := range fields {
		for _, p := range payloads {
			t.Run(f.name+" holding "+p+" renders inert", func(t *testing.T) {
				tw := sampleTweet()
				f.set(&tw, p)
				doc := renderDoc(t, Card(CardItem{Tweet: tw}))
				assertInert(t, doc)
				wantCount(t, byTestID(doc, "card"), 1)
				if f.shown != nil {
					wantText(t, f.shown(doc), f.want(p))
				}
			})
		}
	}
	t.Run("every field holding a payload at once renders inert", func(t *testing.T) {
		tw := xssTweet()
		doc := renderDoc(t, Card(CardItem{Seq: 1, Tweet: tw, Matched: []string{"script", "alert"}}))
		assertInert(t, doc)
		wantText(t, doc.Find(".text").Text(), tw.Text)
		wantText(t, doc.Find(".name").Text(), tw.Author.Name)
		wantText(t, byTestID(doc, "retweeted-by").Text(), "retweeted by @"+tw.RetweetedBy.Handle)
		wantCount(t, doc.Find("img"), 0)
		wantCount(t, doc.Find("a.open"), 0)
		wantCount(t, doc.Find(".text mark.match"), 4)
	})
}

func TestCardMarksBesidePayloadsRenderInert(t *testing.T) {
	texts := []func(p string) string{
		func(p string) string { return p + "golang" },
		func(p string) string { return "golang" + p },
		func(p string) string { return p + " #golang " + p },
		func(p string) string { return "golang" + p + "golang" },
	}
	for _, p := range payloads {
		for _, text := range texts {
			tw := sampleTweet()
			tw.Text = text(p)
			t.Run(tw.Text+" renders inert, marked", func(t *testing.T) {
				doc := renderDoc(t, Card(CardItem{Tweet: tw, Matched: []string{"golang", p}}))
				assertInert(t, doc)
				wantText(t, doc.Find(".text").Text(), tw.Text)
				if doc.Find(".text mark.match").Length() == 0 {
					t.Error("no word is marked")
				}
				doc.Find(".text mark.match").Each(func(_ int, m *goquery.Selection) {
					if m.Children().Length() != 0 {
						t.Errorf("a mark holds elements: %s", outer(m.Nodes[0]))
					}
				})
			})
		}
	}
}

func TestPageRendersPayloadsInert(t *testing.T) {
	for _, p := range payloads {
		t.Run("names holding "+p+" render inert", func(t *testing.T) {
			doc := renderDoc(t, Page(PageModel{
				Title:        p,
				Source:       p,
				Notice:       p,
				Trends:       []TrendItem{{Name: p, Members: 1}},
				Columns:      []ColumnModel{{Room: p, Epoch: p, Tweets: []CardItem{{Seq: 1, Tweet: xssTweet(), Matched: []string{p}}}}},
				SourceStatus: &SourceBanner{SourceName: p, State: stream.SourceFailed, Reason: p},
				Trending:     []stream.TagCount{{Tag: p, Count: 1}},
			}))
			assertInert(t, doc)
			wantText(t, byTestID(doc, "trend-name").Text(), p)
			wantText(t, byTestID(doc, "trend").AttrOr("data-room", ""), p)
			wantText(t, byTestID(doc, "column-title").Text(), p)
			wantText(t, byTestID(doc, "column").AttrOr("data-epoch", ""), p)
			wantText(t, byTestID(doc, "title").Text(), p)
			wantText(t, byTestID(doc, "source").Text(), p)
			wantText(t, byTestID(doc, "page-notice").Text(), p)
			wantText(t, byTestID(doc, "source-banner-text").Text(), sourceLabel(p)+" has stopped: "+strings.TrimSpace(p))
			wantText(t, byTestID(doc, "trending-tag").AttrOr("data-room", ""), p)
			wantText(t, byTestID(doc, "trending-tag").AttrOr("value", ""), p)
			wantText(t, byTestID(doc, "trending-name").Text(), trendingLabel(p))
		})
	}
	t.Run("a source state holding a payload renders inert", func(t *testing.T) {
		for _, p := range payloads {
			doc := renderDoc(t, Page(PageModel{SourceStatus: &SourceBanner{State: stream.SourceState(p)}}))
			assertInert(t, doc)
			wantText(t, byTestID(doc, "source-banner").AttrOr("data-state", ""), p)
		}
	})
}

// urlAttrs are the attributes whose value a browser follows as a URL.
var urlAttrs = map[string]bool{
	"href": true, "src": true, "action": true, "formaction": true, "srcset": true,
	"poster": true, "data": true, "cite": true, "background": true, "xlink:href": true,
}

// assertInert fails unless doc can run no script: no script element other
// than the page's own /assets/app.js, no element that embeds or redirects,
// no event handler attribute, no style attribute, and no URL attribute with
// a scheme other than http or https.
func assertInert(t *testing.T, doc *goquery.Document) {
	t.Helper()
	eachElement(doc, func(n *html.Node) {
		switch n.Data {
		case "script":
			if attr(n, "src") != "/assets/app.js" || n.FirstChild != nil {
				t.Errorf("unexpected script element: %s", outer(n))
			}
		case "iframe", "object", "embed", "base", "style", "svg", "math":
			t.Errorf("unexpected %s element: %s", n.Data, outer(n))
		case "meta":
			if attr(n, "http-equiv") != "" {
				t.Errorf("unexpected meta http-equiv: %s", outer(n))
			}
		}
		for _, a := range n.Attr {
			key := strings.ToLower(a.Key)
			switch {
			case strings.HasPrefix(key, "on"):
				t.Errorf("event handler attribute %s=%q on <%s>", a.Key, a.Val, n.Data)
			case key == "style":
				t.Errorf("style attribute %q on <%s>", a.Val, n.Data)
			case urlAttrs[key]:
				if s := scheme(a.Val); s != "" && s != "http" && s != "https" {
					t.Errorf("%s=%q on <%s> has scheme %q", a.Key, a.Val, n.Data, s)
				}
			}
		}
	})
}

// scheme returns the lower-cased scheme of a URL attribute's value as a
// browser reads it: it strips tabs and newlines anywhere and leading
// spaces and control characters. It returns "" for a relative URL.
func scheme(v string) string {
	v = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, v)
	v = strings.TrimLeftFunc(v, func(r rune) bool { return r <= ' ' })
	colon := strings.IndexByte(v, ':')
	if colon < 0 || strings.ContainsAny(v[:colon], "/?#") {
		return ""
	}
	return strings.ToLower(v[:colon])
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func outer(n *html.Node) string {
	var b strings.Builder
	_ = html.Render(&b, n)
	return b.String()
}

func TestScheme(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://a.example/", "https"},
		{"/?open=go", ""},
		{"/assets/app.js", ""},
		{"x/y:z", ""},
		{"javascript:alert(1)", "javascript"},
		{" JaVaScRiPt:alert(1)", "javascript"},
		{"\x01java\tscr\nipt:alert(1)", "javascript"},
		{"data:text/html,x", "data"},
	}
	for _, tt := range tests {
		t.Run("the checker reads "+tt.in+" as "+tt.want, func(t *testing.T) {
			if got := scheme(tt.in); got != tt.want {
				t.Errorf("scheme(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
