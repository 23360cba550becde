package jetstream

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tweetstreamer/tweetstreamer/stream"
	"github.com/tweetstreamer/tweetstreamer/stream/jetstream/jetstreamtest"
)

const (
	// waitTimeout bounds every wait for something to happen; the waits
	// themselves end as soon as it does.
	waitTimeout = 5 * time.Second
	// t0 is a time_us: 2023-11-14T22:13:20Z.
	t0 = int64(1_700_000_000_000_000)

	alice = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
	bob   = "did:plc:z72i7hdynmk6r22z27h6tvur"
)

// recorder is a Sink that keeps what it receives.
type recorder struct {
	mu        sync.Mutex
	tweets    []stream.Tweet
	retracted []string
	changed   chan struct{} // closed and replaced at each call
}

func newRecorder() *recorder { return &recorder{changed: make(chan struct{})} }

func (r *recorder) Tweet(t stream.Tweet) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tweets = append(r.tweets, t)
	close(r.changed)
	r.changed = make(chan struct{})
}

func (r *recorder) Retract(source, id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.retracted = append(r.retracted, source+"/"+id)
	close(r.changed)
	r.changed = make(chan struct{})
}

var _ stream.Sink = (*recorder)(nil)

// wait waits until ok holds of the tweets and retractions received.
func (r *recorder) wait(t *testing.T, what string, ok func(tweets []stream.Tweet, retracted []string) bool) ([]stream.Tweet, []string) {
	t.Helper()
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		tweets, retracted, changed := slices.Clone(r.tweets), slices.Clone(r.retracted), r.changed
		r.mu.Unlock()
		if ok(tweets, retracted) {
			return tweets, retracted
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s; have tweets %v and retractions %v", what, ids(tweets), retracted)
		}
	}
}

// waitTweets waits for n tweets and returns all those received.
func (r *recorder) waitTweets(t *testing.T, n int) []stream.Tweet {
	t.Helper()
	tweets, _ := r.wait(t, "tweets", func(tw []stream.Tweet, _ []string) bool { return len(tw) >= n })
	return tweets
}

func ids(tweets []stream.Tweet) []string {
	out := make([]string, len(tweets))
	for i, t := range tweets {
		out[i] = t.ID
	}
	return out
}

// harness runs a Source against a fake Jetstream and a fake profile
// endpoint.
type harness struct {
	src      *Source
	js       *jetstreamtest.Server
	profiles *jetstreamtest.ProfileServer
	sink     *recorder
	log      *lockedBuffer
	cancel   context.CancelFunc
	done     chan error
}

// start starts a source with quick backoff and lookups, and stops it when
// the test ends, checking that Stream returned context.Canceled promptly.
// configure, when not nil, adjusts the fakes and the configuration before
// Stream starts.
func start(t *testing.T, configure func(*harness, *Config)) *harness {
	t.Helper()
	h := &harness{
		js:       jetstreamtest.NewServer(),
		profiles: jetstreamtest.NewProfileServer(),
		sink:     newRecorder(),
		log:      new(lockedBuffer),
		done:     make(chan error, 1),
	}
	t.Cleanup(h.js.Close)
	t.Cleanup(h.profiles.Close)
	cfg := Config{
		URL:         h.js.URL(),
		ProfileURL:  h.profiles.URL(),
		ProfileRate: 1000,
		MinBackoff:  5 * time.Millisecond,
		MaxBackoff:  20 * time.Millisecond,
		Logger:      slog.New(slog.NewTextHandler(h.log, nil)),
	}
	if configure != nil {
		configure(h, &cfg)
	}
	src, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.src = src
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.done <- src.Stream(ctx, h.sink) }()
	t.Cleanup(func() { h.stop(t) })
	return h
}

