package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/tweetstreamer/tweetstreamer/rooms/natsbroker"
)

// startNATS runs a NATS server on 127.0.0.1, on port (zero: a random one),
// until the test ends or it is shut down.
func startNATS(t *testing.T, port int) *natsserver.Server {
	t.Helper()
	if port == 0 {
		port = natsserver.RANDOM_PORT
	}
	ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: port, NoLog: true, NoSigs: true})
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

// cluster is one ingest node and two web nodes over one NATS server.
type cluster struct {
	nats       *natsserver.Server
	ingest     *server
	web1, web2 *server
	ingestArgs []string
}

func startCluster(t *testing.T, ingestArgs ...string) *cluster {
	t.Helper()
	ns := startNATS(t, 0)
	url := ns.ClientURL()
	c := &cluster{nats: ns, ingestArgs: ingestArgs}
	c.ingest = start(t, nil, append([]string{"-role", "ingest", "-nats", url}, ingestArgs...)...)
	c.web1 = start(t, nil, "-role", "web", "-nats", url)
	c.web2 = start(t, nil, "-role", "web", "-nats", url)
	for _, s := range []*server{c.ingest, c.web1, c.web2} {
		s.waitReady(t)
	}
	return c
}

// waitReady waits until the node's /readyz answers 200.
func (s *server) waitReady(t *testing.T) {
	t.Helper()
	s.waitReadyWithin(t, 10*time.Second)
}

// waitReadyWithin waits until the node's /readyz answers 200, failing
// after d.
func (s *server) waitReadyWithin(t *testing.T, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		resp, body := s.get(t, "/readyz")
		if resp.StatusCode == 200 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s/readyz still %d %q after %s\nlogs:\n%s", s.url, resp.StatusCode, body, d, s.logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// seenTweet is one tweet a client received: its seq and its id.
type seenTweet struct {
	seq uint64
	id  string
}

// tweets reads n tweets of room from c and returns their seqs, failing on a
// skipped or a gap.
func (c *wsClient) tweets(room string, n int) []uint64 {
	c.t.Helper()
	seen := c.tweetRun(room, n)
	seqs := make([]uint64, len(seen))
	for i, s := range seen {
		seqs[i] = s.seq
	}
	return seqs
}

// tweetRun reads n tweets of room from c and returns their seqs and ids,
// failing on a skipped, a gap or a duplicate.
func (c *wsClient) tweetRun(room string, n int) []seenTweet {
	c.t.Helper()
	var seen []seenTweet
	for len(seen) < n {
		m := c.nextWhere(func(m map[string]any) bool {
			return m["room"] == room && (m["type"] == "tweet" || m["type"] == "skipped")
		})
		if m["type"] == "skipped" {
			c.t.Fatalf("skipped %v", m)
		}
		s := seenTweet{seq: seqOf(c.t, m), id: tweetID(c.t, m)}
		if len(seen) > 0 && s.seq != seen[len(seen)-1].seq+1 {
			c.t.Fatalf("seq %d after %d", s.seq, seen[len(seen)-1].seq)
		}
		seen = append(seen, s)
	}
	return seen
}

// nextWithin returns the next message that want accepts, failing the test
// with what says if none comes within d. Unlike nextWhere, which allows
// five seconds per read, d bounds the whole wait, however busy the socket.
func (c *wsClient) nextWithin(d time.Duration, what string, want func(map[string]any) bool) map[string]any {
	c.t.Helper()
	deadline := time.Now().Add(d)
	for {
		for len(c.msgs) > 0 {
			m := c.msgs[0]
			c.msgs = c.msgs[1:]
			if want(m) {
				return m
			}
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("no %s within %s", what, d)
		}
		_ = c.conn.SetReadDeadline(deadline)
		_, data, err := c.conn.ReadMessage()
		if err != nil {
			c.t.Fatalf("no %s within %s: %v", what, d, err)
		}
		c.appendFrame(data)
	}
}

// appendFrame queues the messages of one server frame.
func (c *wsClient) appendFrame(data []byte) {
	c.t.Helper()
	for _, line := range strings.Split(string(data), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			c.t.Fatalf("not JSON: %q", line)
		}
		c.msgs = append(c.msgs, m)
	}
}

