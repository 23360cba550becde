package twitter

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tweetstreamer/tweetstreamer/stream"
	tt "github.com/tweetstreamer/tweetstreamer/stream/twitter/twittertest"
)

// harness runs a Source against a fake server, on a fake clock.
type harness struct {
	t      *testing.T
	srv    *tt.Server
	trends *stream.Trends
	src    *Source
	clock  *fakeClock
	sink   *recordingSink
	log    *capturedLog

	cancel context.CancelFunc
	done   chan struct{} // closed when Stream has returned err
	err    error
}

// newHarness returns a source tracking "golang" and "rust" whose server
// answers with script, then with 200 and silence. Change h.src before
// start.
func newHarness(t *testing.T, script ...tt.Response) *harness {
	t.Helper()
	return newHarnessTracking(t, []string{"golang", "rust"}, script...)
}

// newHarnessTracking is newHarness with other trends.
func newHarnessTracking(t *testing.T, configured []string, script ...tt.Response) *harness {
	t.Helper()
	srv := tt.NewServer(t, script...)
	trends, err := stream.NewTrends(configured, 0)
	if err != nil {
		t.Fatal(err)
	}
	logger, log := newCapturedLog()
	src, err := New(Config{
		Credentials: testCredentials,
		Trends:      trends,
		StreamURL:   srv.URL,
		APIURL:      srv.URL,
		Logger:      logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.Verify(testCredentials.ConsumerSecret, testCredentials.AccessSecret)
	fc := newFakeClock()
	src.clock = fc
	src.status = newStatusBoard(logger, fc.Now())
	return &harness{t: t, srv: srv, trends: trends, src: src, clock: fc, sink: newRecordingSink(), log: log}
}

// start runs Stream in a goroutine; the test's end stops it.
func (h *harness) start() {
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel, h.done = cancel, make(chan struct{})
	go func() {
		defer close(h.done)
		h.err = h.src.Stream(ctx, h.sink)
	}()
	h.t.Cleanup(func() { h.stop() })
}

// stop cancels Stream's context and returns what Stream returned.
func (h *harness) stop() error {
	h.t.Helper()
	h.cancel()
	return h.wait()
}

// wait returns what Stream returned, failing the test if it does not.
func (h *harness) wait() error {
	h.t.Helper()
	select {
	case <-h.done:
		return h.err
	case <-time.After(waitLimit):
		h.t.Fatalf("Stream did not return within %v", waitLimit)
		return nil
	}
}

// waitStatus polls Status until ok accepts it.
func (h *harness) waitStatus(what string, ok func(stream.SourceStatus) bool) stream.SourceStatus {
	h.t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		st := h.src.Status()
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("waiting for %s: status %+v", what, st)
		}
		time.Sleep(time.Millisecond)
	}
}

func (h *harness) waitState(state stream.SourceState) stream.SourceStatus {
	h.t.Helper()
	return h.waitStatus(string(state), func(st stream.SourceStatus) bool { return st.State == state })
}

// waitClosed waits until a request's connection is closed.
func waitClosed(t *testing.T, req tt.Request, what string) {
	t.Helper()
	select {
	case <-req.Done:
	case <-time.After(waitLimit):
		t.Fatalf("%s is still open", what)
	}
}

func isClosed(req tt.Request) bool {
	select {
	case <-req.Done:
		return true
	default:
		return false
	}
}

