package twitter

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/dghubble/go-twitter/twitter"

	"github.com/tweetstreamer/tweetstreamer/stream"
)

// run is one call of Stream. Its loop owns the connections: it starts
// each, reads its messages, and ends it by cancelling its context. One it
// gives up while go-twitter may still send on Messages is drained by a
// goroutine the run starts, and stop waits for those.
type run struct {
	*Source
	ctx  context.Context
	sink stream.Sink

	cur      *conn // the stream tweets come from; nil only between connections
	next     *conn // a retrack connecting beside cur; nil when none
	prev     *conn // the stream a retrack replaced, read until prevDue; nil when none
	draining sync.WaitGroup

	prevTimer timer
	prevDue   chan struct{} // the overlap of prev and cur is over

	backoff   backoff
	notBefore time.Time // no connection attempt before this
	lastStart time.Time // when the last attempt started, for RetrackInterval
	reason    string    // the last failure
	attempts  int       // connections connect has opened

	trendsChanged <-chan struct{}
	retrackTimer  timer
	retrackDue    chan struct{} // the retrack timer fired
	longPhrases   []string      // phrases left out of the track, as last logged
	seen          *stream.RecentIDs
}

func newRun(ctx context.Context, s *Source, sink stream.Sink) *run {
	return &run{
		Source: s, ctx: ctx, sink: sink,
		retrackDue: make(chan struct{}, 1),
		prevDue:    make(chan struct{}, 1),
		seen:       stream.NewRecentIDs(recentTweetIDs),
	}
}

// loop connects and handles events until ctx is done or a failure that
// reconnecting cannot fix.
func (r *run) loop() error {
	for {
		if r.cur == nil {
			if err := r.connect(); err != nil {
				return err
			}
		}
		if err := r.step(); err != nil {
			return err
		}
	}
}

// connect waits until the backoff allows an attempt, then starts one with
// the current trends, as cur. With no trend to track, it waits for one.
func (r *run) connect() error {
	for {
		if err := r.ctx.Err(); err != nil {
			return err
		}
		now := r.clock.Now()
		if wait := r.notBefore.Sub(now); wait > 0 {
			r.status.set(now, stream.SourceBackingOff, r.notBefore, r.reason)
			if err := r.clock.Sleep(r.ctx, wait); err != nil {
				return err
			}
		}
		r.trendsChanged = r.trends.Changed()
		track, err := r.track()
		if err != nil {
			return r.fail(err)
		}
		if len(track) > 0 {
			r.cur, err = r.open(track)
			if err != nil {
				return r.fail(err)
			}
			if r.attempts++; r.attempts > 1 {
				r.status.add(countReconnects, 1)
			}
			r.status.set(r.clock.Now(), stream.SourceConnecting, time.Time{}, "",
				"connection", r.cur.id, "trends", len(track))
			return nil
		}
		r.status.set(r.clock.Now(), stream.SourceConnecting, time.Time{}, "")
		r.logger.Info("twitter: no trend to track yet; waiting for one")
		select {
		case <-r.ctx.Done():
			return r.ctx.Err()
		case <-r.trendsChanged:
		}
	}
}

// track returns the phrases to track now. It leaves out, with a warning,
// phrases longer than Twitter allows, and fails when there are more than
// Twitter tracks.
func (r *run) track() ([]string, error) {
	fit, long := splitLong(trackPhrases(r.trends.List()))
	if !slices.Equal(long, r.longPhrases) {
		r.longPhrases = long
		r.status.setCount(countUntracked, int64(len(long)))
		if len(long) > 0 {
			r.logger.Warn("twitter: trends longer than Twitter tracks are left out; their rooms get no tweets from Twitter",
				"trends", long, "max_bytes", maxPhraseBytes)
		}
	}
	if err := checkPhraseCount(fit); err != nil {
		return nil, err
	}
	return fit, nil
}

// fail reports a failure that reconnecting cannot fix, and returns it.
func (r *run) fail(err error) error {
	r.status.set(r.clock.Now(), stream.SourceFailed, time.Time{}, reasonOf(err))
	return err
}

