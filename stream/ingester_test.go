package stream

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// publication is one call of Publisher.Publish.
type publication struct {
	tweet   Tweet
	matched []string
}

// publisherRecorder is a Publisher that keeps what it receives.
type publisherRecorder struct {
	mu        sync.Mutex
	published []publication
	retracted []string
}

func (p *publisherRecorder) Publish(t Tweet, matched []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.published = append(p.published, publication{t, matched})
}

func (p *publisherRecorder) Retract(source, id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.retracted = append(p.retracted, source+"/"+id)
}

func (p *publisherRecorder) Published() []publication {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.published)
}

func (p *publisherRecorder) Retracted() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.retracted)
}

var _ Publisher = (*publisherRecorder)(nil)

func TestIngesterRoutesTweets(t *testing.T) {
	trends := trendsOf(t, "golang", "rust")
	pub := new(publisherRecorder)
	logger, log := newCapturedLog()
	calls := 0
	source := SourceFunc(func(ctx context.Context, sink Sink) error {
		calls++
		sink.Tweet(Tweet{ID: "1", Source: "test", Text: "Loving #Golang today"})
		sink.Tweet(Tweet{ID: "2", Source: "test", Text: "nothing to see here"})
		sink.Tweet(Tweet{ID: "3", Source: "test", Text: "rust or golang?", Author: Author{Handle: "rust"}})
		sink.Tweet(Tweet{ID: "4", Source: "test", Text: "a tweet by @golang", Author: Author{Handle: "golang"}})
		// A trend added while the source runs applies to the next tweet.
		if _, err := trends.Add("climate"); err != nil {
			t.Error(err)
		}
		sink.Tweet(Tweet{ID: "5", Source: "test", Text: "climate news"})
		sink.Retract("test", "1")
		return nil
	})
	var observed []string
	observe := func(t *Tweet) {
		if !t.IngestedAt.IsZero() {
			observed = append(observed, t.ID)
		}
	}
	in := &Ingester{Source: source, Trends: trends, Publisher: pub, Logger: logger, Observe: observe}

	before := time.Now()
	if err := in.Run(t.Context()); err != nil {
		t.Fatalf("Run = %v, want nil when the source ends", err)
	}
	after := time.Now()

	t.Run("matched tweets reach the publisher with their trends", func(t *testing.T) {
		want := []struct {
			id      string
			matched []string
		}{
			{"1", []string{"golang"}},
			{"3", []string{"golang", "rust"}},
			{"4", []string{"golang"}},
			{"5", []string{"climate"}},
		}
		got := pub.Published()
		if len(got) != len(want) {
			t.Fatalf("published %d tweets, want %d", len(got), len(want))
		}
		for i, w := range want {
			if got[i].tweet.ID != w.id || !slices.Equal(got[i].matched, w.matched) {
				t.Errorf("publication %d = %s %q, want %s %q", i, got[i].tweet.ID, got[i].matched, w.id, w.matched)
			}
		}
	})
	t.Run("each published tweet carries IngestedAt", func(t *testing.T) {
		for _, p := range pub.Published() {
			if at := p.tweet.IngestedAt; at.Before(before) || at.After(after) {
				t.Errorf("tweet %s IngestedAt = %v, want between %v and %v", p.tweet.ID, at, before, after)
			}
		}
	})
	t.Run("Observe sees every tweet, matched or not, stamped", func(t *testing.T) {
		if want := []string{"1", "2", "3", "4", "5"}; !slices.Equal(observed, want) {
			t.Errorf("observed %q, want %q", observed, want)
		}
	})
	t.Run("retractions pass through", func(t *testing.T) {
		if got := pub.Retracted(); !slices.Equal(got, []string{"test/1"}) {
			t.Errorf("retracted %q, want [test/1]", got)
		}
	})
	t.Run("a source that ends is not restarted", func(t *testing.T) {
		if calls != 1 {
			t.Errorf("Stream called %d times, want 1", calls)
		}
		var ended bool
		for _, r := range log.Records(t) {
			ended = ended || r["msg"] == "source ended" && r["level"] == "INFO"
		}
		if !ended {
			t.Errorf("no INFO record %q in %v", "source ended", log.Records(t))
		}
	})
	t.Run("stats count every kind of item", func(t *testing.T) {
		want := IngestStats{Received: 5, Matched: 4, Unmatched: 1, Retracted: 1, State: "ended"}
		if got := in.Stats(); got != want {
			t.Errorf("Stats = %+v, want %+v", got, want)
		}
	})
}

