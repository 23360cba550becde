package twitter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tweetstreamer/tweetstreamer/stream"
)

// Config configures New.
type Config struct {
	// Credentials sign every request; all four keys are required.
	Credentials Credentials
	// Trends is the live trend set; required. The stream tracks the
	// current trends, each as one phrase (a comma in a trend becomes a
	// space), and follows the set as it changes: see RetrackInterval.
	Trends *stream.Trends
	// StreamURL is the base URL of the streaming API; empty means
	// https://stream.twitter.com. Any endpoint that serves Twitter's v1.1
	// filter stream at StreamURL + "/1.1/statuses/filter.json" will do.
	// Requests are signed for Twitter's own URL, as a proxy that forwards
	// them to Twitter needs.
	StreamURL string
	// APIURL is the base URL of the REST API, for trends/place; empty
	// means https://api.twitter.com.
	APIURL string
	// WOEID is the place (a Yahoo! Where On Earth ID) whose trends
	// Trending returns; zero means 1, the whole world.
	WOEID int64
	// RetrackInterval is the least time between two connections made to
	// follow changes of the trend set; zero means 30 seconds. Twitter
	// answers a client that connects too often with HTTP 420.
	RetrackInterval time.Duration
	// StallTimeout is how long the stream may send nothing, not even a
	// keep-alive newline, before it counts as stalled and is reconnected;
	// zero means 90 seconds, Twitter's advice. Twitter sends a keep-alive
	// every 30 seconds, so keep it well above that.
	StallTimeout time.Duration
	// Logger receives changes of the connection's state and notable
	// messages; nil means slog.Default().
	Logger *slog.Logger
}

const (
	defaultWOEID           = 1 // the whole world
	defaultRetrackInterval = 30 * time.Second
	defaultStallTimeout    = 90 * time.Second // Twitter's advice
	// stopGrace bounds how long Stream, once its context is done, waits
	// for go-twitter's goroutines to end. Cancelling their requests ends
	// them at once in practice; the bound keeps Stream prompt whatever
	// happens, and they still end on their own.
	stopGrace = 500 * time.Millisecond
	// retrackOverlap is how long the stream a retrack replaced is still
	// read once the new one is up, for the tweets already on their way.
	retrackOverlap = 5 * time.Second
	// stableConnection is how long a stream must stay up for its failure to
	// start the reconnect rules afresh: Twitter's keep-alive period.
	stableConnection = 30 * time.Second
)

// Source streams the tweets that match the current trends from Twitter's
// v1.1 filter stream. It reconnects by itself, by Twitter's rules,
// follows the trend set as it changes, and reports its state in Status.
// Create it with New.
type Source struct {
	auth            *signer
	trends          *stream.Trends
	transport       *http.Transport   // shared by every connection
	rewrite         http.RoundTripper // sends go-twitter's requests to the configured URLs
	woeid           int64
	retrackInterval time.Duration
	stallTimeout    time.Duration
	maxMessage      int
	logger          *slog.Logger
	clock           clock
	status          *statusBoard

	running atomic.Bool   // a Stream call is running
	conns   atomic.Uint64 // numbers connections in the logs
}

var (
	_ stream.Source         = (*Source)(nil)
	_ stream.StatusReporter = (*Source)(nil)
	_ stream.Trender        = (*Source)(nil)
)

