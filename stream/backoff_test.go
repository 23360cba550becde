package stream

import (
	"testing"
	"time"
)

func TestBackoffDoublesWithJitterUpToItsCap(t *testing.T) {
	b := NewBackoff(time.Second, 5*time.Second)
	for i, cur := range []time.Duration{1, 2, 4, 5, 5} {
		cur *= time.Second
		if d := b.Next(); d < cur/2 || d > cur {
			t.Errorf("wait %d = %v, want between %v and %v", i, d, cur/2, cur)
		}
	}
	if b.Recovered(5 * time.Second) {
		t.Error("an attempt of exactly Max counted as a recovery")
	}
	if d := b.Next(); d < 2500*time.Millisecond {
		t.Errorf("after a short attempt the wait is %v, want it still at the cap", d)
	}
	if !b.Recovered(5*time.Second + 1) {
		t.Error("an attempt longer than Max did not count as a recovery")
	}
	if d := b.Next(); d > time.Second {
		t.Errorf("after a recovery the wait is %v, want at most 1s", d)
	}
	if d := b.Longest(); d < 2500*time.Millisecond || d > 5*time.Second {
		t.Errorf("Longest() = %v", d)
	}
}

func TestBackoffDefaults(t *testing.T) {
	tests := []struct {
		name             string
		first, limit     time.Duration
		wantMin, wantMax time.Duration
	}{
		{"zero means the defaults", 0, 0, DefaultMinBackoff, DefaultMaxBackoff},
		{"negative means the defaults", -1, -1, DefaultMinBackoff, DefaultMaxBackoff},
		{"a cap below the first wait is the first wait", 3 * time.Second, time.Second, 3 * time.Second, 3 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewBackoff(tt.first, tt.limit)
			if b.min != tt.wantMin || b.max != tt.wantMax {
				t.Errorf("from %v to %v, want %v to %v", b.min, b.max, tt.wantMin, tt.wantMax)
			}
		})
	}
}

func TestBackoffDoesNotOverflow(t *testing.T) {
	b := NewBackoff(time.Second, time.Duration(1<<62))
	for range 100 {
		if d := b.Next(); d < 0 {
			t.Fatalf("a negative wait: %v", d)
		}
	}
}
