package natsbroker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/tweetstreamer/tweetstreamer/rooms"
	"github.com/tweetstreamer/tweetstreamer/stream"
)

func TestSequencerPublishesEachTweetOnceInSeqOrder(t *testing.T) {
	ns := startNATS(t)
	conn := connect(t, ns, "ingest")
	seq := NewSequencer(conn, 10, quiet)
	rec := newRecorder()
	seq.Register(rec)

	watcher, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer watcher.Close()
	msgs := make(chan *nats.Msg, 100)
	if _, err := watcher.ChanSubscribe(RoomSubject("golang"), msgs); err != nil {
		t.Fatal(err)
	}
	if err := watcher.Flush(); err != nil {
		t.Fatal(err)
	}
	tw := &stream.Tweet{ID: "t1", Source: "test"}
	for range 3 {
		if err := seq.Publish("golang", func(n uint64) rooms.Pub {
			return rooms.Pub{Frame: frame(n), ID: tw.ID, Tweet: tw}
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := seq.Retract("golang", "test", "t1"); err != nil {
		t.Fatal(err)
	}
	var epoch string
	for i := uint64(1); i <= 4; i++ {
		select {
		case m := <-msgs:
			got, err := parseRoomMessage(m.Data)
			if err != nil {
				t.Fatal(err)
			}
			if epoch == "" {
				epoch = got.epoch
			}
			switch {
			case i <= 3 && (got.retract || got.seq != i || got.epoch != epoch || !bytes.Equal(got.body, frame(i))):
				t.Fatalf("message %d: %+v, want tweet %d of one epoch with its frame", i, got, i)
			case i == 4 && (!got.retract || got.seq != 1 || string(got.body) != "t1" || got.epoch != epoch):
				t.Fatalf("message 4: %+v, want the retract of seq 1, t1", got)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("message %d did not come", i)
		}
	}
	// The node's own hub got the same, in the same order.
	want := []string{"pub " + epoch + " 1", "pub " + epoch + " 2", "pub " + epoch + " 3", "retract 1 t1"}
	if got := rec.wait(t, 4); !slices.Equal(got, want) {
		t.Errorf("handed to the hub: %q, want %q", got, want)
	}
}

func TestSequencerAnswersHistoryInPagesUnderTheLimit(t *testing.T) {
	ns := startNATS(t)
	conn := connect(t, ns, "ingest")
	seq := NewSequencer(conn, 1000, quiet)
	seq.Register(newRecorder())
	sub, err := seq.serveHistory()
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	if err := conn.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	// 1,000 tweets of 2 KiB: 2 MB in all, past NATS's 1 MB payload limit.
	pad := strings.Repeat("x", 2000)
	for range 1000 {
		if err := seq.Publish("golang", func(n uint64) rooms.Pub {
			return rooms.Pub{Frame: fmt.Appendf(nil, `{"seq":%d,"pad":%q}`, n, pad)}
		}); err != nil {
			t.Fatal(err)
		}
	}
	f := NewFollower(connect(t, ns, "web"), quiet)
	f.Register(newRecorder())
	h, err := f.History(context.Background(), "golang", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Pubs) != 1000 || h.Pubs[0].Seq != 1 || h.Pubs[999].Seq != 1000 || h.Seq != 1000 || h.Oldest != 1 {
		t.Fatalf("history of %d tweets, seq %d, oldest %d; want all 1,000", len(h.Pubs), h.Seq, h.Oldest)
	}
	for i, p := range h.Pubs {
		if p.Seq != uint64(i+1) || !bytes.Contains(p.Frame, fmt.Appendf(nil, `{"seq":%d,`, i+1)) {
			t.Fatalf("tweet %d: seq %d, frame %.40s", i, p.Seq, p.Frame)
		}
	}
	reply := seq.historyReply([]byte(`{"room":"golang","since":0}`))
	if !reply.More || len(reply.Pubs) >= 1000 {
		t.Errorf("one reply held %d tweets with more=%v: want it cut under %d bytes", len(reply.Pubs), reply.More, maxReplyBytes)
	}
	if bad := seq.historyReply([]byte(`nope`)); bad.Error == nil {
		t.Errorf("a malformed request got %+v, want an error", bad)
	}
}

// wanter is a trend set behind a hub, for the trend requests.
type wanter struct{ trends *stream.Trends }

func (w wanter) Want(name, _ string) error { _, err := w.trends.Add(name); return err }

func TestTrendRequestsAnswerAsTheTrendSetWould(t *testing.T) {
	ns := startNATS(t)
	ingestConn := connect(t, ns, "ingest")
	set, err := stream.NewTrends([]string{"golang"}, 2)
	if err != nil {
		t.Fatal(err)
	}
	sub, err := serveTrends(ingestConn, wanter{set}, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	if err := ingestConn.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	trends := NewTrends(connect(t, ns, "web"))
	if added, err := trends.Add("zig"); err != nil || !added {
		t.Fatalf("adding zig: %v, %v; want added", added, err)
	}
	if !slices.Contains(set.List(), "zig") || !slices.Contains(trends.List(), "zig") {
		t.Errorf("zig not followed: the ingest node has %v, the web node %v", set.List(), trends.List())
	}
	_, err = trends.Add("odin")
	if !errors.Is(err, stream.ErrTooManyTrends) || strings.Count(err.Error(), "too many trends") != 1 {
		t.Errorf("a third trend past the limit: %v; want ErrTooManyTrends, said once", err)
	}
	if _, err := trends.Add("Not Normal"); !errors.Is(err, stream.ErrBadTrend) {
		t.Errorf("a trend that is not normalised: %v; want ErrBadTrend", err)
	}
}

func TestTallyAddsUpTheNodesHeardFromLately(t *testing.T) {
	var tl tally
	now := time.Now()
	tl.reports = map[string]tallied{
		"web-a": {rooms: map[string]int{"golang": 2, "rust": 1}, at: now},
		"web-b": {rooms: map[string]int{"golang": 1}, at: now.Add(-time.Second)},
		"web-c": {rooms: map[string]int{"golang": 5}, at: now.Add(-countsTTL - time.Second)},
	}
	got := tl.totals(now)
	if got["golang"] != 3 || got["rust"] != 1 || len(got) != 2 {
		t.Errorf("totals %v, want golang 3 (web-c silent too long), rust 1", got)
	}
	if _, ok := tl.reports["web-c"]; ok {
		t.Error("a silent node's report was kept")
	}
}