// stop cancels Stream and checks that it returns context.Canceled in time.
func (h *harness) stop(t *testing.T) {
	t.Helper()
	h.cancel()
	select {
	case err := <-h.done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Stream returned %v, want context.Canceled", err)
		}
		h.done <- err // for a second stop
	case <-time.After(waitTimeout):
		t.Fatal("Stream did not return after its context was canceled")
	}
}

// subscriptions waits for n subscriptions and returns them.
func (h *harness) subscriptions(t *testing.T, n int) []jetstreamtest.Subscription {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	subs, err := h.js.WaitSubscriptions(ctx, n)
	if err != nil {
		t.Fatalf("waiting for subscription %d: %v", n, err)
	}
	return subs
}

// waitStatus waits until ok holds of the source's status, and returns it.
func (h *harness) waitStatus(t *testing.T, what string, ok func(stream.SourceStatus) bool) stream.SourceStatus {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		st := h.src.Status()
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; status %+v", what, st)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// lockedBuffer is a log destination safe for concurrent writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestStreamSubscribesToPostsOnly(t *testing.T) {
	h := start(t, func(_ *harness, c *Config) { c.URL += "?compress=false" })
	sub := h.subscriptions(t, 1)[0]
	if got := sub.Query["wantedCollections"]; !slices.Equal(got, []string{"app.bsky.feed.post"}) {
		t.Errorf("wantedCollections = %q, want app.bsky.feed.post alone", got)
	}
	if got := sub.Query.Get("compress"); got != "false" {
		t.Errorf("compress = %q: the URL's own parameters were lost", got)
	}
	if c, ok := sub.Cursor(); ok {
		t.Errorf("the first subscription asked for cursor %d, want the live stream", c)
	}
	h.waitStatus(t, "connected", func(st stream.SourceStatus) bool { return st.State == stream.SourceConnected })
}

func TestStreamTurnsPostsIntoTweets(t *testing.T) {
	h := start(t, nil)
	h.subscriptions(t, 1)
	h.js.Publish(jetstreamtest.Post{
		TimeUS:    t0,
		DID:       alice,
		RKey:      "3kabc",
		Text:      "Reading https://go.dev/blog about #golang",
		CreatedAt: "2023-11-14T22:13:19.5Z",
		Langs:     []string{"en", "fr"},
		HashTags:  []string{"golang"},
		Tags:      []string{"GoLang", "concurrency"},
		Links:     []string{"https://go.dev/blog"},
		Images:    []string{"bafkreifirst", "bafkreisecond"},
	}.Event())

	got := h.sink.waitTweets(t, 1)[0]
	want := stream.Tweet{
		ID:           alice + "/3kabc",
		Source:       "jetstream",
		Author:       stream.Author{Handle: "ewvi7nxz…"},
		Text:         "Reading https://go.dev/blog about #golang",
		URL:          "https://bsky.app/profile/" + alice + "/post/3kabc",
		Lang:         "en",
		ThumbnailURL: "https://cdn.bsky.app/img/feed_thumbnail/plain/" + alice + "/bafkreifirst@jpeg",
		Links:        []string{"https://go.dev/blog"},
		Tags:         []string{"golang", "concurrency"},
		CreatedAt:    time.Date(2023, 11, 14, 22, 13, 19, 5e8, time.UTC),
	}
	assertTweet(t, got, want)
	if n := h.src.Status().Counts["posts"]; n != 1 {
		t.Errorf("posts = %d, want 1", n)
	}
}

// assertTweet compares two tweets, their times with Equal.
func assertTweet(t *testing.T, got, want stream.Tweet) {
	t.Helper()
	if !got.CreatedAt.Equal(want.CreatedAt) {
		t.Errorf("CreatedAt = %v, want %v", got.CreatedAt, want.CreatedAt)
	}
	got.CreatedAt, want.CreatedAt = time.Time{}, time.Time{}
	if string(got.AppendJSON(nil)) != string(want.AppendJSON(nil)) {
		t.Errorf("tweet\n got %s\nwant %s", got.AppendJSON(nil), want.AppendJSON(nil))
	}
}

