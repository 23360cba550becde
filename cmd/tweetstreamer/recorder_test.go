package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tweetstreamer/tweetstreamer/stream"
)

func readRecording(t *testing.T, path string) []stream.Tweet {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var tweets []stream.Tweet
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var tw stream.Tweet
		if err := json.Unmarshal(sc.Bytes(), &tw); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		tweets = append(tweets, tw)
	}
	return tweets
}

func TestRecorder(t *testing.T) {
	at := time.Date(2026, 11, 20, 18, 0, 0, 0, time.UTC)
	tweet := func(id, handle, text string) stream.Tweet {
		at = at.Add(time.Second)
		return stream.Tweet{ID: id, Source: "jetstream", Author: stream.Author{Handle: handle, Name: "Name of " + handle, AvatarURL: "https://cdn.example/" + handle + ".jpg"},
			Text: text, URL: "https://bsky.app/profile/" + handle + "/post/" + id, CreatedAt: at.Add(-time.Second), IngestedAt: at}
	}

	t.Run("matched tweets are written with their arrival time; deleted ones are left out", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "talk.jsonl")
		r, err := newRecorder(path, false)
		if err != nil {
			t.Fatal(err)
		}
		a, b, c := tweet("a", "ann", "golang is fun"), tweet("b", "bob", "rust too"), tweet("c", "cy", "golang again")
		r.Publish(a, []string{"golang"})
		r.Publish(b, []string{"rust"})
		r.Publish(b, []string{"rust"}) // the same tweet again is written once
		r.Retract("jetstream", "b")
		r.Retract("jetstream", "unknown")
		r.Publish(c, []string{"golang"})
		kept, removed, err := r.finish()
		if err != nil || kept != 2 || removed != 1 {
			t.Fatalf("finish = %d, %d, %v; want 2 kept, 1 removed", kept, removed, err)
		}
		got := readRecording(t, path)
		if len(got) != 2 || got[0].ID != "a" || got[1].ID != "c" {
			t.Fatalf("recorded %+v, want a and c", got)
		}
		if !got[1].IngestedAt.Equal(c.IngestedAt) || got[1].Author != c.Author || got[1].Text != c.Text {
			t.Errorf("recorded %+v, want %+v", got[1], c)
		}
		if matches, _ := filepath.Glob(path + ".*"); len(matches) != 0 {
			t.Errorf("temporary files left: %v", matches)
		}
	})
	t.Run("an existing file is not overwritten", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "talk.jsonl")
		if err := os.WriteFile(path, []byte("precious\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := newRecorder(path, false); err == nil {
			t.Fatal("no error")
		}
		if b, _ := os.ReadFile(path); string(b) != "precious\n" {
			t.Errorf("file now %q", b)
		}
	})
	t.Run("anonymised: stable fakes for people and links, no avatars", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "talk.jsonl")
		r, err := newRecorder(path, true)
		if err != nil {
			t.Fatal(err)
		}
		a := tweet("did:plc:ann7nxzyoun6zhxrhs64oiz/3kabc", "ann.bsky.social",
			"hi @bob.bsky.social, see https://blog.example/post?id=1 and github.com/ann-real/secretproj or www.ann.example, mail ann.real@mail.example #golang")
		a.Links = []string{"https://blog.example/post?id=1"}
		a.ThumbnailURL = "https://cdn.example/img.jpg"
		b := tweet("b", "ann.bsky.social", "golang again")
		b.RetweetedBy = &stream.Author{Handle: "bob.bsky.social", Name: "Bob"}
		c := tweet("did:plc:ann7nxzyoun6zhxrhs64oiz/3kdel", "ann.bsky.social", "deleted golang post")
		r.Publish(a, nil)
		r.Publish(b, nil)
		r.Publish(c, nil)
		r.Retract("jetstream", c.ID)
		if kept, removed, err := r.finish(); err != nil || kept != 2 || removed != 1 {
			t.Fatalf("finish = %d, %d, %v; want 2 kept and the deleted one removed", kept, removed, err)
		}
		got := readRecording(t, path)
		raw, _ := os.ReadFile(path)
		for _, secret := range []string{"ann", "bob", "Bob", "blog.example", "cdn.example", "bsky.app", "Name of", "did:plc", "3kabc", "secretproj", "mail.example"} {
			if strings.Contains(string(raw), secret) {
				t.Errorf("the recording still contains %q:\n%s", secret, raw)
			}
		}
		if got[0].Author.Handle != got[1].Author.Handle || got[0].Author.Handle == "" {
			t.Errorf("the same author got handles %q and %q", got[0].Author.Handle, got[1].Author.Handle)
		}
		if mention := "@" + got[1].RetweetedBy.Handle; !strings.Contains(got[0].Text, mention) {
			t.Errorf("text %q does not mention %s, bob's fake", got[0].Text, mention)
		}
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o644 {
			t.Errorf("the rewritten recording: %v, %v; want mode 0644 as created", fi.Mode(), err)
		}
		if len(got[0].Links) != 1 || !strings.Contains(got[0].Text, got[0].Links[0]) {
			t.Errorf("link %v is not the one in the text %q", got[0].Links, got[0].Text)
		}
		if !strings.Contains(got[0].Text, "#golang") || got[0].Author.AvatarURL != "" || got[0].ThumbnailURL != "" {
			t.Errorf("got %+v: want hashtags kept, avatar and thumbnail gone", got[0])
		}
	})
}
