package rooms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tweetstreamer/tweetstreamer/stream"
)

// fakeBroker is a Broker whose every answer the test decides. History runs
// the test's function, Subscribe fails when the test says so, and nothing
// is delivered until the test delivers it, through the handler the hub
// registered. Like a web node's broker, it does not sequence.
type fakeBroker struct {
	mu      sync.Mutex
	handler BrokerHandler
	// calls lists every call but Register, in order: "subscribe golang",
	// "history golang 0", "unsubscribe golang", "remove golang".
	calls        []string
	history      func(ctx context.Context, room string, since uint64) (History, error)
	subscribeErr error
}

var _ Broker = (*fakeBroker)(nil)

func (b *fakeBroker) record(call string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls = append(b.calls, call)
}

func (b *fakeBroker) Register(h BrokerHandler) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.handler = h
}

func (b *fakeBroker) Publish(string, func(uint64) Pub) error { return ErrNotSequencer }

func (b *fakeBroker) Retract(string, string, string) error { return ErrNotSequencer }

func (b *fakeBroker) Subscribe(_ context.Context, room string) error {
	b.record("subscribe " + room)
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.subscribeErr
}

func (b *fakeBroker) Unsubscribe(room string) error {
	b.record("unsubscribe " + room)
	return nil
}

func (b *fakeBroker) History(ctx context.Context, room string, since uint64) (History, error) {
	b.record(fmt.Sprintf("history %s %d", room, since))
	b.mu.Lock()
	f := b.history
	b.mu.Unlock()
	if f == nil {
		return History{Position: Position{Epoch: "e1"}}, nil
	}
	// Called without the lock: the test's function may block.
	return f(ctx, room, since)
}

func (b *fakeBroker) RemoveHistory(room string) error {
	b.record("remove " + room)
	return nil
}

// setHistory makes f answer every History from now on.
func (b *fakeBroker) setHistory(f func(ctx context.Context, room string, since uint64) (History, error)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.history = f
}

// answer makes every History from now on return h.
func (b *fakeBroker) answer(h History) {
	b.setHistory(func(context.Context, string, uint64) (History, error) { return h, nil })
}

// fail makes every History from now on fail with err.
func (b *fakeBroker) fail(err error) {
	b.setHistory(func(context.Context, string, uint64) (History, error) { return History{}, err })
}

// count returns how many times call was made.
func (b *fakeBroker) count(call string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, c := range b.calls {
		if c == call {
			n++
		}
	}
	return n
}

func (b *fakeBroker) callsSoFar() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.calls)
}

func (b *fakeBroker) registered(t *testing.T) BrokerHandler {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.handler == nil {
		t.Fatal("the hub registered no handler with its broker")
	}
	return b.handler
}

// pub delivers the tweet at seq of room's epoch, as a broker would.
func (b *fakeBroker) pub(t *testing.T, room, epoch string, seq uint64) {
	t.Helper()
	b.registered(t).HandlePub(room, epoch, tweetPub(room, epoch, seq))
}

// pubs delivers golang's tweets at seqs of epoch e1.
func (b *fakeBroker) pubs(t *testing.T, seqs ...uint64) {
	t.Helper()
	for _, seq := range seqs {
		b.pub(t, "golang", "e1", seq)
	}
}

// event is one delivery of the broker's: a tweet of e1, a skip, or a
// reset.
type event struct {
	pub   uint64
	skip  [2]uint64
	reset History
}

func (e event) deliver(t *testing.T, b *fakeBroker) {
	t.Helper()
	switch {
	case e.pub != 0:
		b.pub(t, "golang", "e1", e.pub)
	case e.skip[1] != 0:
		b.registered(t).HandleSkipped("golang", e.skip[0], e.skip[1])
	default:
		b.registered(t).HandleReset("golang", e.reset)
	}
}

