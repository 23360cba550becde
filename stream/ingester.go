package stream

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Publisher receives matched tweets; rooms.Hub implements it. Its methods
// return quickly and never wait for a slow client.
type Publisher interface {
	// Publish routes t to the room of each trend in matched. It may keep
	// matched, which the caller must not change afterwards.
	Publish(t Tweet, matched []string)
	// Retract withdraws the tweet with this ID from every room.
	Retract(source, id string)
}

// The states an Ingester reports in IngestStats.State.
const (
	stateStarting   = "starting"
	stateStreaming  = "streaming"
	stateBackingOff = string(SourceBackingOff) // a source's own word for it, so /healthz has one
	stateEnded      = "ended"
	stateStopped    = "stopped"
)

// Ingester runs a Source and routes what it produces: it bounds each tweet
// (Bound), stamps it with IngestedAt, matches its text against the current
// trends and hands matched tweets to the Publisher. It restarts a failing source with
// exponential backoff.
//
// Set the fields before calling Run, and do not change them afterwards.
// Stats may be called at any time, from any goroutine.
type Ingester struct {
	// Source produces the tweets; required.
	Source Source
	// Trends is the live set a tweet's text is matched against; required.
	Trends *Trends
	// Publisher receives each matched tweet and each retraction; required.
	Publisher Publisher
	// Observe, when set, sees every tweet the source produces, matched or
	// not, once IngestedAt is set: the "trending now" counter feeds on it.
	// It must return quickly and not keep t.
	Observe func(t *Tweet)
	// Logger receives failures and the end of the source; nil means
	// slog.Default().
	Logger *slog.Logger
	// MinBackoff is the first wait before restarting a failed source; zero
	// or negative means DefaultMinBackoff. The waits follow a Backoff:
	// each consecutive failure doubles the wait up to MaxBackoff, with
	// jitter.
	MinBackoff time.Duration
	// MaxBackoff caps the wait; zero or negative means DefaultMaxBackoff,
	// and a value below MinBackoff means MinBackoff. A source that streamed for
	// longer than MaxBackoff before failing starts again from MinBackoff.
	MaxBackoff time.Duration

	received, matched, unmatched, retracted, restarts, refused atomic.Uint64
	// newest is the latest CreatedAt of a tweet received, in Unix
	// nanoseconds.
	newest atomic.Int64

	mu        sync.Mutex // guards state and lastError
	state     string
	lastError string
}

// IngestStats is a snapshot of an Ingester's counters.
type IngestStats struct {
	// Received counts the tweets the source produced, but for those
	// Refused.
	Received uint64
	// Matched counts the tweets that matched a trend and were published.
	Matched uint64
	// Unmatched counts the tweets that matched no trend and were dropped.
	Unmatched uint64
	// Retracted counts the retractions passed on.
	Retracted uint64
	// Restarts counts the times the source was started again after a
	// failure.
	Restarts uint64
	// Refused counts the tweets and retractions dropped because their ID
	// or source is longer than MaxIDBytes (see Bound).
	Refused uint64
	// State is "starting" (not yet received anything from the current
	// run of the source), "streaming", "backing_off" (waiting to restart
	// after a failure), "ended" (the source finished) or "stopped" (Run's
	// context is done).
	State string
	// LastError is the most recent failure of the source; empty if none.
	LastError string
	// NewestCreatedAt is the latest created_at of the tweets received:
	// how far behind the source is runs from there. Zero before the first.
	NewestCreatedAt time.Time
}

// Running reports whether the source is being run: started and not yet
// failed, ended or stopped. A source that reports its own status knows
// better than the ingester where it stands while it runs.
func (s IngestStats) Running() bool { return s.State == stateStarting || s.State == stateStreaming }

// Stats returns the current counters. It is safe to call concurrently with
// Run.
func (in *Ingester) Stats() IngestStats {
	in.mu.Lock()
	state, lastError := in.state, in.lastError
	in.mu.Unlock()
	if state == "" {
		state = stateStarting
	}
	// What a tweet counts as is counted after it is received: reading
	// those first, and received last, keeps them within what was received.
	matched, unmatched := in.matched.Load(), in.unmatched.Load()
	s := IngestStats{
		Matched:   matched,
		Unmatched: unmatched,
		Received:  in.received.Load(),
		Retracted: in.retracted.Load(),
		Restarts:  in.restarts.Load(),
		Refused:   in.refused.Load(),
		State:     state,
		LastError: lastError,
	}
	if n := in.newest.Load(); n != 0 {
		s.NewestCreatedAt = time.Unix(0, n)
	}
	return s
}

