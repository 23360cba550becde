package rooms

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// A member pauses while the room's position (r.seq) runs ahead of the
// deliveries, because another member's join read a history from the ingest
// node that the subscription has yet to deliver. What is delivered after the
// pause, up to that position, must reach the member on resume.
func TestAPauseWhileAHistoryIsAheadLosesNoTweet(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"replay", "live"} {
		t.Run(mode, func(t *testing.T) {
			b := &fakeBroker{}
			b.answer(roomHistory("e1", 1, 2))
			s := newBrokerServer(t, b, Config{})
			a := s.dial(t)
			joinAndRead(t, a, "e1", 1, 2)
			// c's history comes from the ingest node: 3..5 are on their way.
			b.answer(roomHistory("e1", 1, 5))
			c := s.dial(t)
			joinAndRead(t, c, "e1", 1, 5)
			pauseGolang(t, a)
			b.pubs(t, 3, 4, 5) // arrive while a is paused
			a.send(`{"type":"resume","room":"golang","mode":"` + mode + `"}`)
			a.send(`{"type":"join","room":"golang"}`) // a barrier: the resume has landed
			got := untilJoined(a)
			b.pubs(t, 6)
			for {
				m, err := a.read(time.Second)
				if err != nil {
					break
				}
				got = append(got, describeMsg(m))
				if m.Type == "tweet" && m.Seq == 6 || m.Type == "skipped" && m.ToSeq >= 6 {
					break
				}
			}
			if !slices.Contains(got, "tweet e1-3") && !slices.ContainsFunc(got, func(s string) bool { return s == "skipped 3-5/3" || s == "skipped 3-6/4" }) {
				t.Fatalf("after pause and %s resume a got %q: 3..5 neither sent nor skipped (a silent gap)", mode, got)
			}
		})
	}
}

// A join that follows a new epoch (the room was not followed while its
// stream started over) must not lose a tweet of the new epoch that the
// broker delivers between reading the history and the join taking the
// room's lock again.
func TestANewEpochTweetDeliveredWhileTheJoinFinishesIsNotLost(t *testing.T) {
	t.Parallel()
	b := &fakeBroker{}
	b.answer(roomHistory("e1", 1, 2))
	s := newBrokerServer(t, b, Config{})
	a := s.dial(t)
	joinAndRead(t, a, "e1", 1, 2)
	a.send(`{"type":"leave","room":"golang"}`)
	a.expect("left", "golang")
	// The stream starts over in e2. The join's history is read at seq 1;
	// seq 2 is delivered right after, before the join has finished.
	var once atomic.Bool
	b.setHistory(func(context.Context, string, uint64) (History, error) {
		h := roomHistory("e2", 1, 1)
		if once.CompareAndSwap(false, true) {
			b.pub(t, "golang", "e2", 2)
		}
		return h, nil
	})
	c := s.dial(t)
	joinAndRead(t, c, "e2", 1, 1)
	b.pub(t, "golang", "e2", 3)
	m := describeMsg(c.next())
	if m != "tweet e2-2" && m != "skipped 2-2/1" {
		t.Fatalf("after joined e2@1 the next message is %q: e2 seq 2, delivered while the join finished, is lost without a skipped", m)
	}
}

// blockingBroker is a fakeBroker whose Subscribe to "rust" waits until
// released: a web node's broker waiting for NATS or for the ingest node.
type blockingBroker struct {
	fakeBroker
	entered, release chan struct{}
}

func (b *blockingBroker) Subscribe(ctx context.Context, room string) error {
	if room == "rust" {
		close(b.entered)
		<-b.release
	}
	return b.fakeBroker.Subscribe(ctx, room)
}

