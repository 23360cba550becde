package main

import (
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
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
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, body := s.get(t, "/readyz")
		if resp.StatusCode == 200 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s/readyz still %d %q\nlogs:\n%s", s.url, resp.StatusCode, body, s.logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// tweets reads n tweets of room from c and returns their seqs, failing on a
// skipped or a gap.
func (c *wsClient) tweets(room string, n int) []uint64 {
	c.t.Helper()
	var seqs []uint64
	for len(seqs) < n {
		m := c.nextWhere(func(m map[string]any) bool {
			return m["room"] == room && (m["type"] == "tweet" || m["type"] == "skipped")
		})
		if m["type"] == "skipped" {
			c.t.Fatalf("skipped %v", m)
		}
		seq := uint64(m["seq"].(float64))
		if len(seqs) > 0 && seq != seqs[len(seqs)-1]+1 {
			c.t.Fatalf("seq %d after %d", seq, seqs[len(seqs)-1])
		}
		seqs = append(seqs, seq)
	}
	return seqs
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
	sa, sb := a.tweets("golang", 30), b.tweets("golang", 30)
	// Both saw a contiguous run; where they overlap, the seqs agree.
	if sa[len(sa)-1] < sb[0] || sb[len(sb)-1] < sa[0] {
		t.Fatalf("no overlap: %v vs %v", sa, sb)
	}
}
