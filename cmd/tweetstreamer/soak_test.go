package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	soakFull = flag.Bool("soak", false, "TestSoak: the full soak, 60 s of 2,000 clients and 2,000 tweets/s on one process and on a cluster, instead of its short shape")
	soakSeed = flag.Uint64("soak-seed", 0, "TestSoak: the seed of the clients' choices and of the mock, to replay a run; 0 picks one")
)

// soakShape is how big a soak is.
type soakShape struct {
	load    time.Duration // how long the clients act
	clients int           // clients in all, the slow ones included
	slow    int
	rate    int // tweets a second from the mock
	// trends is how many trends the mock writes about, round-robin: the
	// rate over the trends is each room's, 20 tweets a second in both
	// shapes, so a slow client in three rooms is sent several times what
	// it reads.
	trends int
	// hostile is how many goroutines open hostile connections, one after
	// another, each hostilePace apart.
	hostile     int
	hostilePace time.Duration
}

var (
	fullSoak  = soakShape{load: 60 * time.Second, clients: 2000, slow: 100, rate: 2000, trends: 100, hostile: 2, hostilePace: 100 * time.Millisecond}
	shortSoak = soakShape{load: 5 * time.Second, clients: 200, slow: 10, rate: 200, trends: 10, hostile: 1, hostilePace: 100 * time.Millisecond}
)

// Bounds of the soak's checks.
const (
	// soakGoroutineSlack is how many goroutines more than at the start
	// may be left once everything stopped: the runtime's and net/http's
	// own that come and go (a timer, a finaliser), never one per client.
	soakGoroutineSlack = 5
	// soakHeapSlack is how far the heap, after a GC, may stay above its
	// start once everything stopped. What the run makes is far more: 2,000
	// connections with their queues, 120,000 tweets of about 2 KiB, every
	// room's history. So one connection's state kept for each that came
	// and went, or tweets kept beyond the history, passes it; what stays
	// under it is the runtime's caches, pools and the servers' logs, which
	// the test keeps until it ends.
	soakHeapSlack = 64 << 20
	// soakHealthzPeriod is how often /healthz is asked during the run.
	soakHealthzPeriod = 250 * time.Millisecond
)

// TestSoak runs many clients that come and go, join, leave, pause,
// resume and recover, some slow and some hostile, against the real server
// for a while, then checks that every room's stream they saw had no
// silent gap, that /healthz answered throughout and that the server gave
// back its goroutines and its memory. Without -soak it runs a short
// shape, so that it always runs; with it, the full one.
func TestSoak(t *testing.T) {
	shape := shortSoak
	if *soakFull {
		shape = fullSoak
	}
	seed := *soakSeed
	if seed == 0 {
		seed = rand.Uint64() >> 1
	}
	t.Logf("seed %d (replay with -args -soak-seed %d)", seed, seed)
	t.Run("one process", func(t *testing.T) { soak(t, shape, seed, false) })
	t.Run("cluster", func(t *testing.T) { soak(t, shape, seed, true) })
}

// soakTrends are the n trends the mock writes about: words of the same
// length, so that none holds another.
func soakTrends(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("soak%c%c", 'a'+i/26, 'a'+i%26)
	}
	return out
}

// soakNodes are the processes of one soak: the nodes clients connect to,
// every node /healthz is asked of, and, in a cluster, a way to restart
// NATS.
type soakNodes struct {
	web, all    []*server
	restartNATS func()
	stop        func()
}

func startSoakNodes(t *testing.T, shape soakShape, seed uint64, cluster bool) soakNodes {
	t.Helper()
	source := []string{"-source", "mock", "-mock-rate", strconv.Itoa(shape.rate), "-mock-seed", strconv.FormatUint(seed, 10),
		"-trends", strings.Join(soakTrends(shape.trends), ",")}
	if !cluster {
		s := start(t, nil, source...)
		return soakNodes{web: []*server{s}, all: []*server{s}, stop: func() {
			if err := s.stop(t); err != nil {
				t.Errorf("the server stopped with %v", err)
			}
		}}
	}
	cl := startCluster(t, source...)
	nodes := soakNodes{web: []*server{cl.web1, cl.web2}, all: []*server{cl.ingest, cl.web1, cl.web2}}
	nodes.restartNATS = func() {
		port := cl.nats.Addr().(*net.TCPAddr).Port
		away := time.Now()
		cl.nats.Shutdown()
		// The outage lasts until the ingest node has matched a second's
		// worth of tweets without NATS: some of it the web nodes fetch
		// back, the rest their members must be told of.
		matched := cl.ingest.matched(t)
		deadline := time.Now().Add(10 * time.Second)
		for cl.ingest.matched(t) < matched+uint64(shape.rate) {
			if time.Now().After(deadline) {
				t.Fatalf("the ingest node matched %d tweets in 10 s without NATS", cl.ingest.matched(t)-matched)
			}
			time.Sleep(20 * time.Millisecond)
		}
		cl.nats = startNATS(t, port)
		// Each node reconnects by itself. Under load, on a shared
		// machine, the NATS server in this process may take longer than
		// a connect's 2 s to answer: the wait is long, and how long it
		// took is reported.
		back := time.Now()
		for _, s := range nodes.all {
			s.waitReadyWithin(t, 2*soakAnswerWait)
		}
		t.Logf("NATS was away %s; every node was ready again %s after it came back", back.Sub(away).Round(time.Millisecond), time.Since(back).Round(time.Millisecond))
	}
	nodes.stop = func() {
		for _, s := range []*server{cl.web1, cl.web2, cl.ingest} {
			if err := s.stop(t); err != nil {
				t.Errorf("%s stopped with %v", s.url, err)
			}
		}
		cl.nats.Shutdown()
		cl.nats.WaitForShutdown()
	}
	return nodes
}

