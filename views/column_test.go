package views

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// backlog returns n cards with IDs and seqs 1 to n, oldest first, as
// history stores them, each matching "golang".
func backlog(n int) []CardItem {
	ts := make([]CardItem, n)
	for i := range ts {
		ts[i] = CardItem{Seq: uint64(i + 1), Tweet: sampleTweet(), Matched: []string{"golang"}}
		ts[i].Tweet.ID = fmt.Sprint(i + 1)
	}
	return ts
}

func ids(ts []CardItem) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Tweet.ID
	}
	return out
}

func TestNewestFirst(t *testing.T) {
	tests := []struct {
		name    string
		backlog []CardItem
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

func reverse(ts []CardItem) []CardItem {
	out := make([]CardItem, len(ts))
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

	var cardIDs, cardSeqs []string
	byTestID(col, "tweets").Children().Each(func(_ int, s *goquery.Selection) {
		cardIDs = append(cardIDs, s.AttrOr("data-id", ""))
		cardSeqs = append(cardSeqs, s.AttrOr("data-seq", "none"))
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
		{"every card carries its seq in the room", fmt.Sprint(cardSeqs), "[3 2 1]"},
		{"every card marks the words it matched", fmt.Sprint(byTestID(col, "card").Find(".text span.hashtag > mark.match").Length()), "3"},
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