// drain returns every message c has left to read, queued or on the wire,
// until the server closes the connection.
func (c *wsClient) drain() []map[string]any {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_ = c.conn.SetReadDeadline(deadline)
		_, data, err := c.conn.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			if !errors.As(err, &ce) {
				c.t.Fatalf("the server did not close the connection: %v", err)
			}
			out := c.msgs
			c.msgs = nil
			return out
		}
		c.appendFrame(data)
	}
}

// inRoom accepts the messages of room of the types given.
func inRoom(room string, types ...string) func(map[string]any) bool {
	return func(m map[string]any) bool {
		return m["room"] == room && slices.Contains(types, m["type"].(string))
	}
}

func seqOf(t *testing.T, m map[string]any) uint64 {
	t.Helper()
	return uintField(t, m, "seq")
}

func uintField(t *testing.T, m map[string]any, field string) uint64 {
	t.Helper()
	f, ok := m[field].(float64)
	if !ok {
		t.Fatalf("no %s in %v", field, m)
	}
	return uint64(f)
}

func tweetID(t *testing.T, m map[string]any) string {
	t.Helper()
	tw, _ := m["tweet"].(map[string]any)
	id, _ := tw["id"].(string)
	if id == "" {
		t.Fatalf("a tweet without an id: %v", m)
	}
	return id
}

func TestClusterWebNodesGetTheSameTweets(t *testing.T) {
	cl := startCluster(t, "-mock-rate", "400", "-trends", "golang,rust")
	a, b := cl.web1.dial(t), cl.web2.dial(t)
	a.send(`{"type":"join","room":"golang"}`)
	b.send(`{"type":"join","room":"golang"}`)
	ja, jb := a.nextOfType("joined"), b.nextOfType("joined")
	if ja["epoch"] != jb["epoch"] || ja["epoch"] == "" {
		t.Fatalf("joined epochs %v and %v", ja["epoch"], jb["epoch"])
	}
	sa, sb := a.tweetRun("golang", 30), b.tweetRun("golang", 30)
	// Both saw a contiguous run; where they overlap, each seq is the same
	// tweet.
	ids := make(map[uint64]string, len(sa))
	for _, s := range sa {
		ids[s.seq] = s.id
	}
	overlap := 0
	for _, s := range sb {
		id, ok := ids[s.seq]
		if !ok {
			continue
		}
		overlap++
		if id != s.id {
			t.Errorf("seq %d is tweet %s on web1 and %s on web2", s.seq, id, s.id)
		}
	}
	if overlap == 0 {
		t.Fatalf("no overlap: %v vs %v", sa, sb)
	}
}

func TestClusterAWebNodeSendsEachVariantFromTheIngestNodesMessage(t *testing.T) {
	cl := startCluster(t, "-mock-rate", "200", "-trends", "golang,rust")
	compressing := &websocket.Dialer{EnableCompression: true}
	full := cl.web1.dial(t)
	card := cl.web1.dialBy(t, compressing, "tweet=card")
	lean := cl.web1.dialBy(t, websocket.DefaultDialer, "tweet=seq")
	clients := []*wsClient{full, card, lean}
	for _, c := range clients {
		c.send(`{"type":"join","room":"golang"}`)
		c.nextOfType("joined")
	}
	// The first live tweet every one of them has, in each variant.
	first := map[uint64]int{}
	seen := make([]map[uint64]map[string]any, len(clients))
	var seq uint64
	for seq == 0 {
		for i, c := range clients {
			m := c.nextWhere(inRoom("golang", "tweet"))
			if seen[i] == nil {
				seen[i] = map[uint64]map[string]any{}
			}
			s := seqOf(t, m)
			seen[i][s] = m
			if first[s]++; first[s] == len(clients) {
				seq = s
			}
		}
	}
	f, c, l := seen[0][seq], seen[1][seq], seen[2][seq]
	if f["tweet"] == nil || f["html"] == nil || f["matched"] == nil {
		t.Fatalf("the full message lacks a part: %v", f)
	}
	if c["html"] != f["html"] || c["tweet"] != nil || c["matched"] != nil {
		t.Errorf("card variant %v, want the full message's html alone", c)
	}
	tw := f["tweet"].(map[string]any)
	if l["ingested_at"] != tw["ingested_at"] || l["html"] != nil || l["tweet"] != nil {
		t.Errorf("seq variant %v, want ingested_at %v alone", l, tw["ingested_at"])
	}
}

