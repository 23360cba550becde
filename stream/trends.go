package stream

import (
	"errors"
	"slices"
	"sync"
	"sync/atomic"
)

// ErrTooManyTrends is returned by Trends.Add when the set is full.
var ErrTooManyTrends = errors.New("too many trends")

// Trends is the live set of trends: the configured ones, which stay, and the
// custom ones that users add by joining a room for them, which the caller
// removes when no one watches them any more. Sources and the ingester read
// the current Matcher without locking. Safe for concurrent use.
type Trends struct {
	max int

	mu         sync.Mutex
	configured []string
	custom     []string
	changed    chan struct{} // closed and replaced on each change

	matcher atomic.Pointer[Matcher]
}

// NewTrends normalises configured and returns a set holding them. max caps
// the whole set, custom trends included; zero means no cap.
func NewTrends(configured []string, max int) (*Trends, error) {
	t := &Trends{max: max, changed: make(chan struct{})}
	for _, name := range configured {
		trend, err := NormalizeTrend(name)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(t.configured, trend) {
			t.configured = append(t.configured, trend)
		}
	}
	if max > 0 && len(t.configured) > max {
		return nil, refuseTrend(ErrTooManyTrends, "%d configured, at most %d", len(t.configured), max)
	}
	t.matcher.Store(NewMatcher(t.configured))
	return t, nil
}

// Matcher returns the matcher for the current set.
func (t *Trends) Matcher() *Matcher { return t.matcher.Load() }

// List returns the current trends, configured ones first, in the order they
// were configured or added.
func (t *Trends) List() []string { return slices.Clone(t.Matcher().Trends()) }

// IsConfigured reports whether trend (normalised) is one of the configured
// trends, which are never removed.
func (t *Trends) IsConfigured(trend string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Contains(t.configured, trend)
}

// Changed returns a channel that is closed at the next change of the set.
func (t *Trends) Changed() <-chan struct{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.changed
}

// Add makes sure trend (normalised) is in the set, adding it as a custom
// trend if needed. It reports whether it was added, and fails with an error
// wrapping ErrTooManyTrends when the set is full, or ErrBadTrend when trend
// is not what NormalizeTrend returns: "Go" beside "go" would be two trends
// for one, and "!!!" would count against the cap yet match nothing.
func (t *Trends) Add(trend string) (added bool, err error) {
	switch normal, err := NormalizeTrend(trend); {
	case err != nil:
		return false, err
	case normal != trend:
		return false, refuseTrend(ErrBadTrend, "%q is not normalised (%q)", trend, normal)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if slices.Contains(t.configured, trend) || slices.Contains(t.custom, trend) {
		return false, nil
	}
	if t.max > 0 && len(t.configured)+len(t.custom) >= t.max {
		return false, refuseTrend(ErrTooManyTrends, "this server follows at most %d", t.max)
	}
	t.custom = append(t.custom, trend)
	t.publishLocked()
	return true, nil
}

// Remove drops a custom trend. It reports whether it did: configured trends
// and unknown names are left alone.
func (t *Trends) Remove(trend string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	i := slices.Index(t.custom, trend)
	if i < 0 {
		return false
	}
	t.custom = slices.Delete(t.custom, i, i+1)
	t.publishLocked()
	return true
}

func (t *Trends) publishLocked() {
	all := make([]string, 0, len(t.configured)+len(t.custom))
	all = append(append(all, t.configured...), t.custom...)
	t.matcher.Store(NewMatcher(all))
	close(t.changed)
	t.changed = make(chan struct{})
}
