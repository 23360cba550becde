package twitter

import (
	"context"
	"time"
)

// clock is the source's view of time. The real one is realClock; tests
// put a fake one in Source.clock to check every wait without waiting.
type clock interface {
	Now() time.Time
	// AfterFunc calls f after d, unless the timer is stopped first.
	AfterFunc(d time.Duration, f func()) timer
	// Sleep waits for d, or until ctx is done, and returns ctx.Err() in
	// that case.
	Sleep(ctx context.Context, d time.Duration) error
}

// timer is the part of *time.Timer the source uses.
type timer interface {
	Reset(d time.Duration) bool
	Stop() bool
}

// realClock is the clock of the time package.
type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) AfterFunc(d time.Duration, f func()) timer { return time.AfterFunc(d, f) }

func (realClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
