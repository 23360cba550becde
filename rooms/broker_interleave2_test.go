package rooms

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// readUntilSeq reads c's messages, described, until a tweet or skipped
// reaching seq, or a second of silence.
func readUntilSeq(c *testClient, seq uint64) []string {
	var got []string
	for {
		m, err := c.read(time.Second)
		if err != nil {
			return append(got, "TIMEOUT")
		}
		got = append(got, describeMsg(m))
		if m.Type == "tweet" && m.Seq >= seq || m.Type == "skipped" && m.ToSeq >= seq {
			return got
		}
	}
}

// A room's first join takes the epoch of its history, which on a web node
// can come from the ingest node, ahead of the subscription's deliveries (a
// recovery from a node further on, or a ring with a hole). A second member
// whose history is the warm ring, behind, still gets every tweet in
// between when the broker delivers it.
func TestAnAdoptedEpochsHistoryAheadOfTheDeliveriesCostsNoMemberATweet(t *testing.T) {
	t.Parallel()
	b := &fakeBroker{}
	var calls atomic.Int32
	b.setHistory(func(_ context.Context, _ string, since uint64) (History, error) {
		if calls.Add(1) == 1 {
			return roomHistory("e1", 1, 5), nil // a's: from the ingest node, ahead
		}
		return roomHistory("e1", 1, 3), nil // c's: the warm ring, where deliveries stand
	})
	s := newBrokerServer(t, b, Config{})
	a := s.dial(t)
	a.send(`{"type":"join","room":"golang","epoch":"e1","since":5}`)
	if j := a.expect("joined", "golang"); j.Seq != 5 {
		t.Fatalf("a joined %+v", j)
	}
	c := s.dial(t)
	joinAndRead(t, c, "e1", 1, 3)
	b.pubs(t, 4, 5, 6) // the subscription catches up
	got := readUntilSeq(c, 6)
	want := []string{"tweet e1-4", "tweet e1-5", "tweet e1-6"}
	if !slices.Equal(got, want) {
		t.Fatalf("c, joined at e1@3, then got %q; want %q (4 and 5 silently lost)", got, want)
	}
}

var _ = fmt.Sprintf

// A member waiting for its backlog keeps what the room delivers in
// pending, up to maxPending; past it, the oldest tweets are dropped and
// reported as one skipped range. A broker skip queued ahead of them is in
// that range too: every seq is sent or skipped, never a silent gap.
func TestAnOverflowOfWhatWaitsForABacklogKeepsAnEarlierSkip(t *testing.T) {
	t.Parallel()
	b := &fakeBroker{}
	s := newBrokerServer(t, b, Config{QueueBytes: 256 << 20})
	b.pubs(t, 1, 2) // delivered before the join: r.last = 2
	asked, release := make(chan struct{}), make(chan struct{})
	b.setHistory(func(context.Context, string, uint64) (History, error) {
		close(asked)
		<-release
		return roomHistory("e1", 1, 2), nil
	})
	c := s.dial(t)
	c.send(`{"type":"join","room":"golang"}`)
	waitFor(t, asked, "the join asks for its history")
	b.registered(t).HandleSkipped("golang", 3, 5) // lost on the way here
	last := uint64(6 + maxPending)                // one skip and maxPending+1 tweets wait
	for seq := uint64(6); seq <= last; seq++ {
		b.pub(t, "golang", "e1", seq)
	}
	close(release)
	if j := c.expect("joined", "golang"); j.Seq != 2 {
		t.Fatalf("joined %+v", j)
	}
	covered := map[uint64]bool{}
	var skips []string
	for {
		m, err := c.read(2 * time.Second)
		if err != nil {
			t.Fatalf("reading: %v", err)
		}
		switch m.Type {
		case "tweet":
			covered[m.Seq] = true
		case "skipped":
			skips = append(skips, describeMsg(m))
			for s := m.FromSeq; s <= m.ToSeq; s++ {
				covered[s] = true
			}
		}
		if m.Type == "tweet" && m.Seq == last {
			break
		}
	}
	var missing []uint64
	for seq := uint64(1); seq <= last; seq++ {
		if !covered[seq] {
			missing = append(missing, seq)
		}
	}
	if len(missing) > 0 {
		t.Fatalf("seqs %v neither sent nor skipped (skips seen: %q): a silent gap", missing, skips)
	}
}

// Publish holds h.mu.RLock across the memory broker's deliveries: a storm
// of publishes, joins and leaves of custom rooms, connections coming and
// going, announcements and idle sweeps must not deadlock.
func TestPublishingWhileRoomsComeAndGoDoesNotDeadlock(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Config{FlushInterval: -1, StatsInterval: 5 * time.Millisecond, IdleTrendTTL: time.Nanosecond})
	done := make(chan struct{}, 5)
	go func() {
		defer func() { done <- struct{}{} }()
		for i := range 20_000 {
			s.hub.Publish(s.tweet("x"), []string{"golang", fmt.Sprintf("c%d", i%5)})
		}
	}()
	go func() {
		defer func() { done <- struct{}{} }()
		for i := range 2_000 {
			_ = s.hub.Announce("source", map[string]int{"n": i})
			s.hub.sweepIdle(time.Now().Add(time.Hour))
		}
	}()
	for range 3 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range 30 {
				c := s.dial(t)
				room := fmt.Sprintf("c%d", i%5)
				c.send(fmt.Sprintf(`{"type":"join","room":%q}`, room))
				c.send(`{"type":"pause","room":"` + room + `"}`)
				c.send(`{"type":"resume","room":"` + room + `"}`)
				c.send(fmt.Sprintf(`{"type":"leave","room":%q}`, room))
				c.conn.Close()
			}
		}()
	}
	for range 5 {
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatal("a goroutine is stuck: deadlock")
		}
	}
}

// A paused recovery join whose history is ahead of the deliveries (a web
// node: the client comes from a node further on), resumed before the
// deliveries catch up: the tweets the client had already, up to its since,
// are not sent to it again when they arrive.
func TestAPausedRecoveryAheadOfTheDeliveriesRepeatsNothingOnResume(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"replay", "live"} {
		t.Run(mode, func(t *testing.T) {
			b := &fakeBroker{}
			s := newBrokerServer(t, b, Config{})
			b.pubs(t, 1, 2, 3, 4, 5, 6, 7, 8)  // delivered here so far
			b.answer(roomHistory("e1", 1, 10)) // the ingest node has 10
			c := s.dial(t)
			c.send(`{"type":"join","room":"golang","epoch":"e1","since":10,"paused":true}`)
			j := c.expect("joined", "golang")
			if j.Recovered == nil || !*j.Recovered {
				t.Fatalf("joined %+v, want recovered", j)
			}
			c.send(`{"type":"resume","room":"golang","mode":"` + mode + `"}`)
			barrier(t, c)
			b.pubs(t, 9, 10, 11) // 9 and 10 were on their way
			got := readUntilSeq(c, 11)
			if want := []string{"tweet e1-11"}; !slices.Equal(got, want) {
				t.Fatalf("a member recovered from since 10 got %q after its resume, want %q (9 and 10 again)", got, want)
			}
		})
	}
}