func TestStreamDeliversWhatTheStreamCarries(t *testing.T) {
	h := newHarness(t, tt.Response{Steps: []tt.Step{
		tt.KeepAlive(),
		tt.Message(fixture(t, "tweet_media.json")),
		tt.Burst(7, tt.Tweet("101", "bob", "first of a burst #golang"), fixture(t, "tweet_extended.json"), tt.Delete("101")),
		tt.KeepAlive(),
		tt.Message(fixture(t, "delete.json")),
		tt.Message(tt.Limit(10)),
		tt.Message(tt.Limit(25)),
		tt.Message(fixture(t, "stall_warning.json")),
		tt.Raw(`{"text": "cut off` + "\r\n"),
		tt.Message(`[1, 2, 3]`),
		tt.Message(tt.Enormous(maxMessageBytes)),
		tt.Message(fixture(t, "scrub_geo.json")),
		tt.Message(fixture(t, "status_withheld.json")),
		tt.Message(`{"some_new_kind":{"x":1}}`),
		tt.Message(`{"delete":{}}`),
		tt.Message(fixture(t, "retweet.json")),
		tt.Chunks(1, tt.Tweet("102", "carol", "byte by byte #rust")+"\r\n"),
		tt.Message(tt.Tweet("103", "dave", "the end")),
		tt.Stall(),
	}})
	h.start()

	tweets := h.sink.waitTweets(t, 6)
	wantIDs := []string{"1900561235118776421", "101", "1900561386214387712", "1900562049996390400", "102", "103"}
	if got := h.sink.ids(); !slices.Equal(got, wantIDs) {
		t.Errorf("tweets %q, want %q", got, wantIDs)
	}
	if got := tweets[0]; got.Text != ayseTweet.Text || got.ThumbnailURL != ayseTweet.ThumbnailURL {
		t.Errorf("first tweet %+v, want %+v", got, ayseTweet)
	}
	if got := tweets[3]; got.RetweetedBy == nil || got.RetweetedBy.Handle != "lena_f" || got.Author.Handle != "ayse_yilmaz" {
		t.Errorf("the retweet %+v: want ayse_yilmaz's tweet, retweeted by lena_f", got)
	}
	if got := tweets[4]; got.Source != "twitter" || got.Author.Handle != "carol" || got.Text != "byte by byte #rust" {
		t.Errorf("the tweet sent a byte at a time: %+v", got)
	}
	if got, want := h.sink.waitRetracted(t, 2), []string{"twitter/101", "twitter/1900561235118776421"}; !slices.Equal(got, want) {
		t.Errorf("retracted %q, want %q", got, want)
	}

	st := h.src.Status()
	wantCounts := map[string]int64{
		countTweets:        6,
		countDeletes:       2,
		countReconnects:    0,
		countRetracks:      0,
		countLimit:         25, // Twitter's counts run from the connection's start: 10, then 25 in all
		countStallWarnings: 1,
		countMalformed:     3, // cut off, not an object, a deletion without an ID
		countOversized:     1,
		countIgnored:       2, // scrub_geo, status_withheld
		countUnknown:       1,
		countDisconnects:   0,
		countStalls:        0,
		countDuplicates:    0,
		countUntracked:     0,
	}
	if st.State != stream.SourceConnected || !maps.Equal(st.Counts, wantCounts) {
		t.Errorf("status %s, counts %v; want connected, %v", st.State, st.Counts, wantCounts)
	}
	reqs := h.srv.Requests()
	if len(reqs) != 1 || !reqs[0].Verified || !slices.Equal(reqs[0].Track, []string{"golang", "rust"}) {
		t.Errorf("requests %+v: want one, signed for Twitter's URL, tracking golang and rust", reqs)
	}
	if len(reqs[0].Query) != 0 {
		t.Errorf("query %v: want the parameters in the body", reqs[0].Query)
	}
	for _, msg := range []string{
		"twitter: skipping a message that is too long",
		"twitter: Twitter warns that the stream is falling behind",
	} {
		if n := h.log.count(t, msg); n != 1 {
			t.Errorf("logged %q %d times, want once", msg, n)
		}
	}
	if n := h.log.count(t, "twitter: skipping a message that is not a JSON object"); n != 2 {
		t.Errorf("logged %d messages that are not JSON objects, want 2", n)
	}
}

func TestStreamLogsALimitedNumberOfSkippedMessagesPerConnection(t *testing.T) {
	bad := make([]string, 3*maxLoggedPerConn)
	for i := range bad {
		bad[i] = "{not json"
	}
	h := newHarness(t, tt.Stream(append(bad, tt.Tweet("1", "amy", "hello")), tt.Stall()))
	h.start()
	h.sink.waitTweets(t, 1)
	if n := h.src.Status().Counts[countMalformed]; n != int64(len(bad)) {
		t.Errorf("counted %d malformed messages, want %d", n, len(bad))
	}
	if n := h.log.count(t, "twitter: skipping a message that is not a JSON object"); n != maxLoggedPerConn {
		t.Errorf("logged %d malformed messages, want %d", n, maxLoggedPerConn)
	}
	if n := h.log.count(t, "twitter: further skipped and notable messages on this connection are counted, not logged"); n != 1 {
		t.Errorf("said %d times that it stops logging, want once", n)
	}
}

