package views

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"

	"github.com/tweetstreamer/tweetstreamer/stream"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// sampleTweet is a tweet with every part a card shows, the same in every
// test that uses it: a retweet, with an image.
func sampleTweet() stream.Tweet {
	return stream.Tweet{
		ID:     "1790000000000000001",
		Source: "mock",
		Author: stream.Author{
			Handle:    "ada",
			Name:      "Ada Lovelace",
			AvatarURL: "https://img.example/ada.png",
		},
		Text:         "Reading https://go.dev/blog/go1.26 about #golang & friends",
		URL:          "https://x.example/ada/status/1790000000000000001",
		Lang:         "en",
		RetweetedBy:  &stream.Author{Handle: "grace", Name: "Grace Hopper"},
		ThumbnailURL: "https://img.example/ada/engine.jpg",
		CreatedAt:    time.Date(2026, 2, 11, 9, 30, 5, 0, time.UTC),
		IngestedAt:   time.Date(2026, 2, 11, 9, 30, 6, 0, time.UTC),
	}
}

// sampleMatched are the trends sampleTweet matches: "golang" for its
// hashtag, and "go friends" for a word of the text and one of its link.
var sampleMatched = []string{"golang", "go friends"}

func TestCard(t *testing.T) {
	tw := sampleTweet()
	doc := renderDoc(t, Card(CardItem{Tweet: tw}))

	card := byTestID(doc, "card")
	if card.Length() != 1 || !card.Is("li.card") {
		t.Fatalf("want one li.card, got %d", card.Length())
	}
	checks := []struct {
		name string
		got  string
		want string
	}{
		{"the card carries the tweet id", card.AttrOr("data-id", ""), tw.ID},
		{"the card carries the source", card.AttrOr("data-source", ""), tw.Source},
		{"the name is shown", card.Find(".name").Text(), "Ada Lovelace"},
		{"the handle is shown with an @", card.Find(".handle").Text(), "@ada"},
		{"the text is shown whole", card.Find(".text").Text(), tw.Text},
		{"the text carries its language", card.Find(".text").AttrOr("lang", ""), "en"},
		{"the URL in the text is a link", card.Find(".text").Find("a.link").AttrOr("href", ""), "https://go.dev/blog/go1.26"},
		{"the hashtag gets a span", card.Find(".text").Find("span.hashtag").Text(), "#golang"},
		{"nothing is marked when nothing matched", fmt.Sprint(card.Find("mark").Length()), "0"},
		{"a card without a seq carries none", fmt.Sprint(card.Is("[data-seq]")), "false"},
		{"the avatar is a picture", card.Find(".avatar").AttrOr("src", ""), tw.Author.AvatarURL},
		{"the open link goes to the original", card.Find("a.open").AttrOr("href", ""), tw.URL},
		{"the open link opens a new tab", card.Find("a.open").AttrOr("target", ""), "_blank"},
		{"the open link leaks nothing", card.Find("a.open").AttrOr("rel", ""), "noopener noreferrer nofollow"},
		{"the open link is called open", card.Find("a.open").Text(), "open"},
		{"the time is machine readable", card.Find("time").AttrOr("datetime", ""), "2026-02-11T09:30:05Z"},
		{"the time is short for people", card.Find("time").Text(), "Feb 11, 09:30 UTC"},
		{"the card is an article", card.Children().First().Nodes[0].Data, "article"},
		{"the retweeter is named by handle", byTestID(card, "retweeted-by").Text(), "retweeted by @grace"},
		{"the retweeter comes before the author", fmt.Sprint(card.Find("article").Children().First().Is(`[data-testid="retweeted-by"]`)), "true"},
		{"the thumbnail is a picture", byTestID(card, "thumbnail").AttrOr("src", ""), tw.ThumbnailURL},
		{"the thumbnail loads lazily", byTestID(card, "thumbnail").AttrOr("loading", ""), "lazy"},
		{"the thumbnail decodes off the main thread", byTestID(card, "thumbnail").AttrOr("decoding", ""), "async"},
		{"the thumbnail sends no referrer", byTestID(card, "thumbnail").AttrOr("referrerpolicy", ""), "no-referrer"},
		{"the thumbnail has an empty alt", fmt.Sprint(byTestID(card, "thumbnail").Is(`img[alt=""]`)), "true"},
		{"the thumbnail follows the text", fmt.Sprint(card.Find(".text").Next().Is(`[data-testid="thumbnail"]`)), "true"},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if c.got != c.want {
				t.Errorf("got %q, want %q", c.got, c.want)
			}
		})
	}
}

