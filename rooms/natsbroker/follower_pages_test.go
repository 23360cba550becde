package natsbroker

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"

	"github.com/tweetstreamer/tweetstreamer/rooms"
)

// A join's History on a web node is bounded by its context (the hub's
// historyTimeout, and Close cancels it). A fill of the room's gap holds
// the room's lock across a fetch from the ingest node, for up to
// fetchTimeout; History waits for that lock whatever its context says.
func TestHistoryHonoursItsContextWhileAFillHoldsTheRoom(t *testing.T) {
	ingest, f, rec := followedRoom(t, 3)
	ingest.mu.Lock() // the ingest node stops answering
	unlocked := false
	defer func() {
		if !unlocked {
			ingest.mu.Unlock()
		}
	}()
	// Seq 5 after 3: the follower fetches 4, and waits for the answer.
	ingest.publishRaw("golang", appendPub(nil, "e1", 5, frame(5)))
	// Wait until the fill holds the room, waiting for its fetch.
	f.mu.Lock()
	fr := f.rooms["golang"]
	f.mu.Unlock()
	deadline := time.Now().Add(5 * time.Second)
	for fr.mu.TryLock() {
		fr.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatal("no fill took the room within 5 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := f.History(ctx, "golang", 0)
	took := time.Since(start)
	ingest.mu.Unlock()
	unlocked = true
	_ = rec
	if took > time.Second {
		t.Fatalf("History with a 200 ms context returned after %v (err %v): it waited for the fill's fetch, not for its context", took.Round(time.Millisecond), err)
	}
}

// Pages are cut at half the server's max_payload: on a server with a low
// limit (here 8 KiB, with 1,000 tweets of 400 bytes) a room's history
// takes far more than 64 pages, and is still read whole.
func TestAHistoryOfManySmallPagesIsReadWhole(t *testing.T) {
	ns, err := natsserverNew(8 << 10)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ns.Shutdown)
	ingestConn := connect(t, ns, "ingest")
	seq := NewSequencer(ingestConn, 1000, quiet)
	seq.Register(newRecorder())
	sub, err := seq.serveHistory()
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	body := bytes.Repeat([]byte("x"), 400)
	for range 1000 {
		_ = seq.Publish("golang", func(n uint64) rooms.Pub {
			return rooms.Pub{Frame: fmt.Appendf(nil, `{"type":"tweet","seq":%d,"html":%q}`, n, body)}
		})
	}
	if err := ingestConn.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	f, _ := newTestFollower(t, ns)
	if err := f.Subscribe(context.Background(), "golang"); err != nil {
		t.Fatalf("a web node cannot subscribe a room of -history 1000 on a server with an 8 KiB max_payload: %v", err)
	}
}

func natsserverNew(maxPayload int32) (*natsserver.Server, error) {
	ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: natsserver.RANDOM_PORT, NoLog: true, NoSigs: true, MaxPayload: maxPayload})
	if err != nil {
		return nil, err
	}
	go ns.Start()
	if !ns.ReadyForConnections(5 * time.Second) {
		return nil, fmt.Errorf("NATS did not start")
	}
	return ns, nil
}