// TestAStableConnectionStartsEveryLadderAgain: a stream that stayed up
// for stableConnection before it ended starts the rules afresh.
func TestAStableConnectionStartsEveryLadderAgain(t *testing.T) {
	gate := make(chan struct{})
	status503 := tt.Answer(503, "Service Unavailable")
	h := newHarness(t, status503, status503,
		tt.Stream([]string{tt.Tweet("1", "amy", "hello")}, tt.Wait(gate)),
		status503, tt.Stream(nil, tt.Headers(), tt.Stall()))
	h.start()
	h.sink.waitTweets(t, 1)
	h.waitState(stream.SourceConnected)
	h.clock.Advance(stableConnection)
	close(gate)
	h.srv.WaitRequests(t, 5)
	h.waitState(stream.SourceConnected)
	want := []time.Duration{5 * time.Second, 10 * time.Second, 250 * time.Millisecond, 5 * time.Second}
	if got := h.clock.Sleeps(); !slices.Equal(got, want) {
		t.Errorf("waits %v, want %v: both ladders from their first step after the stable stream", got, want)
	}
	if n := h.src.Status().Counts[countReconnects]; n != 4 {
		t.Errorf("counted %d reconnects, want 4: five connections, the first is none", n)
	}
}

func TestStreamReconnectsByTwittersRules(t *testing.T) {
	const ms, s, m = time.Millisecond, time.Second, time.Minute
	var (
		abort  = tt.Response{Steps: []tt.Step{tt.Abort()}}
		ended  = tt.Stream([]string{tt.Tweet("1", "amy", "hello")})
		broken = tt.Stream([]string{tt.Tweet("1", "amy", "hello")}, tt.Abort())
		status = func(code int) tt.Response { return tt.Answer(code, "Exceeded connection limit for user") }
	)
	tests := []struct {
		name       string
		script     []tt.Response
		want       []time.Duration
		wantReason string
	}{
		{"a network error, which stops go-twitter for good, is retried 250 ms later each time",
			tt.Repeat(5, abort), []time.Duration{250 * ms, 500 * ms, 750 * ms, s, 1250 * ms}, "cannot connect"},
		{"503 waits 5 s, doubling",
			tt.Repeat(4, status(503)), []time.Duration{5 * s, 10 * s, 20 * s, 40 * s}, "HTTP 503 Service Unavailable"},
		{"420 waits a minute, doubling, past go-twitter's 15 minutes",
			tt.Repeat(6, status(420)), []time.Duration{m, 2 * m, 4 * m, 8 * m, 16 * m, 32 * m}, "HTTP 420 Enhance Your Calm"},
		{"429 waits as 420 does",
			tt.Repeat(2, status(429)), []time.Duration{m, 2 * m}, "HTTP 429 Too Many Requests"},
		{"401, on which go-twitter stops without a word, is retried as an HTTP error",
			tt.Repeat(3, status(401)), []time.Duration{5 * s, 10 * s, 20 * s}, "HTTP 401 Unauthorized: check the credentials"},
		{"403 and 404 too",
			[]tt.Response{status(403), status(404)}, []time.Duration{5 * s, 10 * s}, "HTTP 404 Not Found"},
		{"a stream that ends at once, which go-twitter reconnects at once, waits 250 ms, then more each time",
			tt.Repeat(3, ended), []time.Duration{250 * ms, 500 * ms, 750 * ms}, "the stream ended"},
		{"a stream that breaks off waits 250 ms, then more",
			tt.Repeat(2, broken), []time.Duration{250 * ms, 500 * ms}, "the stream broke"},
		{"a disconnect message ends the stream, which waits 250 ms",
			[]tt.Response{tt.Stream([]string{tt.Disconnect(7, "admin logout")}, tt.Stall())},
			[]time.Duration{250 * ms}, "Twitter closed the stream (code 7: admin logout)"},
		{"a connection that drops at once starts no ladder again",
			[]tt.Response{status(503), status(503), abort, ended, status(503)},
			[]time.Duration{5 * s, 10 * s, 250 * ms, 500 * ms, 20 * s}, "HTTP 503"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			h := newHarness(t, test.script...)
			var mu sync.Mutex
			var requestsAtSleep []int
			h.clock.onSleep = func(time.Duration) {
				mu.Lock()
				defer mu.Unlock()
				requestsAtSleep = append(requestsAtSleep, len(h.srv.Requests()))
			}
			h.start()
			h.srv.WaitRequests(t, len(test.want)+1)
			st := h.waitState(stream.SourceConnected)

			if got := h.clock.Sleeps(); !slices.Equal(got, test.want) {
				t.Errorf("waits %v, want %v", got, test.want)
			}
			// go-twitter never reconnected behind the source's back:
			// each wait came right after the one request before it.
			mu.Lock()
			for i, n := range requestsAtSleep {
				if n != i+1 {
					t.Errorf("wait %d came after %d requests, want %d", i+1, n, i+1)
				}
			}
			mu.Unlock()
			if n := len(h.srv.Requests()); n != len(test.want)+1 {
				t.Errorf("%d requests, want %d", n, len(test.want)+1)
			}
			if !strings.Contains(st.Reason, test.wantReason) {
				t.Errorf("reason %q, want it to contain %q", st.Reason, test.wantReason)
			}
			if n := h.log.count(t, "twitter: stream down; reconnecting later"); n != len(test.want) {
				t.Errorf("logged going down %d times, want once a failure (%d)", n, len(test.want))
			}
		})
	}
}

