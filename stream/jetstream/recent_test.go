package jetstream

import (
	"strconv"
	"testing"
	"time"
)

func TestRecentIDsRemembersTheLastN(t *testing.T) {
	r := newRecentIDs(3)
	for _, id := range []string{"a", "b", "c"} {
		if !r.add(id) {
			t.Errorf("add(%q) = false for a new ID", id)
		}
	}
	if r.add("a") {
		t.Error("add(a) = true for a repeat")
	}
	r.add("d") // forgets a
	if !r.add("a") {
		t.Error("add(a) = false after a was forgotten")
	}
	if r.add("") {
		t.Error("the empty ID was taken")
	}
	if len(r.set) != 3 {
		t.Errorf("%d IDs kept, want 3", len(r.set))
	}
}

func TestRecentIDsStaysBounded(t *testing.T) {
	r := newRecentIDs(100)
	for i := range 10_000 {
		r.add(strconv.Itoa(i))
	}
	if len(r.set) != 100 {
		t.Errorf("%d IDs kept, want 100", len(r.set))
	}
}

func TestRecentCapacityCoversTheRewind(t *testing.T) {
	tests := []struct {
		rewind time.Duration
		want   int
	}{
		{0, minRecentIDs},
		{5 * time.Second, 5*peakEventRate + minRecentIDs},
		{24 * time.Hour, maxRecentIDs},
	}
	for _, tt := range tests {
		if got := recentCapacity(tt.rewind); got != tt.want {
			t.Errorf("recentCapacity(%v) = %d, want %d", tt.rewind, got, tt.want)
		}
	}
}
