package twitter

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/dghubble/go-twitter/twitter"

	"github.com/tweetstreamer/tweetstreamer/stream"
)

// fixture returns testdata/name on one line, as the stream sends it.
func fixture(t *testing.T, name string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var line bytes.Buffer
	if err := json.Compact(&line, raw); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return line.String()
}

// fixtureTweet decodes testdata/name as go-twitter does.
func fixtureTweet(t *testing.T, name string) *twitter.Tweet {
	t.Helper()
	st := new(twitter.Tweet)
	if err := json.Unmarshal([]byte(fixture(t, name)), st); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return st
}

var (
	ayse = stream.Author{
		Handle:    "ayse_yilmaz",
		Name:      "Ayşe Yılmaz",
		AvatarURL: "https://pbs.twimg.com/profile_images/1354479643882004483/Btnfm47p_normal.jpg",
	}
	ayseTweet = stream.Tweet{
		ID:           "1900561235118776421",
		Source:       "twitter",
		Author:       ayse,
		Text:         "Gophers & crabs at the #GoLang meetup tonight: slides at https://t.co/AbCdEf1234 https://t.co/PhOtO98765",
		URL:          "https://twitter.com/ayse_yilmaz/status/1900561235118776421",
		Lang:         "en",
		ThumbnailURL: "https://pbs.twimg.com/media/GmAbCdEXoAAqz1x.jpg:thumb",
		Links:        []string{"https://example.com/talks/gophers-and-crabs"},
		Tags:         []string{"GoLang"},
		CreatedAt:    time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC),
	}
)

func TestToTweet(t *testing.T) {
	now := time.Date(2025, 3, 14, 16, 0, 0, 0, time.UTC)
	retweet := ayseTweet
	retweet.ID = "1900562049996390400"
	retweet.RetweetedBy = &stream.Author{
		Handle: "lena_f", Name: "Lena Fischer", AvatarURL: "https://pbs.twimg.com/profile_images/2222222222/lena_normal.jpg",
	}
	tests := []struct {
		name    string
		fixture string
		want    stream.Tweet
	}{
		{"a tweet with a photo, a link and a hashtag; &amp; unescaped", "tweet_media.json", ayseTweet},
		{"a truncated tweet takes its full text and entities from extended_tweet", "tweet_extended.json", stream.Tweet{
			ID:     "1900561386214387712",
			Source: "twitter",
			Author: stream.Author{Handle: "kenji_w", Name: "Kenji Watanabe", AvatarURL: "https://pbs.twimg.com/profile_images/1111111111/kenji_normal.png"},
			Text: "A long thread about why #rustlang and #golang make a good pair for services that must stay up: " +
				"memory safety, simple deploys, and tooling that keeps a team of 5 < 50 people honest. Notes: https://t.co/NoTeS00001 https://t.co/VidEo00002",
			URL:          "https://twitter.com/kenji_w/status/1900561386214387712",
			Lang:         "en",
			ThumbnailURL: "https://pbs.twimg.com/media/GmSeCoNdPhOtO.jpg:thumb", // the first photo, not the video
			Links:        []string{"https://notes.example.org/rust-and-go"},
			Tags:         []string{"rustlang", "golang"},
			CreatedAt:    time.Date(2025, 3, 14, 15, 10, 2, 0, time.UTC),
		}},
		{"a retweet is shown as its original, by the retweeter, under the retweet's own ID", "retweet.json", retweet},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := toTweet(fixtureTweet(t, tt.fixture), now)
			if !ok {
				t.Fatal("toTweet refused it")
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("toTweet:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestToTweetEdgeCases(t *testing.T) {
	now := time.Date(2025, 3, 14, 16, 0, 0, 0, time.UTC)
	base := func() *twitter.Tweet {
		return &twitter.Tweet{IDStr: "7", Text: "hi", User: &twitter.User{ScreenName: "bob"}, CreatedAt: "not a date", Lang: "und"}
	}
	t.Run("an unreadable created_at becomes now; und becomes no language; no entities, no tags", func(t *testing.T) {
		got, ok := toTweet(base(), now)
		if !ok || !got.CreatedAt.Equal(now) || got.Lang != "" || got.Tags != nil {
			t.Errorf("toTweet = %+v, %v", got, ok)
		}
	})
	t.Run("a created_at that UTC moves out of years 0000 to 9999 becomes now", func(t *testing.T) {
		for _, at := range []string{"Sat Jan 01 00:00:00 +0100 0000", "Fri Dec 31 23:30:00 -0100 9999"} {
			st := base()
			st.CreatedAt = at
			if got, _ := toTweet(st, now); !got.CreatedAt.Equal(now) {
				t.Errorf("created_at %q gives %v, want now", at, got.CreatedAt)
			}
		}
	})
	t.Run("entities without hashtags say there are none", func(t *testing.T) {
		st := base()
		st.Entities = &twitter.Entities{}
		if got, _ := toTweet(st, now); got.Tags == nil || len(got.Tags) != 0 {
			t.Errorf("Tags = %#v, want empty and not nil", got.Tags)
		}
	})
	t.Run("the numeric id stands in for a missing id_str", func(t *testing.T) {
		st := base()
		st.IDStr, st.ID = "", 42
		if got, ok := toTweet(st, now); !ok || got.ID != "42" || got.URL != "https://twitter.com/bob/status/42" {
			t.Errorf("toTweet = %+v, %v", got, ok)
		}
	})
	t.Run("links, avatars and thumbnails that are not http(s) are left out", func(t *testing.T) {
		st := base()
		st.User.ProfileImageURLHttps = "javascript:alert(1)"
		st.Entities = &twitter.Entities{
			Urls:  []twitter.URLEntity{{ExpandedURL: "javascript:alert(1)"}, {ExpandedURL: "https://ok.example/"}},
			Media: []twitter.MediaEntity{{Type: "photo", MediaURLHttps: "data:image/png;base64,AAAA"}},
		}
		got, _ := toTweet(st, now)
		if got.Author.AvatarURL != "" || got.ThumbnailURL != "" || !reflect.DeepEqual(got.Links, []string{"https://ok.example/"}) {
			t.Errorf("toTweet = %+v", got)
		}
	})
	t.Run("an author's handle is escaped in the URL", func(t *testing.T) {
		st := base()
		st.User.ScreenName = "a/../b"
		if got, _ := toTweet(st, now); got.URL != "https://twitter.com/a%2F..%2Fb/status/7" {
			t.Errorf("URL = %q", got.URL)
		}
	})
	for name, st := range map[string]*twitter.Tweet{
		"no ID":                         {Text: "x", User: &twitter.User{ScreenName: "bob"}},
		"no author":                     {IDStr: "1", Text: "x"},
		"an author without name":        {IDStr: "1", Text: "x", User: &twitter.User{}},
		"a retweet without a retweeter": {IDStr: "1", RetweetedStatus: base()},
		"a retweet of a tweet without an ID": {IDStr: "1", User: &twitter.User{ScreenName: "bob"},
			RetweetedStatus: &twitter.Tweet{User: &twitter.User{ScreenName: "al"}}},
	} {
		t.Run("refuses a status with "+name, func(t *testing.T) {
			if got, ok := toTweet(st, now); ok {
				t.Errorf("toTweet = %+v, want a refusal", got)
			}
		})
	}
}