// healthzTally is what the poller of one node saw.
type healthzTally struct {
	polls    int
	failures []string
	slowest  time.Duration
}

// pollHealthz asks url's /healthz every soakHealthzPeriod until ctx is
// done.
func pollHealthz(ctx context.Context, client *http.Client, url string, tally *healthzTally) {
	ticker := time.NewTicker(soakHealthzPeriod)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		began := time.Now()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"/healthz", nil)
		resp, err := client.Do(req)
		took := time.Since(began)
		if ctx.Err() != nil {
			return
		}
		tally.polls++
		tally.slowest = max(tally.slowest, took)
		if err != nil {
			tally.failures = append(tally.failures, fmt.Sprintf("%s: %v", began.Format("15:04:05.000"), err))
			continue
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			tally.failures = append(tally.failures, fmt.Sprintf("%s: %d", began.Format("15:04:05.000"), resp.StatusCode))
		}
	}
}

// cpuTime is the CPU time this process (the servers and the clients
// together) has used so far.
func cpuTime(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func heapAfterGC() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

func soak(t *testing.T, shape soakShape, seed uint64, cluster bool) {
	goroutinesBefore, heapBefore := runtime.NumGoroutine(), heapAfterGC()
	cpuBefore := cpuTime(t)
	nodes := startSoakNodes(t, shape, seed, cluster)
	trends := soakTrends(shape.trends)
	var urls []string
	for _, s := range nodes.web {
		urls = append(urls, soakWSURL(s.url))
	}

	// Everything the load starts is owned here: ctx stops it, wg waits
	// for it, even when the test fails half-way.
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()

	// The timeout ends a hang; how long /healthz took is reported.
	httpClient := &http.Client{Timeout: soakAnswerWait, Transport: &http.Transport{}}
	health := make([]healthzTally, len(nodes.all))
	for i, s := range nodes.all {
		wg.Go(func() { pollHealthz(ctx, httpClient, s.url, &health[i]) })
	}

	// The clients start over the first second, so that the dials come
	// in a stream rather than all at once.
	clients := make([]*soakClient, shape.clients)
	for i := range clients {
		clients[i] = newSoakClient(i, i < shape.slow, seed, urls, trends)
		delay := time.Duration(i) * time.Second / time.Duration(shape.clients)
		wg.Go(func() { clients[i].run(ctx, delay) })
	}
	hostiles := make([]hostileTally, shape.hostile)
	for i := range hostiles {
		hostiles[i].conns, hostiles[i].answered = map[string]uint64{}, map[string]uint64{}
		rng := rand.New(rand.NewPCG(seed, uint64(shape.clients+i)))
		wg.Go(func() { runHostile(ctx, urls, trends, rng, shape.hostilePace, &hostiles[i]) })
	}

	began := time.Now()
	end := began.Add(shape.load)
	if nodes.restartNATS != nil {
		// A third of the way through, NATS goes away and comes back; the
		// load goes on for at least a third of the run after, however
		// long the restart took, so that the streams are checked across it.
		time.Sleep(shape.load / 3)
		nodes.restartNATS()
		t.Logf("NATS restarted %s into the run", time.Since(began).Round(time.Millisecond))
		end = latest(end, time.Now().Add(shape.load/3))
	}
	time.Sleep(time.Until(end))
	cancel()
	load := time.Since(began)
	wg.Wait()
	drain := time.Since(began) - load
	wall := load + drain
	nodes.stop()
	cpu := cpuTime(t) - cpuBefore

	var total soakTally
	var slowSkipped uint64
	for _, c := range clients {
		total.add(&c.tally)
		if c.slow {
			slowSkipped += c.tally.skippedMsgs
		}
	}
	var hostileAll hostileTally
	hostileAll.conns, hostileAll.answered = map[string]uint64{}, map[string]uint64{}
	for _, h := range hostiles {
		hostileAll.frames += h.frames
		hostileAll.answers += h.answers
		hostileAll.late += h.late
		hostileAll.problems = append(hostileAll.problems, h.problems...)
		for k, v := range h.conns {
			hostileAll.conns[k] += v
		}
		for k, v := range h.answered {
			hostileAll.answered[k] += v
		}
	}
	clients = nil

	httpClient.CloseIdleConnections()
	http.DefaultClient.CloseIdleConnections()
	goroutinesAfter := waitGoroutines(t, goroutinesBefore, soakGoroutineSlack)
	heapAfter := heapAfterGC()

	t.Logf("%d clients (%d slow) for %s at %d tweets/s over %d trends, %d nodes serving; the clients took %s to close", shape.clients, shape.slow, load.Round(time.Millisecond), shape.rate, shape.trends, len(nodes.web), drain.Round(time.Millisecond))
	t.Logf("deliveries %d, skipped %d messages covering %d seqs (%d to slow clients)", total.deliveries, total.skippedMsgs, total.skippedSeqs, slowSkipped)
	t.Logf("joins %d, leaves %d, pauses %d, resumes %d; reconnects %d (recovered %d, not recovered %d), redials after the server closed %d, new epochs %d, unavailable %d",
		total.joins, total.leaves, total.pauses, total.resumes, total.reconnects, total.recovered, total.unrecovered, total.redials, total.newEpochs, total.unavailable)
	t.Logf("joins refused unavailable, by %s of the run: %v", soakTimeline, total.unavailableBy)
	t.Logf("connections dropped with no close frame: %d; client closes answered by closing the socket: %d, not answered within %s: %d; dial failures %d", total.dropped, total.closesUnanswered, soakAnswerWait, total.closesTimedOut, total.dialFailures)
	t.Logf("hostile: %d frames on %d connections, %d answers as the protocol says, %d connections with no answer within %s; connections by kind %v", hostileAll.frames, sumCounts(hostileAll.conns), hostileAll.answers, hostileAll.late, soakAnswerWait, hostileAll.conns)
	t.Logf("goroutines %d before, %d after; heap %.1f MiB before, %.1f MiB after", goroutinesBefore, goroutinesAfter, mib(heapBefore), mib(heapAfter))
	for i, s := range nodes.all {
		t.Logf("/healthz of %s: %d polls, %d failures, slowest %s", s.url, health[i].polls, len(health[i].failures), health[i].slowest.Round(time.Millisecond))
	}
	t.Logf("CPU %.1f s in %.1f s (%.0f%% of one core), servers and clients together", cpu.Seconds(), wall.Seconds(), 100*cpu.Seconds()/wall.Seconds())

	if n := total.problems.count(); n > 0 {
		t.Errorf("%d problems in what the clients saw, by kind:\n%s", n, total.problems)
	}
	if len(total.serverCloses) > 0 {
		t.Errorf("the server closed connections of clients that read, by code: %v", total.serverCloses)
	}
	if total.deliveries == 0 || total.reconnects == 0 || total.recovered == 0 || total.pauses == 0 {
		t.Errorf("the load did not do what it is for: %d deliveries, %d reconnects, %d recovered, %d pauses", total.deliveries, total.reconnects, total.recovered, total.pauses)
	}
	if slowSkipped == 0 {
		t.Errorf("no slow client was sent skipped")
	}
	if n := len(hostileAll.problems); n > 0 {
		t.Errorf("%d hostile connections were not answered as the protocol says:\n%s", n, strings.Join(hostileAll.problems[:min(n, 20)], "\n"))
	}
	for _, k := range hostileKinds {
		if hostileAll.answered[k.name] == 0 {
			t.Errorf("no hostile connection of kind %q was answered (%d opened)", k.name, hostileAll.conns[k.name])
		}
	}
	for i, s := range nodes.all {
		if h := health[i]; len(h.failures) > 0 || h.polls == 0 {
			t.Errorf("/healthz of %s: %d polls, %d failures: %v", s.url, h.polls, len(h.failures), h.failures[:min(len(h.failures), 10)])
		}
	}
	if heapAfter > heapBefore+soakHeapSlack {
		t.Errorf("heap %.1f MiB after the run, %.1f MiB before: more than %d MiB kept", mib(heapAfter), mib(heapBefore), soakHeapSlack>>20)
	}
}

// waitGoroutines waits up to 10 s for the goroutines to come back to
// baseline, then fails if more than slack are left over, listing them, and
// returns how many run.
func waitGoroutines(t *testing.T, baseline, slack int) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > baseline && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	n := runtime.NumGoroutine()
	if n > baseline+slack {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		t.Errorf("%d goroutines 10 s after the run, %d before: more than %d left over:\n%s", n, baseline, slack, buf)
	}
	return n
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func sumCounts(m map[string]uint64) uint64 {
	var n uint64
	for _, v := range m {
		n += v
	}
	return n
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }
