// Package jetstream is a stream.Source of Bluesky posts, read from a
// Jetstream instance: the network's public firehose as JSON over a
// WebSocket, with no account or key.
//
// Every new post becomes a stream.Tweet with Source "jetstream" and ID
// "{did}/{rkey}"; every deleted post becomes a retraction. Jetstream names
// a post's author by DID only, so the source looks profiles up in the
// background (app.bsky.actor.getProfile), at a bounded rate, and keeps them
// in a bounded cache: an author's first posts carry a short form of the DID
// as the handle, later ones the handle, name and avatar. A post is never
// held back waiting for its author's profile.
//
// The source reconnects by itself, with backoff, and resumes a few seconds
// before the last event it saw, dropping the repeats.
package jetstream

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"

	"github.com/tweetstreamer/tweetstreamer/stream"
)

// Config configures New. Its zero value reads Bluesky's public instances
// with the defaults given below.
type Config struct {
	// URL is the Jetstream subscribe endpoint, ws:// or wss://; empty means
	// wss://jetstream2.us-east.bsky.network/subscribe. The source sets its
	// wantedCollections to app.bsky.feed.post and keeps any other query
	// parameter; a cursor in it applies until the first event arrives,
	// after which the source sets the cursor itself.
	URL string
	// ProfileURL is the app.bsky.actor.getProfile endpoint, http:// or
	// https://; empty means
	// https://public.api.bsky.app/xrpc/app.bsky.actor.getProfile.
	ProfileURL string
	// ProfileRate is how many profile lookups a second the source makes at
	// most; zero, negative, infinite or NaN means 5.
	ProfileRate float64
	// ProfileCache is how many authors the source remembers, with their
	// profile or the knowledge that they have none; zero or negative means
	// 10,000. The least recently seen author is forgotten first.
	ProfileCache int
	// Rewind is how far before the last event it saw the source resumes
	// after losing its connection. The cursor is a time, and each Jetstream
	// instance stamps events with its own clock, so resuming a little
	// earlier leaves no gap; the repeats are dropped. Zero means five
	// seconds; negative means resuming at the last event itself.
	Rewind time.Duration
	// MinBackoff is the first wait before reconnecting; zero or negative
	// means stream.DefaultMinBackoff. The waits follow a stream.Backoff:
	// each consecutive failure doubles the wait up to MaxBackoff, with
	// jitter, and a connection that stayed up for longer than MaxBackoff
	// starts again from MinBackoff.
	MinBackoff time.Duration
	// MaxBackoff caps the wait; zero or negative means
	// stream.DefaultMaxBackoff, and a value below MinBackoff means
	// MinBackoff.
	MaxBackoff time.Duration
	// Logger receives connections, disconnections and, at most once a
	// minute each, malformed events and failed profile lookups; nil means
	// slog.Default().
	Logger *slog.Logger
	// HTTPClient makes the profile lookups; nil means a client with a
	// ten-second timeout.
	HTTPClient *http.Client
}

const (
	defaultURL          = "wss://jetstream2.us-east.bsky.network/subscribe"
	defaultProfileURL   = "https://public.api.bsky.app/xrpc/app.bsky.actor.getProfile"
	defaultProfileRate  = 5
	defaultProfileCache = 10_000
	defaultRewind       = 5 * time.Second
	// defaultProfileTimeout bounds one lookup, so that a slow endpoint
	// delays the names of a few authors rather than all of them.
	defaultProfileTimeout = 10 * time.Second
	// userAgent names this server to Jetstream and to the profile
	// endpoint, as their operators ask of consumers.
	userAgent = "tweetstreamer (+https://github.com/tweetstreamer/tweetstreamer)"

	sourceName     = "jetstream"
	postCollection = "app.bsky.feed.post"
)

