package main

import (
	"fmt"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

// benchFrame is a frame as the server coalesces it: eight tweet messages
// of one form for one room, joined by "\n". A full message is about 1.3 KB,
// a seq message about 90 bytes.
func benchFrame(form tweetForm) []byte {
	lines := make([]string, 8)
	for i := range lines {
		lines[i] = tweetLineAs(form, "golang", uint64(100+i), ingested)
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
// parsing each message, the loss accounting and the latency histogram,
// for the full form (what a server that ignores -tweet sends) and the seq
// form (the default). The room's tally forgets the seqs before each frame,
// so that every tweet counts as live and is timed, as in a run.
func BenchmarkParseFrame(b *testing.B) {
	for _, form := range []tweetForm{formFull, formSeq} {
		b.Run(tweetForms[form], func(b *testing.B) {
			frame := benchFrame(form)
			c := benchClient()
			now := ingested.Add(time.Millisecond).UnixNano()
			b.SetBytes(int64(len(frame)))
			b.ReportAllocs()
			for b.Loop() {
				c.tallies[0].seen = false
				c.handleFrame(frame, now)
			}
			s := &c.stats
			if s.duplicates.Load() != 0 || s.fallbacks.Load() != 0 || s.untimed.Load() != 0 {
				b.Fatalf("%d duplicates, %d fallbacks, %d untimed; want none: the benchmark must time live tweets on the fast path",
					s.duplicates.Load(), s.fallbacks.Load(), s.untimed.Load())
			}
			b.ReportMetric(float64(8*b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

func TestParseFrameSkipsWhatItDoesNotCountWithoutAllocating(t *testing.T) {
	if raceEnabled() {
		t.Skip("the race detector allocates on atomic operations' behalf")
	}
	entries := make([]string, 100)
	for i := range entries {
		entries[i] = fmt.Sprintf(`{"room":"load-%04d","members":10,"per_minute":24000,"custom":false}`, i+1)
	}
	frame := []byte(strings.Join([]string{
		`{"type":"trends","trends":[` + strings.Join(entries, ",") + `],"html":"` + strings.Repeat(`\u003cli\u003e`, 2000) + `"}`,
		`{"type":"stats","room":"golang","members":10,"per_minute":24000}`,
		tweetLineAs(formSeq, "golang", 100, ingested),
	}, "\n"))
	c := benchClient()
	next := func() {
		c.tallies[0].seen = false
		c.handleFrame(frame, 0)
	}
	if got := testing.AllocsPerRun(100, next); got != 0 {
		t.Errorf("handleFrame of a trend list, stats and a tweet: %v allocations, want 0", got)
	}
	if s := &c.stats; s.deliveries.Load() != 101 || s.malformed.Load() != 0 || s.fallbacks.Load() != 0 {
		t.Errorf("%d deliveries, %d malformed, %d fallbacks; want 101, 0 and 0", s.deliveries.Load(), s.malformed.Load(), s.fallbacks.Load())
	}
}

func TestParseFrameAllocations(t *testing.T) {
	if raceEnabled() {
		t.Skip("the race detector allocates on atomic operations' behalf")
	}
	for form := formFull; form < formCount; form++ {
		frame := benchFrame(form)
		c := benchClient()
		now := ingested.Add(time.Millisecond).UnixNano()
		next := func() {
			c.tallies[0].seen = false
			c.handleFrame(frame, now)
		}
		if got := testing.AllocsPerRun(100, next); got != 0 {
			t.Errorf("handleFrame of 8 tweets in the %s form: %v allocations, want 0", tweetForms[form], got)
		}
		if got := c.stats.forms[form].Load(); got != 8*101 {
			t.Errorf("%d tweets counted in the %s form, want %d", got, tweetForms[form], 8*101)
		}
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