// describeMsg names a message compactly: "joined e1@3", "tweet e1-4" (the
// id of the tweet, which names its epoch and seq), "skipped 4-5/2".
func describeMsg(m msg) string {
	switch m.Type {
	case "joined":
		s := fmt.Sprintf("joined %s@%d", m.Epoch, m.Seq)
		if m.Recovered != nil {
			s += fmt.Sprintf(" recovered=%v", *m.Recovered)
		}
		return s
	case "tweet":
		if m.Tweet == nil {
			return fmt.Sprintf("tweet #%d without a tweet", m.Seq)
		}
		if !strings.HasSuffix(m.Tweet.ID, fmt.Sprintf("-%d", m.Seq)) {
			return fmt.Sprintf("tweet %s at seq %d", m.Tweet.ID, m.Seq)
		}
		return "tweet " + m.Tweet.ID
	case "skipped":
		return fmt.Sprintf("skipped %d-%d/%d", m.FromSeq, m.ToSeq, m.Count)
	}
	return m.String()
}

// tweetPub is the publication at seq of room's epoch, encoded as the hub
// encodes its own, as a broker that carries bytes keeps it (FramePub). Its tweet's id names both, so that a client can tell
// the tweets of two epochs apart.
func tweetPub(room, epoch string, seq uint64) Pub {
	tw := stream.Tweet{ID: fmt.Sprintf("%s-%d", epoch, seq), Source: "test", Text: room}
	roomJSON, _ := json.Marshal(room)
	p := FramePub(seq, fullFrame(&tw, []string{room}, "", roomJSON, seq))
	p.ID, p.Tweet, p.Matched = tw.ID, &tw, []string{room}
	return p
}

// fullFrame is the tweet message in full for tw in the room of roomJSON
// at seq, with html as its card, as the hub encodes it.
func fullFrame(tw *stream.Tweet, matched []string, html string, roomJSON []byte, seq uint64) []byte {
	render := func(stream.Tweet, []string) (string, error) { return html, nil }
	return newTweetMessage(newTweetParts(tw, matched, render, nil), roomJSON, seq, nil).form(variantFull, false)
}

// roomHistory is a broker's history of golang in epoch, holding the tweets
// first..last.
func roomHistory(epoch string, first, last uint64) History {
	h := History{Position: Position{Epoch: epoch, Seq: last}}
	for seq := first; seq <= last; seq++ {
		h.Pubs = append(h.Pubs, tweetPub("golang", epoch, seq))
	}
	if len(h.Pubs) > 0 {
		h.Oldest = first
	}
	return h
}

// newBrokerServer serves a hub on b. Writes go out at once, and stats
// wait for a tick the test makes, unless cfg says otherwise.
func newBrokerServer(t *testing.T, b *fakeBroker, cfg Config) *testServer {
	t.Helper()
	cfg.Broker = b
	setDefault(&cfg.FlushInterval, -1)
	setDefault(&cfg.StatsInterval, time.Hour)
	return newTestServer(t, cfg)
}

// expectTweet reads the next message, which must be the tweet at seq of
// room's epoch.
func expectTweet(t *testing.T, c *testClient, room, epoch string, seq uint64) {
	t.Helper()
	m := c.expect("tweet", room)
	if want := fmt.Sprintf("%s-%d", epoch, seq); m.Seq != seq || m.Tweet == nil || m.Tweet.ID != want {
		t.Fatalf("got tweet seq %d (%+v), want seq %d, tweet %s", m.Seq, m.Tweet, seq, want)
	}
}

// joinAndRead joins golang and reads joined and the backlog, which must
// be the tweets first..last of epoch.
func joinAndRead(t *testing.T, c *testClient, epoch string, first, last uint64) msg {
	t.Helper()
	c.send(`{"type":"join","room":"golang"}`)
	j := c.expect("joined", "golang")
	if j.Epoch != epoch || j.Seq != last {
		t.Fatalf("joined %+v, want epoch %s at seq %d", j, epoch, last)
	}
	for seq := first; seq <= last; seq++ {
		expectTweet(t, c, "golang", epoch, seq)
	}
	return j
}