func TestStreamRetractsDeletedPosts(t *testing.T) {
	h := start(t, nil)
	h.subscriptions(t, 1)
	h.js.Publish(
		jetstreamtest.Post{TimeUS: t0, DID: alice, RKey: "3kabc", Text: "oops"}.Event(),
		jetstreamtest.DeleteEvent(t0+1, alice, "3kabc"),
	)
	_, retracted := h.sink.wait(t, "a retraction", func(_ []stream.Tweet, r []string) bool { return len(r) == 1 })
	if want := "jetstream/" + alice + "/3kabc"; retracted[0] != want {
		t.Errorf("retracted %q, want %q", retracted[0], want)
	}
	if n := h.src.Status().Counts["deletes"]; n != 1 {
		t.Errorf("deletes = %d, want 1", n)
	}
}

func TestStreamSkipsWhatIsNotANewPostAndKeepsTheConnection(t *testing.T) {
	h := start(t, nil)
	h.subscriptions(t, 1)
	like := map[string]any{"$type": "app.bsky.feed.like", "subject": map[string]any{"uri": "at://x", "cid": "y"}}
	h.js.Publish(
		// Ignored: they are not posts being created or deleted.
		jetstreamtest.CommitEvent(t0+1, alice, "create", "app.bsky.feed.like", "3klike", like),
		jetstreamtest.IdentityEvent(t0+2, alice, "alice.test"),
		jetstreamtest.AccountEvent(t0+3, alice, false),
		jetstreamtest.CommitEvent(t0+4, alice, "update", "app.bsky.feed.post", "3kabc", map[string]any{"text": "edited"}),
		// Malformed.
		[]byte(`{"did": "did:plc:x", "kind": "commit", "commit": {`),
		[]byte(`{"did": "`+alice+`", "time_us": 1, "kind": "commit"}`),
		jetstreamtest.Post{TimeUS: t0 + 5, DID: alice, RKey: "../etc", Text: "a bad rkey"}.Event(),
		jetstreamtest.CommitEvent(t0+6, alice, "create", "app.bsky.feed.post", "3kbad", map[string]any{"text": 42}),
		bytes.Repeat([]byte(" "), maxEventBytes+1),
		jetstreamtest.Post{TimeUS: t0 + 6, DID: alice, RKey: "3khuge", Text: strings.Repeat("#golang ", 400)}.Event(),
		// And then a post, which must still arrive.
		jetstreamtest.Post{TimeUS: t0 + 7, DID: bob, RKey: "3kgood", Text: "still here"}.Event(),
	)
	tweets := h.sink.waitTweets(t, 1)
	if got := ids(tweets); !slices.Equal(got, []string{bob + "/3kgood"}) {
		t.Errorf("tweets %v, want only the last post", got)
	}
	counts := h.src.Status().Counts
	if counts["ignored"] != 4 || counts["malformed"] != 6 {
		t.Errorf("ignored = %d, malformed = %d; want 4 and 6", counts["ignored"], counts["malformed"])
	}
	if n := len(h.js.Subscriptions()); n != 1 {
		t.Errorf("%d subscriptions: the source reconnected after bad events", n)
	}
	if n := strings.Count(h.log.String(), "malformed event"); n != 1 {
		t.Errorf("%d log lines about malformed events, want 1 (rate limited):\n%s", n, h.log)
	}
}

