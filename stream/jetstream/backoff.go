package jetstream

import (
	"math/rand/v2"
	"time"
)

// backoff spaces out reconnections: each wait doubles the next, up to max.
type backoff struct {
	min, max, cur time.Duration
}

func newBackoff(first, limit time.Duration) backoff {
	return backoff{min: first, max: limit, cur: first}
}

// next returns the wait before the next attempt, a random time between
// half the current backoff and all of it, and doubles the backoff.
func (b *backoff) next() time.Duration {
	d := jitter(b.cur)
	if b.cur > b.max/2 {
		b.cur = b.max
	} else {
		b.cur *= 2
	}
	return d
}

// longest returns a wait between half of max and all of it.
func (b *backoff) longest() time.Duration { return jitter(b.max) }

// reset starts again from min, after a connection that stayed up.
func (b *backoff) reset() { b.cur = b.min }

// jitter returns a random time between d/2 and d, so that clients which
// failed together do not come back together.
func jitter(d time.Duration) time.Duration {
	return d/2 + rand.N(d/2+1)
}