// Source is a stream.Source of the posts of a Jetstream instance, and a
// stream.StatusReporter of its connection. Create it with New.
type Source struct {
	base       url.URL // the subscribe URL with wantedCollections; the cursor is added per connection
	header     http.Header
	dialer     websocket.Dialer
	rewind     time.Duration
	minBackoff time.Duration // as configured: stream.NewBackoff applies the defaults
	maxBackoff time.Duration
	logger     *slog.Logger
	profiles   *profiles

	// running makes Stream calls take turns; the fields below it belong
	// to the Stream call under way.
	running    atomic.Bool
	seen       *stream.RecentIDs // posts and deletions delivered lately, to drop a resumption's repeats
	lastTimeUS int64             // the latest time_us seen; zero before the first event

	status       statusBoard
	posts        atomic.Int64
	deletes      atomic.Int64
	malformed    atomic.Int64
	ignored      atomic.Int64
	duplicates   atomic.Int64
	reconnects   atomic.Int64
	malformedLog rate.Sometimes
}

var (
	_ stream.Source         = (*Source)(nil)
	_ stream.StatusReporter = (*Source)(nil)
)

// New checks cfg and returns a source. It fails when URL or ProfileURL is
// not an absolute URL of the right scheme.
func New(cfg Config) (*Source, error) {
	cfg = cfg.withDefaults()
	sub, err := parseURL(cfg.URL, "ws", "wss")
	if err != nil {
		return nil, fmt.Errorf("jetstream: URL: %w", err)
	}
	q := sub.Query()
	q.Set("wantedCollections", postCollection)
	sub.RawQuery = q.Encode()
	profileURL, err := parseURL(cfg.ProfileURL, "http", "https")
	if err != nil {
		return nil, fmt.Errorf("jetstream: ProfileURL: %w", err)
	}

	s := &Source{
		base:   *sub,
		header: http.Header{"User-Agent": {userAgent}},
		dialer: websocket.Dialer{
			Proxy:            http.ProxyFromEnvironment,
			HandshakeTimeout: handshakeTimeout,
		},
		rewind:       cfg.Rewind,
		minBackoff:   cfg.MinBackoff,
		maxBackoff:   cfg.MaxBackoff,
		logger:       cfg.Logger,
		profiles:     newProfiles(*profileURL, cfg.HTTPClient, cfg.ProfileRate, cfg.ProfileCache, cfg.Logger),
		seen:         stream.NewRecentIDs(recentCapacity(cfg.Rewind)),
		malformedLog: rate.Sometimes{First: 1, Interval: time.Minute},
	}
	s.status.set(stream.SourceConnecting, time.Time{}, "")
	return s, nil
}

// withDefaults returns cfg with every zero or out-of-range field replaced
// as its comment says; a negative Rewind becomes zero.
func (cfg Config) withDefaults() Config {
	cfg.URL = cmp.Or(cfg.URL, defaultURL)
	cfg.ProfileURL = cmp.Or(cfg.ProfileURL, defaultProfileURL)
	if !(cfg.ProfileRate > 0) || math.IsInf(cfg.ProfileRate, 1) { // also catches NaN
		cfg.ProfileRate = defaultProfileRate
	}
	if cfg.ProfileCache <= 0 {
		cfg.ProfileCache = defaultProfileCache
	}
	switch {
	case cfg.Rewind == 0:
		cfg.Rewind = defaultRewind
	case cfg.Rewind < 0:
		cfg.Rewind = 0
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: defaultProfileTimeout}
	}
	return cfg
}

// parseURL parses raw as an absolute URL with a host and one of schemes.
func parseURL(raw string, schemes ...string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(schemes, u.Scheme) {
		return nil, fmt.Errorf("%q: the scheme must be %s or %s", raw, schemes[0], schemes[1])
	}
	if u.Host == "" {
		return nil, fmt.Errorf("%q: no host", raw)
	}
	return u, nil
}