func TestStreamResumesFromTheCursorWithoutRepeats(t *testing.T) {
	h := start(t, nil) // Rewind: five seconds
	h.subscriptions(t, 1)
	post := func(timeUS int64, rkey string) []byte {
		return jetstreamtest.Post{TimeUS: timeUS, DID: alice, RKey: rkey, Text: "post " + rkey}.Event()
	}
	h.js.Publish(post(t0, "a"), post(t0+1_000_000, "b"), jetstreamtest.DeleteEvent(t0+2_000_000, alice, "a"))
	h.sink.wait(t, "two posts and a deletion", func(tw []stream.Tweet, r []string) bool { return len(tw) == 2 && len(r) == 1 })

	if n := h.js.Disconnect(); n != 1 {
		t.Fatalf("cut %d connections, want 1", n)
	}
	sub := h.subscriptions(t, 2)[1]
	if c, ok := sub.Cursor(); !ok || c != t0+2_000_000-5_000_000 {
		t.Errorf("resumed at cursor %d (%v), want the last time_us minus five seconds, %d", c, ok, t0+2_000_000-5_000_000)
	}
	// The server replays all three events; then comes a new one.
	h.js.Publish(post(t0+3_000_000, "c"))
	tweets, retracted := h.sink.wait(t, "the post after the resumption", func(tw []stream.Tweet, _ []string) bool { return len(tw) >= 3 })
	if got, want := ids(tweets), []string{alice + "/a", alice + "/b", alice + "/c"}; !slices.Equal(got, want) {
		t.Errorf("tweets %v, want %v, each once", got, want)
	}
	if len(retracted) != 1 {
		t.Errorf("retractions %v, want one", retracted)
	}
	counts := h.src.Status().Counts
	if counts["reconnects"] != 1 || counts["duplicates"] != 3 {
		t.Errorf("reconnects = %d, duplicates = %d; want 1 and 3", counts["reconnects"], counts["duplicates"])
	}
}

func TestAFarFutureEventDoesNotMoveTheCursor(t *testing.T) {
	h := start(t, nil)
	h.subscriptions(t, 1)
	future := time.Now().Add(time.Hour).UnixMicro()
	h.js.Publish(
		jetstreamtest.Post{TimeUS: t0, DID: alice, RKey: "a", Text: "on time"}.Event(),
		jetstreamtest.Post{TimeUS: future, DID: alice, RKey: "b", Text: "from the future"}.Event(),
	)
	h.sink.waitTweets(t, 2)
	h.js.Disconnect()
	sub := h.subscriptions(t, 2)[1]
	if c, ok := sub.Cursor(); !ok || c != t0-5_000_000 {
		t.Errorf("resumed at cursor %d (%v), want the last plausible time_us minus five seconds, %d", c, ok, t0-5_000_000)
	}
}

func TestStreamResolvesProfilesInTheBackground(t *testing.T) {
	h := start(t, nil)
	h.profiles.Set(alice, jetstreamtest.Profile{Handle: "alice.test", DisplayName: "Alice", Avatar: "https://cdn.example/alice.jpg"})
	h.subscriptions(t, 1)

	h.js.Publish(jetstreamtest.Post{TimeUS: t0, DID: alice, RKey: "1", Text: "first"}.Event())
	first := h.sink.waitTweets(t, 1)[0]
	if want := (stream.Author{Handle: "ewvi7nxz…"}); first.Author != want {
		t.Errorf("the first post's author is %+v, want the short DID %+v", first.Author, want)
	}
	h.waitStatus(t, "the profile", func(st stream.SourceStatus) bool { return st.Counts["profiles_resolved"] == 1 })

	h.js.Publish(jetstreamtest.Post{TimeUS: t0 + 1, DID: alice, RKey: "2", Text: "second"}.Event())
	second := h.sink.waitTweets(t, 2)[1]
	if want := (stream.Author{Handle: "alice.test", Name: "Alice", AvatarURL: "https://cdn.example/alice.jpg"}); second.Author != want {
		t.Errorf("the second post's author is %+v, want %+v", second.Author, want)
	}

	// An identity event (a new handle, say) sends the author back to the
	// endpoint at their next post.
	h.profiles.Set(alice, jetstreamtest.Profile{Handle: "alice.example"})
	h.js.Publish(
		jetstreamtest.IdentityEvent(t0+2, alice, "alice.example"),
		jetstreamtest.Post{TimeUS: t0 + 3, DID: alice, RKey: "3", Text: "third"}.Event(),
	)
	h.waitStatus(t, "the new profile", func(st stream.SourceStatus) bool { return st.Counts["profiles_resolved"] == 2 })
	h.js.Publish(jetstreamtest.Post{TimeUS: t0 + 4, DID: alice, RKey: "4", Text: "fourth"}.Event())
	if got := h.sink.waitTweets(t, 4)[3].Author.Handle; got != "alice.example" {
		t.Errorf("after the identity event the handle is %q, want alice.example", got)
	}
	if got := h.profiles.Lookups(); !slices.Equal(got, []string{alice, alice}) {
		t.Errorf("lookups %v, want alice twice", got)
	}
}

