package jetstream

import (
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/tweetstreamer/tweetstreamer/stream"
	"github.com/tweetstreamer/tweetstreamer/stream/jetstream/jetstreamtest"
)

// newTestSource returns a source whose Stream is never called: nothing
// connects, and profile lookups stay queued.
func newTestSource(t testing.TB) *Source {
	t.Helper()
	s, err := New(Config{
		URL:        "ws://127.0.0.1:1/subscribe",
		ProfileURL: "http://127.0.0.1:1/p",
		Logger:     slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestPostsBecomeTweets(t *testing.T) {
	const thumb = "https://cdn.bsky.app/img/feed_thumbnail/plain/" + alice + "/"
	legacyImage := map[string]any{
		"text": "an old post", "createdAt": "2023-01-02T03:04:05Z",
		"embed": map[string]any{
			"$type":  "app.bsky.embed.images",
			"images": []any{map[string]any{"alt": "", "image": map[string]any{"cid": "bafkreilegacy", "mimeType": "image/jpeg"}}},
		},
	}
	tests := []struct {
		name  string
		event []byte
		want  stream.Tweet // Source, Author, ID and URL are checked apart
	}{
		{
			name:  "text, first language and creation time",
			event: jetstreamtest.Post{TimeUS: t0, DID: alice, RKey: "3k1", Text: "olá", Langs: []string{"pt-BR", "en"}, CreatedAt: "2024-09-09T19:46:02.102-03:00"}.Event(),
			want:  stream.Tweet{Text: "olá", Lang: "pt-BR", CreatedAt: time.Date(2024, 9, 9, 22, 46, 2, 102e6, time.UTC)},
		},
		{
			name:  "an unreadable createdAt falls back to time_us",
			event: jetstreamtest.Post{TimeUS: t0, DID: alice, RKey: "3k1", Text: "when?", CreatedAt: "yesterday"}.Event(),
			want:  stream.Tweet{Text: "when?", CreatedAt: time.UnixMicro(t0)},
		},
		{
			name: "link facets become links: http(s) only, each once",
			event: jetstreamtest.Post{TimeUS: t0, DID: alice, RKey: "3k1", Text: "links", Links: []string{
				"https://go.dev/blog", "at://did:plc:x/app.bsky.feed.post/1", "https://go.dev/blog", "http://example.com/a?b=c", "javascript:alert(1)",
			}}.Event(),
			want: stream.Tweet{Text: "links", Links: []string{"https://go.dev/blog", "http://example.com/a?b=c"}, CreatedAt: time.UnixMicro(t0)},
		},
		{
			name:  "tag facets and record tags become tags: without #, each once whatever the case",
			event: jetstreamtest.Post{TimeUS: t0, DID: alice, RKey: "3k1", Text: "#golang #Rust", HashTags: []string{"golang", "Rust"}, Tags: []string{"#GoLang", "bluesky", "", "#"}}.Event(),
			want:  stream.Tweet{Text: "#golang #Rust", Tags: []string{"golang", "Rust", "bluesky"}, CreatedAt: time.UnixMicro(t0)},
		},
		{
			name:  "a tag is trimmed of space before its #, then after it",
			event: jetstreamtest.Post{TimeUS: t0, DID: alice, RKey: "3k1", Text: "spaced", Tags: []string{" #Go ", "# rust"}}.Event(),
			want:  stream.Tweet{Text: "spaced", Tags: []string{"Go", "rust"}, CreatedAt: time.UnixMicro(t0)},
		},
		{
			name:  "the first image of an images embed becomes the thumbnail",
			event: jetstreamtest.Post{TimeUS: t0, DID: alice, RKey: "3k1", Text: "pics", Images: []string{"bafkreione", "bafkreitwo"}}.Event(),
			want:  stream.Tweet{Text: "pics", ThumbnailURL: thumb + "bafkreione@jpeg", CreatedAt: time.UnixMicro(t0)},
		},
		{
			name:  "images beside a quoted post",
			event: jetstreamtest.Post{TimeUS: t0, DID: alice, RKey: "3k1", Text: "look", Images: []string{"bafkreione"}, Quote: "at://" + bob + "/app.bsky.feed.post/3kq"}.Event(),
			want:  stream.Tweet{Text: "look", ThumbnailURL: thumb + "bafkreione@jpeg", CreatedAt: time.UnixMicro(t0)},
		},
		{
			name:  "a quote alone has no thumbnail",
			event: jetstreamtest.Post{TimeUS: t0, DID: alice, RKey: "3k1", Text: "this", Quote: "at://" + bob + "/app.bsky.feed.post/3kq"}.Event(),
			want:  stream.Tweet{Text: "this", CreatedAt: time.UnixMicro(t0)},
		},
		{
			name:  "an image with a CID unfit for a URL is passed over",
			event: jetstreamtest.Post{TimeUS: t0, DID: alice, RKey: "3k1", Text: "pics", Images: []string{"../../evil", "bafkreitwo"}}.Event(),
			want:  stream.Tweet{Text: "pics", ThumbnailURL: thumb + "bafkreitwo@jpeg", CreatedAt: time.UnixMicro(t0)},
		},
		{
			name:  "an image in the older blob form",
			event: jetstreamtest.CommitEvent(t0, alice, "create", "app.bsky.feed.post", "3k1", legacyImage),
			want:  stream.Tweet{Text: "an old post", ThumbnailURL: thumb + "bafkreilegacy@jpeg", CreatedAt: time.Date(2023, 1, 2, 3, 4, 5, 0, time.UTC)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, sink := newTestSource(t), newRecorder()
			s.handle(tt.event, sink)
			if len(sink.tweets) != 1 {
				t.Fatalf("%d tweets, want 1 (counts %v)", len(sink.tweets), s.Status().Counts)
			}
			got := sink.tweets[0]
			if got.ID != alice+"/3k1" || got.Source != "jetstream" || got.URL != "https://bsky.app/profile/"+alice+"/post/3k1" {
				t.Errorf("ID %q, Source %q, URL %q", got.ID, got.Source, got.URL)
			}
			if got.Author != (stream.Author{Handle: "ewvi7nxz…"}) {
				t.Errorf("Author = %+v, want the short DID", got.Author)
			}
			tt.want.ID, tt.want.Source, tt.want.URL, tt.want.Author = got.ID, got.Source, got.URL, got.Author
			assertTweet(t, got, tt.want)
		})
	}
}

// TestPostTimeBeyondRFC3339 has a post whose createdAt cannot be read
// and whose time_us is past the year 9999: its created_at is the time it
// was read, which the protocol's RFC 3339 can write.
func TestPostTimeBeyondRFC3339(t *testing.T) {
	s, sink := newTestSource(t), newRecorder()
	before := time.Now()
	s.handle(jetstreamtest.Post{TimeUS: 1 << 62, DID: alice, RKey: "3k1", Text: "far", CreatedAt: "not a time"}.Event(), sink)
	if len(sink.tweets) != 1 {
		t.Fatalf("%d tweets, want 1", len(sink.tweets))
	}
	if at := sink.tweets[0].CreatedAt; at.Before(before) || at.After(time.Now()) {
		t.Errorf("CreatedAt = %v, want the time the post was read", at)
	}
}

func TestPostTagsAndLinksAreBounded(t *testing.T) {
	var tags, links []string
	for i := range 100 {
		tags = append(tags, "tag"+string(rune('A'+i%26))+string(rune('a'+i/26)))
		links = append(links, "https://example.com/"+string(rune('a'+i%26))+string(rune('a'+i/26)))
	}
	s, sink := newTestSource(t), newRecorder()
	s.handle(jetstreamtest.Post{TimeUS: t0, DID: alice, RKey: "3k1", Text: "spam", HashTags: tags, Links: links}.Event(), sink)
	got := sink.tweets[0]
	if len(got.Tags) != maxTags || len(got.Links) != maxLinks {
		t.Errorf("%d tags and %d links, want %d and %d", len(got.Tags), len(got.Links), maxTags, maxLinks)
	}
	if !slices.Equal(got.Tags, tags[:maxTags]) {
		t.Errorf("tags %v, want the first %d in order", got.Tags, maxTags)
	}
}
