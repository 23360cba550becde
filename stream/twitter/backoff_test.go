package twitter

import (
	"slices"
	"testing"
	"time"
)

func TestBackoffFollowsTwittersLadders(t *testing.T) {
	const s, ms, m = time.Second, time.Millisecond, time.Minute
	tests := []struct {
		name string
		kind failureKind
		want []time.Duration
	}{
		{"network failures wait 250 ms longer each time", networkFailure,
			[]time.Duration{250 * ms, 500 * ms, 750 * ms, s, 1250 * ms}},
		{"HTTP errors wait 5 s, doubling", httpFailure,
			[]time.Duration{5 * s, 10 * s, 20 * s, 40 * s, 80 * s, 160 * s, 320 * s}},
		{"HTTP errors stop doubling at 320 s", httpFailure,
			append(slices.Repeat([]time.Duration{0}, 6), 320*s, 320*s, 320*s)},
		{"420 and 429 wait a minute, doubling", rateLimitFailure,
			[]time.Duration{m, 2 * m, 4 * m, 8 * m, 16 * m, 32 * m, 64 * m}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b backoff
			for i, want := range tt.want {
				got := b.next(tt.kind)
				if want != 0 && got != want {
					t.Fatalf("failure %d: wait %v, want %v", i+1, got, want)
				}
			}
		})
	}
}

func TestBackoffNetworkLadderStopsAt16Seconds(t *testing.T) {
	var b backoff
	var last time.Duration
	for range 1000 {
		last = b.next(networkFailure)
	}
	if last != 16*time.Second {
		t.Errorf("after 1000 network failures: wait %v, want 16s", last)
	}
}

func TestBackoffRateLimitLadderNeverOverflows(t *testing.T) {
	var b backoff
	prev := time.Duration(0)
	for i := range 200 {
		d := b.next(rateLimitFailure)
		if d < prev {
			t.Fatalf("failure %d: wait %v, shorter than the one before (%v)", i+1, d, prev)
		}
		prev = d
	}
	if prev != maxRateLimitWait {
		t.Errorf("after 200 rate limits: wait %v, want %v", prev, maxRateLimitWait)
	}
}

func TestBackoffLaddersAreSeparateAndResetTogether(t *testing.T) {
	var b backoff
	b.next(httpFailure)
	b.next(httpFailure)
	if got := b.next(networkFailure); got != networkStep {
		t.Errorf("first network failure after two HTTP errors: wait %v, want %v", got, networkStep)
	}
	if got := b.next(httpFailure); got != 20*time.Second {
		t.Errorf("third HTTP error: wait %v, want 20s", got)
	}
	b.reset()
	for kind, want := range map[failureKind]time.Duration{
		networkFailure: networkStep, httpFailure: firstHTTPWait, rateLimitFailure: firstRateLimitWait,
	} {
		if got := b.next(kind); got != want {
			t.Errorf("kind %d after reset: wait %v, want %v", kind, got, want)
		}
	}
}