func TestStreamKeepsFlowingWhileProfilesFail(t *testing.T) {
	tests := []struct {
		name      string
		misbehave func(*jetstreamtest.ProfileServer)
		count     string // the counter the lookup ends in, if it ends
	}{
		{"the endpoint fails", func(p *jetstreamtest.ProfileServer) { p.Fail(http.StatusInternalServerError) }, "profiles_failed"},
		{"the author has no profile", func(*jetstreamtest.ProfileServer) {}, "profiles_missing"},
		{"the endpoint stalls", (*jetstreamtest.ProfileServer).Stall, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := start(t, nil)
			tt.misbehave(h.profiles)
			h.subscriptions(t, 1)
			for i := range 3 {
				h.js.Publish(jetstreamtest.Post{TimeUS: t0 + int64(i), DID: bob, RKey: string(rune('a' + i)), Text: "hi"}.Event())
				if i == 0 {
					ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
					if _, err := h.profiles.WaitLookups(ctx, 1); err != nil {
						t.Fatal(err)
					}
					cancel()
				}
			}
			for _, tw := range h.sink.waitTweets(t, 3) {
				if tw.Author.Handle != "z72i7hdy…" {
					t.Errorf("tweet %s: handle %q, want the short DID", tw.ID, tw.Author.Handle)
				}
			}
			if tt.count != "" {
				h.waitStatus(t, tt.count, func(st stream.SourceStatus) bool { return st.Counts[tt.count] == 1 })
			}
			if n := len(h.profiles.Lookups()); n != 1 {
				t.Errorf("%d lookups, want 1: an author is not asked about again at once", n)
			}
			h.stop(t) // returns even with a lookup stalled
		})
	}
}

func TestStatusFollowsTheConnection(t *testing.T) {
	t.Run("backing off after a lost connection", func(t *testing.T) {
		h := start(t, func(_ *harness, c *Config) { c.MinBackoff, c.MaxBackoff = time.Hour, time.Hour })
		h.subscriptions(t, 1)
		h.waitStatus(t, "connected", func(st stream.SourceStatus) bool { return st.State == stream.SourceConnected })
		h.js.Disconnect()
		st := h.waitStatus(t, "backing off", func(st stream.SourceStatus) bool { return st.State == stream.SourceBackingOff })
		if until := time.Until(st.RetryAt); until < 29*time.Minute || until > time.Hour {
			t.Errorf("RetryAt is %v away, want half to all of an hour", until)
		}
		if !strings.HasPrefix(st.Reason, "connection lost") {
			t.Errorf("Reason = %q", st.Reason)
		}
		h.stop(t) // returns promptly while backing off
	})
	t.Run("failed when the server refuses the subscription", func(t *testing.T) {
		h := start(t, func(h *harness, c *Config) {
			h.js.Refuse(http.StatusNotFound)
			c.MaxBackoff = 50 * time.Millisecond
		})
		st := h.waitStatus(t, "failed", func(st stream.SourceStatus) bool { return st.State == stream.SourceFailed })
		if !strings.Contains(st.Reason, "404") || st.RetryAt.IsZero() {
			t.Errorf("Reason = %q, RetryAt = %v; want the status and a time to retry", st.Reason, st.RetryAt)
		}
		h.js.Refuse(0)
		h.subscriptions(t, 1)
		h.waitStatus(t, "connected again", func(st stream.SourceStatus) bool { return st.State == stream.SourceConnected })
	})
}

