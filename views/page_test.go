package views

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html"

	"github.com/tweetstreamer/tweetstreamer/stream"
)

func samplePage() PageModel {
	return PageModel{
		Title:  "Tweet Streamer",
		Source: "mock",
		Trends: []TrendItem{
			{Name: "golang", Members: 3, PerMinute: 120},
			{Name: "#go", Members: 1, PerMinute: 7},
			{Name: "climate change", Members: 0, PerMinute: 2, Custom: true},
		},
		Columns: []ColumnModel{
			{Room: "golang", Epoch: "k3x9", Seq: 41, Members: 3, PerMinute: 120, Tweets: backlog(2)},
			{Room: "#go", Epoch: "p0q1", Seq: 7, Members: 1, PerMinute: 7},
		},
		MaxColumns: 8,
		SourceStatus: &SourceBanner{
			SourceName: "mock",
			State:      stream.SourceBackingOff,
			RetryAt:    time.Date(2026, 2, 11, 12, 3, 5, 0, time.UTC),
			Reason:     "HTTP 420: rate limited",
		},
		Trending:       []stream.TagCount{{Tag: "golang", Count: 42}, {Tag: "rust", Count: 9}},
		TrendingWindow: 10 * time.Minute,
		StylesheetURL:  "/assets/app.0a1b2c3d.css",
		ScriptURL:      "/assets/app.4e5f6a7b.js",
	}
}

func TestPageDocument(t *testing.T) {
	out := renderHTML(t, Page(samplePage()))
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name string
		got  string
		want string
	}{
		{"it starts with the doctype", out[:len("<!doctype html>")], "<!doctype html>"},
		{"it is in English", doc.Find("html").AttrOr("lang", ""), "en"},
		{"it declares UTF-8", fmt.Sprint(doc.Find(`head meta[charset="utf-8"]`).Length()), "1"},
		{"it has a viewport", doc.Find(`head meta[name="viewport"]`).AttrOr("content", ""), "width=device-width, initial-scale=1"},
		{"it has a title", doc.Find("head title").Text(), "Tweet Streamer"},
		{"it links the stylesheet at its URL", doc.Find(`head link[rel="stylesheet"]`).AttrOr("href", ""), "/assets/app.0a1b2c3d.css"},
		{"it loads the script from its URL", doc.Find("head script").AttrOr("src", ""), "/assets/app.4e5f6a7b.js"},
		{"it defers the script", fmt.Sprint(doc.Find("head script[defer]").Length()), "1"},
		{"the body carries the column limit", doc.Find("body").AttrOr("data-max-columns", ""), "8"},
		{"the header shows the title", byTestID(doc, "title").Text(), "Tweet Streamer"},
		{"the header shows the source", byTestID(doc, "source").Text(), "mock"},
		{"the connection state starts connecting", byTestID(doc, "conn-state").AttrOr("data-state", ""), "connecting"},
		{"the connection state says so", byTestID(doc, "conn-state").Text(), "connecting…"},
		{"the connection state is a span", fmt.Sprint(byTestID(doc, "conn-state").Is("span")), "true"},
		{"the page notice starts hidden", fmt.Sprint(byTestID(doc, "page-notice").Is("div[hidden]")), "true"},
		{"the page notice starts empty", byTestID(doc, "page-notice").Text(), ""},
		{"the columns are in main", fmt.Sprint(byTestID(doc, "columns").Is("main")), "true"},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if c.got != c.want {
				t.Errorf("got %q, want %q", c.got, c.want)
			}
		})
	}
}

