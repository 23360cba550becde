package views

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/tweetstreamer/tweetstreamer/stream"
)

// backlog returns n tweets with IDs "1" to "n", oldest first, as history
// stores them.
func backlog(n int) []stream.Tweet {
	ts := make([]stream.Tweet, n)
	for i := range ts {
		ts[i] = sampleTweet()
		ts[i].ID = fmt.Sprint(i + 1)
	}
	return ts
}

func ids(ts []stream.Tweet) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.ID
	}
	return out
}

func TestNewestFirst(t *testing.T) {
	tests := []struct {
		name    string
		backlog []stream.Tweet
		want    []string
	}{
		{"an empty backlog gives nothing", nil, []string{}},
		{"one tweet stays", backlog(1), []string{"1"}},
		{"the order is reversed", backlog(3), []string{"3", "2", "1"}},
		{"only the newest maxCards are kept", backlog(maxCards + 2), ids(reverse(backlog(maxCards + 2)[2:]))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := ids(tt.backlog)
			if got := ids(newestFirst(tt.backlog)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("newestFirst = %v, want %v", got, tt.want)
			}
			if !reflect.DeepEqual(ids(tt.backlog), before) {
				t.Error("newestFirst changed its argument")
			}
		})
	}
}

func reverse(ts []stream.Tweet) []stream.Tweet {
	out := make([]stream.Tweet, len(ts))
	for i, t := range ts {
		out[len(ts)-1-i] = t
	}
	return out
}

func TestColumn(t *testing.T) {
	doc := renderDoc(t, Column(ColumnModel{
		Room:      "climate change",
		Epoch:     "k3x9",
		Seq:       18446744073709551615,
		Members:   3,
		PerMinute: 120,
		Tweets:    backlog(3),
	}))
	col := byTestID(doc, "column")
	wantCount(t, col, 1)

	var cardIDs []string
	byTestID(col, "tweets").Children().Each(func(_ int, s *goquery.Selection) {
		cardIDs = append(cardIDs, s.AttrOr("data-id", ""))
	})
	checks := []struct {
		name string
		got  string
		want string
	}{
		{"the column is a section.column", fmt.Sprint(col.Is("section.column")), "true"},
		{"the column names its room", col.AttrOr("data-room", ""), "climate change"},
		{"the column embeds the epoch", col.AttrOr("data-epoch", ""), "k3x9"},
		{"the column embeds the last seq in full", col.AttrOr("data-seq", ""), "18446744073709551615"},
		{"the header shows the room", byTestID(col, "column-title").Text(), "climate change"},
		{"the header shows the members", byTestID(col, "column-members").Text(), "3"},
		{"the header shows the rate", byTestID(col, "column-rate").Text(), "120"},
		{"the pause button is a button", byTestID(col, "pause").AttrOr("data-action", ""), "pause"},
		{"the pause button says pause", byTestID(col, "pause").Text(), "pause"},
		{"the close button closes", byTestID(col, "close").AttrOr("data-action", ""), "close"},
		{"the close button says close", byTestID(col, "close").Text(), "close"},
		{"the notice starts hidden", fmt.Sprint(byTestID(col, "column-notice").Is("p[hidden]")), "true"},
		{"the notice starts empty", byTestID(col, "column-notice").Text(), ""},
		{"the tweets are an ordered list", fmt.Sprint(byTestID(col, "tweets").Is("ol")), "true"},
		{"the backlog is newest first", fmt.Sprint(cardIDs), "[3 2 1]"},
		{"every item is a card", fmt.Sprint(byTestID(col, "tweets").Children().Filter(`li[data-testid="card"]`).Length()), "3"},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if c.got != c.want {
				t.Errorf("got %q, want %q", c.got, c.want)
			}
		})
	}
}

func TestColumnOfARoomThatDoesNotExistYet(t *testing.T) {
	col := byTestID(renderDoc(t, Column(ColumnModel{Room: "golang"})), "column")
	t.Run("has an empty epoch, so the script joins without since", func(t *testing.T) {
		if v, ok := col.Attr("data-epoch"); !ok || v != "" {
			t.Errorf("data-epoch = %q (present %v), want present and empty", v, ok)
		}
	})
	t.Run("has seq 0", func(t *testing.T) {
		wantText(t, col.AttrOr("data-seq", ""), "0")
	})
	t.Run("has no cards", func(t *testing.T) {
		wantCount(t, byTestID(col, "card"), 0)
	})
}