// barrier sends a repeated join, which a member's own reader answers at
// once with where the room stands, queued after everything the room queued
// for it before: whatever has not arrived ahead of that `joined` was never
// sent.
func barrier(t *testing.T, c *testClient) msg {
	t.Helper()
	c.send(`{"type":"join","room":"golang"}`)
	return c.expect("joined", "golang")
}

// pauseGolang pauses c in golang, and waits until the pause has landed.
func pauseGolang(t *testing.T, c *testClient) {
	t.Helper()
	c.send(`{"type":"pause","room":"golang"}`)
	barrier(t, c)
}

func waitFor(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatalf("timed out waiting until %s", what)
	}
}

func membersOf(s *testServer, room string) int {
	for _, sum := range s.hub.Summaries() {
		if sum.Room == room {
			return sum.Members
		}
	}
	return -1
}

func TestJoinThroughTheBroker(t *testing.T) {
	t.Parallel()
	t.Run("a join subscribes the room before it asks for the history, with the member already in", func(t *testing.T) {
		b := &fakeBroker{}
		s := newBrokerServer(t, b, Config{})
		var membersWhileAsked atomic.Int64
		membersWhileAsked.Store(-1)
		b.setHistory(func(context.Context, string, uint64) (History, error) {
			membersWhileAsked.Store(int64(membersOf(s, "golang")))
			return roomHistory("e1", 1, 2), nil
		})
		c := s.dial(t)
		joinAndRead(t, c, "e1", 1, 2)
		if got, want := b.callsSoFar(), []string{"subscribe golang", "history golang 0"}; !slices.Equal(got, want) {
			t.Fatalf("broker calls %q, want %q", got, want)
		}
		if n := membersWhileAsked.Load(); n != 1 {
			t.Errorf("while the history was asked the room had %d members, want the joining one", n)
		}
		joinAndRead(t, s.dial(t), "e1", 1, 2)
		if n := b.count("subscribe golang"); n != 1 {
			t.Errorf("two joins subscribed golang %d times, want once: it is subscribed already", n)
		}
	})

	// What the broker delivers while a join waits for its history, and
	// the history the join then gets: the member must see joined, the
	// backlog, then what the backlog lacked, each seq once, in order.
	tests := []struct {
		name    string
		during  []event
		history History
		want    []string
	}{
		{
			name:    "a tweet the history lacks follows the backlog",
			during:  []event{{pub: 4}},
			history: roomHistory("e1", 1, 3),
			want:    []string{"joined e1@3", "tweet e1-1", "tweet e1-2", "tweet e1-3", "tweet e1-4"},
		},
		{
			name:    "a tweet the history has too arrives once, in the backlog",
			during:  []event{{pub: 4}},
			history: roomHistory("e1", 1, 4),
			want:    []string{"joined e1@4", "tweet e1-1", "tweet e1-2", "tweet e1-3", "tweet e1-4"},
		},
		{
			name:    "of two tweets, the one the history lacks follows it",
			during:  []event{{pub: 4}, {pub: 5}},
			history: roomHistory("e1", 1, 4),
			want:    []string{"joined e1@4", "tweet e1-1", "tweet e1-2", "tweet e1-3", "tweet e1-4", "tweet e1-5"},
		},
		{
			name:    "two tweets the history has too arrive once each, in the backlog",
			during:  []event{{pub: 4}, {pub: 5}},
			history: roomHistory("e1", 1, 5),
			want:    []string{"joined e1@5", "tweet e1-1", "tweet e1-2", "tweet e1-3", "tweet e1-4", "tweet e1-5"},
		},
		{
			name:    "a skip the history lacks follows the backlog",
			during:  []event{{skip: [2]uint64{4, 5}}},
			history: roomHistory("e1", 1, 3),
			want:    []string{"joined e1@3", "tweet e1-1", "tweet e1-2", "tweet e1-3", "skipped 4-5/2"},
		},
		{
			name:    "a skip of tweets the history has after all is dropped",
			during:  []event{{skip: [2]uint64{4, 5}}},
			history: roomHistory("e1", 1, 5),
			want:    []string{"joined e1@5", "tweet e1-1", "tweet e1-2", "tweet e1-3", "tweet e1-4", "tweet e1-5"},
		},
		{
			name:    "a reset starts the member from the new epoch, and the late history is dropped",
			during:  []event{{pub: 4}, {reset: roomHistory("e2", 1, 1)}},
			history: roomHistory("e1", 1, 4),
			want:    []string{"joined e2@1 recovered=false", "tweet e2-1"},
		},
	}
	for _, tt := range tests {
		t.Run("while a join waits for its history, "+tt.name, func(t *testing.T) {
			b := &fakeBroker{}
			b.answer(roomHistory("e1", 1, 3))
			s := newBrokerServer(t, b, Config{})
			joinAndRead(t, s.dial(t), "e1", 1, 3) // a member, so the room stands at e1 seq 3

			asked, release := make(chan struct{}), make(chan History)
			var once sync.Once
			b.setHistory(func(ctx context.Context, _ string, _ uint64) (History, error) {
				once.Do(func() { close(asked) })
				select {
				case h := <-release:
					return h, nil
				case <-ctx.Done():
					return History{}, ctx.Err()
				}
			})
			c := s.dial(t)
			c.send(`{"type":"join","room":"golang"}`)
			waitFor(t, asked, "the join asks for its history")
			for _, e := range tt.during {
				e.deliver(t, b)
			}
			release <- tt.history

			var got []string
			for range tt.want {
				got = append(got, describeMsg(c.next()))
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("the joining member got\n\t%q\nwant\n\t%q", got, tt.want)
			}
			// Nothing more came, and the stream goes on from where it stands.
			j := barrier(t, c)
			b.pub(t, "golang", j.Epoch, j.Seq+1)
			expectTweet(t, c, "golang", j.Epoch, j.Seq+1)
		})
	}

	refusals := []struct {
		name   string
		refuse func(b *fakeBroker, err error)
	}{
		{"a History error refuses the join as unavailable, and the connection is no member", func(b *fakeBroker, err error) { b.fail(err) }},
		{"a Subscribe error refuses the join as unavailable, and the connection is no member", func(b *fakeBroker, err error) {
			b.mu.Lock()
			b.subscribeErr = err
			b.mu.Unlock()
		}},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			b := &fakeBroker{}
			s := newBrokerServer(t, b, Config{})
			internal := errors.New("redis: dial tcp 10.0.0.7:6379: connection refused")
			tt.refuse(b, internal)
			c := s.dial(t)
			c.send(`{"type":"join","room":"golang"}`)
			m := c.expect("error", "golang")
			if m.Code != CodeUnavailable || m.Message == "" {
				t.Fatalf("error %+v, want code %s with a message", m, CodeUnavailable)
			}
			if strings.Contains(m.Message, "10.0.0.7") || strings.Contains(m.Message, "refused") || strings.Contains(m.Message, "redis") {
				t.Errorf("the client was told %q: the broker's own error reached it", m.Message)
			}
			if n := membersOf(s, "golang"); n != 0 {
				t.Errorf("golang has %d members after a refused join, want 0", n)
			}
			b.pub(t, "golang", "e1", 1)
			// Not a member: a pause is refused, and nothing was queued before
			// the refusal.
			c.send(`{"type":"pause","room":"golang"}`)
			if m := c.expect("error", "golang"); m.Code != CodeNotJoined {
				t.Fatalf("pause after a refused join: %+v, want %s", m, CodeNotJoined)
			}

			t.Run("a later join succeeds once the broker answers", func(t *testing.T) {
				b.mu.Lock()
				b.subscribeErr = nil
				b.mu.Unlock()
				b.answer(roomHistory("e1", 1, 1))
				if j := joinAndRead(t, c, "e1", 1, 1); j.Members != 1 {
					t.Errorf("joined %+v, want 1 member", j)
				}
			})
		})
	}
}

