package natsbroker

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/tweetstreamer/tweetstreamer/rooms"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// startNATS runs a NATS server on 127.0.0.1 for the test.
func startNATS(t *testing.T) *natsserver.Server {
	t.Helper()
	ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: natsserver.RANDOM_PORT, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(5 * time.Second) {
		t.Fatal("NATS did not start")
	}
	t.Cleanup(ns.Shutdown)
	return ns
}

func connect(t *testing.T, ns *natsserver.Server, name string) *Conn {
	t.Helper()
	c, err := Connect(ns.ClientURL(), name, quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// event is one call of a BrokerHandler, as a string: "pub e1 3",
// "retract 3 id", "reset e2 5 [1 2 3 4 5]", "skipped 3 4".
type recorder struct {
	mu     sync.Mutex
	events []string
	grew   chan struct{}
}

func newRecorder() *recorder { return &recorder{grew: make(chan struct{}, 1)} }

func (r *recorder) add(e string) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
	select {
	case r.grew <- struct{}{}:
	default:
	}
}

func (r *recorder) HandlePub(room, epoch string, p rooms.Pub) {
	r.add(fmt.Sprintf("pub %s %d", epoch, p.Seq))
}
func (r *recorder) HandleRetract(room string, seq uint64, id string) {
	r.add(fmt.Sprintf("retract %d %s", seq, id))
}
func (r *recorder) HandleReset(room string, h rooms.History) {
	var seqs []uint64
	for _, p := range h.Pubs {
		seqs = append(seqs, p.Seq)
	}
	r.add(fmt.Sprintf("reset %s %d %v", h.Epoch, h.Seq, seqs))
}
func (r *recorder) HandleSkipped(room string, from, to uint64) {
	r.add(fmt.Sprintf("skipped %d %d", from, to))
}

// wait returns the events once there are n, failing after a few seconds.
func (r *recorder) wait(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		r.mu.Lock()
		got := slices.Clone(r.events)
		r.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-r.grew:
		case <-deadline:
			t.Fatalf("%d events, want %d: %q", len(got), n, got)
		}
	}
}

// scriptedIngest plays an ingest node on the wire: it publishes the room
// messages the test gives it, and answers history requests from a ring it
// keeps as the test says.
type scriptedIngest struct {
	t    *testing.T
	nc   *nats.Conn
	mu   sync.Mutex
	hist map[string]*scriptedRoom
	asks int
}

type scriptedRoom struct {
	epoch string
	seq   uint64
	ring  *rooms.Ring
}