func TestIngesterNeedsItsParts(t *testing.T) {
	source := SourceFunc(func(context.Context, Sink) error { return nil })
	trends := trendsOf(t, "golang")
	pub := new(publisherRecorder)
	tests := []struct {
		name string
		in   *Ingester
	}{
		{"without a source", &Ingester{Trends: trends, Publisher: pub}},
		{"without trends", &Ingester{Source: source, Publisher: pub}},
		{"without a publisher", &Ingester{Source: source, Trends: trends}},
	}
	for _, tt := range tests {
		t.Run(tt.name+" Run fails", func(t *testing.T) {
			if err := tt.in.Run(t.Context()); err == nil {
				t.Error("Run = nil, want an error")
			}
		})
	}
}

// failingSource fails each call at once, except the calls listed in
// streamFor, which stream for that long first, and call block, which waits
// for ctx. It records when each call started.
type failingSource struct {
	mu        sync.Mutex
	starts    []time.Time
	streamFor map[int]time.Duration
	block     int
}

func (s *failingSource) Stream(ctx context.Context, sink Sink) error {
	s.mu.Lock()
	s.starts = append(s.starts, time.Now())
	call := len(s.starts)
	s.mu.Unlock()
	if call == s.block {
		<-ctx.Done()
		return ctx.Err()
	}
	if d := s.streamFor[call]; d > 0 {
		time.Sleep(d)
	}
	return errors.New("connection reset")
}

// Starts returns when each call started.
func (s *failingSource) Starts() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.starts)
}

func TestIngesterRestartsAFailingSource(t *testing.T) {
	const minWait, maxWait = time.Second, 8 * time.Second
	tests := []struct {
		name      string
		streamFor map[int]time.Duration
		// backoff is the backoff before each restart: each wait lies
		// between half of it and all of it.
		backoff []time.Duration
		// attempts is the attempt count logged with each failure.
		attempts []float64
	}{
		{
			name:     "waits grow from MinBackoff, doubling up to MaxBackoff",
			backoff:  []time.Duration{1 * time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second},
			attempts: []float64{1, 2, 3, 4, 5},
		},
		{
			name:      "a run longer than MaxBackoff resets the wait to MinBackoff",
			streamFor: map[int]time.Duration{3: 20 * time.Second},
			backoff:   []time.Duration{1 * time.Second, 2 * time.Second, 1 * time.Second, 2 * time.Second, 4 * time.Second},
			attempts:  []float64{1, 2, 1, 2, 3},
		},
		{
			name:      "a run shorter than MaxBackoff does not",
			streamFor: map[int]time.Duration{3: 5 * time.Second},
			backoff:   []time.Duration{1 * time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second},
			attempts:  []float64{1, 2, 3, 4, 5},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				source := &failingSource{streamFor: tt.streamFor, block: len(tt.backoff) + 1}
				logger, log := newCapturedLog()
				in := &Ingester{
					Source: source, Trends: trendsOf(t, "golang"), Publisher: new(publisherRecorder),
					Logger: logger, MinBackoff: minWait, MaxBackoff: maxWait,
				}
				ctx, cancel := context.WithCancel(t.Context())
				done := make(chan error)
				go func() { done <- in.Run(ctx) }()

				// Let every restart happen, then stop.
				time.Sleep(time.Hour)
				stats := in.Stats()
				cancel()
				if err := <-done; err != nil {
					t.Errorf("Run = %v, want nil", err)
				}

				starts := source.Starts()
				if len(starts) != len(tt.backoff)+1 {
					t.Fatalf("Stream called %d times, want %d", len(starts), len(tt.backoff)+1)
				}
				for i, backoff := range tt.backoff {
					wait := starts[i+1].Sub(starts[i]) - tt.streamFor[i+1]
					if wait < backoff/2 || wait > backoff {
						t.Errorf("wait before restart %d = %v, want between %v and %v", i+1, wait, backoff/2, backoff)
					}
				}
				if stats.Restarts != uint64(len(tt.backoff)) || stats.State != "starting" || stats.LastError != "connection reset" {
					t.Errorf("Stats = %+v, want %d restarts, state starting, last error", stats, len(tt.backoff))
				}
				var attempts []float64
				for _, r := range log.Records(t) {
					if r["level"] == "WARN" && r["err"] == "connection reset" {
						attempts = append(attempts, r["attempt"].(float64))
					}
				}
				if !slices.Equal(attempts, tt.attempts) {
					t.Errorf("logged failures with attempts %v, want %v", attempts, tt.attempts)
				}
			})
		})
	}
}