// webNodeName returns the name s's connection to NATS goes by, from the
// node id its logs carry (the first line with it, "connected to NATS",
// comes from a callback of nats.go's, a moment after the node serves).
func (s *server) webNodeName(t *testing.T) string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if m := webNodeID.FindStringSubmatch(s.logs.String()); m != nil {
			return "tweetstreamer " + m[1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no web node id in the logs:\n%s", s.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var webNodeID = regexp.MustCompile(`node=(web-[a-z2-7]+)`)

// natsConn returns what the NATS server knows of the open connection
// called name.
func natsConn(t *testing.T, ns *natsserver.Server, name string) *natsserver.ConnInfo {
	t.Helper()
	connz, err := ns.Connz(&natsserver.ConnzOptions{Subscriptions: true})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range connz.Conns {
		if c.Name == name {
			return c
		}
		names = append(names, c.Name)
	}
	t.Fatalf("no NATS connection %q among %q", name, names)
	return nil
}

// roomSubject is the NATS subject of a room.
var roomSubject = natsbroker.RoomSubject

func TestClusterWebNodeSubscribesToARoomOnlyWhileItHasMembers(t *testing.T) {
	cl := startCluster(t, "-mock-rate", "400", "-trends", "golang,rust")
	golang := roomSubject("golang")
	name1, name2 := cl.web1.webNodeName(t), cl.web2.webNodeName(t)
	if name1 == name2 {
		t.Fatalf("both web nodes are called %q", name1)
	}
	// web2 has a client, in no room: it gets the trend list, not tweets.
	idle := cl.web2.dial(t)
	idle.nextOfType("trends")
	a := cl.web1.dial(t)
	a.send(`{"type":"join","room":"golang"}`)
	joined := uint64(a.nextOfType("joined")["seq"].(float64))
	// The backlog came from the warm ring, not over NATS: read past it.
	for seqs := a.tweets("golang", 1); seqs[0] <= joined; seqs = a.tweets("golang", 1) {
	}

	c1, c2 := natsConn(t, cl.nats, name1), natsConn(t, cl.nats, name2)
	if !slices.Contains(c1.Subs, golang) {
		t.Errorf("web1, with a member in golang, subscribes to %q, not %s", c1.Subs, golang)
	}
	if len(c2.Subs) == 0 {
		t.Fatalf("web2's connection subscribes to nothing: is it the web node?")
	}
	for _, sub := range c2.Subs {
		if strings.HasPrefix(sub, "ts.room.") {
			t.Errorf("web2, with no member in any room, subscribes to %s", sub)
		}
	}
	// And it is sent none of the room's traffic: while web1's client
	// reads 100 tweets of golang, web2 gets only the control messages (a
	// heartbeat and two nodes' counts a second). Some of those tweets
	// reached web1 before the first count, hence n/2.
	before1, before2 := c1.OutMsgs, c2.OutMsgs
	n := int64(len(a.tweets("golang", 100)))
	sent1 := natsConn(t, cl.nats, name1).OutMsgs - before1
	sent2 := natsConn(t, cl.nats, name2).OutMsgs - before2
	if sent1 < n/2 {
		t.Errorf("web1 was sent %d messages while its client read %d tweets", sent1, n)
	}
	if sent2 > n/4 {
		t.Errorf("web2 was sent %d messages (web1 %d) while web1's client read %d tweets of a room web2 has no member in", sent2, sent1, n)
	}
	t.Logf("while web1's client read %d tweets, NATS sent web1 %d messages and web2 %d (web2 %d in all)", n, sent1, sent2, before2+sent2)

	a.send(`{"type":"leave","room":"golang"}`)
	a.nextOfType("left")
	waitUnsubscribed(t, cl.nats, name1, golang)
}

// waitUnsubscribed waits until the NATS connection called name no longer
// subscribes to subject, failing after the 10 s a web node may take once
// its last member in the room left.
func waitUnsubscribed(t *testing.T, ns *natsserver.Server, name, subject string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for slices.Contains(natsConn(t, ns, name).Subs, subject) {
		if time.Now().After(deadline) {
			t.Fatalf("%s still subscribes to %s 10 s after its last member left", name, subject)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestClusterClientOfAStoppedWebNodeRecoversOnAnother(t *testing.T) {
	for _, tc := range []struct {
		name          string
		web2HasMember bool
	}{
		{"web2 already follows the room", true},
		{"web2 follows the room only once the client comes", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A history of 500 holds golang's last 5 s: far more than the
			// client takes to come back.
			cl := startCluster(t, "-mock-rate", "200", "-trends", "golang,rust", "-history", "500")
			if tc.web2HasMember {
				b := cl.web2.dial(t)
				b.send(`{"type":"join","room":"golang"}`)
				b.nextOfType("joined")
				b.tweets("golang", 3)
			}
			a := cl.web1.dial(t)
			a.send(`{"type":"join","room":"golang"}`)
			joined := a.nextOfType("joined")
			epoch := joined["epoch"].(string)
			seen := a.tweets("golang", 20)
			last := seen[len(seen)-1]

			// web1 shuts down while its client reads on, answering its
			// close; what web1 sent before it closed counts as seen.
			cl.web1.cancel()
			for _, m := range a.drain() {
				if m["room"] == "golang" && m["type"] == "tweet" {
					if seq := seqOf(t, m); seq != last+1 {
						t.Fatalf("web1 sent seq %d after %d as it stopped", seq, last)
					}
					last++
				}
			}
			if err := cl.web1.stop(t); err != nil {
				t.Fatalf("web1 stopped with %v", err)
			}

			again := cl.web2.dial(t)
			again.send(fmt.Sprintf(`{"type":"join","room":"golang","epoch":%q,"since":%d}`, epoch, last))
			j := again.next()
			if j["type"] != "joined" || j["epoch"] != epoch || j["recovered"] != true {
				t.Fatalf("recovery join on web2 after seq %d of epoch %s answered %v", last, epoch, j)
			}
			// tweets fails on a gap, a duplicate or a skipped.
			if first := again.tweets("golang", 30)[0]; first != last+1 {
				t.Fatalf("after since %d, web2 sent seq %d first", last, first)
			}
		})
	}
}

// gapless reads tweets of room from c until it has n after last, failing
// on a seq that is not the one after the last one unless a skipped covers
// exactly the seqs between. It returns the last seq.
func (c *wsClient) gapless(room string, last uint64, n int) uint64 {
	c.t.Helper()
	for got := 0; got < n; {
		m := c.nextWhere(inRoom(room, "tweet", "skipped", "joined"))
		switch m["type"] {
		case "joined":
			c.t.Fatalf("joined again after seq %d: %v", last, m)
		case "skipped":
			from, to, count := uintField(c.t, m, "from_seq"), uintField(c.t, m, "to_seq"), uintField(c.t, m, "count")
			if from != last+1 || to < from || count != to-from+1 {
				c.t.Fatalf("after seq %d, skipped %v", last, m)
			}
			c.t.Logf("skipped %d..%d", from, to)
			last = to
		case "tweet":
			seq := seqOf(c.t, m)
			if seq != last+1 {
				c.t.Fatalf("seq %d after %d, with no skipped between", seq, last)
			}
			last = seq
			got++
		}
	}
	return last
}

func TestClusterNATSRestartLeavesNoSilentGap(t *testing.T) {
	cl := startCluster(t, "-mock-rate", "200", "-trends", "golang,rust")
	a := cl.web1.dial(t)
	a.send(`{"type":"join","room":"golang"}`)
	a.nextOfType("joined")
	seen := a.tweets("golang", 10)
	last := seen[len(seen)-1]

	port := cl.nats.Addr().(*net.TCPAddr).Port
	cl.nats.Shutdown()
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, body := cl.web1.get(t, "/readyz")
		if resp.StatusCode == http.StatusServiceUnavailable {
			if reason := strings.TrimSpace(strings.TrimPrefix(body, "not ready:")); reason == "" || reason == strings.TrimSpace(body) {
				t.Errorf("/readyz 503 without a reason: %q", body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz of web1 still %d %q 5 s after NATS went away", resp.StatusCode, body)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// The outage lasts until the ingest node has routed more of golang
	// than its history holds: what web1 cannot fetch back it must skip.
	matched := cl.ingest.matched(t)
	deadline = time.Now().Add(10 * time.Second)
	for cl.ingest.matched(t) < matched+300 {
		if time.Now().After(deadline) {
			t.Fatalf("the ingest node matched %d tweets in 10 s without NATS", cl.ingest.matched(t)-matched)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cl.nats = startNATS(t, port)
	for _, s := range []*server{cl.ingest, cl.web1, cl.web2} {
		s.waitReady(t)
	}
	// Delivery resumes, and what the outage cost is said, not hidden.
	a.gapless("golang", last, 150)
}

// matched returns how many tweets the ingest node s has matched, from its
// /healthz.
func (s *server) matched(t *testing.T) uint64 {
	t.Helper()
	_, body := s.get(t, "/healthz")
	var h struct {
		Source struct {
			Matched uint64 `json:"matched"`
		} `json:"source"`
	}
	if err := json.Unmarshal([]byte(body), &h); err != nil {
		t.Fatalf("/healthz: %v: %q", err, body)
	}
	return h.Source.Matched
}

func TestClusterCustomTrendJoinedOnAWebNodeIsIngested(t *testing.T) {
	cl := startCluster(t, "-mock-rate", "200", "-trends", "golang,rust")
	watcher := cl.web2.dial(t)
	a := cl.web1.dial(t)
	a.send(`{"type":"join","room":"zig"}`)
	if j := a.next(); j["type"] != "joined" || j["room"] != "zig" {
		t.Fatalf("join zig answered %v", j)
	}
	tw := a.nextWithin(10*time.Second, "tweet of zig", inRoom("zig", "tweet"))
	matched, _ := tw["matched"].([]any)
	if !slices.Contains(matched, any("zig")) {
		t.Errorf("a tweet of room zig matched %v", tw["matched"])
	}
	a.tweets("zig", 10)

	// The other web node lists it, as a custom trend.
	watcher.nextWithin(10*time.Second, "trends listing zig on web2", func(m map[string]any) bool {
		if m["type"] != "trends" {
			return false
		}
		list, _ := m["trends"].([]any)
		for _, e := range list {
			if e, _ := e.(map[string]any); e["room"] == "zig" && e["custom"] == true {
				return true
			}
		}
		return false
	})
}

func TestClusterMemberCountsAddUpAcrossWebNodes(t *testing.T) {
	cl := startCluster(t, "-mock-rate", "50", "-trends", "golang,rust")
	clients := []*wsClient{cl.web1.dial(t), cl.web1.dial(t), cl.web2.dial(t)}
	for _, c := range clients {
		c.send(`{"type":"join","room":"golang"}`)
	}
	joined := make([]map[string]any, len(clients))
	for i, c := range clients {
		joined[i] = c.nextOfType("joined")
	}
	start := time.Now()
	for i, c := range clients {
		if joined[i]["members"] == float64(3) {
			continue
		}
		remaining := 5*time.Second - time.Since(start)
		c.nextWithin(remaining, fmt.Sprintf("stats with 3 members for client %d", i), func(m map[string]any) bool {
			return m["type"] == "stats" && m["room"] == "golang" && m["members"] == float64(3)
		})
	}
	t.Logf("every client counted 3 members %s after the last join", time.Since(start).Round(time.Millisecond))
}

func TestClusterIngestRestartStartsRoomsOverWithANewEpoch(t *testing.T) {
	cl := startCluster(t, "-mock-rate", "200", "-trends", "golang,rust")
	a := cl.web1.dial(t)
	a.send(`{"type":"join","room":"golang"}`)
	oldEpoch := a.nextOfType("joined")["epoch"].(string)
	seen := a.tweets("golang", 10)
	last := seen[len(seen)-1]

	if err := cl.ingest.stop(t); err != nil {
		t.Fatalf("the ingest node stopped with %v", err)
	}
	stopped := time.Now()
	cl.ingest = start(t, nil, append([]string{"-role", "ingest", "-nats", cl.nats.ClientURL()}, cl.ingestArgs...)...)

	// Until the fresh joined, only the old epoch's run may go on: seqs
	// that follow on, of tweets the old node ingested. (The new node's
	// mock, with the same seed, makes the same tweets again: only the time
	// tells them apart.)
	var j map[string]any
	for j == nil {
		m := a.nextWithin(15*time.Second, "joined of the new epoch", inRoom("golang", "tweet", "skipped", "joined"))
		switch m["type"] {
		case "joined":
			j = m
		case "skipped":
			t.Fatalf("after seq %d of the old epoch, skipped %v", last, m)
		case "tweet":
			if seq := seqOf(t, m); seq != last+1 || !ingestedAt(t, m).Before(stopped) {
				t.Fatalf("before any joined of a new epoch, after seq %d, came %v", last, m)
			}
			last++
		}
	}
	if j["epoch"] == oldEpoch || j["epoch"] == "" || j["recovered"] != false {
		t.Fatalf("after the ingest node restarted, the room's member got %v (old epoch %s)", j, oldEpoch)
	}
	newEpoch := j["epoch"].(string)
	// The new epoch's backlog and live tweets follow, from its start.
	first := a.nextWhere(inRoom("golang", "tweet", "skipped"))
	if first["type"] != "tweet" || seqOf(t, first) > uintField(t, j, "seq")+1 || ingestedAt(t, first).Before(stopped) {
		t.Fatalf("after %v, first came %v", j, first)
	}

	// A client of the old epoch that reconnects, on either web node, starts
	// over too.
	for _, s := range []*server{cl.web1, cl.web2} {
		c := s.dial(t)
		c.send(fmt.Sprintf(`{"type":"join","room":"golang","epoch":%q,"since":%d}`, oldEpoch, last))
		if r := c.next(); r["type"] != "joined" || r["recovered"] != false || r["epoch"] != newEpoch {
			t.Errorf("%s: a recovery join with the old epoch answered %v (new epoch %s)", s.url, r, newEpoch)
		}
	}
}

func TestClusterRoomJoinedAgainAfterAnIngestRestartGetsLiveTweets(t *testing.T) {
	cl := startCluster(t, "-mock-rate", "200", "-trends", "golang,rust")
	golang, name2 := roomSubject("golang"), cl.web2.webNodeName(t)
	// web2 follows golang for a while, then no longer: its member left.
	b := cl.web2.dial(t)
	b.send(`{"type":"join","room":"golang"}`)
	oldEpoch := b.nextOfType("joined")["epoch"].(string)
	b.tweets("golang", 10)
	b.send(`{"type":"leave","room":"golang"}`)
	b.nextOfType("left")
	waitUnsubscribed(t, cl.nats, name2, golang)

	if err := cl.ingest.stop(t); err != nil {
		t.Fatalf("the ingest node stopped with %v", err)
	}
	cl.ingest = start(t, nil, append([]string{"-role", "ingest", "-nats", cl.nats.ClientURL()}, cl.ingestArgs...)...)
	cl.ingest.waitReady(t)

	// A fresh join on web2 gets the new epoch, its backlog, and then its
	// live tweets.
	c := cl.web2.dial(t)
	c.send(`{"type":"join","room":"golang"}`)
	j := c.next()
	if j["type"] != "joined" || j["epoch"] == oldEpoch {
		t.Fatalf("a join on web2 after the ingest node restarted answered %v (old epoch %s)", j, oldEpoch)
	}
	backlog := uintField(t, j, "seq")
	for last := uint64(0); last <= backlog+20; {
		m := c.nextWithin(5*time.Second, fmt.Sprintf("tweet of golang after seq %d (joined %v)", last, j), inRoom("golang", "tweet", "skipped"))
		if m["type"] != "tweet" || last > 0 && seqOf(t, m) != last+1 {
			t.Fatalf("after seq %d: %v", last, m)
		}
		last = seqOf(t, m)
	}
}

// ingestedAt returns when the node that published the tweet message m
// ingested it.
func ingestedAt(t *testing.T, m map[string]any) time.Time {
	t.Helper()
	tw, _ := m["tweet"].(map[string]any)
	s, _ := tw["ingested_at"].(string)
	at, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("ingested_at of %v: %v", m, err)
	}
	return at
}

func TestRoleWithoutNATSIsAUsageError(t *testing.T) {
	for _, role := range []string{"web", "ingest"} {
		err := run(context.Background(), []string{"tweetstreamer", "-addr", "127.0.0.1:0", "-role", role}, nil, io.Discard, io.Discard)
		if !errors.As(err, new(usageError)) || !strings.Contains(err.Error(), "needs -nats") {
			t.Errorf("-role %s without -nats: run returned %v (%T), not a usage error that says it needs -nats", role, err, err)
		}
	}
}