func TestCardFallbacks(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*stream.Tweet)
		check func(t *testing.T, doc *goquery.Document)
	}{
		{
			name: "a missing name shows the handle",
			edit: func(tw *stream.Tweet) { tw.Author.Name = "  " },
			check: func(t *testing.T, doc *goquery.Document) {
				wantText(t, doc.Find(".name").Text(), "ada")
				wantText(t, doc.Find(".handle").Text(), "@ada")
			},
		},
		{
			name: "a missing avatar shows initials instead of a picture",
			edit: func(tw *stream.Tweet) { tw.Author.AvatarURL = "" },
			check: func(t *testing.T, doc *goquery.Document) {
				wantCount(t, doc.Find("img.avatar"), 0)
				wantText(t, doc.Find("span.avatar.initials").Text(), "AL")
			},
		},
		{
			name: "a relative avatar URL shows initials",
			edit: func(tw *stream.Tweet) { tw.Author.AvatarURL = "/ada.png" },
			check: func(t *testing.T, doc *goquery.Document) {
				wantCount(t, doc.Find("img.avatar"), 0)
				wantText(t, doc.Find("span.avatar.initials").Text(), "AL")
			},
		},
		{
			name: "no language leaves out the lang attribute",
			edit: func(tw *stream.Tweet) { tw.Lang = "" },
			check: func(t *testing.T, doc *goquery.Document) {
				if _, ok := doc.Find(".text").Attr("lang"); ok {
					t.Error("card-text has a lang attribute")
				}
			},
		},
		{
			name: "a malformed language leaves out the lang attribute",
			edit: func(tw *stream.Tweet) { tw.Lang = "en us" },
			check: func(t *testing.T, doc *goquery.Document) {
				if _, ok := doc.Find(".text").Attr("lang"); ok {
					t.Error("card-text has a lang attribute")
				}
			},
		},
		{
			name: "no URL leaves out the open link",
			edit: func(tw *stream.Tweet) { tw.URL = "" },
			check: func(t *testing.T, doc *goquery.Document) {
				wantCount(t, doc.Find("a.open"), 0)
			},
		},
		{
			name: "a missing creation time shows the ingestion time",
			edit: func(tw *stream.Tweet) { tw.CreatedAt = time.Time{} },
			check: func(t *testing.T, doc *goquery.Document) {
				wantText(t, doc.Find("time").AttrOr("datetime", ""), "2026-02-11T09:30:06Z")
			},
		},
		{
			name: "no time at all leaves out the time",
			edit: func(tw *stream.Tweet) { tw.CreatedAt, tw.IngestedAt = time.Time{}, time.Time{} },
			check: func(t *testing.T, doc *goquery.Document) {
				wantCount(t, doc.Find("time"), 0)
			},
		},
		{
			name: "a tweet that is no retweet names no retweeter",
			edit: func(tw *stream.Tweet) { tw.RetweetedBy = nil },
			check: func(t *testing.T, doc *goquery.Document) {
				wantCount(t, byTestID(doc, "retweeted-by"), 0)
			},
		},
		{
			name: "a retweeter without a handle is named by name",
			edit: func(tw *stream.Tweet) { tw.RetweetedBy = &stream.Author{Handle: " ", Name: " Grace Hopper "} },
			check: func(t *testing.T, doc *goquery.Document) {
				wantText(t, byTestID(doc, "retweeted-by").Text(), "retweeted by Grace Hopper")
			},
		},
		{
			name: "a retweeter with neither handle nor name is left out",
			edit: func(tw *stream.Tweet) { tw.RetweetedBy = &stream.Author{} },
			check: func(t *testing.T, doc *goquery.Document) {
				wantCount(t, byTestID(doc, "retweeted-by"), 0)
			},
		},
		{
			name: "no thumbnail leaves out the picture",
			edit: func(tw *stream.Tweet) { tw.ThumbnailURL = "" },
			check: func(t *testing.T, doc *goquery.Document) {
				wantCount(t, byTestID(doc, "thumbnail"), 0)
				wantCount(t, doc.Find("img"), 1) // the avatar
			},
		},
		{
			name: "a javascript: thumbnail is not rendered",
			edit: func(tw *stream.Tweet) { tw.ThumbnailURL = "javascript:alert(1)" },
			check: func(t *testing.T, doc *goquery.Document) {
				wantCount(t, byTestID(doc, "thumbnail"), 0)
				wantCount(t, doc.Find("img"), 1) // the avatar
			},
		},
		{
			name: "a relative thumbnail URL is not rendered",
			edit: func(tw *stream.Tweet) { tw.ThumbnailURL = "/engine.jpg" },
			check: func(t *testing.T, doc *goquery.Document) {
				wantCount(t, byTestID(doc, "thumbnail"), 0)
			},
		},
		{
			name: "an http thumbnail is rendered, re-encoded",
			edit: func(tw *stream.Tweet) { tw.ThumbnailURL = `http://img.example/"a".jpg` },
			check: func(t *testing.T, doc *goquery.Document) {
				wantText(t, byTestID(doc, "thumbnail").AttrOr("src", ""), "http://img.example/%22a%22.jpg")
			},
		},
		{
			name: "a time in another zone is shown in UTC",
			edit: func(tw *stream.Tweet) {
				tw.CreatedAt = time.Date(2026, 2, 11, 10, 30, 5, 0, time.FixedZone("CET", 3600))
			},
			check: func(t *testing.T, doc *goquery.Document) {
				wantText(t, doc.Find("time").AttrOr("datetime", ""), "2026-02-11T09:30:05Z")
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tw := sampleTweet()
			tt.edit(&tw)
			tt.check(t, renderDoc(t, Card(CardItem{Tweet: tw})))
		})
	}
}