func TestHubFollowsTheBrokersStream(t *testing.T) {
	t.Parallel()
	t.Run("a reset starts every member over from the new epoch, and drops the old one's tweets", func(t *testing.T) {
		b := &fakeBroker{}
		b.answer(roomHistory("e1", 1, 2))
		s := newBrokerServer(t, b, Config{})
		live, paused := s.dial(t), s.dial(t)
		joinAndRead(t, live, "e1", 1, 2)
		joinAndRead(t, paused, "e1", 1, 2)
		pauseGolang(t, paused)
		b.pub(t, "golang", "e1", 3)
		expectTweet(t, live, "golang", "e1", 3)

		fresh := roomHistory("e2", 1, 2)
		b.registered(t).HandleReset("golang", fresh)

		j := live.expect("joined", "golang")
		if j.Epoch != "e2" || j.Seq != 2 || j.Recovered == nil || *j.Recovered || j.Held != nil {
			t.Fatalf("a live member got %+v, want joined e2 at seq 2 with recovered false", j)
		}
		expectTweet(t, live, "golang", "e2", 1)
		expectTweet(t, live, "golang", "e2", 2)

		j = paused.expect("joined", "golang")
		if j.Epoch != "e2" || j.Seq != 2 || j.Recovered == nil || *j.Recovered || j.Held == nil || *j.Held != 2 {
			t.Fatalf("a paused member got %+v, want joined e2 at seq 2, recovered false, 2 held", j)
		}
		if j := barrier(t, paused); j.Epoch != "e2" {
			t.Fatalf("a paused member got %+v, want no tweet before it", j)
		}

		b.pub(t, "golang", "e2", 3)
		expectTweet(t, live, "golang", "e2", 3)
		b.pub(t, "golang", "e1", 4) // late, from the epoch gone by
		if j := barrier(t, live); j.Epoch != "e2" || j.Seq != 3 {
			t.Fatalf("after a tweet of the old epoch, the room stands at %s seq %d, want e2 seq 3", j.Epoch, j.Seq)
		}

		b.answer(roomHistory("e2", 1, 3))
		paused.send(`{"type":"resume","room":"golang"}`)
		for seq := uint64(1); seq <= 3; seq++ {
			expectTweet(t, paused, "golang", "e2", seq)
		}
	})

	t.Run("a skip reaches every member that is not paused, and a paused one gets none of it", func(t *testing.T) {
		b := &fakeBroker{}
		b.answer(roomHistory("e1", 1, 2))
		s := newBrokerServer(t, b, Config{})
		live := []*testClient{s.dial(t), s.dial(t)}
		paused := s.dial(t)
		for _, c := range append(live, paused) {
			joinAndRead(t, c, "e1", 1, 2)
		}
		pauseGolang(t, paused)

		b.registered(t).HandleSkipped("golang", 3, 5)
		for i, c := range live {
			if m := c.expect("skipped", "golang"); m.FromSeq != 3 || m.ToSeq != 5 || m.Count != 3 {
				t.Errorf("member %d got %+v, want skipped 3-5 (3)", i, m)
			}
		}
		if j := barrier(t, paused); j.Seq != 5 {
			t.Errorf("the paused member's room stands at seq %d, want 5", j.Seq)
		}
		b.pub(t, "golang", "e1", 6)
		for _, c := range live {
			expectTweet(t, c, "golang", "e1", 6)
		}

		// The room stands at 6 now: a skip says only what it lacks.
		tests := []struct {
			name     string
			from, to uint64
			want     []uint64 // from_seq, to_seq; nil: nothing sent
		}{
			{"a skip of seqs delivered already is dropped", 2, 4, nil},
			{"a skip up to the latest seq is dropped", 5, 6, nil},
			{"a skip overlapping what was delivered reports only the rest", 5, 8, []uint64{7, 8}},
			{"a skip right after the latest seq is reported whole", 9, 9, []uint64{9, 9}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				b.registered(t).HandleSkipped("golang", tt.from, tt.to)
				c := live[0]
				if tt.want != nil {
					m := c.expect("skipped", "golang")
					if m.FromSeq != tt.want[0] || m.ToSeq != tt.want[1] || m.Count != tt.want[1]-tt.want[0]+1 {
						t.Fatalf("got %+v, want skipped %d-%d", m, tt.want[0], tt.want[1])
					}
				}
				barrier(t, c)
			})
		}
	})

	t.Run("a tweet at a seq delivered already is dropped", func(t *testing.T) {
		b := &fakeBroker{}
		b.answer(roomHistory("e1", 1, 2))
		s := newBrokerServer(t, b, Config{})
		c := s.dial(t)
		joinAndRead(t, c, "e1", 1, 2)
		tests := []struct {
			name    string
			epoch   string
			seq     uint64
			arrives bool
		}{
			{"the next seq arrives", "e1", 3, true},
			{"the same seq again is dropped", "e1", 3, false},
			{"a seq the backlog had is dropped", "e1", 2, false},
			{"the oldest seq is dropped", "e1", 1, false},
			{"a seq of another epoch is dropped", "e0", 9, false},
			{"the seq after them arrives", "e1", 4, true},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				b.pub(t, "golang", tt.epoch, tt.seq)
				if tt.arrives {
					expectTweet(t, c, "golang", tt.epoch, tt.seq)
				}
				barrier(t, c) // nothing else came before it
			})
		}
	})
}

