package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tweetstreamer/tweetstreamer/stream/twitter/twittertest"
)

var twitterEnv = map[string]string{
	"TWITTER_CONSUMER_KEY": "ck", "TWITTER_CONSUMER_SECRET": "cs-secret",
	"TWITTER_ACCESS_TOKEN": "at", "TWITTER_ACCESS_SECRET": "as-secret",
}

// TestTwitterEndToEnd serves a fake v1.1 filter stream: the request is
// signed with the credentials and tracks the trends, tweets reach their
// rooms, a delete retracts, the place's trends fill "trending now", and
// no secret reaches the logs.
func TestTwitterEndToEnd(t *testing.T) {
	release := make(chan struct{})
	fake := twittertest.NewServer(t, twittertest.Stream(nil,
		twittertest.Headers(),
		twittertest.KeepAlive(),
		twittertest.Wait(release),
		twittertest.Message(twittertest.Tweet("1001", "gopher", "Go 1.26 is out #golang")),
		twittertest.Message(twittertest.Tweet("1002", "ferris", "borrow checker says no #rust")),
		twittertest.Message(twittertest.Delete("1001")),
		twittertest.Stall(),
	))
	fake.Verify("cs-secret", "as-secret")
	s := start(t, twitterEnv, "-source", "twitter", "-twitter-stream-url", fake.URL, "-twitter-api-url", fake.URL, "-trends", "golang,rust")
	reqs := fake.WaitRequests(t, 1)
	if got := reqs[0].Track; !slices.Equal(got, []string{"golang", "rust"}) || !reqs[0].Verified {
		t.Errorf("tracked %q, signature verified %v; want the trends, signed with the credentials", got, reqs[0].Verified)
	}

	for range 250 {
		if _, body := s.get(t, "/healthz"); strings.Contains(body, `"upstream":{"state":"connected"`) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	// A page that connects now learns the source's state and what trends.
	c := s.dial(t)
	if m := c.nextOfType("source"); m["source"] != "twitter" || m["state"] != "connected" {
		t.Fatalf("source message %v, want twitter connected", m)
	}
	trending := c.nextOfType("trending")
	c.send(`{"type":"join","room":"golang"}`)
	if j := c.next(); j["type"] != "joined" {
		t.Fatalf("got %v, want joined", j)
	}
	close(release)
	m := c.next()
	tw, _ := m["tweet"].(map[string]any)
	if m["type"] != "tweet" || tw["id"] != "1001" || tw["source"] != "twitter" || tw["url"] != "https://twitter.com/gopher/status/1001" {
		t.Fatalf("got %v, want tweet 1001 from twitter", m)
	}
	if m := c.next(); m["type"] != "retract" || m["id"] != "1001" {
		t.Fatalf("got %v, want the retraction of 1001", m)
	}

	t.Run("the place's trends fill trending now, as room names", func(t *testing.T) {
		var tags []string
		for _, tc := range trending["tags"].([]any) {
			tags = append(tags, tc.(map[string]any)["tag"].(string))
		}
		if want := []string{"golang", "world cup", "rustlang"}; !slices.Equal(tags, want) || trending["window_s"] != float64(0) {
			t.Errorf("trending %v (window %v), want %q from trends/place", tags, trending["window_s"], want)
		}
	})
	t.Run("healthz shows the upstream, and no secret is logged", func(t *testing.T) {
		_, body := s.get(t, "/healthz")
		if !strings.Contains(body, `"upstream":{"state":"connected"`) || !strings.Contains(body, `"tweets":2`) ||
			!strings.Contains(body, `"deletes":1`) || !strings.Contains(body, `"reconnects":0`) {
			t.Errorf("healthz = %s, want the upstream connected with its counters", body)
		}
		for _, secret := range []string{"cs-secret", "as-secret"} {
			if strings.Contains(body, secret) || strings.Contains(s.logs.String(), secret) {
				t.Errorf("%q appears in healthz or the logs", secret)
			}
		}
	})
}

func TestAPrintedConfigHoldsNoSecret(t *testing.T) {
	cfg, err := parseConfig([]string{"-source", "twitter"}, environOf(twitterEnv), &strings.Builder{})
	if err != nil {
		t.Fatal(err)
	}
	for _, verb := range []string{"%v", "%+v", "%#v"} {
		out := fmt.Sprintf(verb, cfg)
		if strings.Contains(out, "cs-secret") || strings.Contains(out, "as-secret") {
			t.Errorf("%s of the config shows a secret: %s", verb, out)
		}
	}
}
