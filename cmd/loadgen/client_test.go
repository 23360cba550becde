package main

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

func TestHandleFrameCountsEveryMessageOfAFrame(t *testing.T) {
	f := newFleet(nil)
	f.measureFrom.Store(0)
	c := newClient(false, []string{"golang", "rust"}, f)
	now := ingested.Add(3 * time.Millisecond)

	frames := []string{
		// The joins' answers, each with a backlog up to seq 2.
		strings.Join([]string{
			`{"type":"joined","room":"golang","epoch":"e","seq":2,"members":1}`,
			tweetLine("golang", 1, ingested),
			tweetLine("golang", 2, ingested),
			`{"type":"joined","room":"rust","epoch":"e","seq":0,"members":1}`,
		}, "\n"),
		// Live tweets: golang loses 4 and has 5..6 skipped; rust repeats 1.
		strings.Join([]string{
			tweetLine("golang", 3, ingested),
			tweetLine("rust", 1, ingested),
			tweetLine("golang", 5, ingested),
			`{"type":"skipped","room":"golang","from_seq":6,"to_seq":7,"count":2}`,
			tweetLine("golang", 8, ingested),
			tweetLine("rust", 1, ingested),
			`{"type":"stats","room":"golang","members":1,"per_minute":60}`,
		}, "\n"),
		// A broken line, a stray room and an error: counted, and the rest
		// of the frame still read.
		strings.Join([]string{
			`{"type":"tweet","room":"golang","seq":`,
			tweetLine("python", 1, ingested),
			`{"type":"error","code":"rate_limited","message":"slow down"}`,
			tweetLine("rust", 2, ingested),
			"",
		}, "\n"),
	}
	for _, frame := range frames {
		c.handleFrame([]byte(frame), now.UnixNano())
	}

	s := &c.stats
	for _, tt := range []struct {
		name      string
		got, want uint64
	}{
		{"live deliveries", s.deliveries.Load(), 5},
		{"backlog", s.backlog.Load(), 2},
		{"lost", s.lost.Load(), 1},
		{"skipped", s.skipped.Load(), 2},
		{"duplicates", s.duplicates.Load(), 1},
		{"malformed", s.malformed.Load(), 1},
		{"strays", s.strays.Load(), 1},
		{"fallbacks", s.fallbacks.Load(), 0},
	} {
		if tt.got != tt.want {
			t.Errorf("%s = %d, want %d", tt.name, tt.got, tt.want)
		}
	}
	if got := f.joined.Load(); got != 1 {
		t.Errorf("fleet.joined = %d, want 1: the client joined both its rooms", got)
	}
	if got := f.errors.snapshot()["error: rate_limited"]; got != 1 {
		t.Errorf("error messages counted = %d, want 1", got)
	}
	var h histogram
	h.add(&s.latency)
	if h.count != 5 || h.maxUS != 3000 {
		t.Errorf("latency: %d samples, max %d µs; want 5 samples of 3000 µs", h.count, h.maxUS)
	}
}

func TestHandleFrameTimesOnlyTheWindow(t *testing.T) {
	f := newFleet(nil)
	c := newClient(false, []string{"golang"}, f)
	c.handleFrame([]byte(`{"type":"joined","room":"golang","epoch":"e","seq":0,"members":1}`), 0)
	at := ingested.Add(time.Millisecond).UnixNano()
	send := func(seq uint64) { c.handleFrame([]byte(tweetLine("golang", seq, ingested)), at) }

	send(1) // before the window
	f.measureFrom.Store(at)
	send(2)
	send(3)
	f.measureUntil.Store(at)
	send(4) // after it

	var h histogram
	h.add(&c.stats.latency)
	if h.count != 2 {
		t.Errorf("%d latency samples, want 2: only those in the window", h.count)
	}
	if got := c.stats.deliveries.Load(); got != 4 {
		t.Errorf("deliveries = %d, want 4: every live tweet is delivered", got)
	}
}

func TestClientFindsItsRoomsWithManyOfThem(t *testing.T) {
	var rooms []string
	for i := range 3 * tallyMapMin {
		rooms = append(rooms, fmt.Sprintf("t%03d", i))
	}
	f := newFleet(nil)
	c := newClient(false, rooms, f)
	for _, room := range rooms {
		c.handleFrame(fmt.Appendf(nil, `{"type":"joined","room":%q,"seq":0,"members":1}`, room), 0)
	}
	for _, room := range rooms {
		c.handleFrame([]byte(tweetLine(room, 1, ingested)), 0)
	}
	if got, want := c.stats.deliveries.Load(), uint64(len(rooms)); got != want {
		t.Errorf("deliveries = %d, want %d (strays %d)", got, want, c.stats.strays.Load())
	}
	if f.joined.Load() != 1 || f.settled.Load() != 1 {
		t.Errorf("joined %d, settled %d; want 1 and 1", f.joined.Load(), f.settled.Load())
	}
}

func TestHandleFrameTimesEveryFormButTheCard(t *testing.T) {
	for form := formFull; form < formCount; form++ {
		t.Run(tweetForms[form], func(t *testing.T) {
			f := newFleet(nil)
			f.measureFrom.Store(0)
			c := newClient(false, []string{"golang"}, f)
			c.handleFrame([]byte(`{"type":"joined","room":"golang","epoch":"e","seq":0,"members":1}`), 0)
			frame := tweetLineAs(form, "golang", 1, ingested) + "\n" + tweetLineAs(form, "golang", 2, ingested)
			c.handleFrame([]byte(frame), ingested.Add(2*time.Millisecond).UnixNano())

			var h histogram
			h.add(&c.stats.latency)
			wantSamples := uint64(2)
			if form == formCard {
				wantSamples = 0
			}
			s := &c.stats
			if s.deliveries.Load() != 2 || h.count != wantSamples || s.untimed.Load() != 0 || s.forms[form].Load() != 2 {
				t.Errorf("%d deliveries, %d latency samples, %d untimed, %d in the %s form; want 2, %d, 0 and 2",
					s.deliveries.Load(), h.count, s.untimed.Load(), s.forms[form].Load(), tweetForms[form], wantSamples)
			}
		})
	}
}

