package rooms

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/tweetstreamer/tweetstreamer/stream"
)

// delivery is one call a broker made to its handler.
type delivery struct {
	kind  string // "pub", "retract", "reset" or "skipped"
	room  string
	epoch string
	seq   uint64 // a skip's first seq
	to    uint64 // a skip's last seq
	id    string
}

// recordingHandler is a BrokerHandler that keeps every call, in order.
type recordingHandler struct {
	mu    sync.Mutex
	calls []delivery
}

var _ BrokerHandler = (*recordingHandler)(nil)

func (h *recordingHandler) add(d delivery) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls = append(h.calls, d)
}

func (h *recordingHandler) HandlePub(room, epoch string, p Pub) {
	h.add(delivery{kind: "pub", room: room, epoch: epoch, seq: p.Seq, id: p.ID})
}

func (h *recordingHandler) HandleRetract(room string, seq uint64, id string) {
	h.add(delivery{kind: "retract", room: room, seq: seq, id: id})
}

func (h *recordingHandler) HandleReset(room string, hist History) {
	h.add(delivery{kind: "reset", room: room, epoch: hist.Epoch, seq: hist.Seq})
}

func (h *recordingHandler) HandleSkipped(room string, from, to uint64) {
	h.add(delivery{kind: "skipped", room: room, seq: from, to: to})
}

// of returns the calls of kind for room, in order.
func (h *recordingHandler) of(kind, room string) []delivery {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []delivery
	for _, d := range h.calls {
		if d.kind == kind && d.room == room {
			out = append(out, d)
		}
	}
	return out
}

func newRecordedBroker(history int) (*MemoryBroker, *recordingHandler) {
	b := NewMemoryBroker(history)
	h := &recordingHandler{}
	b.Register(h)
	return b, h
}

// publishTweet publishes a tweet of source "test" with id in room, and
// returns the seq the broker gave it.
func publishTweet(t *testing.T, b *MemoryBroker, room, id string) uint64 {
	t.Helper()
	var got uint64
	err := b.Publish(room, func(seq uint64) Pub {
		got = seq
		return Pub{Frame: []byte("frame " + id), ID: id, Tweet: &stream.Tweet{ID: id, Source: "test"}, Matched: []string{room}}
	})
	if err != nil {
		t.Fatalf("Publish(%s, %s): %v", room, id, err)
	}
	return got
}

func brokerHistory(t *testing.T, b *MemoryBroker, room string, since uint64) History {
	t.Helper()
	h, err := b.History(context.Background(), room, since)
	if err != nil {
		t.Fatalf("History(%s, %d): %v", room, since, err)
	}
	return h
}