// Run streams from the source until ctx is done or the source ends, and
// returns nil in both cases: the server keeps serving what it has. It
// restarts the source after any other failure, with backoff. It returns an
// error only when Source, Trends or Publisher is missing. Call it once.
func (in *Ingester) Run(ctx context.Context) error {
	if in.Source == nil || in.Trends == nil || in.Publisher == nil {
		return errors.New("ingester: Source, Trends and Publisher are required")
	}
	logger := in.Logger
	if logger == nil {
		logger = slog.Default()
	}
	backoff := NewBackoff(in.MinBackoff, in.MaxBackoff)
	for failures := 0; ; {
		in.setState(stateStarting, "")
		started := time.Now()
		err := in.Source.Stream(ctx, &ingestSink{in: in, logger: logger})
		switch {
		case ctx.Err() != nil:
			in.setState(stateStopped, "")
			return nil
		case err == nil:
			logger.Info("source ended")
			in.setState(stateEnded, "")
			return nil
		}

		if backoff.Recovered(time.Since(started)) {
			failures = 0
		}
		failures++
		wait := backoff.Next()
		logger.Warn("source failed; restarting it", "err", err, "attempt", failures, "retry_in", wait)
		in.setState(stateBackingOff, err.Error())

		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			in.setState(stateStopped, "")
			return nil
		case <-timer.C:
		}
		in.restarts.Add(1)
	}
}

// setState records state, and lastError unless it is empty.
func (in *Ingester) setState(state, lastError string) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.state = state
	if lastError != "" {
		in.lastError = lastError
	}
}

// ingestSink is the Sink of one run of the source.
type ingestSink struct {
	in      *Ingester
	logger  *slog.Logger
	started atomic.Bool // something arrived in this run
	warned  atomic.Bool // a refusal was logged in this run
}

func (s *ingestSink) arrived() {
	if !s.started.Load() && s.started.CompareAndSwap(false, true) {
		s.in.setState(stateStreaming, "")
	}
}

// refuse counts an item whose ID or source is too long, and logs the
// first of each run: a source that sends one likely sends many.
func (s *ingestSink) refuse(what, source, id string) {
	s.in.refused.Add(1)
	if !s.warned.Swap(true) {
		s.logger.Warn("source: refusing a "+what+" whose ID or source is too long; later ones are counted, not logged",
			"limit_bytes", MaxIDBytes, "id_bytes", len(id), "source_bytes", len(source))
	}
}

// Tweet bounds t, stamps it, matches its text, and publishes it if it
// matched.
func (s *ingestSink) Tweet(t Tweet) {
	s.arrived()
	if !Bound(&t) {
		s.refuse("tweet", t.Source, t.ID)
		return
	}
	t.IngestedAt = time.Now()
	s.in.received.Add(1)
	s.in.noteCreated(t.CreatedAt, t.IngestedAt)
	if s.in.Observe != nil {
		s.in.Observe(&t)
	}
	matched := s.in.Trends.Matcher().Match(t.Text)
	if len(matched) == 0 {
		s.in.unmatched.Add(1)
		return
	}
	s.in.matched.Add(1)
	s.in.Publisher.Publish(t, matched)
}

// noteCreated keeps created as the newest CreatedAt if it is later than
// the one kept; a created_at after ingested, from a clock ahead of ours,
// counts as ingested, so one bad timestamp cannot hide the lag for good.
// Sources deliver in about the order tweets were written, so the
// compare-and-swap seldom retries.
func (in *Ingester) noteCreated(created, ingested time.Time) {
	if created.IsZero() {
		return
	}
	n := min(created.UnixNano(), ingested.UnixNano())
	for {
		old := in.newest.Load()
		if n <= old || in.newest.CompareAndSwap(old, n) {
			return
		}
	}
}

// Retract passes the retraction on.
func (s *ingestSink) Retract(source, id string) {
	s.arrived()
	if len(id) > MaxIDBytes || len(source) > MaxIDBytes {
		s.refuse("retraction", source, id)
		return
	}
	s.in.retracted.Add(1)
	s.in.Publisher.Retract(source, id)
}
