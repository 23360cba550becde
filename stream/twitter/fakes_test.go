package twitter

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tweetstreamer/tweetstreamer/stream"
)

// waitLimit bounds every wait of a test for something the source does:
// long enough for any machine, so that a broken source fails the test
// instead of hanging it. No test asserts how fast anything happens.
const waitLimit = 10 * time.Second

// fakeClock is a clock whose time moves only when a test calls Advance, or
// when the source sleeps: Sleep records the wait, then advances the time
// by it at once. Advance runs the functions of the timers that come due,
// in order, before it returns.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	timers  []*fakeTimer
	sleeps  []time.Duration
	onSleep func(time.Duration) // called at each Sleep, before time moves
	armed   map[time.Duration]int
	changed chan struct{} // closed and replaced when a timer is created
}

func newFakeClock() *fakeClock {
	return &fakeClock{
		now:     time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC),
		armed:   make(map[time.Duration]int),
		changed: make(chan struct{}),
	}
}

type fakeTimer struct {
	c      *fakeClock
	when   time.Time
	active bool
	f      func()
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{c: c, when: c.now.Add(d), active: true, f: f}
	c.timers = append(c.timers, t)
	c.armed[d]++
	close(c.changed)
	c.changed = make(chan struct{})
	return t
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.sleeps = append(c.sleeps, d)
	hook := c.onSleep
	c.mu.Unlock()
	if hook != nil {
		hook(d)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	c.Advance(d)
	return nil
}

// Advance moves the time on by d and runs the timers that come due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
	for {
		c.mu.Lock()
		var due *fakeTimer
		for _, t := range c.timers {
			if t.active && !t.when.After(c.now) && (due == nil || t.when.Before(due.when)) {
				due = t
			}
		}
		if due == nil {
			c.mu.Unlock()
			return
		}
		due.active = false
		c.mu.Unlock()
		due.f()
	}
}

// Sleeps returns the waits the source slept so far.
func (c *fakeClock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// activeDeadlines returns when the active timers are due.
func (c *fakeClock) activeDeadlines() []time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	var list []time.Time
	for _, t := range c.timers {
		if t.active {
			list = append(list, t.when)
		}
	}
	return list
}

// waitArmed waits until n timers of duration d have been created.
func (c *fakeClock) waitArmed(t *testing.T, d time.Duration, n int) {
	t.Helper()
	deadline := time.After(waitLimit)
	for {
		c.mu.Lock()
		got, changed := c.armed[d], c.changed
		c.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("%d timers of %v created, want %d", got, d, n)
		}
	}
}

func (t *fakeTimer) Reset(d time.Duration) bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := t.active
	t.when, t.active = t.c.now.Add(d), true
	return was
}

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := t.active
	t.active = false
	return was
}

// recordingSink records what a source hands it.
type recordingSink struct {
	mu        sync.Mutex
	tweets    []stream.Tweet
	retracted []string // "source/id"
	changed   chan struct{}
}

func newRecordingSink() *recordingSink { return &recordingSink{changed: make(chan struct{})} }

func (s *recordingSink) Tweet(t stream.Tweet) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tweets = append(s.tweets, t)
	s.notifyLocked()
}

func (s *recordingSink) Retract(source, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.retracted = append(s.retracted, source+"/"+id)
	s.notifyLocked()
}

func (s *recordingSink) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// waitTweets waits until n tweets arrived, and returns them all.
func (s *recordingSink) waitTweets(t *testing.T, n int) []stream.Tweet {
	t.Helper()
	s.waitFor(t, func() bool { return len(s.tweets) >= n }, "tweets")
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]stream.Tweet(nil), s.tweets...)
}

// waitRetracted waits until n retractions arrived, and returns them all.
func (s *recordingSink) waitRetracted(t *testing.T, n int) []string {
	t.Helper()
	s.waitFor(t, func() bool { return len(s.retracted) >= n }, "retractions")
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.retracted...)
}

// ids returns the IDs of the tweets received so far.
func (s *recordingSink) ids() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, len(s.tweets))
	for i, t := range s.tweets {
		ids[i] = t.ID
	}
	return ids
}

func (s *recordingSink) waitFor(t *testing.T, done func() bool, what string) {
	t.Helper()
	deadline := time.After(waitLimit)
	for {
		s.mu.Lock()
		ok, changed := done(), s.changed
		n, m := len(s.tweets), len(s.retracted)
		s.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("waiting for %s: have %d tweets and %d retractions after %v", what, n, m, waitLimit)
		}
	}
}

// capturedLog collects what a logger writes, as JSON records.
type capturedLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func newCapturedLog() (*slog.Logger, *capturedLog) {
	l := new(capturedLog)
	return slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug})), l
}

func (l *capturedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *capturedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// messages returns the msg of every record, in order.
func (l *capturedLog) messages(t *testing.T) []string {
	t.Helper()
	var msgs []string
	for line := range strings.Lines(l.String()) {
		var r struct{ Msg string }
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		msgs = append(msgs, r.Msg)
	}
	return msgs
}

// count returns how many records have msg.
func (l *capturedLog) count(t *testing.T, msg string) int {
	t.Helper()
	n := 0
	for _, m := range l.messages(t) {
		if m == msg {
			n++
		}
	}
	return n
}
