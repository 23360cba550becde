package stream

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestBound(t *testing.T) {
	long := func(n int) string { return strings.Repeat("a", n) }
	url := func(n int) string { return "https://example.com/" + long(n-len("https://example.com/")) }

	t.Run("a tweet within every limit is kept as it is", func(t *testing.T) {
		tw := Tweet{ID: long(MaxIDBytes), Source: "mock", Text: long(MaxTextBytes),
			Author: Author{Handle: long(MaxHandleBytes), Name: long(MaxNameBytes), AvatarURL: url(MaxURLBytes)},
			URL:    url(MaxURLBytes), Links: []string{url(MaxURLBytes)}, Tags: []string{long(MaxTagBytes)}, Lang: "en"}
		want := tw
		if !Bound(&tw) {
			t.Fatal("refused a tweet within the limits")
		}
		if tw.Text != want.Text || tw.Author != want.Author || tw.URL != want.URL || !slices.Equal(tw.Links, want.Links) || !slices.Equal(tw.Tags, want.Tags) {
			t.Fatalf("changed a tweet within the limits: %+v", tw)
		}
	})

	t.Run("an over-long text is cut at a whole character and ends with an ellipsis", func(t *testing.T) {
		tw := Tweet{ID: "1", Text: strings.Repeat("é", 1_000_000)} // two bytes each
		Bound(&tw)
		if len(tw.Text) > MaxTextBytes || !utf8.ValidString(tw.Text) || !strings.HasSuffix(tw.Text, "é…") {
			t.Fatalf("text of %d bytes, valid %v, ending %q", len(tw.Text), utf8.ValidString(tw.Text), tw.Text[len(tw.Text)-8:])
		}
		if len(tw.Text) < MaxTextBytes-len("é…") {
			t.Fatalf("cut to %d bytes, more than needed", len(tw.Text))
		}
	})

	t.Run("over-long names and handles are cut, their links dropped", func(t *testing.T) {
		retweeter := &Author{Handle: long(1000), Name: long(5000), AvatarURL: url(5000)}
		tw := Tweet{ID: "1", Text: "x", Author: *retweeter, RetweetedBy: retweeter}
		Bound(&tw)
		for _, a := range []Author{tw.Author, *tw.RetweetedBy} {
			if len(a.Handle) > MaxHandleBytes || !strings.HasSuffix(a.Handle, "…") || len(a.Name) > MaxNameBytes || a.AvatarURL != "" {
				t.Fatalf("author bound to handle %d bytes, name %d bytes, avatar %q", len(a.Handle), len(a.Name), a.AvatarURL)
			}
		}
		if len(retweeter.Name) != 5000 {
			t.Fatal("bounding changed the source's own value")
		}
	})

	t.Run("over-long links, tags and languages are dropped, long lists shortened", func(t *testing.T) {
		links := []string{url(MaxURLBytes + 1), "https://a.example"}
		for range MaxLinks + 5 {
			links = append(links, "https://b.example")
		}
		tags := []string{long(MaxTagBytes + 1)}
		for range MaxTags + 5 {
			tags = append(tags, "go")
		}
		tw := Tweet{ID: "1", Text: "x", URL: url(MaxURLBytes + 1), ThumbnailURL: url(5000), Lang: long(MaxLangBytes + 1), Links: links, Tags: tags}
		Bound(&tw)
		if tw.URL != "" || tw.ThumbnailURL != "" || tw.Lang != "" {
			t.Fatalf("kept an over-long url %d, thumbnail %d or lang %d bytes", len(tw.URL), len(tw.ThumbnailURL), len(tw.Lang))
		}
		if len(tw.Links) != MaxLinks || tw.Links[0] != "https://a.example" || len(tw.Tags) != MaxTags || tw.Tags[0] != "go" {
			t.Fatalf("links %d (first %q), tags %d (first %q): want the first %d and %d that fit", len(tw.Links), tw.Links[0], len(tw.Tags), tw.Tags[0], MaxLinks, MaxTags)
		}
		if len(links[0]) != MaxURLBytes+1 {
			t.Fatal("bounding changed the source's own list")
		}
	})

	t.Run("a tweet whose ID or source is too long is refused", func(t *testing.T) {
		for _, tw := range []Tweet{{ID: long(MaxIDBytes + 1), Text: "x"}, {ID: "1", Source: long(MaxIDBytes + 1), Text: "x"}} {
			if Bound(&tw) {
				t.Fatalf("kept a tweet with a %d-byte ID and a %d-byte source", len(tw.ID), len(tw.Source))
			}
		}
	})
}

func TestIngesterBoundsWhatTheSourceSends(t *testing.T) {
	pub := new(publisherRecorder)
	longID := strings.Repeat("9", MaxIDBytes+1)
	source := SourceFunc(func(_ context.Context, sink Sink) error {
		sink.Tweet(Tweet{ID: "huge", Source: "test", Text: "golang " + strings.Repeat("x", 1_000_000)})
		sink.Tweet(Tweet{ID: longID, Source: "test", Text: "golang"})
		sink.Retract("test", longID)
		sink.Retract("test", "huge")
		return nil
	})
	in := &Ingester{Source: source, Trends: trendsOf(t, "golang"), Publisher: pub, Logger: slog.New(slog.DiscardHandler)}
	if err := in.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	got := pub.Published()
	if len(got) != 1 || got[0].tweet.ID != "huge" || len(got[0].tweet.Text) > MaxTextBytes {
		t.Fatalf("published %d tweets, want only the huge one, its text bounded", len(got))
	}
	if r := pub.Retracted(); !slices.Equal(r, []string{"test/huge"}) {
		t.Fatalf("retracted %v, want only test/huge", r)
	}
	if s := in.Stats(); s.Refused != 2 || s.Received != 1 {
		t.Fatalf("stats %+v, want 2 refused (the long ID's tweet and retraction) and 1 received", s)
	}
}