func TestIngesterStopsPromptly(t *testing.T) {
	tests := []struct {
		name      string
		source    Source
		wantState string // just before cancellation
	}{
		{
			name: "while the source streams",
			source: SourceFunc(func(ctx context.Context, sink Sink) error {
				sink.Tweet(Tweet{ID: "1", Text: "golang"})
				<-ctx.Done()
				return ctx.Err()
			}),
			wantState: "streaming",
		},
		{
			name: "while it backs off",
			source: SourceFunc(func(ctx context.Context, sink Sink) error {
				return errors.New("unreachable")
			}),
			wantState: "backing_off",
		},
		{
			name: "when the source returns another error as it stops",
			source: SourceFunc(func(ctx context.Context, sink Sink) error {
				<-ctx.Done()
				return errors.New("closed network connection")
			}),
			wantState: "starting",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				in := &Ingester{
					Source: tt.source, Trends: trendsOf(t, "golang"), Publisher: new(publisherRecorder),
					Logger: slog.New(slog.DiscardHandler), MinBackoff: time.Hour,
				}
				ctx, cancel := context.WithCancel(t.Context())
				done := make(chan error, 1)
				go func() { done <- in.Run(ctx) }()
				time.Sleep(time.Second)
				if got := in.Stats().State; got != tt.wantState {
					t.Errorf("State = %q, want %q", got, tt.wantState)
				}

				cancel()
				synctest.Wait()
				select {
				case err := <-done:
					if err != nil {
						t.Errorf("Run = %v, want nil", err)
					}
				default:
					t.Fatal("Run still runs after cancellation")
				}
				if got := in.Stats(); got.State != "stopped" || got.Restarts != 0 {
					t.Errorf("Stats = %+v, want state stopped and no restart", got)
				}
			})
		})
	}
}

// The mock through the ingester: every trend gets its share, and Stats may
// be read while tweets flow.
func TestIngesterWithMock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		trends := trendsOf(t, defaultTestTrends...)
		pub := new(publisherRecorder)
		in := &Ingester{Source: NewMock(MockConfig{Trends: trends, Rate: 8000}), Trends: trends, Publisher: pub}
		ctx, cancel := context.WithCancel(t.Context())
		var wg sync.WaitGroup
		wg.Go(func() {
			if err := in.Run(ctx); err != nil {
				t.Errorf("Run = %v", err)
			}
		})
		wg.Go(func() {
			for ctx.Err() == nil {
				if s := in.Stats(); s.Matched > s.Received {
					t.Errorf("Stats = %+v: more matched than received", s)
				}
				time.Sleep(time.Millisecond)
			}
		})
		time.Sleep(time.Second + mockMinTick/2)
		cancel()
		wg.Wait()

		perTrend := make(map[string]int)
		for _, p := range pub.Published() {
			if len(p.matched) != 1 {
				t.Fatalf("%q matched %q", p.tweet.Text, p.matched)
			}
			perTrend[p.matched[0]]++
		}
		for _, trend := range defaultTestTrends {
			if perTrend[trend] != 1000 {
				t.Errorf("%q got %d tweets, want 1000", trend, perTrend[trend])
			}
		}
		if s := in.Stats(); s.Received != 8000 || s.Matched != 8000 || s.Unmatched != 0 || s.State != "stopped" {
			t.Errorf("Stats = %+v, want 8000 received and matched, stopped", s)
		}
	})
}

func TestIngesterKeepsTheNewestCreatedAtForTheLag(t *testing.T) {
	old := time.Now().Add(-time.Hour)
	source := SourceFunc(func(ctx context.Context, sink Sink) error {
		sink.Tweet(Tweet{ID: "1", Source: "test", Text: "golang", CreatedAt: old})
		sink.Tweet(Tweet{ID: "2", Source: "test", Text: "golang", CreatedAt: old.Add(-time.Minute)})
		sink.Tweet(Tweet{ID: "3", Source: "test", Text: "golang"}) // no created_at
		return nil
	})
	in := &Ingester{Source: source, Trends: trendsOf(t, "golang"), Publisher: new(publisherRecorder)}
	if got := in.Stats().NewestCreatedAt; !got.IsZero() {
		t.Fatalf("NewestCreatedAt before any tweet: %v", got)
	}
	_ = in.Run(context.Background())
	if got := in.Stats().NewestCreatedAt; !got.Equal(old) {
		t.Errorf("NewestCreatedAt = %v, want the newest one sent, %v", got, old)
	}

	// A created_at from a clock ahead of ours counts as when it arrived.
	ahead := SourceFunc(func(ctx context.Context, sink Sink) error {
		sink.Tweet(Tweet{ID: "4", Source: "test", Text: "golang", CreatedAt: time.Now().Add(time.Hour)})
		return nil
	})
	in = &Ingester{Source: ahead, Trends: trendsOf(t, "golang"), Publisher: new(publisherRecorder)}
	_ = in.Run(context.Background())
	if got := in.Stats().NewestCreatedAt; got.After(time.Now()) {
		t.Errorf("NewestCreatedAt = %v, in the future", got)
	}
}