func TestMemoryBrokerPublish(t *testing.T) {
	t.Parallel()
	t.Run("each room counts its own seqs from one", func(t *testing.T) {
		b, h := newRecordedBroker(10)
		rooms := []string{"golang", "golang", "rust", "golang", "rust"}
		want := []uint64{1, 2, 1, 3, 2}
		for i, room := range rooms {
			if got := publishTweet(t, b, room, fmt.Sprint("t", i)); got != want[i] {
				t.Errorf("publish %d to %s got seq %d, want %d", i, room, got, want[i])
			}
		}
		for room, seqs := range map[string][]uint64{"golang": {1, 2, 3}, "rust": {1, 2}} {
			var got []uint64
			for _, d := range h.of("pub", room) {
				got = append(got, d.seq)
			}
			if !slices.Equal(got, seqs) {
				t.Errorf("%s delivered seqs %v, want %v", room, got, seqs)
			}
		}
	})
	t.Run("build is called once, with the seq that is then delivered", func(t *testing.T) {
		b, h := newRecordedBroker(10)
		for want := uint64(1); want <= 3; want++ {
			calls := 0
			err := b.Publish("golang", func(seq uint64) Pub {
				calls++
				if seq != want {
					t.Errorf("build called with seq %d, want %d", seq, want)
				}
				// The seq is the broker's, whatever build says.
				return Pub{Seq: 999, ID: strconv.FormatUint(seq, 10)}
			})
			if err != nil {
				t.Fatal(err)
			}
			if calls != 1 {
				t.Errorf("build called %d times for one publish, want once", calls)
			}
		}
		for i, d := range h.of("pub", "golang") {
			if want := uint64(i + 1); d.seq != want || d.id != strconv.FormatUint(want, 10) {
				t.Errorf("delivery %d is seq %d with id %s, want seq %d built for it", i, d.seq, d.id, want)
			}
		}
		if got := seqsOf(brokerHistory(t, b, "golang", 0).Pubs); !slices.Equal(got, []uint64{1, 2, 3}) {
			t.Errorf("history keeps seqs %v, want [1 2 3]", got)
		}
	})
	t.Run("deliveries carry the room's epoch, the one History reports", func(t *testing.T) {
		b, h := newRecordedBroker(10)
		publishTweet(t, b, "golang", "a")
		publishTweet(t, b, "golang", "b")
		publishTweet(t, b, "rust", "c")
		for _, room := range []string{"golang", "rust"} {
			epoch := brokerHistory(t, b, room, 0).Epoch
			for _, d := range h.of("pub", room) {
				if d.epoch != epoch {
					t.Errorf("%s seq %d delivered with epoch %q, want the room's %q", room, d.seq, d.epoch, epoch)
				}
			}
		}
		if brokerHistory(t, b, "golang", 0).Epoch == brokerHistory(t, b, "rust", 0).Epoch {
			t.Error("two rooms share an epoch; want one of their own each")
		}
	})
	t.Run("a broker with no handler still sequences and keeps", func(t *testing.T) {
		b := NewMemoryBroker(10)
		publishTweet(t, b, "golang", "a")
		if got := publishTweet(t, b, "golang", "b"); got != 2 {
			t.Errorf("second publish got seq %d, want 2", got)
		}
		if h := brokerHistory(t, b, "golang", 0); h.Seq != 2 || len(h.Pubs) != 2 {
			t.Errorf("history = %+v, want seq 2 with both kept", h)
		}
	})
}

func TestMemoryBrokerHistory(t *testing.T) {
	t.Parallel()
	b, _ := newRecordedBroker(3)
	for i := range 5 {
		publishTweet(t, b, "golang", fmt.Sprint("t", i)) // seqs 1..5; 3..5 kept
	}
	epoch := brokerHistory(t, b, "golang", 0).Epoch
	tests := []struct {
		name  string
		since uint64
		want  []uint64
	}{
		{"since zero gives everything kept", 0, []uint64{3, 4, 5}},
		{"since older than what is kept gives everything kept", 1, []uint64{3, 4, 5}},
		{"since within what is kept gives only what followed it", 3, []uint64{4, 5}},
		{"since the latest seq gives nothing", 5, []uint64{}},
		{"since ahead of the room gives nothing", 9, []uint64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := brokerHistory(t, b, "golang", tt.since)
			if h.Epoch != epoch || h.Seq != 5 || h.Oldest != 3 {
				t.Errorf("History(%d) stands at %q seq %d oldest %d; want %q seq 5 oldest 3", tt.since, h.Epoch, h.Seq, h.Oldest, epoch)
			}
			if got := seqsOf(h.Pubs); !slices.Equal(got, tt.want) {
				t.Errorf("History(%d) pubs %v, want %v", tt.since, got, tt.want)
			}
		})
	}
	t.Run("a room never published stands at seq zero of a fresh epoch, the same every time", func(t *testing.T) {
		first := brokerHistory(t, b, "elixir", 0)
		if first.Epoch == "" || first.Seq != 0 || first.Oldest != 0 || len(first.Pubs) != 0 {
			t.Fatalf("History of a new room = %+v, want an epoch at seq 0 with nothing kept", first)
		}
		if again := brokerHistory(t, b, "elixir", 0); again.Epoch != first.Epoch {
			t.Errorf("asked again, epoch %q, want the same %q", again.Epoch, first.Epoch)
		}
		if publishTweet(t, b, "elixir", "e1"); brokerHistory(t, b, "elixir", 0).Epoch != first.Epoch {
			t.Error("the first publish after a History changed the room's epoch")
		}
	})
	t.Run("a broker that keeps no history still counts seqs", func(t *testing.T) {
		for _, size := range []int{0, -1} {
			b := NewMemoryBroker(size)
			if b.HistorySize() != 0 {
				t.Errorf("NewMemoryBroker(%d).HistorySize() = %d, want 0", size, b.HistorySize())
			}
			publishTweet(t, b, "golang", "a")
			publishTweet(t, b, "golang", "b")
			if h := brokerHistory(t, b, "golang", 0); h.Seq != 2 || h.Oldest != 0 || len(h.Pubs) != 0 {
				t.Errorf("size %d: History = %+v, want seq 2, nothing kept", size, h)
			}
		}
	})
}