func TestStreamReconnectsAStalledStream(t *testing.T) {
	tests := []struct {
		name   string
		first  tt.Response
		tweets int
	}{
		{"a stream that falls silent", tt.Stream([]string{tt.Tweet("1", "amy", "hello")}, tt.Stall()), 1},
		{"a server that never answers", tt.Response{Steps: []tt.Step{tt.Stall()}}, 0},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			h := newHarness(t, test.first)
			h.start()
			first := h.srv.WaitRequests(t, 1)[0]
			h.sink.waitTweets(t, test.tweets)
			h.clock.Advance(defaultStallTimeout - time.Second)
			if isClosed(first) {
				t.Fatal("the connection was dropped before the stall timeout")
			}
			h.clock.Advance(time.Second)
			h.srv.WaitRequests(t, 2)
			waitClosed(t, first, "the stalled connection")
			st := h.waitState(stream.SourceConnected)
			if st.Counts[countStalls] != 1 || st.Reason != "no data for 1m30s" {
				t.Errorf("status %+v: want one stall", st)
			}
			if got := h.clock.Sleeps(); !slices.Equal(got, []time.Duration{networkStep}) {
				t.Errorf("waits %v, want one of %v", got, networkStep)
			}
		})
	}
}

func TestStreamReturnsPromptlyWhenCancelled(t *testing.T) {
	t.Run("while streaming", func(t *testing.T) {
		h := newHarness(t, tt.Stream([]string{tt.Tweet("1", "amy", "hello")}, tt.Stall()))
		h.start()
		h.sink.waitTweets(t, 1)
		if err := h.stop(); !errors.Is(err, context.Canceled) {
			t.Errorf("Stream returned %v, want context.Canceled", err)
		}
		waitClosed(t, h.srv.Requests()[0], "the connection")
	})
	t.Run("before the server answers, when go-twitter's Stop would hang", func(t *testing.T) {
		h := newHarness(t, tt.Response{Steps: []tt.Step{tt.Stall()}})
		h.start()
		first := h.srv.WaitRequests(t, 1)[0]
		if err := h.stop(); !errors.Is(err, context.Canceled) {
			t.Errorf("Stream returned %v, want context.Canceled", err)
		}
		waitClosed(t, first, "the connection")
	})
	t.Run("while backing off, on the real clock", func(t *testing.T) {
		h := newHarness(t, tt.Answer(503, ""))
		h.src.clock = realClock{}
		h.start()
		h.waitState(stream.SourceBackingOff)
		if err := h.stop(); !errors.Is(err, context.Canceled) {
			t.Errorf("Stream returned %v, want context.Canceled", err)
		}
	})
}

