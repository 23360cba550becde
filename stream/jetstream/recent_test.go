package jetstream

import (
	"testing"
	"time"
)

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
