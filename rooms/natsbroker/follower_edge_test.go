package natsbroker

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/nats-io/nats.go"

	"github.com/tweetstreamer/tweetstreamer/rooms"
	"github.com/tweetstreamer/tweetstreamer/stream"
)

// The hub bounds every wait for a history with a context (historyTimeout);
// the web node's broker must give up when it is done.
func TestFollowerHistoryHonoursItsContext(t *testing.T) {
	ns := startNATS(t)
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	// An ingest node that is there but slow: it never answers in time.
	if _, err := nc.Subscribe(historySubject, func(*nats.Msg) {}); err != nil {
		t.Fatal(err)
	}
	_ = nc.Flush()
	f, _ := newTestFollower(t, ns)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = f.History(ctx, "golang", 0)
	if took := time.Since(start); took > time.Second {
		t.Fatalf("History with a 100 ms context returned after %s (err %v)", took.Round(time.Millisecond), err)
	}
}

// A history page must fit in NATS's payload limit whatever the tweets hold:
// the frames carry raw '<', '>' and '&' (cards are HTML), which encoding/json
// escapes to six bytes each when it writes a json.RawMessage.
func TestHistoryPagesOfHTMLHeavyTweetsFitTheLimit(t *testing.T) {
	ns := startNATS(t)
	conn := connect(t, ns, "ingest")
	seq := NewSequencer(conn, 300, quiet)
	seq.Register(newRecorder())
	sub, err := seq.serveHistory()
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	if err := conn.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	// 300 posts of 300 '&' each ("AT&T&&&..."), as a card renders them.
	text := strings.Repeat("&", 300)
	html := "<article class=card><p>" + strings.Repeat("&amp;", 300) + "</p></article>"
	for range 300 {
		if err := seq.Publish("golang", func(n uint64) rooms.Pub {
			tj := []byte(`"` + text + `"`)
			return rooms.Pub{Frame: []byte(`{"type":"tweet","room":"golang","seq":1,"tweet":{"text":` + string(tj) + `},"html":"` + html + `"}`)}
		}); err != nil {
			t.Fatal(err)
		}
	}
	reply := seq.historyReply([]byte(`{"room":"golang","since":0}`))
	data, _ := jsonMarshal(reply)
	t.Logf("page: %d bytes, %d tweets, raw frames %d bytes", len(data), len(reply.Pubs), len(reply.Pubs)*len(reply.Pubs[0].Frame))
	if max := conn.nc.MaxPayload(); int64(len(data)) > max {
		t.Errorf("one history page is %d bytes (%d tweets), past NATS's max payload of %d", len(data), len(reply.Pubs), max)
	}
	f := NewFollower(connect(t, ns, "web"), quiet)
	f.Register(newRecorder())
	if _, err := f.History(context.Background(), "golang", 0); err != nil {
		t.Fatalf("the room's history cannot be read on a web node: %v", err)
	}
}

// A client resumes on a web node whose subscription is a few tweets behind
// the node it came from (NATS delivers to each node on its own). The ingest
// node holds everything after since: the recovery must succeed.
func TestAResumeOnANodeBehindTheClientRecovers(t *testing.T) {
	ingest, f, rec := followedRoom(t, 3)
	ingest.publish("golang", 4)
	ingest.publish("golang", 5)
	rec.wait(t, 2)
	ingest.keep("golang", 6) // published, still on the way to this node
	ingest.keep("golang", 7)
	h, err := f.History(context.Background(), "golang", 7)
	if err != nil {
		t.Fatal(err)
	}
	// The hub calls a history that stands below since not covering it, and
	// answers recovered:false (rooms.History.covers: since > h.Seq).
	if h.Epoch != "e1" || h.Seq < 7 {
		t.Fatalf("History(since 7) = epoch %s at seq %d with %d tweets: the warm ring answered for a since it has not reached, so the hub answers recovered:false although the ingest node holds all of it", h.Epoch, h.Seq, len(h.Pubs))
	}
}

func TestAResumeOnANodeBehindTheClientRecoversThroughTheHub(t *testing.T) {
	ns := startNATS(t)
	ingest := newScriptedIngest(t, ns)
	for seq := uint64(1); seq <= 3; seq++ {
		ingest.keep("golang", seq)
	}
	f := NewFollower(connect(t, ns, "web"), quiet)
	trends, _ := stream.NewTrends([]string{"golang"}, 10)
	hub, err := rooms.NewHub(rooms.Config{Trends: trends, Broker: f, Logger: quiet, FlushInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(hub)
	defer srv.Close()
	defer hub.Close(context.Background())
	dial := func() *websocket.Conn {
		c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	pending := map[*websocket.Conn][]map[string]any{}
	readUntil := func(c *websocket.Conn, typ string) map[string]any {
		for {
			for len(pending[c]) > 0 {
				m := pending[c][0]
				pending[c] = pending[c][1:]
				if m["type"] == typ {
					return m
				}
			}
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, data, err := c.ReadMessage()
			if err != nil {
				t.Fatal(err)
			}
			for _, line := range strings.Split(string(data), "\n") {
				var m map[string]any
				json.Unmarshal([]byte(line), &m)
				pending[c] = append(pending[c], m)
			}
		}
	}
	a := dial()
	defer a.Close()
	a.WriteMessage(websocket.TextMessage, []byte(`{"type":"join","room":"golang"}`))
	readUntil(a, "joined") // the node subscribes golang
	for range 3 {
		readUntil(a, "tweet")
	}
	ingest.publish("golang", 4)
	ingest.publish("golang", 5)
	if m := readUntil(a, "tweet"); m["seq"].(float64) != 4 {
		t.Fatal(m)
	}
	readUntil(a, "tweet")
	ingest.keep("golang", 6) // on their way to this node
	ingest.keep("golang", 7)
	c := dial()
	defer c.Close()
	c.WriteMessage(websocket.TextMessage, []byte(`{"type":"join","room":"golang","epoch":"e1","since":7}`))
	j := readUntil(c, "joined")
	if j["recovered"] != true {
		t.Fatalf("a resume with since 7 on a node at seq 5, the ingest node holding 1..7: %v, want recovered:true", j)
	}
}

// A history in more pages than the ingest node's ring can fill (one tweet
// a page, past its cap and past maxPages): the follower refuses it rather
// than claim a warm ring with everything up to the ingest node's seq when
// it stopped reading partway.
func TestAHistoryPastItsPageBoundIsRefusedNotCutShort(t *testing.T) {
	ns := startNATS(t)
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	const total = 200 // one tweet per page, with a cap that says 10
	if _, err := nc.Subscribe(historySubject, func(m *nats.Msg) {
		var req historyRequest
		_ = decode(m.Data, &req)
		reply := historyReply{Epoch: "e1", Seq: total, Oldest: 1, Cap: 10}
		if s := req.Since + 1; s <= total {
			reply.Pubs = []wirePub{{Seq: s, Frame: frame(s)}}
			reply.More = s < total
		}
		data, _ := jsonMarshal(reply)
		_ = m.Respond(data)
	}); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	f, _ := newTestFollower(t, ns)
	// Refused, rather than a backlog that stops short without a word: the
	// join is answered unavailable.
	if err := f.Subscribe(context.Background(), "golang"); err == nil || !strings.Contains(err.Error(), "pages") {
		t.Fatalf("subscribing to a room whose history is longer than its page bound: %v; want an error that says so", err)
	}
	h, err := f.History(context.Background(), "golang", 0)
	if err == nil {
		t.Fatalf("a history past its page bound was answered with %d tweets up to %d; want an error", len(h.Pubs), h.Seq)
	}
}