func TestStreamRunsOneCallAtATime(t *testing.T) {
	h := start(t, nil)
	h.subscriptions(t, 1)
	if err := h.src.Stream(t.Context(), newRecorder()); err == nil || errors.Is(err, context.Canceled) {
		t.Errorf("a second Stream call returned %v, want an error", err)
	}
}

func TestNewChecksTheURLs(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"defaults", Config{}, true},
		{"ws and http", Config{URL: "ws://127.0.0.1:1/subscribe", ProfileURL: "http://127.0.0.1:2/p"}, true},
		{"an http Jetstream", Config{URL: "https://jetstream.example/subscribe"}, false},
		{"a relative Jetstream", Config{URL: "/subscribe"}, false},
		{"no host", Config{URL: "wss:///subscribe"}, false},
		{"unparsable", Config{URL: "wss://[::1"}, false},
		{"a ws profile endpoint", Config{ProfileURL: "ws://profiles.example/"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if (err == nil) != tt.ok {
				t.Errorf("New(%+v) = %v, want ok %v", tt.cfg, err, tt.ok)
			}
		})
	}
}

func TestNewAppliesDefaults(t *testing.T) {
	s, err := New(Config{URL: "wss://js.example/subscribe?wantedCollections=app.bsky.feed.like&cursor=7", Rewind: -1})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.subscribeURL(), "wss://js.example/subscribe?cursor=7&wantedCollections=app.bsky.feed.post"; got != want {
		t.Errorf("the first URL is %s, want %s", got, want)
	}
	s.lastTimeUS = t0
	if got, want := s.subscribeURL(), "wss://js.example/subscribe?cursor=1700000000000000&wantedCollections=app.bsky.feed.post"; got != want {
		t.Errorf("with no rewind the URL is %s, want %s", got, want)
	}
	if s.profiles.limiter.Limit() != defaultProfileRate || s.profiles.cache.limit != defaultProfileCache {
		t.Errorf("profiles at %v/s, %d cached; want the defaults", s.profiles.limiter.Limit(), s.profiles.cache.limit)
	}
	if st := s.Status(); st.State != stream.SourceConnecting || len(st.Counts) == 0 {
		t.Errorf("a new source's status is %+v", st)
	}
}

func TestConfigDefaultsReplaceOutOfRangeValues(t *testing.T) {
	tests := []struct {
		name  string
		cfg   Config
		check func(Config) bool
	}{
		{"NaN rate", Config{ProfileRate: math.NaN()}, func(c Config) bool { return c.ProfileRate == defaultProfileRate }},
		{"infinite rate", Config{ProfileRate: math.Inf(1)}, func(c Config) bool { return c.ProfileRate == defaultProfileRate }},
		{"negative rate", Config{ProfileRate: -1}, func(c Config) bool { return c.ProfileRate == defaultProfileRate }},
		{"a rate is kept", Config{ProfileRate: 0.5}, func(c Config) bool { return c.ProfileRate == 0.5 }},
		{"negative cache", Config{ProfileCache: -3}, func(c Config) bool { return c.ProfileCache == defaultProfileCache }},
		{"zero rewind", Config{}, func(c Config) bool { return c.Rewind == defaultRewind }},
		{"negative rewind", Config{Rewind: -time.Second}, func(c Config) bool { return c.Rewind == 0 }},
		{"a client and a logger", Config{}, func(c Config) bool { return c.HTTPClient != nil && c.HTTPClient.Timeout > 0 && c.Logger != nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.cfg.withDefaults(); !tt.check(got) {
				t.Errorf("withDefaults() = %+v", got)
			}
		})
	}
}
