package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tweetstreamer/tweetstreamer/stream/jetstream/jetstreamtest"
)

// jetstreamPosts are the posts the fake Jetstream sends in these tests:
// three about golang (one later deleted), one about rust, one about neither.
func jetstreamPosts(t0 int64) (posts []jetstreamtest.Post, deleted string) {
	did := "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
	return []jetstreamtest.Post{
		{TimeUS: t0 + 1, DID: did, RKey: "3kgolang1", Text: "Go 1.26 is out #golang", HashTags: []string{"golang"}},
		{TimeUS: t0 + 2, DID: did, RKey: "3krust1", Text: "borrowing again #rust", HashTags: []string{"rust"}},
		{TimeUS: t0 + 3, DID: did, RKey: "3knothing", Text: "lunch was good #food", HashTags: []string{"food"}},
		{TimeUS: t0 + 4, DID: did, RKey: "3kgolang2", Text: "generic iterators in golang", Links: []string{"https://go.dev/blog"}},
		{TimeUS: t0 + 5, DID: did, RKey: "3kgolang3", Text: "oops, wrong golang link", Tags: []string{"golang"}},
	}, did + "/3kgolang3"
}

func publishPosts(fake *jetstreamtest.Server, posts []jetstreamtest.Post, deleted string) {
	for _, p := range posts {
		fake.Publish(p.Event())
	}
	did, rkey, _ := strings.Cut(deleted, "/")
	fake.Publish(jetstreamtest.DeleteEvent(posts[len(posts)-1].TimeUS+1, did, rkey))
}

func waitSubscribed(t *testing.T, fake *jetstreamtest.Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := fake.WaitSubscriptions(ctx, 1); err != nil {
		t.Fatalf("the source did not connect to the fake Jetstream: %v", err)
	}
}

// TestJetstreamEndToEnd serves a fake Jetstream's posts: each reaches the
// rooms it matches, a deletion retracts, hashtags trend, and the page and
// /healthz say the source is connected.
func TestJetstreamEndToEnd(t *testing.T) {
	fake, profiles := jetstreamtest.NewServer(), jetstreamtest.NewProfileServer()
	t.Cleanup(fake.Close)
	t.Cleanup(profiles.Close)
	s := start(t, nil, "-source", "jetstream", "-jetstream-url", fake.URL(), "-profile-url", profiles.URL(), "-trends", "golang,rust")
	waitSubscribed(t, fake)
	c := s.dial(t)
	// The page learns the source's state on connect, and each change after.
	for m := c.nextOfType("source"); m["state"] != "connected"; m = c.nextOfType("source") {
		if m["source"] != "jetstream" || m["state"] != "connecting" {
			t.Fatalf("source message %v, want jetstream connecting, then connected", m)
		}
	}
	c.send(`{"type":"join","room":"golang"}`)
	if j := c.next(); j["type"] != "joined" {
		t.Fatalf("got %v, want joined", j)
	}

	posts, deleted := jetstreamPosts(time.Now().UnixMicro())
	publishPosts(fake, posts, deleted)
	var ids []string
	for range 3 {
		m := c.next()
		if m["type"] != "tweet" {
			t.Fatalf("got %v, want a tweet", m)
		}
		tw := m["tweet"].(map[string]any)
		ids = append(ids, tw["id"].(string))
		if tw["source"] != "jetstream" || !strings.HasPrefix(tw["url"].(string), "https://bsky.app/profile/did:plc:") {
			t.Errorf("tweet %v, want one from jetstream with its bsky.app link", tw)
		}
	}
	wantIDs := []string{posts[0].DID + "/3kgolang1", posts[0].DID + "/3kgolang2", deleted}
	if !slices.Equal(ids, wantIDs) {
		t.Errorf("golang got %q, want %q", ids, wantIDs)
	}
	if m := c.next(); m["type"] != "retract" || m["id"] != deleted {
		t.Errorf("got %v, want the retraction of %s", m, deleted)
	}

	t.Run("hashtags of every post trend, matched or not", func(t *testing.T) {
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			m := c.nextOfType("trending")
			var tags []string
			for _, tc := range m["tags"].([]any) {
				tags = append(tags, tc.(map[string]any)["tag"].(string))
			}
			if slices.Contains(tags, "food") && slices.Contains(tags, "golang") {
				return
			}
		}
		t.Error("no trending message with food and golang")
	})
	t.Run("healthz shows the upstream", func(t *testing.T) {
		_, body := s.get(t, "/healthz")
		if !strings.Contains(body, `"upstream":{"state":"connected"`) || !strings.Contains(body, `"posts":5`) {
			t.Errorf("healthz = %s, want the upstream connected with its counters", body)
		}
		if h := decodeHealth(t, body); h.Status != "ok" || h.Source.State != "connected" {
			t.Errorf("healthz = %s, want status ok and the source connected", body)
		}
	})
}