// open starts a connection tracking track.
func (r *run) open(track []string) (*conn, error) {
	r.lastStart = r.clock.Now()
	c := newConn(r.ctx, r.conns.Add(1), track, r.clock, r.stallTimeout)
	transport := &connTransport{c: c, next: r.rewrite, maxBody: r.maxMessage, dropped: r.dropped}
	client := twitter.NewClient(r.auth.client(transport))
	st, err := client.Streams.Filter(&twitter.StreamFilterParams{
		Track:         track,
		StallWarnings: twitter.Bool(true),
	})
	if err != nil {
		c.end(err)
		c.stopStallTimer()
		return nil, fmt.Errorf("twitter: building the stream request: %w", err)
	}
	c.stream = st
	return c, nil
}

// step waits for the next event and handles it.
func (r *run) step() error {
	select {
	case <-r.ctx.Done():
		return r.ctx.Err()
	case msg, ok := <-r.cur.messages():
		if !ok {
			return r.ended(r.cur)
		}
		r.handle(r.cur, msg)
	case msg, ok := <-r.next.messages():
		if !ok {
			return r.ended(r.next)
		}
		r.handle(r.next, msg)
	case msg, ok := <-r.prev.messages():
		if !ok {
			r.dropPrev(nil)
			return nil
		}
		r.handle(r.prev, msg)
	case <-r.prevDue:
		r.dropPrev(errRetracked)
	case <-r.cur.connectedOnce():
		r.connected(r.cur)
		return r.scheduleRetrack() // a change while it connected
	case <-r.next.connectedOnce():
		return r.promote()
	case <-r.trendsChanged:
		r.trendsChanged = r.trends.Changed()
		return r.scheduleRetrack()
	case <-r.retrackDue:
		r.retrackTimer = nil
		return r.scheduleRetrack()
	}
	return nil
}

// connected records that Twitter accepted c, which is cur. The backoff
// is reset only once the stream has stayed up for stableConnection (see
// ended): a server that accepts and drops at once must not be hammered.
func (r *run) connected(c *conn) {
	c.connectedSeen, c.connectedAt = true, r.clock.Now()
	r.status.set(r.clock.Now(), stream.SourceConnected, time.Time{}, "",
		"connection", c.id, "trends", len(c.track))
}

// promote makes the retrack, which Twitter has just accepted, the current
// stream. The old one is still read for retrackOverlap: the new stream
// carries only what is posted from now on, while the old one may still
// have earlier tweets on their way (in its socket, in go-twitter); the
// tweets both carry are passed on once.
func (r *run) promote() error {
	old := r.cur
	r.cur, r.next = r.next, nil
	r.logger.Info("twitter: switched to the new trend set",
		"connection", r.cur.id, "trends", len(r.cur.track), "replaces", old.id)
	r.connected(r.cur)
	if r.prev != nil {
		r.dropPrev(errRetracked)
	}
	r.prev = old
	r.prevTimer = r.clock.AfterFunc(retrackOverlap, func() {
		select {
		case r.prevDue <- struct{}{}:
		default:
		}
	})
	return r.scheduleRetrack()
}

// dropPrev ends the stream a retrack replaced: with cause once its overlap
// is over, or with nil when it ended by itself, which costs no backoff.
func (r *run) dropPrev(cause error) {
	c := r.prev
	r.prev = nil
	if r.prevTimer != nil {
		r.prevTimer.Stop()
		r.prevTimer = nil
	}
	select { // a due signal left over from this prev must not end the next
	case <-r.prevDue:
	default:
	}
	if cause != nil {
		r.retire(c, cause)
		return
	}
	c.end(errStopped)
	c.stopStallTimer()
	c.stream.Stop() // returns at once: go-twitter's goroutine has ended
}

