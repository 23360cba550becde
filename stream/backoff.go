package stream

import (
	"math/rand/v2"
	"time"
)

// The defaults of NewBackoff, which the Ingester and the live sources use
// for a zero MinBackoff or MaxBackoff.
const (
	// DefaultMinBackoff is the first wait: short enough that a blip
	// costs a second, long enough not to hammer a server that is down.
	DefaultMinBackoff = time.Second
	// DefaultMaxBackoff caps the wait: an outage is noticed within a
	// minute of its end.
	DefaultMaxBackoff = time.Minute
)

// Backoff spaces out the restarts of a failing source or connection: each
// wait doubles the next, from Min up to Max, and each actual wait is a
// random time between half the current backoff and all of it, so that
// servers which failed together do not come back together. An attempt
// that ran for longer than Max counts as a recovery and starts again from
// Min. Create it with NewBackoff; it is not safe for concurrent use.
type Backoff struct {
	min, max, cur time.Duration
}

// NewBackoff returns a Backoff from first to limit. A first of zero or
// less means DefaultMinBackoff, a limit of zero or less
// DefaultMaxBackoff, and a limit below first means first.
func NewBackoff(first, limit time.Duration) *Backoff {
	if first <= 0 {
		first = DefaultMinBackoff
	}
	if limit <= 0 {
		limit = DefaultMaxBackoff
	}
	limit = max(limit, first)
	return &Backoff{min: first, max: limit, cur: first}
}

// Next returns the wait before the next attempt and doubles the backoff.
func (b *Backoff) Next() time.Duration {
	d := jitter(b.cur)
	if b.cur > b.max/2 { // doubling would pass max, or overflow
		b.cur = b.max
	} else {
		b.cur *= 2
	}
	return d
}

// Longest returns a wait between half of Max and all of it, for a failure
// that retrying soon will not mend.
func (b *Backoff) Longest() time.Duration { return jitter(b.max) }

// Recovered starts again from Min, and reports true, when the attempt that
// just ended ran for longer than Max: it stayed up long enough to count as
// a recovery rather than one more failure in a row.
func (b *Backoff) Recovered(ran time.Duration) bool {
	if ran <= b.max {
		return false
	}
	b.cur = b.min
	return true
}

// jitter returns a random time between d/2 and d.
func jitter(d time.Duration) time.Duration {
	return d/2 + rand.N(d/2+1)
}
