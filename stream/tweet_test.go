package stream

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestTweetJSONHasTheProtocolShape(t *testing.T) {
	tw := Tweet{
		ID: "1", Source: "mock", Author: Author{Handle: "gopher", Name: "Gopher"},
		Text: "hello <b>", URL: "https://example.com/1",
		CreatedAt:  time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		IngestedAt: time.Date(2026, 1, 2, 3, 4, 6, 120_000_000, time.UTC),
	}
	data, err := json.Marshal(tw)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`"id":"1"`, `"source":"mock"`, `"author":{"handle":"gopher","name":"Gopher"}`,
		`"url":"https://example.com/1"`,
		`"created_at":"2026-01-02T03:04:05Z"`,
		`"ingested_at":"2026-01-02T03:04:06.120000000Z"`, // nanoseconds, trailing zeros kept
	} {
		if !strings.Contains(string(data), want) {
			t.Errorf("%s lacks %s", data, want)
		}
	}
	if strings.Count(string(data), "created_at") != 1 || strings.Contains(string(data), "avatar_url") || strings.Contains(string(data), `"lang"`) {
		t.Errorf("%s: want each field once and empty optional fields left out", data)
	}
	var back Tweet
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if !back.IngestedAt.Equal(tw.IngestedAt) || !back.CreatedAt.Equal(tw.CreatedAt) || back.Author != tw.Author || back.Text != tw.Text {
		t.Errorf("round trip: got %+v, want %+v", back, tw)
	}
}

// FuzzTweetJSON checks the hand-written encoder against encoding/json: the
// output is valid JSON and decodes to the same tweet, whatever the strings.
func FuzzTweetJSON(f *testing.F) {
	f.Add("1", "hello <b>&amp;</b> \"quoted\" \\ \n\t\x01 \u2028 é 🔥", "Zoë", "https://x.example/a?b=<c>")
	f.Add("\xff\xfe", "bad \xc3\x28 utf8", "", "")
	f.Fuzz(func(t *testing.T, id, text, name, url string) {
		tw := Tweet{ID: id, Source: "mock", Author: Author{Handle: name, Name: name, AvatarURL: url}, Text: text, URL: url, Lang: name,
			CreatedAt: time.Unix(1700000000, 5).UTC(), IngestedAt: time.Unix(1700000001, 123).UTC()}
		if len(id)%2 == 1 {
			tw.RetweetedBy = &Author{Handle: text, Name: name, AvatarURL: url}
			tw.ThumbnailURL = url
			tw.Links = []string{url, text}
			tw.Tags = []string{name}
		}
		data := tw.AppendJSON(nil)
		var back Tweet
		if err := json.Unmarshal(data, &back); err != nil {
			t.Fatalf("invalid JSON %q: %v", data, err)
		}
		// encoding/json is the reference for what a string becomes.
		want := func(s string) string {
			b, _ := json.Marshal(s)
			var out string
			_ = json.Unmarshal(b, &out)
			return out
		}
		if back.ID != want(id) || back.Text != want(text) || back.Author.Name != want(name) || back.URL != want(url) {
			t.Fatalf("round trip of %q gave %+v", data, back)
		}
		if tw.RetweetedBy != nil {
			if back.RetweetedBy == nil || back.RetweetedBy.Handle != want(text) || back.RetweetedBy.AvatarURL != want(url) ||
				back.ThumbnailURL != want(url) || len(back.Links) != 2 || back.Links[1] != want(text) || len(back.Tags) != 1 || back.Tags[0] != want(name) {
				t.Fatalf("round trip of %q gave %+v", data, back)
			}
		} else if back.RetweetedBy != nil || back.Links != nil || back.Tags != nil || back.ThumbnailURL != "" {
			t.Fatalf("%q: empty optional fields must be left out", data)
		}
		if !back.IngestedAt.Equal(tw.IngestedAt) || !back.CreatedAt.Equal(tw.CreatedAt) {
			t.Fatalf("times: got %v %v", back.CreatedAt, back.IngestedAt)
		}
	})
}