// Stream reads posts into sink until ctx is done, then returns ctx.Err().
// It connects, and whenever the connection fails it waits (with backoff)
// and connects again, resuming Rewind before the last event it saw and
// dropping the events it already delivered. It also runs the profile
// lookups, which end with it. Only one Stream call runs at a time; another
// returns an error at once.
func (s *Source) Stream(ctx context.Context, sink stream.Sink) error {
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("jetstream: Stream is already running")
	}
	defer s.running.Store(false)

	ctx, cancel := context.WithCancel(ctx)
	var worker sync.WaitGroup
	defer func() {
		cancel()
		worker.Wait()
	}()
	// The profile worker owns the lookups; it lives as long as this call.
	worker.Go(func() { s.profiles.run(ctx) })

	retry := stream.NewBackoff(s.minBackoff, s.maxBackoff)
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			s.reconnects.Add(1)
		}
		s.status.set(stream.SourceConnecting, time.Time{}, "")
		up, err := s.connect(ctx, sink)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		retry.Recovered(up)
		wait, state := retry.Next(), stream.SourceBackingOff
		if _, refused := errors.AsType[*refusedError](err); refused {
			// Retrying soon will not change the server's mind.
			wait, state = retry.Longest(), stream.SourceFailed
		}
		s.logDisconnect(err, wait)
		s.status.set(state, time.Now().Add(wait), stream.FailureReason(err))
		if !sleep(ctx, wait) {
			return ctx.Err()
		}
	}
}

// logDisconnect logs the end of a connection, or a failure to open one;
// quietly when the server closed the connection on purpose, as it does
// when it restarts.
func (s *Source) logDisconnect(err error, wait time.Duration) {
	if closedOnPurpose(err) {
		s.logger.Info("jetstream: the server closed the connection; reconnecting", "retry_in", wait)
		return
	}
	s.logger.Warn("jetstream: not connected; retrying", "err", err, "retry_in", wait)
}

// subscribeURL is the URL of the next connection: the base URL, with a
// cursor Rewind before the last event seen, once there is one.
func (s *Source) subscribeURL() string {
	if s.lastTimeUS == 0 {
		return s.base.String()
	}
	u := s.base
	q := u.Query()
	q.Set("cursor", strconv.FormatInt(max(s.lastTimeUS-s.rewind.Microseconds(), 0), 10))
	u.RawQuery = q.Encode()
	return u.String()
}

// Status reports the connection's state and the source's counters:
//
//   - posts, deletes: delivered to the sink
//   - duplicates: events delivered already, dropped after a resumption
//   - malformed: events skipped as unreadable
//   - ignored: events of other kinds or collections, and edits
//   - reconnects: connections attempted after the first of a Stream call
//   - profiles_resolved, profiles_missing, profiles_failed: lookups that
//     found a profile, found none, or failed
//   - profiles_dropped: posts whose unknown author could not be queued for
//     a lookup, the queue being full
//
// The state is "connecting", "connected", "backing_off" until RetryAt, or
// "failed" when the server refused the subscription itself (an HTTP 4xx
// answer other than 408 or 429): a wrong URL, which retrying soon will not
// mend. The source still tries again at RetryAt, after MaxBackoff.
func (s *Source) Status() stream.SourceStatus {
	st := s.status.snapshot()
	st.Counts = map[string]int64{
		"posts":                s.posts.Load(),
		"deletes":              s.deletes.Load(),
		"duplicates":           s.duplicates.Load(),
		"malformed":            s.malformed.Load(),
		"ignored":              s.ignored.Load(),
		stream.CountReconnects: s.reconnects.Load(),
		"profiles_resolved":    s.profiles.resolved.Load(),
		"profiles_missing":     s.profiles.missing.Load(),
		"profiles_failed":      s.profiles.failed.Load(),
		"profiles_dropped":     s.profiles.dropped.Load(),
	}
	return st
}

// sleep waits for d, and reports false if ctx is done first.
func sleep(ctx context.Context, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}