func TestHubUnsubscribesIdleRooms(t *testing.T) {
	t.Parallel()
	t.Run("the last member leaving unsubscribes the room within a couple of ticks; a room with a member stays subscribed", func(t *testing.T) {
		const interval = 25 * time.Millisecond
		b := &fakeBroker{}
		s := newBrokerServer(t, b, Config{StatsInterval: interval})
		leaving, staying := s.dial(t), s.dial(t)
		for _, room := range []string{"golang", "rust"} {
			leaving.send(fmt.Sprintf(`{"type":"join","room":%q}`, room))
			leaving.expect("joined", room)
		}
		staying.join("golang")
		for _, room := range []string{"golang", "rust"} {
			leaving.send(fmt.Sprintf(`{"type":"leave","room":%q}`, room))
			leaving.expect("left", room)
		}
		left := time.Now()
		// rust must go within a tick or two of its last member leaving;
		// the bound leaves room for a slow machine.
		within(t, 40*interval, fmt.Sprintf("rust is unsubscribed after its last member left (StatsInterval %v)", interval), func() bool {
			return b.count("unsubscribe rust") > 0
		})
		t.Logf("rust unsubscribed %v after its last member left", time.Since(left).Round(time.Millisecond))
		// golang had the same ticks as rust, with a member throughout.
		if n := b.count("unsubscribe golang"); n != 0 {
			t.Errorf("golang, which kept a member, was unsubscribed %d times", n)
		}
		if n := b.count("unsubscribe rust"); n != 1 {
			t.Errorf("rust was unsubscribed %d times, want once", n)
		}

		t.Run("a join after it subscribes again", func(t *testing.T) {
			leaving.send(`{"type":"join","room":"rust"}`)
			leaving.expect("joined", "rust")
			if n := b.count("subscribe rust"); n != 2 {
				t.Errorf("rust subscribed %d times, want twice", n)
			}
		})
	})

	t.Run("a room stays subscribed for a stats interval after its last member left, then is unsubscribed", func(t *testing.T) {
		const interval = time.Hour // no tick but the test's own
		b := &fakeBroker{}
		s := newBrokerServer(t, b, Config{StatsInterval: interval})
		leaving, staying := s.dial(t), s.dial(t)
		leaving.join("rust")
		leaving.join("golang")
		staying.join("golang")
		before := time.Now()
		leaving.send(`{"type":"leave","room":"rust"}`)
		leaving.send(`{"type":"leave","room":"golang"}`)
		leaving.expect("left", "rust")
		leaving.expect("left", "golang")
		after := time.Now()

		// The room emptied between before and after.
		s.hub.tick(before.Add(interval - time.Nanosecond))
		if n := b.count("unsubscribe rust"); n != 0 {
			t.Fatalf("rust was unsubscribed before it had been empty a stats interval")
		}
		s.hub.tick(after.Add(interval))
		if n := b.count("unsubscribe rust"); n != 1 {
			t.Fatalf("rust, empty for a stats interval, was unsubscribed %d times, want once", n)
		}
		s.hub.tick(after.Add(3 * interval))
		if n := b.count("unsubscribe rust"); n != 1 {
			t.Errorf("rust was unsubscribed %d times over three ticks, want once", n)
		}
		if n := b.count("unsubscribe golang"); n != 0 {
			t.Errorf("golang, which kept a member, was unsubscribed %d times", n)
		}
	})
}

