package jetstream

import (
	"testing"
	"time"
)

func TestBackoffDoublesWithJitterUpToItsCap(t *testing.T) {
	b := newBackoff(time.Second, 5*time.Second)
	for i, cur := range []time.Duration{1, 2, 4, 5, 5} {
		cur *= time.Second
		if d := b.next(); d < cur/2 || d > cur {
			t.Errorf("wait %d = %v, want between %v and %v", i, d, cur/2, cur)
		}
	}
	b.reset()
	if d := b.next(); d > time.Second {
		t.Errorf("after reset the wait is %v, want at most 1s", d)
	}
	if d := b.longest(); d < 2500*time.Millisecond || d > 5*time.Second {
		t.Errorf("longest() = %v", d)
	}
}

func TestBackoffDoesNotOverflow(t *testing.T) {
	b := newBackoff(time.Second, time.Duration(1<<62))
	for range 100 {
		if d := b.next(); d < 0 {
			t.Fatalf("a negative wait: %v", d)
		}
	}
}