func TestStreamRetracksWithoutLosingAWindow(t *testing.T) {
	oldGate, newGate, lateGate := make(chan struct{}), make(chan struct{}), make(chan struct{})
	h := newHarnessTracking(t, []string{"golang"},
		tt.Stream([]string{tt.Tweet("1", "amy", "golang one")},
			tt.Wait(oldGate),
			tt.Message(tt.Tweet("2", "amy", "golang two")),
			tt.Message(tt.Tweet("3", "amy", "golang and rust three")),
			// Posted before the new stream was up, still on its way.
			tt.Wait(lateGate),
			tt.Message(tt.Tweet("5", "amy", "golang five, late")),
			tt.Stall()),
		tt.Response{Steps: []tt.Step{
			tt.Wait(newGate), // holds back the 200
			tt.Message(tt.Tweet("3", "amy", "golang and rust three")),
			tt.Message(tt.Tweet("4", "bo", "rust four")),
			tt.Stall(),
		}},
	)
	h.start()
	h.sink.waitTweets(t, 1)
	h.waitState(stream.SourceConnected)

	// The set changes: the retrack waits for RetrackInterval since the
	// connection started.
	if _, err := h.trends.Add("rust"); err != nil {
		t.Fatal(err)
	}
	h.clock.waitArmed(t, defaultRetrackInterval, 1)
	if n := len(h.srv.Requests()); n != 1 {
		t.Fatalf("%d requests before RetrackInterval passed, want 1", n)
	}
	h.clock.Advance(defaultRetrackInterval)
	reqs := h.srv.WaitRequests(t, 2)
	if !slices.Equal(reqs[1].Track, []string{"golang", "rust"}) || !reqs[1].Verified {
		t.Errorf("retrack request %+v: want a signed one tracking golang and rust", reqs[1])
	}

	// Until Twitter accepts the new stream, the old one goes on.
	close(oldGate)
	h.sink.waitTweets(t, 3)
	if isClosed(reqs[0]) {
		t.Fatal("the old stream closed before the new one connected")
	}
	close(newGate)
	h.sink.waitTweets(t, 4)
	// The old stream is still read for a while after the switch, for the
	// tweets already on their way; then it is closed.
	close(lateGate)
	h.sink.waitTweets(t, 5)
	h.clock.waitArmed(t, retrackOverlap, 1)
	if isClosed(reqs[0]) {
		t.Fatal("the old stream closed before the overlap was over")
	}
	h.clock.Advance(retrackOverlap)
	waitClosed(t, reqs[0], "the old stream, once the overlap was over")
	if got, want := h.sink.ids(), []string{"1", "2", "3", "4", "5"}; !slices.Equal(got, want) {
		t.Errorf("tweets %q, want %q: each once, none lost", got, want)
	}
	st := h.src.Status()
	if st.State != stream.SourceConnected || st.Counts[countDuplicates] != 1 || st.Counts[countRetracks] != 1 || st.Counts[countReconnects] != 0 {
		t.Errorf("status %+v: want connected, with the one duplicate dropped, after one retrack and no reconnect", st)
	}

	// Another change within RetrackInterval of the retrack waits for it:
	// the overlap took retrackOverlap of it already.
	if _, err := h.trends.Add("ai"); err != nil {
		t.Fatal(err)
	}
	h.clock.waitArmed(t, defaultRetrackInterval-retrackOverlap, 1)
	if n := len(h.srv.Requests()); n != 2 {
		t.Fatalf("%d requests before RetrackInterval passed again, want 2", n)
	}
	h.clock.Advance(defaultRetrackInterval - retrackOverlap)
	reqs = h.srv.WaitRequests(t, 3)
	if !slices.Equal(reqs[2].Track, []string{"golang", "rust", "ai"}) {
		t.Errorf("second retrack tracks %q", reqs[2].Track)
	}
	h.clock.waitArmed(t, retrackOverlap, 2)
	h.clock.Advance(retrackOverlap)
	waitClosed(t, reqs[1], "the second stream, once the third connected and the overlap was over")
	if n := h.log.count(t, "twitter: stream down; reconnecting later"); n != 0 {
		t.Errorf("the stream went down %d times while retracking", n)
	}
	if h.clock.Sleeps() != nil {
		t.Errorf("backed off %v while retracking", h.clock.Sleeps())
	}
}