func TestResumeWhoseHistoryFailsSkipsEverythingHeld(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// hold makes the room deliver 3..5 while the member is paused.
		hold func(t *testing.T, b *fakeBroker)
		// spoil makes the resume's history useless.
		spoil func(b *fakeBroker)
	}{
		{
			name:  "a History error",
			hold:  func(t *testing.T, b *fakeBroker) { b.pubs(t, 3, 4, 5) },
			spoil: func(b *fakeBroker) { b.fail(errors.New("history: i/o timeout")) },
		},
		{
			name:  "a History of another epoch",
			hold:  func(t *testing.T, b *fakeBroker) { b.pubs(t, 3, 4, 5) },
			spoil: func(b *fakeBroker) { b.answer(roomHistory("e2", 1, 5)) },
		},
		{
			name: "a History error, with a skip from the broker among what was held",
			hold: func(t *testing.T, b *fakeBroker) {
				b.pubs(t, 3)
				b.registered(t).HandleSkipped("golang", 4, 4)
				b.pubs(t, 5)
			},
			spoil: func(b *fakeBroker) { b.fail(errors.New("history: i/o timeout")) },
		},
	}
	for _, tt := range tests {
		t.Run("after "+tt.name+", a replay resume sends skipped for all it held, never a silent gap", func(t *testing.T) {
			b := &fakeBroker{}
			b.answer(roomHistory("e1", 1, 2))
			s := newBrokerServer(t, b, Config{})
			c := s.dial(t)
			joinAndRead(t, c, "e1", 1, 2)
			pauseGolang(t, c)
			tt.hold(t, b)
			if j := barrier(t, c); j.Seq != 5 {
				t.Fatalf("the room stands at seq %d, want 5", j.Seq)
			}
			tt.spoil(b)
			c.send(`{"type":"resume","room":"golang","mode":"replay"}`)
			if m := c.expect("skipped", "golang"); m.FromSeq != 3 || m.ToSeq != 5 || m.Count != 3 {
				t.Fatalf("resume sent %+v, want skipped 3-5 (3)", m)
			}
			b.pub(t, "golang", "e1", 6)
			expectTweet(t, c, "golang", "e1", 6)
		})
	}
}

