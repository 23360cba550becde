package jetstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/tweetstreamer/tweetstreamer/stream"
)

const (
	// profileQueueSize bounds the authors waiting for a lookup: a few
	// minutes of work at the default rate. When it is full a new author is
	// dropped, and queued again at a later post.
	profileQueueSize = 1024
	// maxProfileBytes bounds the answer read from the profile endpoint; a
	// profile takes about a KiB.
	maxProfileBytes = 64 << 10
	// missingProfileTTL is how long the source believes an author has no
	// profile before asking again.
	missingProfileTTL = time.Hour
	// failedProfileRetry is how long after a failed lookup the author may
	// be queued again, so that a failing endpoint is asked about each
	// author at most once a minute, not at each of their posts.
	failedProfileRetry = time.Minute
	// invalidHandle is what Bluesky shows for a handle that no longer
	// resolves; the short DID says as much and is unique.
	invalidHandle = "handle.invalid"
)

// errNoProfile reports that the endpoint knows no profile for the DID.
var errNoProfile = errors.New("no such profile")

// profiles names the authors of posts. author answers from the cache at
// once and queues unknown authors; one worker (run) looks them up at a
// bounded rate and fills the cache.
type profiles struct {
	endpoint url.URL
	client   *http.Client
	limiter  *rate.Limiter
	logger   *slog.Logger
	failLog  rate.Sometimes

	// queue holds the DIDs to look up. It never blocks a sender: pending
	// holds every DID in it, and is never larger than its capacity.
	queue chan string

	mu      sync.Mutex // guards cache and pending
	cache   *profileCache
	pending map[string]struct{} // DIDs queued or being looked up

	resolved, missing, failed, dropped atomic.Int64
}

func newProfiles(endpoint url.URL, client *http.Client, perSecond float64, cacheSize int, logger *slog.Logger) *profiles {
	return &profiles{
		endpoint: endpoint,
		client:   client,
		limiter:  rate.NewLimiter(rate.Limit(perSecond), 1),
		logger:   logger,
		failLog:  rate.Sometimes{First: 1, Interval: time.Minute},
		queue:    make(chan string, profileQueueSize),
		cache:    newProfileCache(cacheSize),
		pending:  make(map[string]struct{}),
	}
}

// author is who the source knows did to be: their profile when it is
// known, and otherwise their short DID, the DID being queued for a lookup.
func (p *profiles) author(did string) stream.Author {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e, ok := p.cache.get(did); ok {
		if e.found {
			return e.author
		}
		if time.Now().Before(e.retryAt) {
			return stream.Author{Handle: shortDID(did)}
		}
	}
	p.enqueueLocked(did)
	return stream.Author{Handle: shortDID(did)}
}

// enqueueLocked queues did for a lookup, unless it is queued already or the
// queue is full. p.mu must be held.
func (p *profiles) enqueueLocked(did string) {
	if _, ok := p.pending[did]; ok {
		return
	}
	if len(p.pending) >= cap(p.queue) {
		p.dropped.Add(1)
		return
	}
	select {
	case p.queue <- did:
		p.pending[did] = struct{}{}
	default: // unreachable while pending bounds the queue
		p.dropped.Add(1)
	}
}

// forget drops what the source knows of did, so that it is looked up again
// at their next post.
func (p *profiles) forget(did string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cache.remove(did)
}

// run looks up the queued authors, one at a time and at the configured
// rate, until ctx is done. What remains queued waits for the next run.
func (p *profiles) run(ctx context.Context) {
	for {
		var did string
		select {
		case <-ctx.Done():
			return
		case did = <-p.queue:
		}
		if err := p.limiter.Wait(ctx); err != nil {
			p.abandon(did)
			return
		}
		author, err := p.lookup(ctx, did)
		if ctx.Err() != nil {
			p.abandon(did)
			return
		}
		p.record(did, author, err)
	}
}

// abandon unqueues did without an answer, so that a later post queues it
// again.
func (p *profiles) abandon(did string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.pending, did)
}

// record caches the outcome of a lookup and counts it.
func (p *profiles) record(did string, author stream.Author, err error) {
	e := profileEntry{author: author, found: err == nil}
	switch {
	case err == nil:
		p.resolved.Add(1)
	case errors.Is(err, errNoProfile):
		p.missing.Add(1)
		e.retryAt = time.Now().Add(missingProfileTTL)
	default:
		n := p.failed.Add(1)
		e.retryAt = time.Now().Add(failedProfileRetry)
		p.failLog.Do(func() {
			p.logger.Warn("jetstream: a profile lookup failed; authors keep their short DID meanwhile",
				"err", err, "failed_so_far", n)
		})
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cache.put(did, e)
	delete(p.pending, did)
}

// profileView is the part of app.bsky.actor.getProfile's answer an author
// needs.
type profileView struct {
	Handle      string `json:"handle"`
	DisplayName string `json:"displayName"`
	Avatar      string `json:"avatar"`
}

// lookup asks the endpoint for did's profile. It returns errNoProfile when
// the endpoint answers that there is none.
func (p *profiles) lookup(ctx context.Context, did string) (stream.Author, error) {
	u := p.endpoint
	q := u.Query()
	q.Set("actor", did)
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return stream.Author{}, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	resp, err := p.client.Do(req)
	if err != nil {
		return stream.Author{}, err
	}
	defer resp.Body.Close()
	body := io.LimitReader(resp.Body, maxProfileBytes)

	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusBadRequest, http.StatusNotFound:
		// XRPC answers 400 (InvalidRequest, AccountTakedown, ...) for
		// an actor it cannot show.
		_, _ = io.Copy(io.Discard, body)
		return stream.Author{}, errNoProfile
	default:
		_, _ = io.Copy(io.Discard, body)
		return stream.Author{}, fmt.Errorf("profile lookup: HTTP %d", resp.StatusCode)
	}
	var view profileView
	if err := json.NewDecoder(body).Decode(&view); err != nil {
		return stream.Author{}, fmt.Errorf("profile lookup: %w", err)
	}
	return view.author(did), nil
}

// author converts the view of did's profile.
func (v *profileView) author(did string) stream.Author {
	a := stream.Author{
		Handle: strings.TrimPrefix(v.Handle, "@"),
		Name:   strings.TrimSpace(v.DisplayName),
	}
	if a.Handle == "" || a.Handle == invalidHandle {
		a.Handle = shortDID(did)
	}
	if isWebURL(v.Avatar) {
		a.AvatarURL = v.Avatar
	}
	return a
}
