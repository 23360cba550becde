package main

import (
	"encoding/json"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	natsserver "github.com/nats-io/nats-server/v2/server"
)

func TestClusterMemberCountsAcrossNodes(t *testing.T) {
	cl := startCluster(t, "-mock-rate", "20", "-trends", "golang")
	a, b := cl.web1.dial(t), cl.web2.dial(t)
	a.send(`{"type":"join","room":"golang"}`)
	a.nextOfType("joined")
	b.send(`{"type":"join","room":"golang"}`)
	b.nextOfType("joined")
	deadline := time.Now().Add(5 * time.Second)
	for _, c := range []*wsClient{a, b} {
		for {
			m := c.nextOfType("stats")
			if m["members"] == 2.0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("stats %v 5 s after both joined, want members 2", m)
			}
		}
	}
}

func TestClusterTooManyTrendsAsInOneProcess(t *testing.T) {
	msg := func(t *testing.T, s *server) map[string]any {
		c := s.dial(t)
		c.send(`{"type":"join","room":"zig"}`)
		c.nextOfType("joined")
		c.send(`{"type":"join","room":"odin"}`)
		return c.nextWhere(func(m map[string]any) bool { return m["type"] == "error" || m["type"] == "joined" })
	}
	single := msg(t, start(t, nil, "-trends", "golang", "-max-trends", "2"))
	cl := startCluster(t, "-trends", "golang", "-max-trends", "2")
	web := msg(t, cl.web1)
	t.Logf("single %v\nweb    %v", single, web)
	if single["code"] != web["code"] || single["message"] != web["message"] {
		t.Errorf("single process %v, web node %v", single, web)
	}
}

// NATS is down when a web node starts: 503, then 200 once NATS and the
// ingest node are there, and joins work.
func TestClusterWebNodeStartsBeforeNATS(t *testing.T) {
	port := freePort(t)
	url := "nats://127.0.0.1:" + strconv.Itoa(port)
	web := start(t, nil, "-role", "web", "-nats", url)
	if code := readyz(t, web); code != 503 {
		t.Errorf("/readyz with no NATS: %d", code)
	}
	c := web.dial(t)
	begin := time.Now()
	c.send(`{"type":"join","room":"golang"}`)
	m := c.nextWhere(func(m map[string]any) bool { return m["type"] == "error" || m["type"] == "joined" })
	t.Logf("join with no NATS: %v after %s", m, time.Since(begin).Round(time.Millisecond))
	startNATS(t, port)
	ingest := start(t, nil, "-role", "ingest", "-nats", url, "-trends", "golang", "-mock-rate", "20")
	ingest.waitReady(t)
	web.waitReady(t)
	c.send(`{"type":"join","room":"golang"}`)
	m = c.nextWhere(func(m map[string]any) bool { return m["type"] == "error" || m["type"] == "joined" })
	if m["type"] != "joined" {
		t.Fatalf("join once everything is up: %v", m)
	}
	c.tweets("golang", 3)
}

type streamCheck struct {
	epoch string
	last  uint64
	errs  []string
}