func newScriptedIngest(t *testing.T, ns *natsserver.Server) *scriptedIngest {
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	s := &scriptedIngest{t: t, nc: nc, hist: make(map[string]*scriptedRoom)}
	_, err = nc.Subscribe(historySubject, func(m *nats.Msg) {
		var req historyRequest
		_ = decode(m.Data, &req)
		s.mu.Lock()
		s.asks++
		r := s.room(req.Room)
		reply := historyReply{Epoch: r.epoch, Seq: r.seq, Oldest: r.ring.Oldest(), Cap: r.ring.Cap()}
		for _, p := range r.ring.AppendAfter(nil, req.Since) {
			if len(reply.Pubs) == 2 {
				reply.More = true // pages of two, to prove the paging
				break
			}
			reply.Pubs = append(reply.Pubs, wirePub{Seq: p.Seq, Frame: p.Frame, Retracted: p.Retracted})
		}
		s.mu.Unlock()
		data, _ := jsonMarshal(reply)
		_ = m.Respond(data)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *scriptedIngest) room(name string) *scriptedRoom {
	r := s.hist[name]
	if r == nil {
		r = &scriptedRoom{epoch: "e1", ring: rooms.NewRing(10)}
		s.hist[name] = r
	}
	return r
}

func frame(seq uint64) []byte { return fmt.Appendf(nil, `{"type":"tweet","seq":%d}`, seq) }

// keep records seq in the room's history without publishing it: a tweet
// the web node's subscription lost.
func (s *scriptedIngest) keep(room string, seq uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.room(room)
	r.seq = seq
	r.ring.Push(rooms.Pub{Seq: seq, Frame: frame(seq)})
}

// publish keeps seq and publishes it on the room's subject.
func (s *scriptedIngest) publish(room string, seq uint64) {
	s.keep(room, seq)
	s.mu.Lock()
	epoch := s.room(room).epoch
	s.mu.Unlock()
	if err := s.nc.Publish(RoomSubject(room), appendPub(nil, epoch, seq, frame(seq))); err != nil {
		s.t.Fatal(err)
	}
}

// restart starts the room over in a new epoch, as a restarted ingest node.
func (s *scriptedIngest) restart(room, epoch string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hist[room] = &scriptedRoom{epoch: epoch, ring: rooms.NewRing(10)}
}

func (s *scriptedIngest) publishRaw(room string, data []byte) {
	if err := s.nc.Publish(RoomSubject(room), data); err != nil {
		s.t.Fatal(err)
	}
}

func newTestFollower(t *testing.T, ns *natsserver.Server) (*Follower, *recorder) {
	f := NewFollower(connect(t, ns, "web"), quiet)
	rec := newRecorder()
	f.Register(rec)
	return f, rec
}

func TestFollowerDeliversInOrderAndAnswersFromItsWarmRing(t *testing.T) {
	ingest, f, rec := followedRoom(t, 3)
	for seq := uint64(4); seq <= 6; seq++ {
		ingest.publish("golang", seq)
	}
	if got, want := rec.wait(t, 3), []string{"pub e1 4", "pub e1 5", "pub e1 6"}; !slices.Equal(got, want) {
		t.Fatalf("delivered %q, want %q", got, want)
	}
	ingest.mu.Lock()
	asked := ingest.asks
	ingest.mu.Unlock()
	h, err := f.History(context.Background(), "golang", 0)
	if err != nil {
		t.Fatal(err)
	}
	if h.Epoch != "e1" || h.Seq != 6 || h.Oldest != 1 || len(h.Pubs) != 6 {
		t.Fatalf("history %+v, want e1 at 6, from 1, six tweets", h)
	}
	ingest.mu.Lock()
	defer ingest.mu.Unlock()
	if ingest.asks != asked {
		t.Errorf("the history was asked of the ingest node (%d requests, %d before): want it from the warm ring", ingest.asks, asked)
	}
}

func TestFollowerFetchesWhatItsSubscriptionMissed(t *testing.T) {
	t.Run("a jump in seq is filled from the ingest node before the tweet", func(t *testing.T) {
		ingest, _, rec := followedRoom(t, 0)
		ingest.publish("golang", 1)
		ingest.keep("golang", 2)
		ingest.keep("golang", 3)
		ingest.publish("golang", 4)
		want := []string{"pub e1 1", "pub e1 2", "pub e1 3", "pub e1 4"}
		if got := rec.wait(t, 4); !slices.Equal(got, want) {
			t.Fatalf("delivered %q, want %q", got, want)
		}
	})
	t.Run("what the ingest node no longer has is skipped, never a silent gap", func(t *testing.T) {
		ingest, f, rec := followedRoom(t, 0)
		ingest.publish("golang", 1)
		for seq := uint64(2); seq <= 14; seq++ {
			ingest.keep("golang", seq) // the ring of ten keeps 5..14
		}
		ingest.publish("golang", 15)
		got := rec.wait(t, 12)
		want := []string{"pub e1 1", "skipped 2 5"}
		for seq := 6; seq <= 15; seq++ {
			want = append(want, fmt.Sprintf("pub e1 %d", seq))
		}
		if !slices.Equal(got, want) {
			t.Fatalf("delivered %q, want %q", got, want)
		}
		// The ring now has a hole: a fresh join's history comes from the
		// ingest node, not from the ring.
		h, err := f.History(context.Background(), "golang", 0)
		if err != nil || h.Oldest != 6 || len(h.Pubs) != 10 {
			t.Fatalf("history after the hole: %+v, %v; want the ingest node's 6..15", h, err)
		}
	})
	t.Run("a duplicate is dropped", func(t *testing.T) {
		ingest, _, rec := followedRoom(t, 0)
		ingest.publish("golang", 1)
		ingest.publish("golang", 1)
		ingest.publish("golang", 2)
		want := []string{"pub e1 1", "pub e1 2"}
		if got := rec.wait(t, 2); !slices.Equal(got, want) {
			t.Fatalf("delivered %q, want %q", got, want)
		}
	})
}

func TestFollowerStartsOverOnANewEpoch(t *testing.T) {
	ingest, _, rec := followedRoom(t, 0)
	ingest.publish("golang", 1)
	ingest.publish("golang", 2)
	rec.wait(t, 2)
	ingest.restart("golang", "e2")
	ingest.keep("golang", 1)
	ingest.publish("golang", 2)
	rec.wait(t, 3)
	// A late message of the old epoch changes nothing.
	ingest.publishRaw("golang", appendPub(nil, "e1", 3, frame(3)))
	ingest.publish("golang", 3)
	want := []string{"pub e1 1", "pub e1 2", "reset e2 2 [1 2]", "pub e2 3"}
	if got := rec.wait(t, 4); !slices.Equal(got, want) {
		t.Fatalf("delivered %q, want %q", got, want)
	}
}

func TestFollowerRetractsAndIgnoresWhatDoesNotParse(t *testing.T) {
	ingest, f, rec := followedRoom(t, 0)
	ingest.publish("golang", 1)
	ingest.publishRaw("golang", []byte("garbage"))
	ingest.publishRaw("golang", appendRetract(nil, "e1", 1, "t1"))
	ingest.publish("golang", 2)
	want := []string{"pub e1 1", "retract 1 t1", "pub e1 2"}
	if got := rec.wait(t, 3); !slices.Equal(got, want) {
		t.Fatalf("delivered %q, want %q", got, want)
	}
	h, err := f.History(context.Background(), "golang", 0)
	if err != nil || len(h.Pubs) != 2 || !h.Pubs[0].Retracted || h.Pubs[0].Frame != nil {
		t.Fatalf("history %+v, %v: want seq 1 retracted, without its frame", h, err)
	}
}

func TestFollowerReceivesOnlyTheRoomsItSubscribes(t *testing.T) {
	ingest, f, rec := followedRoom(t, 0)
	ingest.publish("rust", 1)
	ingest.publish("golang", 1)
	rec.wait(t, 1)
	if n := f.Received(); n != 1 {
		t.Errorf("received %d room messages, want only golang's one", n)
	}
	if err := f.Unsubscribe("golang"); err != nil {
		t.Fatal(err)
	}
	if err := f.conn.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	ingest.publish("golang", 2)
	if err := ingest.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	// A message the server still routed would arrive within a round trip
	// of both connections: one more round trip of the follower's proves
	// none came.
	if err := f.conn.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := rec.wait(t, 1); len(got) != 1 {
		t.Errorf("after Unsubscribe: %q", got)
	}
	if f.Received() != 1 {
		t.Errorf("received %d room messages after Unsubscribe, want 1", f.Received())
	}
}

func TestFollowerHistoryComesInPages(t *testing.T) {
	ns := startNATS(t)
	ingest := newScriptedIngest(t, ns)
	for seq := uint64(1); seq <= 7; seq++ {
		ingest.keep("golang", seq)
	}
	f, _ := newTestFollower(t, ns)
	h, err := f.History(context.Background(), "golang", 2)
	if err != nil {
		t.Fatal(err)
	}
	var seqs []uint64
	for _, p := range h.Pubs {
		seqs = append(seqs, p.Seq)
	}
	if !slices.Equal(seqs, []uint64{3, 4, 5, 6, 7}) || h.Seq != 7 || h.Oldest != 1 {
		t.Fatalf("history after 2 in pages of two: seqs %v, seq %d, oldest %d; want 3..7, 7, 1", seqs, h.Seq, h.Oldest)
	}
}

// followedRoom starts NATS, a scripted ingest node whose golang holds seqs
// 1..n, and a follower subscribed to golang.
func followedRoom(t *testing.T, n uint64) (*scriptedIngest, *Follower, *recorder) {
	t.Helper()
	ns := startNATS(t)
	ingest := newScriptedIngest(t, ns)
	for seq := uint64(1); seq <= n; seq++ {
		ingest.keep("golang", seq)
	}
	f, rec := newTestFollower(t, ns)
	if err := f.Subscribe(context.Background(), "golang"); err != nil {
		t.Fatal(err)
	}
	return ingest, f, rec
}

// gatedRecorder holds the delivery of one seq until released, as a hub
// fanning a tweet out to a crowd holds the room's delivery for a while.
type gatedRecorder struct {
	*recorder
	seq      uint64
	holding  chan struct{}
	released chan struct{}
}

func (r *gatedRecorder) HandlePub(room, epoch string, p rooms.Pub) {
	if p.Seq == r.seq {
		close(r.holding)
		<-r.released
	}
	r.recorder.HandlePub(room, epoch, p)
}

// A join while a tweet is being delivered waits for that delivery, then
// gets its backlog from the warm ring: the ingest node is not asked for
// what this node holds.
func TestAHistoryAskedDuringADeliveryComesFromTheWarmRing(t *testing.T) {
	ns := startNATS(t)
	ingest := newScriptedIngest(t, ns)
	for seq := uint64(1); seq <= 3; seq++ {
		ingest.keep("golang", seq)
	}
	f := NewFollower(connect(t, ns, "web"), quiet)
	rec := &gatedRecorder{recorder: newRecorder(), seq: 4, holding: make(chan struct{}), released: make(chan struct{})}
	f.Register(rec)
	if err := f.Subscribe(context.Background(), "golang"); err != nil {
		t.Fatal(err)
	}
	ingest.mu.Lock()
	asked := ingest.asks
	ingest.mu.Unlock()

	ingest.publish("golang", 4)
	<-rec.holding
	type result struct {
		h   rooms.History
		err error
	}
	done := make(chan result, 1)
	go func() {
		h, err := f.History(context.Background(), "golang", 0)
		done <- result{h, err}
	}()
	// History waits for the delivery however long it takes; a History
	// that asks the ingest node instead answers within this.
	select {
	case r := <-done:
		t.Fatalf("History answered during the delivery (%+v, %v): it did not wait for it", r.h.Position, r.err)
	case <-time.After(200 * time.Millisecond):
	}
	close(rec.released)
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.h.Seq != 4 || len(r.h.Pubs) != 4 {
		t.Errorf("history at seq %d with %d tweets, want 4 and 4", r.h.Seq, len(r.h.Pubs))
	}
	ingest.mu.Lock()
	defer ingest.mu.Unlock()
	if ingest.asks != asked {
		t.Errorf("the ingest node was asked %d more times: want the warm ring's answer", ingest.asks-asked)
	}
}