func TestPageListsTrends(t *testing.T) {
	doc := renderDoc(t, Page(samplePage()))
	nav := byTestID(doc, "trends")
	if !nav.Is("nav") {
		t.Fatal("trends is not a nav")
	}
	items := byTestID(nav, "trend")
	wantCount(t, items, 3)
	wantCount(t, nav.Find(`ul > li[data-testid="trend"]`), 3)
	want := []struct {
		room, href, members, rate, custom string
	}{
		// golang and #go are open: their links keep the page as it is, and
		// another trend's adds its column to them.
		{"golang", "/?open=golang,%23go", "3", "120", "false"},
		{"#go", "/?open=golang,%23go", "1", "7", "false"},
		{"climate change", "/?open=golang,%23go,climate+change", "0", "2", "true"},
	}
	items.Each(func(i int, li *goquery.Selection) {
		w := want[i]
		t.Run("trend "+w.room, func(t *testing.T) {
			a := li.Find("a.trend")
			wantText(t, li.AttrOr("data-room", ""), w.room)
			wantText(t, li.AttrOr("data-custom", ""), w.custom)
			wantText(t, a.AttrOr("href", ""), w.href)
			wantText(t, a.AttrOr("data-room", ""), w.room)
			wantText(t, byTestID(a, "trend-name").Text(), w.room)
			wantText(t, byTestID(li, "trend-members").Text(), w.members)
			wantText(t, byTestID(li, "trend-rate").Text(), w.rate)
		})
	})
	t.Run("the follow form reloads the page with the trend added to the open ones", func(t *testing.T) {
		form := byTestID(nav, "follow-form")
		wantText(t, form.AttrOr("action", ""), "/")
		wantText(t, form.AttrOr("method", ""), "get")
		kept := form.Find(`input[type="hidden"][name="open"]`)
		wantCount(t, kept, 2)
		wantText(t, kept.Eq(0).AttrOr("value", ""), "golang")
		wantText(t, kept.Eq(1).AttrOr("value", ""), "#go")
		input := form.Find(`input[name="open"]:not([type="hidden"])`)
		wantCount(t, input, 1)
		wantText(t, input.AttrOr("maxlength", ""), "60")
		wantText(t, input.AttrOr("placeholder", ""), "Follow a trend…")
		if _, ok := input.Attr("required"); !ok {
			t.Error("the input is not required")
		}
		wantText(t, form.Find("button").Text(), "Follow")
	})
}

func TestPageRendersColumnsInOrder(t *testing.T) {
	doc := renderDoc(t, Page(samplePage()))
	cols := byTestID(byTestID(doc, "columns"), "column")
	var rooms []string
	cols.Each(func(_ int, s *goquery.Selection) { rooms = append(rooms, s.AttrOr("data-room", "")) })
	wantText(t, strings.Join(rooms, ","), "golang,#go")
	wantText(t, cols.First().AttrOr("data-epoch", ""), "k3x9")
	wantText(t, cols.First().AttrOr("data-seq", ""), "41")
	wantCount(t, byTestID(cols.First(), "card"), 2)
}

func TestPageShowsItsNotice(t *testing.T) {
	m := samplePage()
	m.Notice = "bad trend: a trend needs a name"
	notice := byTestID(renderDoc(t, Page(m)), "page-notice")
	t.Run("the notice is visible", func(t *testing.T) {
		if _, hidden := notice.Attr("hidden"); hidden {
			t.Error("page-notice is hidden")
		}
	})
	t.Run("the notice says why", func(t *testing.T) { wantText(t, notice.Text(), m.Notice) })
}

func TestPageWithNothingOpen(t *testing.T) {
	doc := renderDoc(t, Page(PageModel{Title: "Tweet Streamer"}))
	t.Run("has no columns", func(t *testing.T) { wantCount(t, byTestID(doc, "column"), 0) })
	t.Run("has an empty trend list", func(t *testing.T) { wantCount(t, byTestID(doc, "trend"), 0) })
	t.Run("still offers the follow form", func(t *testing.T) { wantCount(t, byTestID(doc, "follow-form"), 1) })
	t.Run("hides an empty source", func(t *testing.T) { wantCount(t, byTestID(doc, "source"), 0) })
	t.Run("says what to do", func(t *testing.T) { wantCount(t, byTestID(doc, "columns-empty"), 1) })
}

// TestPageHoldsUnderStrictCSP checks what a Content-Security-Policy of
// script-src 'self'; style-src 'self' requires of the markup.
func TestPageHoldsUnderStrictCSP(t *testing.T) {
	doc := renderDoc(t, Page(samplePage()))
	t.Run("every script has a src and no body", func(t *testing.T) {
		doc.Find("script").Each(func(_ int, s *goquery.Selection) {
			if s.AttrOr("src", "") == "" || s.Nodes[0].FirstChild != nil {
				t.Errorf("inline script: %s", outer(s.Nodes[0]))
			}
		})
	})
	t.Run("there is no style element", func(t *testing.T) { wantCount(t, doc.Find("style"), 0) })
	for _, tt := range []struct {
		name string
		bad  func(key string) bool
	}{
		{"no element has a style attribute", func(key string) bool { return key == "style" }},
		{"no element has an event handler attribute", func(key string) bool { return strings.HasPrefix(key, "on") }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			eachElement(doc, func(n *html.Node) {
				for _, a := range n.Attr {
					if tt.bad(strings.ToLower(a.Key)) {
						t.Errorf("%s=%q on <%s>", a.Key, a.Val, n.Data)
					}
				}
			})
		})
	}
}