// TestRecordFromAnUnreachableSourceFails: an empty recording because the
// source never connected is an error, not a file to find empty on stage.
func TestRecordFromAnUnreachableSourceFails(t *testing.T) {
	path := filepath.Join(t.TempDir(), "talk.jsonl")
	var stdout, stderr strings.Builder
	err := run(context.Background(), []string{"tweetstreamer", "record", "-source", "jetstream", "-jetstream-url", "ws://127.0.0.1:1/subscribe",
		"-duration", "1s", "-o", path}, nil, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "nothing recorded") || !strings.Contains(err.Error(), "backing_off") {
		t.Fatalf("record = %v, want an error saying the source never connected", err)
	}
	if _, statErr := os.Stat(path); !os.IsNotExist(statErr) {
		t.Errorf("the empty recording was left behind: %v", statErr)
	}
}

// TestRecordThenReplay records from a fake Jetstream, then replays the
// file: a room receives the same tweets, minus the deleted one.
func TestRecordThenReplay(t *testing.T) {
	fake := jetstreamtest.NewServer()
	t.Cleanup(fake.Close)
	profiles := jetstreamtest.NewProfileServer()
	t.Cleanup(profiles.Close)
	path := filepath.Join(t.TempDir(), "talk.jsonl")
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(context.Background(), []string{"tweetstreamer", "record", "-source", "jetstream", "-jetstream-url", fake.URL(),
			"-profile-url", profiles.URL(), "-trends", "golang,rust", "-duration", "2s", "-o", path},
			nil, &stdout, &stderr)
	}()
	waitSubscribed(t, fake)
	posts, deleted := jetstreamPosts(time.Now().UnixMicro())
	publishPosts(fake, posts, deleted)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("record: %v\n%s", err, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("record did not stop after its duration")
	}
	if out := stdout.String(); !strings.Contains(out, "recorded 3 tweets") || !strings.Contains(out, "1 deleted") {
		t.Errorf("stdout %q, want 3 tweets recorded and 1 deleted left out", out)
	}

	s := start(t, nil, "-source", "replay", "-replay-file", path, "-replay-speed", "0", "-trends", "golang,rust")
	waitEnded(t, s)
	c := s.dial(t)
	var got []string
	for _, room := range []string{"golang", "rust"} {
		c.send(`{"type":"join","room":"` + room + `"}`)
		j := c.next()
		if j["type"] != "joined" {
			t.Fatalf("got %v, want joined", j)
		}
		for range int(j["seq"].(float64)) {
			m := c.next()
			tw := m["tweet"].(map[string]any)
			got = append(got, room+" "+tw["id"].(string)+" "+tw["text"].(string))
		}
	}
	did := posts[0].DID
	want := []string{
		"golang " + did + "/3kgolang1 Go 1.26 is out #golang",
		"golang " + did + "/3kgolang2 generic iterators in golang",
		"rust " + did + "/3krust1 borrowing again #rust",
	}
	if !slices.Equal(got, want) {
		t.Errorf("replayed\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// health is what a probe reads of /healthz.
type health struct {
	Status string `json:"status"`
	Source struct {
		State    string `json:"state"`
		Upstream struct {
			State string `json:"state"`
		} `json:"upstream"`
	} `json:"source"`
}

func decodeHealth(t *testing.T, body string) health {
	t.Helper()
	var h health
	if err := json.Unmarshal([]byte(body), &h); err != nil {
		t.Fatalf("/healthz: %v: %s", err, body)
	}
	return h
}

// closedPort returns a 127.0.0.1 address on which nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestHealthzTellsOneStateOfAnUnreachableSource: while the upstream backs
// off, the source's state and the status at the top say so too, and
// /healthz still answers 200: the process is alive.
func TestHealthzTellsOneStateOfAnUnreachableSource(t *testing.T) {
	s := start(t, nil, "-source", "jetstream", "-jetstream-url", "ws://"+closedPort(t)+"/subscribe", "-trends", "golang")
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, body := s.get(t, "/healthz")
		h := decodeHealth(t, body)
		if h.Source.Upstream.State == "backing_off" {
			if resp.StatusCode != http.StatusOK || h.Status != "degraded" || h.Source.State != "backing_off" {
				t.Fatalf("healthz %d %s, want 200, status degraded and the source backing_off as its upstream", resp.StatusCode, body)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the upstream did not back off within 10 s: %s", body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
