package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tweetstreamer/tweetstreamer/rooms"
	"github.com/tweetstreamer/tweetstreamer/stream"
	"github.com/tweetstreamer/tweetstreamer/stream/trending"
	"github.com/tweetstreamer/tweetstreamer/views"
)

// How often the page's view of a live source is refreshed.
const (
	statusEvery   = time.Second
	trendingEvery = 5 * time.Second
	// trenderEvery paces a source's own trends API (Twitter allows 75
	// calls in 15 minutes).
	trenderEvery = time.Minute
	trendingTags = 10
)

// live keeps what the page shows about the source besides tweets: its
// status (a banner when it is not connected) and the trending hashtags,
// announced to every connection when they change, and given to the page
// and /healthz when they render.
type live struct {
	hub     *rooms.Hub
	name    string
	status  stream.StatusReporter // nil for sources that cannot fail
	trender stream.Trender        // nil when the source has no trends API
	counter *trending.Counter     // nil: no trending list (the mock)
	window  time.Duration
	logger  *slog.Logger

	// relayedFrom, on a web node of a cluster, names the ingest node's
	// source; the status and the trending tags are then what the ingest
	// node announced, as the hub passed them on, and nothing is refreshed
	// here.
	relayedFrom func() string

	// Owned by run.
	trenderNext time.Time         // when to ask the trender again
	own         []stream.TagCount // what it answered last

	mu         sync.Mutex
	last       stream.SourceStatus
	tags       []stream.TagCount
	tagsWindow time.Duration
}

func newLive(hub *rooms.Hub, cfg config, source stream.Source, logger *slog.Logger) *live {
	l := &live{hub: hub, name: cfg.source, window: cfg.trendingWindow, logger: logger}
	l.status, _ = source.(stream.StatusReporter)
	l.trender, _ = source.(stream.Trender)
	if cfg.source != "mock" {
		l.counter = trending.New(trending.Config{Window: cfg.trendingWindow})
	}
	return l
}

// newRelayedLive returns the live view of a web node, which runs no
// source: the ingest node's announcements, which hub passes on, and its
// source's name, from source.
func newRelayedLive(hub *rooms.Hub, source func() string) *live {
	return &live{hub: hub, relayedFrom: source}
}

// sourceName names the source the page's tweets come from.
func (l *live) sourceName() string {
	if l.relayedFrom != nil {
		return l.relayedFrom()
	}
	return l.name
}

// observe counts a tweet's hashtags; the ingester calls it for every tweet.
func (l *live) observe(t *stream.Tweet) {
	if l.counter != nil {
		l.counter.ObserveTweet(t)
	}
}

// run refreshes the status and the trending list until ctx is done.
func (l *live) run(ctx context.Context) {
	if l.relayedFrom != nil {
		return
	}
	statusTick := time.NewTicker(statusEvery)
	defer statusTick.Stop()
	trendingTick := time.NewTicker(trendingEvery)
	defer trendingTick.Stop()
	l.refreshStatus()
	l.refreshTrending(ctx, time.Now())
	for {
		select {
		case <-ctx.Done():
			return
		case <-statusTick.C:
			l.refreshStatus()
		case now := <-trendingTick.C:
			l.refreshTrending(ctx, now)
		}
	}
}

// sourceMessage is the protocol's `source` message, without its type.
type sourceMessage struct {
	Source  string             `json:"source"`
	State   stream.SourceState `json:"state"`
	Since   time.Time          `json:"since"`
	RetryAt time.Time          `json:"retry_at,omitzero"`
	Reason  string             `json:"reason,omitempty"`
	// HTML extends the protocol: the page's banner for this status.
	HTML string `json:"html,omitempty"`
}

func (l *live) refreshStatus() {
	if l.status == nil {
		return
	}
	// The lock is held across the announcement, so that two refreshes
	// (the ticker, a page being rendered) cannot announce in the opposite
	// order to the one they read in.
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.status.Status()
	changed := st.State != l.last.State || st.Reason != l.last.Reason || !st.RetryAt.Equal(l.last.RetryAt)
	l.last = st
	if !changed {
		return
	}
	msg := sourceMessage{Source: l.name, State: st.State, Since: st.Since, RetryAt: st.RetryAt, Reason: st.Reason}
	html, err := views.HTML(views.SourceStatusBanner(views.NewSourceBanner(l.name, st)))
	if err != nil {
		l.logger.Error("rendering the source's banner", "err", err)
	}
	msg.HTML = html
	if err := l.hub.Announce("source", msg); err != nil {
		l.logger.Error("announcing the source's status", "err", err)
	}
}

