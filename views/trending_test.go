package views

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/tweetstreamer/tweetstreamer/stream"
)

func TestTrendingNow(t *testing.T) {
	tags := []stream.TagCount{{Tag: "golang", Count: 42}, {Tag: "café", Count: 7}, {Tag: "world cup", Count: 3}}
	doc := renderDoc(t, TrendingNow(tags, 10*time.Minute, Links{}))
	section := byTestID(doc, "trending")
	if _, hidden := section.Attr("hidden"); hidden {
		t.Fatal("the list is hidden")
	}
	form := section.Find("form")
	checks := []struct {
		name, got, want string
	}{
		{"it is a section", fmt.Sprint(section.Is("section")), "true"},
		{"it is named by its title", section.AttrOr("aria-labelledby", ""), "trending-title"},
		{"the title says what it is", section.Find("#trending-title").Contents().First().Text(), "Trending now"},
		{"the title says the window", byTestID(section, "trending-window").Text(), "last 10 min"},
		{"the buttons reload the page", form.AttrOr("action", ""), "/"},
		{"with a GET", form.AttrOr("method", ""), "get"},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) { wantText(t, strings.TrimSpace(c.got), c.want) })
	}

	buttons := byTestID(section, "trending-tag")
	wantCount(t, buttons, len(tags))
	want := []struct{ room, label, count string }{
		{"golang", "#golang", "42"},
		{"café", "#café", "7"},
		{"world cup", "world cup", "3"},
	}
	buttons.Each(func(i int, b *goquery.Selection) {
		w := want[i]
		t.Run("tag "+w.room, func(t *testing.T) {
			wantText(t, fmt.Sprint(b.Is(`li > button[type="submit"]`)), "true")
			wantText(t, b.AttrOr("name", ""), "open")
			wantText(t, b.AttrOr("value", ""), w.room)
			wantText(t, b.AttrOr("data-room", ""), w.room)
			wantText(t, byTestID(b, "trending-name").Text(), w.label)
			wantText(t, byTestID(b, "trending-count").Text(), w.count)
		})
	})
}

func TestTrendingNowHides(t *testing.T) {
	tests := []struct {
		name string
		tags []stream.TagCount
	}{
		{"an empty list", nil},
		{"a list of blank tags", []stream.TagCount{{Tag: "", Count: 3}, {Tag: " ", Count: 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			section := byTestID(renderDoc(t, TrendingNow(tt.tags, time.Minute, Links{})), "trending")
			wantCount(t, section, 1)
			if _, hidden := section.Attr("hidden"); !hidden {
				t.Error("the list is not hidden")
			}
			wantCount(t, byTestID(section, "trending-tag"), 0)
		})
	}
	t.Run("the window when it is not known", func(t *testing.T) {
		w := byTestID(renderDoc(t, TrendingNow([]stream.TagCount{{Tag: "go", Count: 1}}, 0, Links{})), "trending-window")
		if _, hidden := w.Attr("hidden"); !hidden || w.Text() != "" {
			t.Errorf("window %q, hidden %v; want empty and hidden", w.Text(), hidden)
		}
	})
}

func TestWindowText(t *testing.T) {
	tests := []struct {
		window time.Duration
		want   string
	}{
		{0, ""},
		{-time.Minute, ""},
		{time.Millisecond, ""},
		{90 * time.Second, "last 90 s"},
		{10 * time.Minute, "last 10 min"},
		{2 * time.Hour, "last 2 h"},
		{90 * time.Minute, "last 90 min"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.window, " is ", tt.want), func(t *testing.T) {
			wantText(t, windowText(tt.window), tt.want)
		})
	}
}

func TestPageShowsTrendingNow(t *testing.T) {
	doc := renderDoc(t, Page(samplePage()))
	section := byTestID(doc, "trending")
	t.Run("once", func(t *testing.T) { wantCount(t, section, 1) })
	t.Run("after the trend list", func(t *testing.T) {
		wantText(t, fmt.Sprint(byTestID(doc, "trends").Next().Is(`[data-testid="trending"]`)), "true")
	})
	t.Run("outside the trend list, whose links the script reads", func(t *testing.T) {
		wantCount(t, byTestID(byTestID(doc, "trends"), "trending-tag"), 0)
	})
	t.Run("with the model's tags", func(t *testing.T) {
		var got []string
		byTestID(section, "trending-name").Each(func(_ int, s *goquery.Selection) { got = append(got, s.Text()) })
		wantText(t, fmt.Sprint(got), "[#golang #rust]")
		wantText(t, byTestID(section, "trending-window").Text(), "last 10 min")
	})
}
