package twitter

import (
	"errors"
	"slices"
	"testing"
	"time"
)

func TestConnStallsAfterTheTimeoutWithoutAByte(t *testing.T) {
	fc := newFakeClock()
	start := fc.Now()
	c := newConn(t.Context(), 1, []string{"go"}, fc, 90*time.Second)
	defer c.stopStallTimer()

	fc.Advance(60 * time.Second)
	c.touch() // a keep-alive newline
	fc.Advance(60 * time.Second)
	if err := c.cause(); err != nil {
		t.Fatalf("120 s after the start, 60 s after a byte: ended (%v)", err)
	}
	if !slices.ContainsFunc(fc.activeDeadlines(), func(d time.Time) bool { return d.Equal(start.Add(150 * time.Second)) }) {
		t.Errorf("the stall timer is not set for 90 s after the last byte: %v", fc.activeDeadlines())
	}
	fc.Advance(29 * time.Second)
	if err := c.cause(); err != nil {
		t.Fatalf("89 s after the last byte: ended (%v)", err)
	}
	fc.Advance(time.Second)
	var stall *stallError
	if err := c.cause(); !errors.As(err, &stall) || err.Error() != "no data for 1m30s" {
		t.Errorf("90 s after the last byte: cause %v, want a stall", err)
	}
}

func TestConnStallTimerStops(t *testing.T) {
	fc := newFakeClock()
	c := newConn(t.Context(), 1, []string{"go"}, fc, time.Second)
	c.stopStallTimer()
	fc.Advance(time.Hour)
	if err := c.cause(); err != nil {
		t.Errorf("a stopped stall timer ended the connection: %v", err)
	}
}