// trendingMessage is the protocol's `trending` message, without its type.
type trendingMessage struct {
	Tags    []stream.TagCount `json:"tags"`
	WindowS int               `json:"window_s"`
	// HTML extends the protocol: the page's "trending now" list.
	HTML string `json:"html,omitempty"`
}

func (l *live) refreshTrending(ctx context.Context, now time.Time) {
	if l.counter == nil {
		return
	}
	tags, window := l.counter.Top(trendingTags, now), l.window
	if own := l.upstreamTrends(ctx, now); len(own) > 0 {
		tags, window = own, 0
	}
	if tags == nil {
		tags = []stream.TagCount{}
	}
	l.mu.Lock()
	l.tags, l.tagsWindow = tags, window
	l.mu.Unlock()
	html, err := views.HTML(views.TrendingNow(tags, window, views.Links{}))
	if err != nil {
		l.logger.Error("rendering the trending tags", "err", err)
	}
	if err := l.hub.Announce("trending", trendingMessage{Tags: tags, WindowS: int(window / time.Second), HTML: html}); err != nil {
		l.logger.Error("announcing the trending tags", "err", err)
	}
}

// upstreamTrends returns the source's own trends, as room names: asked for
// once per trenderEvery and kept in between; nil when the source has no
// trends API or the last call failed, and hashtags are counted instead.
func (l *live) upstreamTrends(ctx context.Context, now time.Time) []stream.TagCount {
	if l.trender == nil || now.Before(l.trenderNext) {
		return l.own
	}
	l.trenderNext = now.Add(trenderEvery)
	callCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	own, err := l.trender.Trending(callCtx)
	cancel()
	if err != nil {
		l.logger.Warn("the source's trends are unavailable; counting hashtags instead", "err", err)
	}
	own = roomNames(own)
	l.own = own[:min(len(own), trendingTags)]
	return l.own
}

// snapshot returns the latest status (nil for a source that reports none),
// the trending tags and the stretch of stream they count (zero when the
// source's own trends gave them), for the page and /healthz.
func (l *live) snapshot() (*stream.SourceStatus, []stream.TagCount, time.Duration) {
	if l == nil {
		return nil, nil, 0
	}
	if l.relayedFrom != nil {
		return l.relayedSnapshot()
	}
	if l.status != nil {
		l.refreshStatus()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var st *stream.SourceStatus
	if l.status != nil {
		s := l.last
		st = &s
	}
	return st, slices.Clone(l.tags), l.tagsWindow
}

// roomNames turns an upstream's trends ("#Golang", "World Cup") into room
// names, as the protocol's trending tags are: without "#", normalised,
// each once; a name that is not a valid trend is left out.
func roomNames(trends []stream.TagCount) []stream.TagCount {
	out := make([]stream.TagCount, 0, len(trends))
	seen := make(map[string]bool, len(trends))
	for _, tc := range trends {
		name, err := stream.NormalizeTrend(strings.TrimLeft(tc.Tag, "#＃"))
		if err != nil || seen[name] {
			continue
		}
		seen[name] = true
		out = append(out, stream.TagCount{Tag: name, Count: tc.Count})
	}
	return out
}

// relayedSnapshot is snapshot on a web node: the last `source` and
// `trending` messages the ingest node announced, decoded.
func (l *live) relayedSnapshot() (*stream.SourceStatus, []stream.TagCount, time.Duration) {
	var st *stream.SourceStatus
	var tags []stream.TagCount
	var window time.Duration
	for _, a := range l.hub.Announcements() {
		switch a.Kind {
		case "source":
			var m sourceMessage
			if err := json.Unmarshal(a.Frame, &m); err == nil {
				st = &stream.SourceStatus{State: m.State, Since: m.Since, RetryAt: m.RetryAt, Reason: m.Reason}
			}
		case "trending":
			var m trendingMessage
			if err := json.Unmarshal(a.Frame, &m); err == nil {
				tags, window = m.Tags, time.Duration(m.WindowS)*time.Second
			}
		}
	}
	return st, tags, window
}