// roamer hops between web nodes with a recovery join each time, pausing
// and resuming on the way, and checks that its stream is contiguous.
func roamer(t *testing.T, urls []string, hops int, id int) []string {
	var errs []string
	epoch, last := "", uint64(0)
	for hop := 0; hop < hops; hop++ {
		u := urls[(hop+id)%len(urls)]
		conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(u, "http")+"/ws", nil)
		if err != nil {
			return append(errs, err.Error())
		}
		join := `{"type":"join","room":"golang"}`
		if epoch != "" {
			join = fmt.Sprintf(`{"type":"join","room":"golang","epoch":%q,"since":%d}`, epoch, last)
		}
		conn.WriteMessage(websocket.TextMessage, []byte(join))
		got, paused := 0, false
		deadline := time.Now().Add(10 * time.Second)
		for got < 30 && time.Now().Before(deadline) {
			conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, data, err := conn.ReadMessage()
			if err != nil {
				errs = append(errs, fmt.Sprintf("hop %d: %v", hop, err))
				break
			}
			for _, line := range strings.Split(string(data), "\n") {
				m := map[string]any{}
				if jsonUnmarshal(line, &m) != nil || m["room"] != "golang" {
					continue
				}
				switch m["type"] {
				case "error":
					errs = append(errs, fmt.Sprintf("hop %d: %v", hop, m))
				case "joined":
					if epoch != "" && m["recovered"] != true {
						errs = append(errs, fmt.Sprintf("hop %d to %s: %v after since %d", hop, u, m, last))
						epoch, last = m["epoch"].(string), 0
					} else if epoch == "" {
						epoch = m["epoch"].(string)
					}
				case "tweet":
					seq := uint64(m["seq"].(float64))
					if last != 0 && seq != last+1 {
						errs = append(errs, fmt.Sprintf("hop %d: tweet %d after %d", hop, seq, last))
					}
					last = seq
					got++
					if got == 10 && !paused {
						// A pause and a replay resume between two
						// tweets: what came meanwhile follows, in order.
						paused = true
						conn.WriteMessage(websocket.TextMessage, []byte(`{"type":"pause","room":"golang"}`))
						conn.WriteMessage(websocket.TextMessage, []byte(`{"type":"resume","room":"golang"}`))
					}
				case "skipped":
					from, to := uint64(m["from_seq"].(float64)), uint64(m["to_seq"].(float64))
					errs = append(errs, fmt.Sprintf("hop %d: skipped %d-%d", hop, from, to))
					last = to
				}
			}
		}
		conn.Close()
	}
	return errs
}

