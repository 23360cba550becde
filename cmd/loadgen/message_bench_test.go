package main

import (
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

// benchFrame is a frame as the server coalesces it: eight tweet messages of
// about 1.3 KB for one room, joined by "\n".
func benchFrame() []byte {
	lines := make([]string, 8)
	for i := range lines {
		lines[i] = tweetLine("golang", uint64(100+i), ingested)
	}
	return []byte(strings.Join(lines, "\n"))
}

// benchClient is a client that has joined "golang" at seq 0, measuring.
func benchClient() *client {
	f := newFleet(nil)
	f.measureFrom.Store(0)
	c := newClient(false, []string{"golang"}, f)
	c.tallies = []roomTally{{name: "golang"}}
	return c
}

// BenchmarkParseFrame measures the hot path of a client: splitting a frame,
// parsing each message, the loss accounting and the latency histogram.
// The room's tally forgets the seqs before each frame, so that every
// tweet counts as live and is timed, as in a run.
func BenchmarkParseFrame(b *testing.B) {
	frame := benchFrame()
	c := benchClient()
	now := ingested.Add(time.Millisecond).UnixNano()
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		c.tallies[0].seen = false
		c.handleFrame(frame, now)
	}
	if got, want := c.stats.duplicates.Load(), uint64(0); got != want {
		b.Fatalf("%d duplicates, want %d: the benchmark must time live tweets", got, want)
	}
	b.ReportMetric(float64(8*b.N)/b.Elapsed().Seconds(), "msgs/s")
}

func TestParseFrameAllocations(t *testing.T) {
	if raceEnabled() {
		t.Skip("the race detector allocates on atomic operations' behalf")
	}
	frame := benchFrame()
	c := benchClient()
	now := ingested.Add(time.Millisecond).UnixNano()
	next := func() {
		c.tallies[0].seen = false
		c.handleFrame(frame, now)
	}
	if got := testing.AllocsPerRun(100, next); got != 0 {
		t.Errorf("handleFrame of 8 tweets: %v allocations, want 0", got)
	}
}

// raceEnabled reports whether the test binary was built with -race.
func raceEnabled() bool {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range info.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}