func TestStreamKeepsItsStreamWhenARetrackFails(t *testing.T) {
	gate := make(chan struct{})
	h := newHarness(t,
		tt.Stream([]string{tt.Tweet("1", "amy", "golang one")}, tt.Wait(gate), tt.Message(tt.Tweet("2", "amy", "golang two")), tt.Stall()),
		tt.Answer(420, "Exceeded connection limit for user"),
	)
	h.start()
	h.sink.waitTweets(t, 1)
	h.waitState(stream.SourceConnected)
	h.clock.Advance(defaultRetrackInterval) // a change may retrack at once

	if _, err := h.trends.Add("ai"); err != nil {
		t.Fatal(err)
	}
	reqs := h.srv.WaitRequests(t, 2)
	// The retrack was refused with 420: it tries again a minute later,
	// and meanwhile the old stream goes on.
	h.clock.waitArmed(t, firstRateLimitWait, 1)
	close(gate)
	h.sink.waitTweets(t, 2)
	if isClosed(reqs[0]) || h.src.Status().State != stream.SourceConnected {
		t.Fatalf("the old stream went down with the retrack: status %+v", h.src.Status())
	}
	if n := h.log.count(t, "twitter: could not switch to the new trend set; keeping the current stream"); n != 1 {
		t.Errorf("logged the failed retrack %d times, want once", n)
	}
	h.clock.Advance(firstRateLimitWait)
	reqs = h.srv.WaitRequests(t, 3)
	if !slices.Equal(reqs[2].Track, []string{"golang", "rust", "ai"}) {
		t.Errorf("the retrack's retry tracks %q", reqs[2].Track)
	}
	h.clock.waitArmed(t, retrackOverlap, 1)
	h.clock.Advance(retrackOverlap)
	waitClosed(t, reqs[0], "the old stream, once the retrack connected and the overlap was over")
}

