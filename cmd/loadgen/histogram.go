package main

import (
	"math"
	"math/bits"
	"sync/atomic"
)

// Latencies are counted in microseconds in log-linear buckets: one bucket
// per value below histSub µs, then histSub buckets per power of two, so a
// bucket's values are within 1/histSub (6.25%) of each other. Values from
// 2^histMaxBits µs (67 s) up share the last bucket; the exact maximum is
// kept apart.
const (
	histSubBits = 4
	histSub     = 1 << histSubBits
	histMaxBits = 26
	histBuckets = (histMaxBits - histSubBits + 1) * histSub
)

// bucketOf returns the bucket that counts a latency of us microseconds.
func bucketOf(us uint64) int {
	if us < histSub {
		return int(us)
	}
	if us >= 1<<histMaxBits {
		return histBuckets - 1
	}
	e := bits.Len64(us) - histSubBits - 1
	return e*histSub + int(us>>e)
}

// bucketHigh returns the highest latency, in microseconds, that bucket i
// counts.
func bucketHigh(i int) uint64 {
	if i < histSub {
		return uint64(i)
	}
	e := i/histSub - 1
	mantissa := uint64(i - e*histSub)
	return (mantissa+1)<<e - 1
}

// latencyRecorder is one client's latency histogram. Only the client's
// reader goroutine records; the reporter reads it at any moment. Every
// field is atomic so that neither ever waits for the other, and each client
// has its own, so no two recording goroutines share a cache line.
type latencyRecorder struct {
	buckets [histBuckets]atomic.Uint64
	maxUS   atomic.Uint64
}

// record counts one latency given in nanoseconds; a negative one (clocks
// apart by a hair) counts as zero.
func (r *latencyRecorder) record(ns int64) {
	us := uint64(max(ns, 0)) / 1000
	r.buckets[bucketOf(us)].Add(1)
	if us > r.maxUS.Load() {
		r.maxUS.Store(us) // only this goroutine writes it
	}
}

// histogram is a plain copy of one or more recorders, for reporting.
type histogram struct {
	buckets [histBuckets]uint64
	count   uint64
	maxUS   uint64
}

// add merges a recorder into h.
func (h *histogram) add(r *latencyRecorder) {
	for i := range r.buckets {
		if n := r.buckets[i].Load(); n > 0 {
			h.buckets[i] += n
			h.count += n
		}
	}
	h.maxUS = max(h.maxUS, r.maxUS.Load())
}

// quantileUS returns the latency in microseconds below or at which a
// fraction q of the samples fall: the highest value of the bucket where
// that rank lies, never above the maximum seen; the maximum itself for the
// last bucket, which has no upper bound. It returns 0 for no samples.
func (h *histogram) quantileUS(q float64) uint64 {
	if h.count == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.count)))
	rank = min(max(rank, 1), h.count)
	var seen uint64
	for i, n := range h.buckets {
		seen += n
		if seen >= rank && i < histBuckets-1 {
			return min(bucketHigh(i), h.maxUS)
		}
	}
	return h.maxUS
}
