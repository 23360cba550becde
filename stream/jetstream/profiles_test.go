package jetstream

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/tweetstreamer/tweetstreamer/stream"
	"github.com/tweetstreamer/tweetstreamer/stream/jetstream/jetstreamtest"
)

// newTestProfiles returns profiles asking ps, with a worker never started.
func newTestProfiles(t *testing.T, ps *jetstreamtest.ProfileServer) *profiles {
	t.Helper()
	u, err := url.Parse(ps.URL())
	if err != nil {
		t.Fatal(err)
	}
	return newProfiles(*u, &http.Client{Timeout: waitTimeout}, 1000, 100, slog.New(slog.DiscardHandler))
}

func TestProfileLookupOutcomes(t *testing.T) {
	ps := jetstreamtest.NewProfileServer()
	defer ps.Close()
	ps.Set(alice, jetstreamtest.Profile{Handle: "alice.test", DisplayName: "  Alice  ", Avatar: "https://cdn.example/a.jpg"})
	ps.Set(bob, jetstreamtest.Profile{Handle: "handle.invalid", Avatar: "javascript:alert(1)"})
	p := newTestProfiles(t, ps)

	tests := []struct {
		name    string
		did     string
		fail    int
		want    stream.Author
		wantErr error // errNoProfile, or any other error as errFailed
	}{
		{"a profile", alice, 0, stream.Author{Handle: "alice.test", Name: "Alice", AvatarURL: "https://cdn.example/a.jpg"}, nil},
		{"an invalid handle and a bad avatar", bob, 0, stream.Author{Handle: "z72i7hdy…"}, nil},
		{"no profile", "did:plc:nobody", 0, stream.Author{}, errNoProfile},
		{"a failing endpoint", alice, http.StatusServiceUnavailable, stream.Author{}, errFailed},
		{"rate limited", alice, http.StatusTooManyRequests, stream.Author{}, errFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps.Fail(tt.fail)
			got, err := p.lookup(t.Context(), tt.did)
			switch {
			case tt.wantErr == errFailed && (err == nil || errors.Is(err, errNoProfile)):
				t.Errorf("err = %v, want a failure", err)
			case tt.wantErr != errFailed && !errors.Is(err, tt.wantErr):
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("author = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// errFailed stands in a table for any error other than errNoProfile.
var errFailed = errors.New("any failure")

func TestProfileQueueIsBoundedAndHoldsEachAuthorOnce(t *testing.T) {
	p := newProfiles(url.URL{}, http.DefaultClient, 1, 10, slog.New(slog.DiscardHandler))
	for i := range profileQueueSize + 10 {
		did := "did:plc:author" + strconv.Itoa(i)
		p.author(did)
		p.author(did) // a second post while queued
	}
	if got := len(p.queue); got != profileQueueSize {
		t.Errorf("%d queued, want %d", got, profileQueueSize)
	}
	// Each post whose author could not be queued counts: 10 authors, 2 posts each.
	if got := p.dropped.Load(); got != 20 {
		t.Errorf("dropped = %d, want 20", got)
	}
}

func TestProfileCacheAnswersAndRetries(t *testing.T) {
	p := newProfiles(url.URL{}, http.DefaultClient, 1, 10, slog.New(slog.DiscardHandler))
	known := stream.Author{Handle: "alice.test", Name: "Alice"}
	p.record(alice, known, nil)
	p.record(bob, stream.Author{}, errNoProfile)
	p.record("did:plc:carol", stream.Author{}, errors.New("timeout"))

	if got := p.author(alice); got != known {
		t.Errorf("a known author is %+v, want %+v", got, known)
	}
	if got := p.author(bob); got.Handle != "z72i7hdy…" {
		t.Errorf("an author without profile is %+v, want the short DID", got)
	}
	if len(p.queue) != 0 {
		t.Errorf("%d queued: cached answers must not be asked again yet", len(p.queue))
	}

	// Once the retry time has passed, the author is queued again.
	p.mu.Lock()
	e, _ := p.cache.get("did:plc:carol")
	e.retryAt = time.Now().Add(-time.Second)
	p.cache.put("did:plc:carol", e)
	p.mu.Unlock()
	p.author("did:plc:carol")
	if len(p.queue) != 1 {
		t.Errorf("%d queued, want the failed author again", len(p.queue))
	}
	if p.resolved.Load() != 1 || p.missing.Load() != 1 || p.failed.Load() != 1 {
		t.Errorf("resolved %d, missing %d, failed %d; want one each", p.resolved.Load(), p.missing.Load(), p.failed.Load())
	}
}

func TestProfileWorkerEndsWithItsContext(t *testing.T) {
	ps := jetstreamtest.NewProfileServer()
	defer ps.Close()
	ps.Stall()
	p := newTestProfiles(t, ps)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.run(ctx)
	}()
	p.author(alice)
	wctx, wcancel := context.WithTimeout(t.Context(), waitTimeout)
	defer wcancel()
	if _, err := ps.WaitLookups(wctx, 1); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(waitTimeout):
		t.Fatal("the worker did not end with its context")
	}
	// The abandoned author is queued again at their next post.
	p.author(alice)
	if len(p.queue) != 1 {
		t.Errorf("%d queued, want the abandoned author again", len(p.queue))
	}
}