func TestStreamFailsWhenTheTrendsOutgrowTwitter(t *testing.T) {
	h := newHarness(t)
	h.start()
	h.srv.WaitRequests(t, 1)
	for i := range maxTrackPhrases {
		if _, err := h.trends.Add(fmt.Sprintf("trend %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	err := h.wait()
	if err == nil || !strings.Contains(err.Error(), "Twitter's filter stream tracks at most 400") {
		t.Fatalf("Stream returned %v, want the limit on trends", err)
	}
	st := h.src.Status()
	if st.State != stream.SourceFailed || !strings.Contains(st.Reason, "at most 400") {
		t.Errorf("status %+v: want failed, saying why", st)
	}
	waitClosed(t, h.srv.Requests()[0], "the stream")
}

func TestStreamLeavesOutTrendsTooLongForTwitter(t *testing.T) {
	h := newHarness(t)
	h.start()
	h.srv.WaitRequests(t, 1)
	h.clock.Advance(defaultRetrackInterval)

	long := strings.Repeat("語", 21) // 21 characters, 63 bytes
	if _, err := h.trends.Add(long); err != nil {
		t.Fatal(err)
	}
	h.waitStatus("the long trend counted", func(st stream.SourceStatus) bool { return st.Counts[countUntracked] == 1 })
	if _, err := h.trends.Add("ai"); err != nil {
		t.Fatal(err)
	}
	reqs := h.srv.WaitRequests(t, 2)
	if !slices.Equal(reqs[1].Track, []string{"golang", "rust", "ai"}) {
		t.Errorf("retrack tracks %q, want the long trend left out", reqs[1].Track)
	}
	if n := h.log.count(t, "twitter: trends longer than Twitter tracks are left out; their rooms get no tweets from Twitter"); n != 1 {
		t.Errorf("warned %d times, want once", n)
	}
	if st := h.src.Status(); st.State == stream.SourceFailed {
		t.Errorf("status %+v", st)
	}
}

func TestStreamNeverShowsASecret(t *testing.T) {
	h := newHarness(t, tt.Answer(401, "Authorization Required"), tt.Response{Steps: []tt.Step{tt.Abort()}})
	h.start()
	h.srv.WaitRequests(t, 3)
	st := h.waitState(stream.SourceConnected)
	assertNoSecret(t, "the status", fmt.Sprintf("%+v", st))
	assertNoSecret(t, "the log", h.log.String())
	assertNoSecret(t, "the source", fmt.Sprintf("%v %+v %#v", h.src, h.src, h.src))
}

func TestStreamRefusesMisuse(t *testing.T) {
	h := newHarness(t)
	if err := h.src.Stream(t.Context(), nil); err == nil {
		t.Error("Stream with a nil sink: no error")
	}
	h.start()
	h.srv.WaitRequests(t, 1)
	if err := h.src.Stream(t.Context(), newRecordingSink()); err == nil || !strings.Contains(err.Error(), "already running") {
		t.Errorf("a second Stream at once: error %v", err)
	}
}

func TestNew(t *testing.T) {
	trends := func(names ...string) *stream.Trends {
		tr, err := stream.NewTrends(names, 0)
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	many := make([]string, 401)
	for i := range many {
		many[i] = fmt.Sprintf("trend %d", i)
	}
	noSecret := testCredentials
	noSecret.ConsumerSecret, noSecret.AccessSecret = "", ""
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"incomplete credentials", Config{Credentials: noSecret, Trends: trends("go")},
			"credentials incomplete, ConsumerSecret, AccessSecret missing"},
		{"no trend set", Config{Credentials: testCredentials}, "Config.Trends is required"},
		{"a stream URL that is not absolute", Config{Credentials: testCredentials, Trends: trends("go"), StreamURL: "localhost:8080"},
			"StreamURL \"localhost:8080\": give an absolute http or https URL"},
		{"an API URL with a password", Config{Credentials: testCredentials, Trends: trends("go"), APIURL: "https://u:p@x.example"},
			"APIURL: a user name or password"},
		{"a negative WOEID", Config{Credentials: testCredentials, Trends: trends("go"), WOEID: -1}, "WOEID -1"},
		{"a negative retrack interval", Config{Credentials: testCredentials, Trends: trends("go"), RetrackInterval: -time.Second},
			"RetrackInterval -1s"},
		{"a negative stall timeout", Config{Credentials: testCredentials, Trends: trends("go"), StallTimeout: -time.Second},
			"StallTimeout -1s"},
		{"more trends than Twitter tracks", Config{Credentials: testCredentials, Trends: trends(many...)},
			"401 trends to track, but Twitter's filter stream tracks at most 400"},
		{"a trend longer than Twitter tracks", Config{Credentials: testCredentials, Trends: trends(strings.Repeat("ü", 31))},
			"62 bytes long, but Twitter tracks phrases of at most 60 bytes"},
	}
	for _, test := range tests {
		t.Run("refuses "+test.name, func(t *testing.T) {
			src, err := New(test.cfg)
			if err == nil || !strings.Contains(err.Error(), test.wantErr) {
				t.Fatalf("New = %v, %v; want an error containing %q", src, err, test.wantErr)
			}
			assertNoSecret(t, "the error", err.Error())
		})
	}
	t.Run("defaults", func(t *testing.T) {
		src, err := New(Config{Credentials: testCredentials, Trends: trends("go")})
		if err != nil {
			t.Fatal(err)
		}
		if src.woeid != 1 || src.retrackInterval != 30*time.Second || src.stallTimeout != 90*time.Second || src.logger == nil {
			t.Errorf("defaults: %+v", src)
		}
		if st := src.Status(); st.State != stream.SourceConnecting {
			t.Errorf("status before Stream: %+v", st)
		}
	})
}