func TestMemoryBrokerRetract(t *testing.T) {
	t.Parallel()
	b, h := newRecordedBroker(10)
	publishTweet(t, b, "golang", "a")
	gone := publishTweet(t, b, "golang", "b")
	publishTweet(t, b, "golang", "c")
	publishTweet(t, b, "rust", "b") // the same id in another room

	if err := b.Retract("golang", "test", "b"); err != nil {
		t.Fatal(err)
	}
	t.Run("the retraction is delivered once, with the tweet's seq", func(t *testing.T) {
		got := h.of("retract", "golang")
		if len(got) != 1 || got[0].seq != gone || got[0].id != "b" {
			t.Fatalf("retractions %+v, want one of seq %d id b", got, gone)
		}
	})
	t.Run("history keeps the seq, marked retracted, without the tweet", func(t *testing.T) {
		pubs := brokerHistory(t, b, "golang", 0).Pubs
		if got := seqsOf(pubs); !slices.Equal(got, []uint64{1, 2, 3}) {
			t.Fatalf("history seqs %v, want [1 2 3]", got)
		}
		for _, p := range pubs {
			if want := p.Seq == gone; p.Retracted != want {
				t.Errorf("seq %d retracted = %v, want %v", p.Seq, p.Retracted, want)
			}
			if p.Retracted && (p.Frame != nil || p.Tweet != nil) {
				t.Errorf("retracted seq %d kept its frame or tweet", p.Seq)
			}
		}
	})
	t.Run("another room's tweet of the same id is left alone", func(t *testing.T) {
		if got := h.of("retract", "rust"); len(got) != 0 {
			t.Errorf("rust got retractions %+v", got)
		}
		if p := brokerHistory(t, b, "rust", 0).Pubs; len(p) != 1 || p[0].Retracted {
			t.Errorf("rust history %+v, want its tweet intact", p)
		}
	})
	tests := []struct {
		name             string
		room, source, id string
	}{
		{"retracting the same tweet again delivers nothing", "golang", "test", "b"},
		{"an id of another source delivers nothing", "golang", "other", "a"},
		{"an id the room never had delivers nothing", "golang", "test", "zzz"},
		{"a room never published delivers nothing", "elixir", "test", "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(h.of("retract", tt.room))
			if err := b.Retract(tt.room, tt.source, tt.id); err != nil {
				t.Fatalf("Retract: %v", err)
			}
			if got := h.of("retract", tt.room); len(got) != before {
				t.Errorf("retractions %+v, want still %d", got, before)
			}
		})
	}
}

