package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

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
		// Two refused names: both are explained.
		got := s.page(t, "/?open=!!!,%07").Find(`[data-testid="follow-error"]`).Text()
		if !strings.Contains(got, "no word to match") || !strings.Contains(got, "control character") {
			t.Errorf("follow error %q, want both refusals", got)
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

func TestOpeningAColumnFollowsItsTrend(t *testing.T) {
	s := start(t, nil, "-mock-rate", "200", "-trends", "golang,#webdev", "-max-trends", "3")

	t.Run("a trend no one follows yet gathers tweets from its first page", func(t *testing.T) {
		s.page(t, "/?open=kubernetes")
		var cards int
		for range 200 {
			cards = s.page(t, "/?open=kubernetes").Find(`[data-testid="column"][data-room="kubernetes"] [data-testid="card"]`).Length()
			if cards > 0 {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if cards == 0 {
			t.Fatal("the kubernetes column never showed a tweet without a WebSocket")
		}
		if got := s.page(t, "/").Find(`[data-testid="trend"][data-room="kubernetes"]`).AttrOr("data-custom", ""); got != "true" {
			t.Errorf("kubernetes listed with data-custom=%q, want a custom trend", got)
		}
	})
	t.Run("a hashtag from trending now opens the listed #room", func(t *testing.T) {
		doc := s.page(t, "/?open=webdev")
		if got := doc.Find(`[data-testid="column"]`).AttrOr("data-room", ""); got != "#webdev" {
			t.Errorf("open=webdev opened %q, want the listed #webdev", got)
		}
		if got := doc.Find(`[data-testid="trend"][data-room="webdev"]`).Length(); got != 0 {
			t.Error("open=webdev added a second room for the same tweets")
		}
		if got := s.page(t, "/?open=%23golang").Find(`[data-testid="column"]`).AttrOr("data-room", ""); got != "golang" {
			t.Errorf("open=#golang opened %q, want the listed golang", got)
		}
	})
	t.Run("a trend past -max-trends is refused in words", func(t *testing.T) {
		// golang, #webdev and kubernetes fill the three.
		doc := s.page(t, "/?open=golang,zig")
		if got := doc.Find(`[data-testid="follow-error"]`).Text(); !strings.Contains(got, "trends") {
			t.Errorf("follow error %q, want the refusal of a fourth trend", got)
		}
		if n := doc.Find(`[data-testid="column"]`).Length(); n != 1 {
			t.Errorf("%d columns, want golang's alone", n)
		}
		resp, body := s.get(t, "/column?room=zig")
		if resp.StatusCode != 409 || !strings.Contains(body, "trends") {
			t.Errorf("/column?room=zig: %d %q, want 409 with the refusal", resp.StatusCode, body)
		}
	})
}

func TestOnlyAPageOrTheScriptMakesATrendFollowed(t *testing.T) {
	s := start(t, nil, "-mock-rate", "100", "-trends", "golang")
	listed := func(room string) bool {
		return s.page(t, "/").Find(`[data-testid="trend"][data-room="`+room+`"]`).Length() > 0
	}
	tests := []struct {
		name, method, path string
		header             map[string]string
		follows            bool
	}{
		{"a page of this site", "GET", "/?open=one", map[string]string{"Sec-Fetch-Dest": "document", "Sec-Fetch-Site": "same-origin"}, true},
		{"a link from another site", "GET", "/?open=two", map[string]string{"Sec-Fetch-Dest": "document", "Sec-Fetch-Site": "cross-site"}, true},
		{"a client that does not say", "GET", "/?open=three", nil, true},
		{"the script's fetch of a column", "GET", "/column?room=four", map[string]string{"Sec-Fetch-Dest": "empty", "Sec-Fetch-Site": "same-origin"}, true},
		{"an image on another site's page", "GET", "/?open=five", map[string]string{"Sec-Fetch-Dest": "image", "Sec-Fetch-Site": "cross-site"}, false},
		{"another site's fetch of a column", "GET", "/column?room=six", map[string]string{"Sec-Fetch-Dest": "empty", "Sec-Fetch-Site": "cross-site"}, false},
		{"a HEAD", "HEAD", "/?open=seven", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.header {
				h.Set(k, v)
			}
			res, _ := s.fetch(t, tt.method, tt.path, h)
			if res.StatusCode != 200 {
				t.Fatalf("status %d", res.StatusCode)
			}
			room := tt.path[strings.IndexByte(tt.path, '=')+1:]
			if got := listed(room); got != tt.follows {
				t.Errorf("%s listed: %v, want %v", room, got, tt.follows)
			}
		})
	}
	t.Run("the page that opens a trend lists it", func(t *testing.T) {
		if s.page(t, "/?open=eight").Find(`[data-testid="trend"][data-room="eight"]`).Length() != 1 {
			t.Error("the page that followed eight does not list it")
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

func TestOpenedRoomsSplitsOnCommasBeforeUnescaping(t *testing.T) {
	tests := []struct {
		name, query string
		want        []string
	}{
		{"names in one value", "open=golang,rust", []string{"golang", "rust"}},
		{"an escaped comma stays in its name", "open=salt%2Cpepper,golang", []string{"salt,pepper", "golang"}},
		{"every open field, in order, the others ignored", "big=1&open=a&x=open&open=%23b+c", []string{"a", "#b c"}},
		{"a name that does not unescape is kept for the trend check", "open=100%", []string{"100%"}},
		{"none", "big=1", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := openedRooms(tt.query); strings.Join(got, "|") != strings.Join(tt.want, "|") || len(got) != len(tt.want) {
				t.Errorf("openedRooms(%q) = %q, want %q", tt.query, got, tt.want)
			}
		})
	}
}

func TestATrendWithACommaSurvivesTheLinks(t *testing.T) {
	s := start(t, nil, "-mock-rate", "100", "-trends", "golang,rust")
	doc := s.page(t, "/?open=salt%2Cpepper,golang")
	var rooms []string
	doc.Find(`[data-testid="column"]`).Each(func(_ int, c *goquery.Selection) { rooms = append(rooms, c.AttrOr("data-room", "")) })
	if strings.Join(rooms, "|") != "salt,pepper|golang" {
		t.Fatalf("columns %q, want salt,pepper and golang", rooms)
	}
	// The close link of golang keeps salt,pepper whole, and so does the
	// page it leads to.
	close := doc.Find(`[data-testid="column"][data-room="golang"] a[data-testid="close"]`).AttrOr("href", "")
	if got := s.page(t, close).Find(`[data-testid="column"]`).AttrOr("data-room", ""); got != "salt,pepper" {
		t.Errorf("%s opened %q, want salt,pepper", close, got)
	}
}