// New checks cfg and returns a source. It refuses incomplete credentials,
// a missing trend set, bad URLs, negative values, and a trend set that
// breaks Twitter's limits on tracking: at most 400 phrases, each at most
// 60 bytes.
func New(cfg Config) (*Source, error) {
	if missing := cfg.Credentials.missing(); len(missing) > 0 {
		return nil, fmt.Errorf("twitter: credentials incomplete, %s missing: "+
			"give all four keys (see CredentialsFromEnv)", strings.Join(missing, ", "))
	}
	if cfg.Trends == nil {
		return nil, errors.New("twitter: Config.Trends is required: give the live trend set to track")
	}
	streamURL, err := parseBaseURL("StreamURL", cfg.StreamURL, defaultStreamURL)
	if err != nil {
		return nil, err
	}
	apiURL, err := parseBaseURL("APIURL", cfg.APIURL, defaultAPIURL)
	if err != nil {
		return nil, err
	}
	switch {
	case cfg.WOEID < 0:
		return nil, fmt.Errorf("twitter: WOEID %d: give a place's Where On Earth ID, or 0 for the whole world", cfg.WOEID)
	case cfg.RetrackInterval < 0:
		return nil, fmt.Errorf("twitter: RetrackInterval %v: give a positive duration, or 0 for %v", cfg.RetrackInterval, defaultRetrackInterval)
	case cfg.StallTimeout < 0:
		return nil, fmt.Errorf("twitter: StallTimeout %v: give a positive duration, or 0 for %v", cfg.StallTimeout, defaultStallTimeout)
	}
	if err := checkTrack(trackPhrases(cfg.Trends.List())); err != nil {
		return nil, err
	}

	transport := newTransport()
	s := &Source{
		auth:      newSigner(cfg.Credentials),
		trends:    cfg.Trends,
		transport: transport,
		rewrite: &hostRewriter{base: transport, hosts: map[string]*url.URL{
			twitterStreamHost: streamURL,
			twitterAPIHost:    apiURL,
		}},
		woeid:           orDefault(cfg.WOEID, defaultWOEID),
		retrackInterval: orDefault(cfg.RetrackInterval, defaultRetrackInterval),
		stallTimeout:    orDefault(cfg.StallTimeout, defaultStallTimeout),
		maxMessage:      maxMessageBytes,
		logger:          cfg.Logger,
		clock:           realClock{},
	}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	s.status = newStatusBoard(s.logger, s.clock.Now())
	return s, nil
}

// newTransport returns the HTTP transport of one source. It sets no
// response timeout: the stall timer covers a server that never answers.
func newTransport() *http.Transport {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          4,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Status reports the state of the connection to Twitter, and these
// counts, every one even at zero: tweets and deletes (passed on to the
// sink), reconnects (connections attempted after the first of a Stream
// call), retracks (connections opened to follow the trend set),
// limit_undelivered (matching tweets Twitter held back, from its
// limit notices), unknown_messages, ignored_messages (known types of no
// use here), malformed_messages, oversized_messages (longer than 1 MiB),
// stall_warnings, disconnects (messages saying why Twitter closed the
// stream), stalls (streams dropped for silence), duplicates (tweets both
// streams of a retrack delivered) and untracked_trends (trends too long
// for Twitter to track, left out). Safe for concurrent use.
func (s *Source) Status() stream.SourceStatus { return s.status.snapshot() }

// Stream connects to the filter stream, tracking the current trends, and
// hands each tweet and deletion to sink until ctx is done; then it
// returns ctx.Err() within a second.
//
// It reconnects by itself, by Twitter's rules: after a network failure
// (including a stream that ended, broke, stalled, or was closed by a
// disconnect message) it waits 250 ms more each time, up to 16 s; after
// an HTTP error status 5 s, doubling up to 320 s; after HTTP 420 or 429 a
// minute, doubling. A connection that Twitter accepts starts every ladder
// again. When the trend set changes, it opens a stream with the new trends
// beside the current one, at most once per RetrackInterval, and switches
// to it once Twitter accepts it; tweets that both deliver are passed on
// once.
//
// It returns another error only for what reconnecting cannot fix: more
// trends than Twitter tracks (400). A trend longer than Twitter's 60
// bytes is left out of the track, with a warning, rather than stopping
// the stream for every other trend. Call Stream from one goroutine at a
// time.
func (s *Source) Stream(ctx context.Context, sink stream.Sink) error {
	if sink == nil {
		return errors.New("twitter: Stream needs a sink")
	}
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("twitter: Stream is already running: a Source holds one stream at a time")
	}
	defer s.running.Store(false)
	r := newRun(ctx, s, sink)
	err := r.loop()
	r.stop()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}