func TestMemoryBrokerRemoveHistory(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// next is the first thing done with the room after it is
		// forgotten; it returns the epoch and seq it saw.
		next func(t *testing.T, b *MemoryBroker, h *recordingHandler) (string, uint64)
	}{
		{"the next History starts a new epoch at seq zero", func(t *testing.T, b *MemoryBroker, _ *recordingHandler) (string, uint64) {
			hist := brokerHistory(t, b, "zig", 0)
			if len(hist.Pubs) != 0 || hist.Oldest != 0 {
				t.Errorf("history after RemoveHistory keeps %v", seqsOf(hist.Pubs))
			}
			return hist.Epoch, hist.Seq
		}},
		{"the next Publish starts a new epoch at seq one", func(t *testing.T, b *MemoryBroker, h *recordingHandler) (string, uint64) {
			publishTweet(t, b, "zig", "new")
			pubs := h.of("pub", "zig")
			last := pubs[len(pubs)-1]
			if last.seq != 1 {
				t.Errorf("first publish after RemoveHistory got seq %d, want 1", last.seq)
			}
			if hist := brokerHistory(t, b, "zig", 0); hist.Epoch != last.epoch || len(hist.Pubs) != 1 {
				t.Errorf("history after the publish = %+v, want its epoch %q and that tweet alone", hist, last.epoch)
			}
			return last.epoch, last.seq - 1
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, h := newRecordedBroker(10)
			publishTweet(t, b, "zig", "a")
			publishTweet(t, b, "zig", "b")
			old := brokerHistory(t, b, "zig", 0).Epoch
			if err := b.RemoveHistory("zig"); err != nil {
				t.Fatal(err)
			}
			epoch, seq := tt.next(t, b, h)
			if epoch == "" || epoch == old {
				t.Errorf("epoch after RemoveHistory = %q, want a new one (was %q)", epoch, old)
			}
			if seq != 0 {
				t.Errorf("seq before the next publish = %d, want 0", seq)
			}
		})
	}
	t.Run("other rooms are left as they were", func(t *testing.T) {
		b, _ := newRecordedBroker(10)
		publishTweet(t, b, "golang", "a")
		before := brokerHistory(t, b, "golang", 0)
		if err := b.RemoveHistory("zig"); err != nil {
			t.Fatal(err)
		}
		if after := brokerHistory(t, b, "golang", 0); after.Epoch != before.Epoch || after.Seq != 1 || len(after.Pubs) != 1 {
			t.Errorf("golang after removing zig = %+v, want it unchanged: %+v", after, before)
		}
	})
}

func TestMemoryBrokersHaveTheirOwnEpochs(t *testing.T) {
	t.Parallel()
	a, b := NewMemoryBroker(1), NewMemoryBroker(1)
	ea, eb := brokerHistory(t, a, "golang", 0).Epoch, brokerHistory(t, b, "golang", 0).Epoch
	if ea == "" || ea == eb {
		t.Errorf("two brokers' golang epochs %q and %q, want different ones: a restarted process must not look like the old one", ea, eb)
	}
}

// TestMemoryBrokerOrdersConcurrentPublishes publishes to one room from
// several goroutines at once: the handler must still see every seq once,
// in increasing order, each with what build made for it. Run it with -race.
func TestMemoryBrokerOrdersConcurrentPublishes(t *testing.T) {
	t.Parallel()
	const publishers, each = 8, 500
	b := NewMemoryBroker(16)
	h := &orderCheckingHandler{t: t}
	b.Register(h)
	var wg sync.WaitGroup
	for range publishers {
		wg.Go(func() {
			for range each {
				err := b.Publish("golang", func(seq uint64) Pub { return Pub{ID: strconv.FormatUint(seq, 10)} })
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.last != publishers*each || h.count != publishers*each {
		t.Errorf("handler saw %d deliveries ending at seq %d, want %d ending at %d", h.count, h.last, publishers*each, publishers*each)
	}
	if hist := brokerHistory(t, b, "golang", 0); hist.Seq != publishers*each || hist.Oldest != publishers*each-15 {
		t.Errorf("history stands at seq %d oldest %d, want %d and %d", hist.Seq, hist.Oldest, publishers*each, publishers*each-15)
	}
}

// orderCheckingHandler fails the test when a room's seqs do not follow one
// another.
type orderCheckingHandler struct {
	t     *testing.T
	mu    sync.Mutex
	last  uint64
	count int
}

var _ BrokerHandler = (*orderCheckingHandler)(nil)

func (h *orderCheckingHandler) HandlePub(room, epoch string, p Pub) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if p.Seq != h.last+1 {
		h.t.Errorf("delivered seq %d after %d, want %d", p.Seq, h.last, h.last+1)
	}
	if p.ID != strconv.FormatUint(p.Seq, 10) {
		h.t.Errorf("seq %d delivered what build made for %s", p.Seq, p.ID)
	}
	h.last = p.Seq
	h.count++
}

func (h *orderCheckingHandler) HandleRetract(string, uint64, string) {
	h.t.Error("a publish delivered a retraction")
}

func (h *orderCheckingHandler) HandleReset(string, History) {
	h.t.Error("a publish delivered a reset")
}

func (h *orderCheckingHandler) HandleSkipped(string, uint64, uint64) {
	h.t.Error("a publish delivered a skip")
}