func TestClusterRoamingClientsSeeOneContiguousStream(t *testing.T) {
	ns := startNATS(t, 0)
	url := ns.ClientURL()
	// History enough for a client's way from one node to the other, at
	// a rate a loaded machine holds under the race detector.
	ingest := start(t, nil, "-role", "ingest", "-nats", url, "-mock-rate", "400", "-trends", "golang,rust", "-history", "1000")
	web1 := start(t, nil, "-role", "web", "-nats", url)
	web2 := start(t, nil, "-role", "web", "-nats", url)
	for _, s := range []*server{ingest, web1, web2} {
		s.waitReady(t)
	}
	urls := []string{web1.url, web2.url}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var all []string
	for i := range 12 {
		wg.Go(func() {
			errs := roamer(t, urls, 6, i)
			mu.Lock()
			for _, e := range errs {
				all = append(all, fmt.Sprintf("client %d: %s", i, e))
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(all) > 0 {
		t.Errorf("%d problems:\n%s", len(all), strings.Join(all[:min(len(all), 30)], "\n"))
	}
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

// roomSubs returns how many ts.room.* subscriptions each web node's NATS
// connection holds.
func roomSubs(t *testing.T, ns *natsserver.Server) map[string]int {
	cz, err := ns.Connz(&natsserver.ConnzOptions{Subscriptions: true})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, c := range cz.Conns {
		if !strings.Contains(c.Name, " web-") {
			continue
		}
		out[c.Name] += 0
		for _, s := range c.Subs {
			if strings.HasPrefix(s, "ts.room.") {
				out[c.Name]++
			}
		}
	}
	return out
}

func TestClusterAWebNodeUnsubscribesWhenItsLastMemberLeaves(t *testing.T) {
	cl := startCluster(t, "-mock-rate", "50", "-trends", "golang")
	a, b := cl.web1.dial(t), cl.web2.dial(t)
	a.send(`{"type":"join","room":"golang"}`)
	a.nextOfType("joined")
	b.send(`{"type":"join","room":"golang"}`)
	b.nextOfType("joined")
	t.Logf("both in golang: %v", roomSubs(t, cl.nats))
	b.send(`{"type":"leave","room":"golang"}`)
	b.nextOfType("left")
	// The other node's member must not keep web2 subscribed.
	deadline := time.Now().Add(10 * time.Second)
	for {
		subs := roomSubs(t, cl.nats)
		n := 0
		for _, k := range subs {
			n += k
		}
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d room subscriptions 10 s after web2's only member left, want 1 (web1's): %v", n, subs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// No internal error text reaches a client: with the ingest node away, the
// page and /column say the room is unavailable, in plain words.
func TestClusterPagesOfAWebNodeShowNoInternalErrors(t *testing.T) {
	ns := startNATS(t, 0)
	web := start(t, nil, "-role", "web", "-nats", ns.ClientURL())
	for _, path := range []string{"/?open=zig", "/column?room=zig"} {
		resp, body := web.get(t, path)
		if strings.Contains(body, "nats") || strings.Contains(body, "rpc") {
			i := strings.Index(body, "nats")
			t.Errorf("GET %s: %d, body holds %q", path, resp.StatusCode, body[max(0, i-80):min(len(body), i+80)])
		}
	}
}

// A fresh join's backlog is the whole history, as in a single process with
// the same -history: no `skipped` in it.
func TestClusterAFreshJoinGetsTheWholeBacklog(t *testing.T) {
	check := func(t *testing.T, s *server) {
		c := s.dial(t)
		c.send(`{"type":"join","room":"golang"}`)
		j := c.nextOfType("joined")
		m := c.nextWhere(func(m map[string]any) bool {
			return m["room"] == "golang" && (m["type"] == "tweet" || m["type"] == "skipped")
		})
		if m["type"] == "skipped" {
			t.Errorf("joined at seq %v, then %v: the backlog did not fit the connection's queue", j["seq"], m)
		}
	}
	t.Run("single process", func(t *testing.T) {
		s := start(t, nil, "-mock-rate", "1000", "-trends", "golang", "-history", "1000")
		waitMatched(t, s, 1100)
		check(t, s)
	})
	t.Run("web node", func(t *testing.T) {
		cl := startCluster(t, "-mock-rate", "1000", "-trends", "golang", "-history", "1000")
		waitMatched(t, cl.ingest, 1100)
		check(t, cl.web1)
	})
}

// A web node that has never heard from an ingest node has no trend list and
// cannot serve a join; /readyz must not say it is ready.
func TestClusterWebNodeIsNotReadyBeforeItsFirstHeartbeat(t *testing.T) {
	ns := startNATS(t, 0)
	web := start(t, nil, "-role", "web", "-nats", ns.ClientURL())
	web.webNodeName(t) // connected to NATS, with no ingest node anywhere
	resp, body := web.get(t, "/readyz")
	if resp.StatusCode != 503 {
		t.Errorf("/readyz of a web node with no ingest node: %d %q, want 503", resp.StatusCode, body)
	}
}

// The ingest node restarts: a connected member gets, before the first tweet
// of the new epoch, a fresh joined with recovered:false; for a custom trend
// too, which the web node asks the new ingest node for again.
func TestClusterIngestRestartStartsMembersOver(t *testing.T) {
	for _, room := range []string{"golang", "zig"} {
		t.Run(room, func(t *testing.T) {
			cl := startCluster(t, "-mock-rate", "50", "-trends", "golang")
			c := cl.web1.dial(t)
			c.send(`{"type":"join","room":"` + room + `"}`)
			j := c.nextOfType("joined")
			old := j["epoch"]
			c.tweets(room, 3)
			if err := cl.ingest.stop(t); err != nil {
				t.Fatal(err)
			}
			cl.ingest = start(t, nil, append([]string{"-role", "ingest", "-nats", cl.nats.ClientURL()}, cl.ingestArgs...)...)
			deadline := time.Now().Add(15 * time.Second)
			for {
				m := c.nextWhere(func(m map[string]any) bool {
					return m["room"] == room && (m["type"] == "tweet" || m["type"] == "joined" || m["type"] == "skipped" || m["type"] == "error")
				})
				if m["type"] == "joined" {
					if m["epoch"] == old || m["recovered"] != false {
						t.Fatalf("joined after the restart: %v", m)
					}
					return
				}
				if m["type"] != "tweet" {
					t.Fatalf("before the new epoch's joined: %v", m)
				}
				if time.Now().After(deadline) {
					t.Fatalf("no new epoch 15 s after the ingest node restarted")
				}
			}
		})
	}
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func readyz(t *testing.T, s *server) int {
	resp, _ := s.get(t, "/readyz")
	return resp.StatusCode
}

// After a web node stops, nothing it started runs on.
func TestClusterAWebNodeLeavesNoGoroutineBehind(t *testing.T) {
	cl := startCluster(t, "-mock-rate", "200", "-trends", "golang")
	c := cl.web1.dial(t)
	c.send(`{"type":"join","room":"golang"}`)
	c.nextOfType("joined")
	c.tweets("golang", 5)
	c.conn.Close()
	if err := cl.web1.stop(t); err != nil {
		t.Fatal(err)
	}
	if err := cl.ingest.stop(t); err != nil {
		t.Fatal(err)
	}
	if err := cl.web2.stop(t); err != nil {
		t.Fatal(err)
	}
	// Goroutines that were told to stop may take a moment to return.
	deadline := time.Now().Add(5 * time.Second)
	for {
		left := goroutinesRunning(func(g string) bool {
			return strings.Contains(g, "nats-io/nats.go") || strings.Contains(g, "natsbroker") || strings.Contains(g, "tweetstreamer/rooms")
		})
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines left 5 s after every node stopped:\n%s", len(left), strings.Join(left, "\n\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitMatched waits until the node's ingester has matched n tweets.
func waitMatched(t *testing.T, s *server, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, body := s.get(t, "/healthz")
		var h struct {
			Source struct {
				Matched int `json:"matched"`
			} `json:"source"`
		}
		if err := json.Unmarshal([]byte(body), &h); err != nil {
			t.Fatalf("/healthz: %v: %s", err, body)
		}
		if h.Source.Matched >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the ingester matched %d tweets in 10 s, want %d", h.Source.Matched, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Two ingest nodes would number the same rooms each its own way: each
// says so in /readyz, so that a deploy that starts the new one before the
// old one has stopped is seen, not followed.
func TestClusterASecondIngestNodeIsNotReady(t *testing.T) {
	cl := startCluster(t, "-mock-rate", "50", "-trends", "golang")
	second := start(t, nil, append([]string{"-role", "ingest", "-nats", cl.nats.ClientURL()}, cl.ingestArgs...)...)
	for _, s := range []*server{cl.ingest, second} {
		deadline := time.Now().Add(5 * time.Second)
		for {
			resp, body := s.get(t, "/readyz")
			if resp.StatusCode == 503 && strings.Contains(body, "another ingest node") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s/readyz with two ingest nodes: %d %q, want 503 naming the other", s.url, resp.StatusCode, body)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	if err := second.stop(t); err != nil {
		t.Fatal(err)
	}
	cl.ingest.waitReady(t)
}

// -role all with -nats runs both halves in one process, over NATS still:
// its page and socket serve what its own ingest half publishes.
func TestClusterRoleAllWithNATSServesBothHalves(t *testing.T) {
	ns := startNATS(t, 0)
	s := start(t, nil, "-nats", ns.ClientURL(), "-role", "all", "-mock-rate", "100", "-trends", "golang,rust")
	s.waitReady(t)
	c := s.dial(t)
	c.send(`{"type":"join","room":"golang"}`)
	if j := c.nextOfType("joined"); j["epoch"] == "" {
		t.Fatalf("joined %v, want an epoch", j)
	}
	c.tweets("golang", 5)
	if _, body := s.get(t, "/healthz"); !strings.Contains(body, `"role":"all"`) || !strings.Contains(body, `"state":"streaming"`) {
		t.Errorf("/healthz of an all node: %s, want its role and its source", body)
	}
	// Its web half subscribes to the room over NATS, as a web node would.
	connz, err := ns.Connz(&natsserver.ConnzOptions{Subscriptions: true})
	if err != nil {
		t.Fatal(err)
	}
	subscribed := false
	for _, conn := range connz.Conns {
		subscribed = subscribed || slices.Contains(conn.Subs, roomSubject("golang"))
	}
	if !subscribed {
		t.Error("no connection subscribes to golang's subject: the page is not served over NATS")
	}
}
