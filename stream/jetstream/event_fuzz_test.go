package jetstream

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tweetstreamer/tweetstreamer/stream"
	"github.com/tweetstreamer/tweetstreamer/stream/jetstream/jetstreamtest"
)

// postID splits a tweet's or a retraction's ID into its did and rkey, and
// reports whether both are valid.
func postID(id string) (did, rkey string, ok bool) {
	did, rkey, ok = strings.Cut(id, "/")
	return did, rkey, ok && validDID(did) && validRKey(rkey)
}

// FuzzJetstreamEvent hands any message to the source as Jetstream sends
// it, and checks that it does not fail and that it yields at most one
// thing: a retraction of a valid post ID, or a valid tweet. A valid tweet
// has a valid post ID and the URL of that post, a text of at most 3,000
// bytes, valid UTF-8 throughout, an author, http(s) links, tags without
// "#" or surrounding space, a thumbnail from Bluesky's CDN or none, and
// JSON that reads back (so its created_at is RFC 3339).
func FuzzJetstreamEvent(f *testing.F) {
	for _, seed := range [][]byte{
		jetstreamtest.Post{TimeUS: t0, DID: alice, RKey: "3k1", Text: "hi #golang", HashTags: []string{"golang"}, Langs: []string{"en"}}.Event(),
		jetstreamtest.Post{TimeUS: t0, DID: bob, RKey: "3k2", Text: "see https://go.dev", Links: []string{"https://go.dev"}, Images: []string{"bafkreiabc"}, Quote: "at://" + alice + "/app.bsky.feed.post/3k1"}.Event(),
		jetstreamtest.Post{TimeUS: t0, DID: alice, RKey: "3k3", Text: "x", CreatedAt: "yesterday", Tags: []string{" #Go ", "go", ""}}.Event(),
		jetstreamtest.Post{TimeUS: 1 << 62, DID: alice, RKey: "3k4", Text: "from the far future", CreatedAt: "not a time"}.Event(),
		jetstreamtest.Post{TimeUS: -1, DID: alice, RKey: "3k5", Text: "before 1970", CreatedAt: "0000-01-01T00:00:00-01:00"}.Event(),
		jetstreamtest.Post{TimeUS: t0, DID: "alice", RKey: "3k6"}.Event(),
		jetstreamtest.Post{TimeUS: t0, DID: alice, RKey: "a/b"}.Event(),
		jetstreamtest.Post{TimeUS: t0, DID: alice, RKey: "3k7", Text: strings.Repeat("x", maxTextBytes+1)}.Event(),
		jetstreamtest.DeleteEvent(t0, alice, "3k1"),
		jetstreamtest.DeleteEvent(t0, alice, ""),
		jetstreamtest.CommitEvent(t0, alice, "create", "app.bsky.feed.like", "3k1", map[string]any{}),
		jetstreamtest.CommitEvent(t0, alice, "update", jetstreamtest.PostCollection, "3k1", map[string]any{"text": "edit"}),
		jetstreamtest.CommitEvent(t0, alice, "create", jetstreamtest.PostCollection, "3k1", nil),
		jetstreamtest.IdentityEvent(t0, alice, "alice.test"),
		jetstreamtest.AccountEvent(t0, alice, true),
		[]byte(`{"did":"` + alice + `","time_us":1,"kind":"commit"}`),
		[]byte(`{"did":"` + alice + `","time_us":1,"kind":"commit","commit":{"operation":"create","collection":"app.bsky.feed.post","rkey":"3k8","record":{"text":"\ud800","embed":{"$type":"app.bsky.embed.recordWithMedia","media":{"$type":"app.bsky.embed.images","images":[{"image":{"ref":{"$link":"bafy/../x"}}}]}}}}}`),
		[]byte(`{"did":`),
		[]byte(`[1,2]`),
		[]byte(`null`),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, event []byte) {
		s := newTestSource(t)
		sink := newRecorder()
		s.handle(event, sink)
		if n := len(sink.tweets) + len(sink.retracted); n > 1 {
			t.Fatalf("%s gave %d tweets and %d retractions, want one at most", event, len(sink.tweets), len(sink.retracted))
		}
		for _, r := range sink.retracted {
			id, ok := strings.CutPrefix(r, sourceName+"/")
			if _, _, valid := postID(id); !ok || !valid {
				t.Fatalf("%s retracted %q, not a post of this source", event, r)
			}
		}
		for _, tw := range sink.tweets {
			fail := func(what string) {
				t.Helper()
				t.Fatalf("%s gave a tweet with %s: %+v", event, what, tw)
			}
			did, rkey, ok := postID(tw.ID)
			switch {
			case !ok:
				fail("an invalid ID")
			case tw.Source != sourceName:
				fail("another source")
			case tw.URL != "https://bsky.app/profile/"+did+"/post/"+rkey:
				fail("the URL of another post")
			case len(tw.Text) > maxTextBytes:
				fail("a text over 3,000 bytes")
			case tw.Author.Handle == "":
				fail("no author")
			case tw.ThumbnailURL != "" && !strings.HasPrefix(tw.ThumbnailURL, thumbnailPrefix+did+"/"):
				fail("a thumbnail from elsewhere")
			}
			for _, s := range []string{tw.Text, tw.Lang, tw.Author.Handle, tw.Author.Name, tw.ThumbnailURL} {
				if !utf8.ValidString(s) {
					fail("a string that is not UTF-8")
				}
			}
			for _, l := range tw.Links {
				if !isWebURL(l) {
					fail("a link that is not http(s)")
				}
			}
			for _, tag := range tw.Tags {
				if tag == "" || strings.HasPrefix(tag, "#") || strings.TrimSpace(tag) != tag || !utf8.ValidString(tag) {
					fail("a tag that is none")
				}
			}
			var back stream.Tweet
			if err := json.Unmarshal(tw.AppendJSON(nil), &back); err != nil {
				t.Fatalf("%s gave a tweet whose JSON %s does not read back: %v", event, tw.AppendJSON(nil), err)
			}
		}
	})
}