func TestDisplayName(t *testing.T) {
	tests := []struct {
		name   string
		author stream.Author
		want   string
	}{
		{"the name when there is one", stream.Author{Name: "Ada Lovelace", Handle: "ada"}, "Ada Lovelace"},
		{"the name without surrounding space", stream.Author{Name: "  Ada  ", Handle: "ada"}, "Ada"},
		{"the handle when the name is empty", stream.Author{Handle: "ada"}, "ada"},
		{"the handle when the name is blank", stream.Author{Name: " \t", Handle: "ada"}, "ada"},
		{"a placeholder when both are empty", stream.Author{}, unknownAuthor},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := displayName(tt.author); got != tt.want {
				t.Errorf("displayName(%+v) = %q, want %q", tt.author, got, tt.want)
			}
		})
	}
}

func TestInitials(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"first and last word", "Ada Lovelace", "AL"},
		{"first and last of three words", "Grace Brewster Hopper", "GH"},
		{"one word gives one letter", "gopher", "G"},
		{"letters are upper-cased", "rob pike", "RP"},
		{"punctuation is skipped", "@ada (lovelace)", "AL"},
		{"digits count", "404 club", "4C"},
		{"other scripts count", "émile zola", "ÉZ"},
		{"nothing to show gives a question mark", "!!! ???", "?"},
		{"empty gives a question mark", "", "?"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := initials(tt.in); got != tt.want {
				t.Errorf("initials(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestLangTag(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"a language", "en", "en"},
		{"a language and region", "pt-BR", "pt-BR"},
		{"a script subtag", "zh-Hant-TW", "zh-Hant-TW"},
		{"a numeric region", "es-419", "es-419"},
		{"empty stays empty", "", ""},
		{"a space is refused", "en US", ""},
		{"markup is refused", `"><script>`, ""},
		{"a digit first is refused", "1en", ""},
		{"an empty subtag is refused", "en--us", ""},
		{"a subtag over 8 letters is refused", "en-abcdefghi", ""},
		{"non-ASCII is refused", "fr-ç", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := langTag(tt.in); got != tt.want {
				t.Errorf("langTag(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestCardHTMLMatchesCard(t *testing.T) {
	tests := []struct {
		name    string
		tweet   stream.Tweet
		matched []string
	}{
		{"for an ordinary tweet", sampleTweet(), nil},
		{"for a tweet with matched words", sampleTweet(), sampleMatched},
		{"for an empty tweet", stream.Tweet{}, nil},
		{"for a tweet full of payloads", xssTweet(), []string{"script", "alert"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CardHTML(tt.tweet, tt.matched)
			if err != nil {
				t.Fatalf("CardHTML: %v", err)
			}
			var want bytes.Buffer
			if err := Card(CardItem{Tweet: tt.tweet, Matched: tt.matched}).Render(context.Background(), &want); err != nil {
				t.Fatalf("Card: %v", err)
			}
			if got != want.String() {
				t.Errorf("CardHTML differs from Card\n got %s\nwant %s", got, want.String())
			}
		})
	}
}

func TestCardSeq(t *testing.T) {
	t.Run("a card with a seq carries it in full", func(t *testing.T) {
		doc := renderDoc(t, Card(CardItem{Seq: 18446744073709551615, Tweet: sampleTweet()}))
		wantText(t, byTestID(doc, "card").AttrOr("data-seq", ""), "18446744073709551615")
	})
	t.Run("a live card carries no seq, which differs from room to room", func(t *testing.T) {
		out, err := CardHTML(sampleTweet(), sampleMatched)
		if err != nil {
			t.Fatalf("CardHTML: %v", err)
		}
		doc := renderDoc(t, templ.Raw(out))
		wantCount(t, byTestID(doc, "card"), 1)
		if v, ok := byTestID(doc, "card").Attr("data-seq"); ok {
			t.Errorf("the live card has data-seq=%q, want none", v)
		}
	})
}

func TestCardMarksMatchedWords(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		matched []string
		// marks are the texts of the marks, in order; inTag those inside a
		// hashtag's span.
		marks, inTag []string
	}{
		{"case is folded", "GoLang, GOLANG and golang", []string{"golang"}, []string{"GoLang", "GOLANG", "golang"}, nil},
		{"accents fold too", "Café, CAFÉ, café", []string{"café"}, []string{"Café", "CAFÉ", "café"}, nil},
		{"a hashtag's body is marked inside its span", "love #GoLang", []string{"golang"}, []string{"GoLang"}, []string{"GoLang"}},
		{"each word of a trend of several words is marked", "climate: change the Climate", []string{"climate change"}, []string{"climate", "change", "Climate"}, nil},
		{"no part of a word is marked", "golangers and golang_x", []string{"golang"}, nil, nil},
		{"a match inside a URL is not marked", "https://golang.example/golang?q=golang golang", []string{"golang"}, []string{"golang"}, nil},
		{"a trend not among the matched is not marked", "go and rust", []string{"rust"}, []string{"rust"}, nil},
		{"nothing matched marks nothing", "go and rust", nil, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tw := sampleTweet()
			tw.Text = tt.text
			doc := renderDoc(t, Card(CardItem{Tweet: tw, Matched: tt.matched}))
			text := doc.Find(".text")
			wantText(t, text.Text(), tt.text)
			if got := texts(text.Find("mark.match")); !slices.Equal(got, tt.marks) {
				t.Errorf("marked %q, want %q", got, tt.marks)
			}
			if got := texts(text.Find("span.hashtag > mark.match")); !slices.Equal(got, tt.inTag) {
				t.Errorf("marked %q inside hashtags, want %q", got, tt.inTag)
			}
			wantCount(t, text.Find("a mark"), 0)
		})
	}
	t.Run("HTML around a marked word stays escaped", func(t *testing.T) {
		tw := sampleTweet()
		tw.Text = "<b>golang</b> & <i>#golang</i>"
		out, err := CardHTML(tw, []string{"golang"})
		if err != nil {
			t.Fatalf("CardHTML: %v", err)
		}
		for _, want := range []string{
			`&lt;b&gt;<mark class="match">golang</mark>&lt;/b&gt; &amp; &lt;i&gt;`,
			`<span class="hashtag">#<mark class="match">golang</mark></span>&lt;/i&gt;`,
		} {
			if !strings.Contains(out, want) {
				t.Errorf("card has no %s\n%s", want, out)
			}
		}
	})
}

// texts returns the text of every element of s.
func texts(s *goquery.Selection) []string {
	var out []string
	s.Each(func(_ int, e *goquery.Selection) { out = append(out, e.Text()) })
	return out
}

// TestCardSnapshot pins the whole markup of one card with marked words,
// which the script and the stylesheet rely on. Run with -update to accept a
// deliberate change.
func TestCardSnapshot(t *testing.T) {
	got, err := CardHTML(sampleTweet(), sampleMatched)
	if err != nil {
		t.Fatalf("CardHTML: %v", err)
	}
	golden := filepath.Join("testdata", "card.golden.html")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("read golden file (run go test -update to create it): %v", err)
	}
	if got != string(want) {
		t.Errorf("card markup changed (run go test ./views -run TestCardSnapshot -update if that is intended)\n got %s\nwant %s", got, want)
	}
}
