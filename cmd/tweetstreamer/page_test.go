package main

import (
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// page gets path and parses the page it answers.
func (s *server) page(t *testing.T, path string) *goquery.Document {
	t.Helper()
	resp, body := s.get(t, path)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: status %d, body %s", path, resp.StatusCode, body)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestThePageWorksWithoutTheScript(t *testing.T) {
	s := start(t, nil, "-mock-rate", "100", "-trends", "golang,rust,zig", "-max-rooms", "2")

	t.Run("a trend link adds its column to the open ones", func(t *testing.T) {
		doc := s.page(t, "/?open=golang")
		if got := doc.Find(`a.trend[data-room="rust"]`).AttrOr("href", ""); got != "/?open=golang,rust" {
			t.Errorf("rust's link = %q, want /?open=golang,rust", got)
		}
		if got := doc.Find(`a.trend[data-room="golang"]`).AttrOr("href", ""); got != "/?open=golang" {
			t.Errorf("the open trend's link = %q, want the page as it is", got)
		}
	})
	t.Run("each close is a link to the page without its column", func(t *testing.T) {
		doc := s.page(t, "/?open=golang,rust")
		for room, want := range map[string]string{"golang": "/?open=rust", "rust": "/?open=golang"} {
			got := doc.Find(`[data-testid="column"][data-room="`+room+`"] a[data-testid="close"]`).AttrOr("href", "")
			if got != want {
				t.Errorf("%s's close = %q, want %q", room, got, want)
			}
		}
	})
	t.Run("the follow box keeps the open columns", func(t *testing.T) {
		doc := s.page(t, "/?open=golang")
		if got := doc.Find(`[data-testid="follow-form"] input[type="hidden"][name="open"]`).AttrOr("value", ""); got != "golang" {
			t.Errorf("the follow form carries open=%q, want golang", got)
		}
		// The form submits both fields: the server opens both.
		doc = s.page(t, "/?open=golang&open=zig")
		if n := doc.Find(`[data-testid="column"]`).Length(); n != 2 {
			t.Errorf("%d columns for open=golang&open=zig, want 2", n)
		}
	})
	t.Run("a refused trend is explained beside the follow box", func(t *testing.T) {
		doc := s.page(t, "/?open=golang&open=!!!")
		msg := doc.Find(`[data-testid="follow-error"]`)
		if _, hidden := msg.Attr("hidden"); hidden || !strings.Contains(msg.Text(), "no word to match") {
			t.Errorf("follow error %q (hidden %v), want the refusal", msg.Text(), hidden)
		}
		if n := doc.Find(`[data-testid="column"]`).Length(); n != 1 {
			t.Errorf("%d columns, want golang's still open", n)
		}
	})
	t.Run("more columns than a page may follow are named, not dropped silently", func(t *testing.T) {
		doc := s.page(t, "/?open=golang,rust,zig")
		if n := doc.Find(`[data-testid="column"]`).Length(); n != 2 {
			t.Errorf("%d columns, want the limit of 2", n)
		}
		notice := doc.Find(`[data-testid="page-notice"]`)
		if _, hidden := notice.Attr("hidden"); hidden || !strings.Contains(notice.Text(), "at most 2") || !strings.Contains(notice.Text(), "zig was not opened") {
			t.Errorf("notice %q (hidden %v), want it to say zig was not opened", notice.Text(), hidden)
		}
	})
	t.Run("projector mode comes from the URL and its toggle keeps the columns", func(t *testing.T) {
		doc := s.page(t, "/?open=golang&big=1")
		if !doc.Find("html").HasClass("big") {
			t.Error("?big=1 did not turn on projector mode")
		}
		toggle := doc.Find(`[data-testid="big-toggle"]`)
		if toggle.AttrOr("aria-pressed", "") != "true" || toggle.AttrOr("value", "") != "0" {
			t.Errorf("toggle pressed=%q value=%q, want pressed, turning it off", toggle.AttrOr("aria-pressed", ""), toggle.AttrOr("value", ""))
		}
		if got := toggle.Closest("form").Find(`input[name="open"]`).AttrOr("value", ""); got != "golang" {
			t.Errorf("the toggle's form keeps open=%q, want golang", got)
		}
		if got := doc.Find(`a.trend[data-room="rust"]`).AttrOr("href", ""); got != "/?open=golang,rust&big=1" {
			t.Errorf("rust's link = %q, want it to keep projector mode", got)
		}
		if s.page(t, "/?open=golang").Find("html").HasClass("big") {
			t.Error("projector mode without ?big=1")
		}
	})
}

func TestTrendsMessagesCarryTheListsMarkup(t *testing.T) {
	s := start(t, nil, "-mock-rate", "100", "-trends", "golang,rust")
	c := s.dial(t)
	m := c.nextOfType("trends")
	html, _ := m["html"].(string)
	doc, err := goquery.NewDocumentFromReader(strings.NewReader("<ul>" + html + "</ul>"))
	if err != nil {
		t.Fatal(err)
	}
	var rooms []string
	doc.Find(`li[data-testid="trend"]`).Each(func(_ int, li *goquery.Selection) { rooms = append(rooms, li.AttrOr("data-room", "")) })
	if strings.Join(rooms, ",") != "golang,rust" {
		t.Errorf("trends html lists %v, want golang and rust as the page does; html %q", rooms, html)
	}
}
