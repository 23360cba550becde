package main

import (
	"testing"
	"time"
)

func TestBucketsCoverEveryValueOnce(t *testing.T) {
	prev := -1
	for us := uint64(0); us < 1<<histMaxBits; us += 1 + us/64 {
		i := bucketOf(us)
		if i < prev || i >= histBuckets {
			t.Fatalf("bucketOf(%d) = %d after %d: buckets must rise with the value and stay below %d", us, i, prev, histBuckets)
		}
		if high := bucketHigh(i); us > high {
			t.Fatalf("bucketOf(%d) = %d, whose highest value is %d", us, i, high)
		}
		if i > 0 && us <= bucketHigh(i-1) {
			t.Fatalf("%d µs is within bucket %d, yet counted in %d", us, i-1, i)
		}
		if low := bucketHigh(i-1) + 1; i > 0 && float64(bucketHigh(i)-low) > float64(low)/histSub {
			t.Fatalf("bucket %d spans %d..%d: wider than 1/%d of its values", i, low, bucketHigh(i), histSub)
		}
		prev = i
	}
	if got := bucketOf(1 << 40); got != histBuckets-1 {
		t.Errorf("bucketOf(a huge value) = %d, want the last bucket %d", got, histBuckets-1)
	}
}

func TestHistogramPercentiles(t *testing.T) {
	ms := func(n float64) int64 { return int64(n * float64(time.Millisecond)) }
	tests := []struct {
		name          string
		samples       []int64 // nanoseconds
		p50, p99, max uint64  // microseconds
	}{
		{name: "no samples reports zeros"},
		{
			name:    "one sample is every percentile",
			samples: []int64{ms(1.5)},
			p50:     1500, p99: 1500, max: 1500,
		},
		{
			name:    "values below 16 µs are exact",
			samples: []int64{1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10000},
			p50:     5, p99: 10, max: 10,
		},
		{
			name:    "a negative latency counts as zero",
			samples: []int64{-5000},
			p50:     0, p99: 0, max: 0,
		},
		{
			name:    "a latency past a minute is kept as the maximum",
			samples: []int64{ms(1), int64(2 * time.Minute)},
			p50:     1000, p99: 120_000_000, max: 120_000_000,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r latencyRecorder
			for _, ns := range tt.samples {
				r.record(ns)
			}
			var h histogram
			h.add(&r)
			if h.count != uint64(len(tt.samples)) {
				t.Errorf("count = %d, want %d", h.count, len(tt.samples))
			}
			if got := h.quantileUS(0.5); !near(got, tt.p50) {
				t.Errorf("p50 = %d µs, want %d", got, tt.p50)
			}
			if got := h.quantileUS(0.99); !near(got, tt.p99) {
				t.Errorf("p99 = %d µs, want %d", got, tt.p99)
			}
			if h.maxUS != tt.max {
				t.Errorf("max = %d µs, want %d", h.maxUS, tt.max)
			}
		})
	}
}

func TestHistogramPercentilesOfAUniformSpread(t *testing.T) {
	// 1 to 10,000 µs once each, split over two recorders as over two
	// clients: the merged percentiles must be within a bucket's width.
	var a, b latencyRecorder
	for us := int64(1); us <= 10_000; us++ {
		r := &a
		if us%2 == 0 {
			r = &b
		}
		r.record(us * 1000)
	}
	var h histogram
	h.add(&a)
	h.add(&b)
	for _, tt := range []struct {
		q    float64
		want uint64
	}{{0.5, 5000}, {0.9, 9000}, {0.99, 9900}, {1, 10_000}} {
		if got := h.quantileUS(tt.q); !near(got, tt.want) || got < tt.want {
			t.Errorf("quantile %.2f = %d µs, want %d (or up to 1/%d above)", tt.q, got, tt.want, histSub)
		}
	}
	if h.maxUS != 10_000 || h.count != 10_000 {
		t.Errorf("max %d, count %d; want 10000 and 10000", h.maxUS, h.count)
	}
}

// near reports whether a reported percentile is within a bucket's width of
// the true one.
func near(got, want uint64) bool {
	d := max(got, want) - min(got, want)
	return float64(d) <= float64(want)/histSub+1
}