// readerKinds are ways a frame may come out of gorilla's reader: at once,
// a byte at a time, half of what is asked each time, and with the end of
// the frame in the same call as its last bytes.
var readerKinds = map[string]func(io.Reader) io.Reader{
	"at once":             func(r io.Reader) io.Reader { return r },
	"a byte at a time":    iotest.OneByteReader,
	"half at a time":      iotest.HalfReader,
	"the end with a read": iotest.DataErrReader,
}

func TestReadFrameAccountsForLinesSplitAcrossReads(t *testing.T) {
	frame := strings.Join([]string{
		tweetLine("golang", 3, ingested),
		tweetLineAs(formSeq, "golang", 4, ingested),
		`{"type":"skipped","room":"golang","from_seq":5,"to_seq":6,"count":2}`,
		`{"type":"stats","room":"golang","members":1,"per_minute":60}`,
		tweetLineAs(formData, "golang", 8, ingested),
	}, "\n")
	for name, wrap := range readerKinds {
		t.Run(name, func(t *testing.T) {
			f := newFleet(nil)
			f.measureFrom.Store(0)
			c := newClient(false, []string{"golang"}, f)
			c.handleFrame([]byte(`{"type":"joined","room":"golang","epoch":"e","seq":2,"members":1}`), 0)
			if err := c.readFrame(wrap(strings.NewReader(frame))); err != nil {
				t.Fatal(err)
			}
			s := &c.stats
			var h histogram
			h.add(&s.latency)
			if s.deliveries.Load() != 3 || s.skipped.Load() != 2 || s.lost.Load() != 1 || s.malformed.Load() != 0 || h.count != 3 {
				t.Errorf("%d deliveries, %d skipped, %d lost, %d malformed, %d timed; want 3, 2, 1, 0 and 3",
					s.deliveries.Load(), s.skipped.Load(), s.lost.Load(), s.malformed.Load(), h.count)
			}
		})
	}
}

func TestReadFrameDropsALongLineItDoesNotCountAndStaysSmall(t *testing.T) {
	trends := `{"type":"trends","trends":[],"html":"` + strings.Repeat("<li>load-0001</li>", 20000) + `"}`
	frame := trends + "\n" + tweetLineAs(formSeq, "golang", 1, ingested) + "\n" + trends
	for name, wrap := range readerKinds {
		t.Run(name, func(t *testing.T) {
			f := newFleet(nil)
			c := newClient(false, []string{"golang"}, f)
			c.handleFrame([]byte(`{"type":"joined","room":"golang","epoch":"e","seq":0,"members":1}`), 0)
			if err := c.readFrame(wrap(strings.NewReader(frame))); err != nil {
				t.Fatal(err)
			}
			if s := &c.stats; s.deliveries.Load() != 1 || s.malformed.Load() != 0 || s.fallbacks.Load() != 0 {
				t.Errorf("%d deliveries, %d malformed, %d fallbacks; want 1, 0 and 0", s.deliveries.Load(), s.malformed.Load(), s.fallbacks.Load())
			}
		})
	}
	if raceEnabled() {
		return // the race detector allocates on atomic operations' behalf
	}
	c := newClient(false, []string{"golang"}, newFleet(nil))
	var r strings.Reader
	read := func() {
		r.Reset(frame)
		if err := c.readFrame(&r); err != nil {
			t.Fatal(err)
		}
	}
	if got := testing.AllocsPerRun(100, read); got != 0 {
		t.Errorf("reading a frame with two trend lists of %d bytes: %v allocations, want 0: the frame buffer grew", len(trends), got)
	}
}

func TestReadFrameGrowsForALongLineItCounts(t *testing.T) {
	long := strings.Replace(tweetLine("golang", 1, ingested), `"text":"Breaking`, `"text":"`+strings.Repeat("word ", 30000)+`Breaking`, 1)
	if len(long) <= 2*frameBufSize {
		t.Fatalf("the long tweet is %d bytes, want more than twice the buffer", len(long))
	}
	f := newFleet(nil)
	f.measureFrom.Store(0)
	c := newClient(false, []string{"golang"}, f)
	c.handleFrame([]byte(`{"type":"joined","room":"golang","epoch":"e","seq":0,"members":1}`), 0)
	if err := c.readFrame(iotest.HalfReader(strings.NewReader(long + "\n" + tweetLine("golang", 2, ingested)))); err != nil {
		t.Fatal(err)
	}
	if s := &c.stats; s.deliveries.Load() != 2 || s.malformed.Load() != 0 || s.untimed.Load() != 0 {
		t.Errorf("%d deliveries, %d malformed, %d untimed; want 2, 0 and 0", s.deliveries.Load(), s.malformed.Load(), s.untimed.Load())
	}
}

func TestReadFramePassesReadErrorsOn(t *testing.T) {
	c := newClient(false, []string{"golang"}, newFleet(nil))
	r := io.MultiReader(strings.NewReader(`{"type":"tweet"`), iotest.ErrReader(io.ErrUnexpectedEOF))
	if err := c.readFrame(r); err != io.ErrUnexpectedEOF {
		t.Errorf("readFrame = %v, want the reader's error", err)
	}
}