// ended handles the end of a connection, whose go-twitter goroutine has
// stopped: it counts the failure on its ladder, and either hands over to
// the retrack (if cur ended while one was connecting) or leaves the next
// attempt to connect, or to the retrack timer.
func (r *run) ended(c *conn) error {
	cause := c.cause()
	if cause == nil { // go-twitter stopped by itself, which the transport prevents
		cause = errStreamEnded
	}
	c.end(errStopped) // releases the context
	c.stopStallTimer()
	c.stream.Stop() // returns at once: go-twitter's goroutine has ended
	wasCur := c == r.cur
	if wasCur {
		r.cur, r.next = r.next, nil
	} else {
		r.next = nil
	}
	if r.ctx.Err() != nil {
		return r.ctx.Err()
	}

	now := r.clock.Now()
	if c.connectedSeen && now.Sub(c.connectedAt) >= stableConnection {
		r.backoff.reset()
	}
	wait := r.backoff.next(kindOf(cause))
	r.notBefore = later(r.notBefore, now.Add(wait))
	r.reason = reasonOf(cause)
	if errors.As(cause, new(*stallError)) {
		r.status.add(countStalls, 1)
	}

	switch {
	case !wasCur:
		r.logger.Warn("twitter: could not switch to the new trend set; keeping the current stream",
			"connection", c.id, "reason", r.reason, "retry_in", r.notBefore.Sub(now))
		return r.scheduleRetrack()
	case r.cur != nil:
		// The retrack that was connecting is all there is now.
		r.status.set(now, stream.SourceConnecting, time.Time{}, r.reason,
			"connection", r.cur.id, "trends", len(r.cur.track), "ended", c.id)
	}
	return nil
}

// retire ends a connection that go-twitter may still be sending on, and
// drains its Messages in a goroutine until go-twitter closes it, which
// cancelling the conn's context makes it do at once. stop waits for
// that goroutine.
func (r *run) retire(c *conn, cause error) {
	c.end(cause)
	c.stopStallTimer()
	r.draining.Go(func() {
		for range c.stream.Messages {
		}
		c.stream.Stop()
	})
}

// stop ends every connection and waits, a little, for go-twitter to notice.
func (r *run) stop() {
	if r.retrackTimer != nil {
		r.retrackTimer.Stop()
	}
	if r.prevTimer != nil {
		r.prevTimer.Stop()
	}
	for _, c := range []*conn{r.cur, r.next, r.prev} {
		if c != nil {
			r.retire(c, errStopped)
		}
	}
	r.cur, r.next, r.prev = nil, nil, nil
	done := make(chan struct{})
	go func() {
		r.draining.Wait()
		close(done)
	}()
	grace := time.NewTimer(stopGrace)
	defer grace.Stop()
	select {
	case <-done:
	case <-grace.C:
		r.logger.Warn("twitter: returning before go-twitter stopped; it stops on its own")
	}
	r.transport.CloseIdleConnections()
}

// scheduleRetrack starts a retrack if the trends to track differ from
// cur's and the rules allow a connection now, or sets the retrack timer
// for when they will. It does nothing while a connection or a retrack is
// under way: each reads the trends when it starts, and connected and
// promote call it again.
func (r *run) scheduleRetrack() error {
	if r.cur == nil || !r.cur.connectedSeen || r.next != nil {
		return nil
	}
	track, err := r.track()
	if err != nil {
		return r.fail(err)
	}
	if slices.Equal(track, r.cur.track) || len(track) == 0 {
		// Nothing new to track. (With no trend left, the current stream
		// goes on: Twitter refuses an empty track.)
		return nil
	}
	now := r.clock.Now()
	due := later(r.lastStart.Add(r.retrackInterval), r.notBefore)
	if wait := due.Sub(now); wait > 0 {
		if r.retrackTimer == nil {
			r.retrackTimer = r.clock.AfterFunc(wait, func() {
				select {
				case r.retrackDue <- struct{}{}:
				default:
				}
			})
		}
		return nil
	}
	r.next, err = r.open(track)
	if err != nil {
		return r.fail(err)
	}
	r.status.add(countRetracks, 1)
	r.logger.Info("twitter: the trend set changed; connecting with it beside the current stream",
		"connection", r.next.id, "trends", len(track))
	return nil
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