// One room's slow subscription must not stop every other connection's
// writes: the hub's loop flushes the writers.
func TestASlowSubscribeFreezesEveryConnection(t *testing.T) {
	t.Parallel()
	b := &blockingBroker{entered: make(chan struct{}), release: make(chan struct{})}
	b.answer(roomHistory("e1", 1, 2))
	cfg := Config{Broker: b, FlushInterval: 10 * time.Millisecond, StatsInterval: 50 * time.Millisecond}
	s := newTestServer(t, cfg)
	defer func() {
		select {
		case <-b.release:
		default:
			close(b.release)
		}
	}()
	a := s.dial(t)
	a.skipNoise = true
	joinAndRead(t, a, "e1", 1, 2)
	c := s.dial(t)
	c.send(`{"type":"join","room":"rust"}`)
	waitFor(t, b.entered, "the join of rust subscribes")
	// A second golang member: the next stats tick, which comes while rust
	// still subscribes, tells a of two members, and the loop that writes
	// it must not wait for rust.
	d := s.dial(t)
	d.skipNoise = true
	joinAndRead(t, d, "e1", 1, 2)
	a.skipNoise = false
	for {
		m, err := a.read(time.Second)
		if err != nil {
			t.Fatalf("no stats of two members within 1 s while rust's subscription waits: %v", err)
		}
		if m.Type == "stats" && m.Members == 2 {
			break
		}
	}
	a.skipNoise = true
	b.fakeBroker.pubs(t, 3)
	if m, err := a.read(time.Second); err != nil {
		t.Fatalf("a golang member got nothing within 1 s of tweet 3 while rust's subscription waits: %v", err)
	} else if m.Type != "tweet" || m.Seq != 3 {
		t.Fatalf("got %+v", m)
	}
}

// A member paused before another member's join read a history ahead of the
// deliveries; its replay resume is answered by the warm ring, which stands
// where the deliveries stand. What the ring did not have yet must still
// reach the member when it is delivered.
func TestAReplayResumeBehindTheRoomsPositionLosesNoTweet(t *testing.T) {
	t.Parallel()
	b := &fakeBroker{}
	b.answer(roomHistory("e1", 1, 2))
	s := newBrokerServer(t, b, Config{})
	a := s.dial(t)
	joinAndRead(t, a, "e1", 1, 2)
	pauseGolang(t, a)
	b.answer(roomHistory("e1", 1, 5)) // c's history, from the ingest node
	c := s.dial(t)
	joinAndRead(t, c, "e1", 1, 5)
	b.pubs(t, 3)                      // only 3 has been delivered so far
	b.answer(roomHistory("e1", 1, 3)) // the warm ring: up to 3
	a.send(`{"type":"resume","room":"golang","mode":"replay"}`)
	barrier(t, c)
	a.send(`{"type":"join","room":"golang"}`)
	got := untilJoined(a)
	b.pubs(t, 4, 5, 6)
	for {
		m, err := a.read(time.Second)
		if err != nil {
			break
		}
		got = append(got, describeMsg(m))
		if m.Type == "tweet" && m.Seq == 6 {
			break
		}
	}
	want := []string{"tweet e1-3", "tweet e1-4", "tweet e1-5", "tweet e1-6"}
	if !slices.Equal(got, want) {
		t.Fatalf("a got %q after its replay resume, want %q", got, want)
	}
}

// A web node receives a room's traffic only while it has local members: the
// members other nodes have must not keep this node subscribed.
func TestMembersElsewhereDoNotKeepThisNodeSubscribed(t *testing.T) {
	t.Parallel()
	b, s := joinedAndLeft(t)
	s.hub.SetRemoteMembers(map[string]int{"golang": 1}) // a member on another web node
	now := time.Now()
	for i := range 3 {
		s.hub.tick(now.Add(time.Duration(i+2) * time.Hour))
	}
	if n := b.count("unsubscribe golang"); n != 1 {
		t.Fatalf("golang, with no member on this node for 3 h, unsubscribed %d times (calls %q): a member on another node keeps it subscribed", n, b.callsSoFar())
	}
}

// A join waiting for its history when the hub closes is let go: Close
// does not wait for a broker that does not answer.
func TestCloseCancelsAJoinWaitingForItsHistory(t *testing.T) {
	t.Parallel()
	b := &fakeBroker{}
	asked := make(chan struct{})
	b.setHistory(func(ctx context.Context, _ string, _ uint64) (History, error) {
		close(asked)
		<-ctx.Done()
		return History{}, ctx.Err()
	})
	s := newBrokerServer(t, b, Config{})
	c := s.dial(t)
	c.send(`{"type":"join","room":"golang"}`)
	waitFor(t, asked, "the join asks for its history")
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := s.hub.Close(ctx); err != nil {
		t.Fatalf("closing while a join waits for its history: %v; want it let go at once", err)
	}
}