func TestARecoveryJoinThatFailsLosesNoTweetOfTheMember(t *testing.T) {
	t.Parallel()
	b := &fakeBroker{}
	b.answer(roomHistory("e1", 1, 3))
	s := newBrokerServer(t, b, Config{})
	c := s.dial(t)
	joinAndRead(t, c, "e1", 1, 3)
	asked, release := make(chan struct{}), make(chan struct{})
	b.setHistory(func(ctx context.Context, _ string, _ uint64) (History, error) {
		close(asked)
		<-release
		return History{}, errors.New("history: i/o timeout")
	})
	c.send(`{"type":"join","room":"golang","epoch":"e1","since":3}`)
	waitFor(t, asked, "the recovery join asks for its history")
	b.pub(t, "golang", "e1", 4) // c is a member throughout: seq 4 is its
	close(release)
	c.send(`{"type":"join","room":"golang"}`) // a barrier, after the failed join
	got := untilJoined(c)
	if !slices.Contains(got, "error unavailable golang") {
		t.Fatalf("got %q, want the refusal", got)
	}
	if !slices.Contains(got, "tweet e1-4") && !slices.Contains(got, "skipped 4-4/1") {
		t.Fatalf("a member whose recovery join failed got %q: seq 4, delivered while it waited, is neither sent nor skipped", got)
	}
}

