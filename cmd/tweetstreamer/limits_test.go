package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tweetstreamer/tweetstreamer/stream"
)

// writeReplay writes tweets as a replay file and returns its path.
func writeReplay(t *testing.T, tweets []stream.Tweet) string {
	t.Helper()
	var b strings.Builder
	for _, tw := range tweets {
		b.Write(tw.AppendJSON(nil))
		b.WriteByte('\n')
	}
	path := filepath.Join(t.TempDir(), "tweets.jsonl")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// waitEnded waits until the replay source has played its file.
func waitEnded(t *testing.T, s *server) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, body := s.get(t, "/healthz"); strings.Contains(body, `"state":"ended"`) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the replay did not end")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// backlog reads a join's answer and backlog as raw lines, until n tweets
// came or a skipped did.
func backlog(t *testing.T, c *wsClient, n int) (joined map[string]any, lines []string, skipped []map[string]any) {
	t.Helper()
	for len(lines) < n && len(skipped) == 0 {
		_ = c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, data, err := c.conn.ReadMessage()
		if err != nil {
			t.Fatalf("after %d tweets: %v", len(lines), err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatalf("not JSON: %.200q", line)
			}
			switch m["type"] {
			case "joined":
				joined = m
			case "tweet":
				lines = append(lines, line)
			case "skipped":
				skipped = append(skipped, m)
			}
		}
	}
	return joined, lines, skipped
}

func TestAHugeTweetDoesNotPoisonTheBacklog(t *testing.T) {
	var tweets []stream.Tweet
	for i := range 66 {
		text := fmt.Sprintf("golang tweet %d", i)
		if i == 10 {
			text = "golang " + strings.Repeat("x", 1_000_000)
		}
		tweets = append(tweets, stream.Tweet{ID: fmt.Sprint(i), Source: "replay", Author: stream.Author{Handle: "h"}, Text: text})
	}
	s := start(t, nil, "-source", "replay", "-replay-file", writeReplay(t, tweets), "-replay-speed", "0", "-history", "1000", "-trends", "golang")
	waitEnded(t, s)

	c := s.dial(t)
	c.send(`{"type":"join","room":"golang"}`)
	joined, lines, skipped := backlog(t, c, 66)
	if len(lines) != 66 || len(skipped) != 0 {
		t.Fatalf("a fresh join got %d tweets and skipped %v, want all 66", len(lines), skipped)
	}
	var huge struct {
		Tweet stream.Tweet `json:"tweet"`
	}
	if err := json.Unmarshal([]byte(lines[10]), &huge); err != nil {
		t.Fatal(err)
	}
	if len(huge.Tweet.Text) > stream.MaxTextBytes || !strings.HasSuffix(huge.Tweet.Text, "…") {
		t.Fatalf("the huge tweet came with %d bytes of text, want at most %d, ending in an ellipsis", len(huge.Tweet.Text), stream.MaxTextBytes)
	}

	again := s.dial(t)
	again.send(fmt.Sprintf(`{"type":"join","room":"golang","epoch":%q,"since":0}`, joined["epoch"]))
	joined, lines, skipped = backlog(t, again, 66)
	if joined["recovered"] != true || len(lines) != 66 || len(skipped) != 0 {
		t.Fatalf("a recovery got joined %v, %d tweets and skipped %v, want all 66 recovered", joined, len(lines), skipped)
	}
}

// TestTheLargestTweetFitsHalfTheSmallestQueue sends tweets at every
// limit, made of what grows most when encoded (escaped characters, every
// word a hashtag of the trend or a link), and checks that each message
// stays within 128 KiB, half the smallest queue (256 KiB): a backlog or a
// recovery always moves on, and NATS (1 MB) carries it.
func TestTheLargestTweetFitsHalfTheSmallestQueue(t *testing.T) {
	long := func(unit string, n int) string { return strings.Repeat(unit, n/len(unit)+1)[:n] }
	link := func(i int) string {
		return fmt.Sprintf("https://e.example/%d?", i) + long("a=&", stream.MaxURLBytes-25)
	}
	for _, c := range []struct{ name, unit, trend string }{
		{"escaped characters", "#golang <&\x01 ", "golang"},
		{"control characters", "\x01\x02\x03\x1f", "golang"},
		{"quotes", `"'"'`, "golang"},
		{"hashtags of the trend", "#golang ", "golang"},
		{"links beside the trend", "http://a<golang ", "golang"},
		{"hashtags of a short trend", "#go ", "go"},
		{"hashtags of a one-letter trend", "#a ", "a"},
	} {
		t.Run(c.name, func(t *testing.T) {
			author := stream.Author{Handle: long("<", stream.MaxHandleBytes), Name: long(`<"&`, stream.MaxNameBytes), AvatarURL: link(0)}
			tw := stream.Tweet{
				ID: long("9", stream.MaxIDBytes), Source: "replay", Author: author, RetweetedBy: &author,
				Text: c.trend + " " + long(c.unit, 10*stream.MaxTextBytes), URL: link(1), ThumbnailURL: link(2), Lang: long("x", stream.MaxLangBytes),
			}
			for i := range stream.MaxLinks + 2 {
				tw.Links = append(tw.Links, link(10+i))
			}
			for range stream.MaxTags + 2 {
				tw.Tags = append(tw.Tags, long("<golang&", stream.MaxTagBytes))
			}
			s := start(t, nil, "-source", "replay", "-replay-file", writeReplay(t, []stream.Tweet{tw}), "-replay-speed", "0", "-trends", c.trend)
			waitEnded(t, s)
			cl := s.dial(t)
			cl.send(fmt.Sprintf(`{"type":"join","room":%q}`, c.trend))
			_, lines, _ := backlog(t, cl, 1)
			var parts struct {
				Tweet json.RawMessage `json:"tweet"`
				HTML  string          `json:"html"`
			}
			if err := json.Unmarshal([]byte(lines[0]), &parts); err != nil {
				t.Fatal(err)
			}
			t.Logf("message: %d bytes (tweet %d, card %d)", len(lines[0]), len(parts.Tweet), len(parts.HTML))
			if len(lines[0]) > 128<<10 {
				t.Fatalf("the message is %d bytes, more than half the smallest queue", len(lines[0]))
			}
		})
	}
}