func TestAJoinAfterTheEpochChangedWhileUnsubscribedFollowsTheNewEpoch(t *testing.T) {
	t.Parallel()
	b, s := joinedAndLeft(t)
	s.hub.tick(time.Now().Add(2 * time.Hour))
	if n := b.count("unsubscribe golang"); n != 1 {
		t.Fatalf("golang unsubscribed %d times, want once", n)
	}
	b.answer(roomHistory("e2", 1, 1)) // the stream started a new epoch meanwhile
	c := s.dial(t)
	joinAndRead(t, c, "e2", 1, 1)
	b.pub(t, "golang", "e2", 2)
	c.send(`{"type":"join","room":"golang"}`) // a barrier
	if m := describeMsg(c.next()); m != "tweet e2-2" {
		t.Fatalf("after joined e2@1, the broker's e2 seq 2 was not delivered: got %q next (the room still stands in the old epoch)", m)
	}
}

// On a web node a join's history may come from the ingest node with tweets
// the subscription has yet to deliver; another member, still reading an
// older backlog, must get them when they come, and the first must not get
// them twice.
func TestAHistoryAheadOfTheDeliveriesCostsNoMemberATweet(t *testing.T) {
	t.Parallel()
	b := &fakeBroker{}
	s := newBrokerServer(t, b, Config{})
	aAsked, releaseA := make(chan struct{}), make(chan struct{})
	var calls atomic.Int32
	b.setHistory(func(ctx context.Context, _ string, _ uint64) (History, error) {
		if calls.Add(1) == 1 {
			close(aAsked)
			<-releaseA
			return roomHistory("e1", 1, 3), nil // read before 4 and 5 were published
		}
		return roomHistory("e1", 1, 5), nil // read after, ahead of their delivery
	})
	b.pubs(t, 1, 2, 3)
	a := s.dial(t)
	a.send(`{"type":"join","room":"golang"}`)
	waitFor(t, aAsked, "a's join asks for its history")
	c := s.dial(t)
	joinAndRead(t, c, "e1", 1, 5)
	b.pubs(t, 4, 5, 6)
	close(releaseA)
	if j := a.expect("joined", "golang"); j.Seq != 3 {
		t.Fatalf("a joined at %d, want 3", j.Seq)
	}
	for seq := uint64(1); seq <= 6; seq++ {
		expectTweet(t, a, "golang", "e1", seq)
	}
	expectTweet(t, c, "golang", "e1", 6) // not 4 and 5 again
	barrier(t, a)
	barrier(t, c)
}

// untilJoined reads c's messages up to the next `joined` (a barrier's
// answer), and returns them described.
func untilJoined(c *testClient) []string {
	var got []string
	for m := c.next(); m.Type != "joined"; m = c.next() {
		got = append(got, describeMsg(m))
	}
	return got
}

// joinedAndLeft serves a hub on a fake broker whose golang stands at e1
// seq 2, where a member joined, read 1 and 2, and left again. Its
// StatsInterval is an hour: the test ticks.
func joinedAndLeft(t *testing.T) (*fakeBroker, *testServer) {
	t.Helper()
	b := &fakeBroker{}
	b.answer(roomHistory("e1", 1, 2))
	s := newBrokerServer(t, b, Config{})
	a := s.dial(t)
	joinAndRead(t, a, "e1", 1, 2)
	a.send(`{"type":"leave","room":"golang"}`)
	a.expect("left", "golang")
	return b, s
}
