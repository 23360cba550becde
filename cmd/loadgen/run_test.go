package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// fakeServer speaks enough of the live protocol for a run: the trend list
// on connect, joined for every join (or the error it is told to send), and
// then a fixed sequence of tweets for the room, with a gap and a skipped
// range in it.
type fakeServer struct {
	t      *testing.T
	trends []string
	// refuse, when set, is the error code every join gets.
	refuse string
	// origin is the Origin a client must send; empty accepts any.
	origin string
	// fullOnly makes it a server that does not know ?tweet= and sends
	// every tweet in the full form.
	fullOnly bool
	// compress accepts permessage-deflate when a client offers it.
	compress bool
	// customFirst are custom trends, announced before the others.
	customFirst []string

	mu    sync.Mutex
	joins []string // rooms joined, in order
	// closes receives the close code each connection sent, 0 for none:
	// a handler sends it after gorilla answered the close, so possibly
	// after the client, and the run, are done.
	closes chan int
}

// The sequence each member of a room receives after the pause: seqs 1 to
// 10, where 4 is lost without a word and 6 to 8 are reported skipped.
const (
	fakeLive    = 6 // tweets: 1, 2, 3, 5, 9, 10
	fakeLost    = 1
	fakeSkipped = 3
	// fakePause is how long the server waits after joined before the
	// sequence, so that it lands within the load generator's window.
	fakePause = 300 * time.Millisecond
)

func (s *fakeServer) sequence(room string, form tweetForm) [][]byte {
	at := time.Now().Add(-time.Millisecond)
	tw := func(seq uint64) string { return tweetLineAs(form, room, seq, at) }
	return [][]byte{
		[]byte(strings.Join([]string{tw(1), tw(2), tw(3)}, "\n")),
		[]byte(tw(5) + "\n" + fmt.Sprintf(`{"type":"skipped","room":%q,"from_seq":6,"to_seq":8,"count":3}`, room)),
		[]byte(tw(9) + "\n" + tw(10)),
	}
}

func (s *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	up := websocket.Upgrader{
		CheckOrigin: func(r *http.Request) bool {
			return s.origin == "" || r.Header.Get("Origin") == s.origin
		},
		EnableCompression: s.compress,
	}
	conn, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	var list []string
	for _, t := range s.customFirst {
		list = append(list, fmt.Sprintf(`{"room":%q,"members":1,"per_minute":0,"custom":true}`, t))
	}
	for _, t := range s.trends {
		list = append(list, fmt.Sprintf(`{"room":%q,"members":0,"per_minute":0,"custom":false}`, t))
	}
	_ = conn.WriteMessage(websocket.TextMessage, []byte(`{"type":"trends","trends":[`+strings.Join(list, ",")+`]}`))

	_, data, err := conn.ReadMessage()
	if err != nil {
		s.closed(err) // the trend list's probe
		return
	}
	var join struct{ Type, Room string }
	if err := json.Unmarshal(data, &join); err != nil || join.Type != "join" {
		s.t.Errorf("fake server: first message %q, want a join", data)
		return
	}
	s.mu.Lock()
	s.joins = append(s.joins, join.Room)
	s.mu.Unlock()
	if s.refuse != "" {
		_ = conn.WriteMessage(websocket.TextMessage, fmt.Appendf(nil, `{"type":"error","code":%q,"message":"no","room":%q}`, s.refuse, join.Room))
	} else {
		_ = conn.WriteMessage(websocket.TextMessage, fmt.Appendf(nil, `{"type":"joined","room":%q,"epoch":"e1","seq":0,"members":1}`, join.Room))
		time.Sleep(fakePause)
		form := formFull
		if i := slices.Index(tweetForms[:], r.URL.Query().Get("tweet")); i > 0 && !s.fullOnly {
			form = tweetForm(i)
		}
		for _, frame := range s.sequence(join.Room, form) {
			_ = conn.WriteMessage(websocket.TextMessage, frame)
		}
	}
	for {
		if _, _, err := conn.ReadMessage(); err != nil {
			s.closed(err)
			return
		}
	}
}

func (s *fakeServer) closed(err error) {
	code := 0
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		code = ce.Code
	}
	s.closes <- code
}

// closeCodes waits for n connections to have closed, 5 s at most, and
// returns the codes they sent.
func (s *fakeServer) closeCodes(t *testing.T, n int) []int {
	t.Helper()
	timeout := time.NewTimer(5 * time.Second)
	defer timeout.Stop()
	var codes []int
	for len(codes) < n {
		select {
		case code := <-s.closes:
			codes = append(codes, code)
		case <-timeout.C:
			t.Errorf("%d connections closed within 5 s, want %d", len(codes), n)
			return codes
		}
	}
	return codes
}

// start serves s on 127.0.0.1 and returns its WebSocket URL.
func (s *fakeServer) start(t *testing.T) string {
	s.closes = make(chan int, 1000) // more than any test's connections
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws"
}

// runLoad runs the load generator with args and returns its error, its
// report from the JSON line, and what it printed.
func runLoad(t *testing.T, args ...string) (r *report, stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := run(ctx, append([]string{"loadgen"}, args...), &out, &errOut); err != nil {
		return nil, out.String(), errOut.String(), err
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	r = new(report)
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), r); err != nil {
		t.Fatalf("the last line of stdout is not the JSON report: %v\n%s", err, out.String())
	}
	return r, out.String(), errOut.String(), nil
}

func TestRunCountsDeliveriesAndLossAgainstAServer(t *testing.T) {
	fake := &fakeServer{t: t, trends: []string{"golang", "rust"}, customFirst: []string{"#webdev"}, origin: "http://loadgen.test"}
	url := fake.start(t)
	r, stdout, stderr, err := runLoad(t, "-url", url, "-clients", "4", "-slow", "1",
		"-duration", "1s", "-warmup", "0s", "-connect-rate", "1000", "-origin", "http://loadgen.test")
	if err != nil {
		t.Fatalf("run: %v\nstderr:\n%s", err, stderr)
	}

	if r.Clients != (clientCounts{Asked: 4, Connected: 4, Joined: 4, Slow: 1}) {
		t.Errorf("clients = %+v, want 4 asked, connected and joined, 1 slow", r.Clients)
	}
	for _, g := range []struct {
		name    string
		got     groupReport
		clients int
	}{{"fast", r.Fast, 3}, {"slow", r.Slow, 1}} {
		want := uint64(g.clients)
		if g.got.Clients != g.clients || g.got.DeliveriesRun != fakeLive*want ||
			g.got.Lost != fakeLost*want || g.got.Skipped != fakeSkipped*want ||
			g.got.Duplicates != 0 || g.got.Backlog != 0 {
			t.Errorf("%s clients: %+v\nwant %d clients, %d deliveries, %d lost, %d skipped, no duplicate or backlog",
				g.name, g.got, g.clients, fakeLive*want, fakeLost*want, fakeSkipped*want)
		}
		if g.got.Latency.Samples > g.got.DeliveriesRun || g.got.Deliveries > g.got.DeliveriesRun {
			t.Errorf("%s clients: %d samples and %d deliveries in the window, out of %d in the run",
				g.name, g.got.Latency.Samples, g.got.Deliveries, g.got.DeliveriesRun)
		}
	}
	if !r.Complete || r.DurationS < 1 || r.DurationS > 2 {
		t.Errorf("window: complete %v, %.2fs; want a complete window of about 1s", r.Complete, r.DurationS)
	}
	if r.ErrorsTotal != 0 || r.ParseFallbacks != 0 {
		t.Errorf("errors %v, fallbacks %d; want none", r.Errors, r.ParseFallbacks)
	}

	// By default the rooms are every trend the server announces, the
	// configured ones first: client i joins room i mod 3, and client 3
	// golang again.
	fake.mu.Lock()
	joins := slices.Sorted(slices.Values(fake.joins))
	fake.mu.Unlock()
	if want := []string{"#webdev", "golang", "golang", "rust"}; !slices.Equal(joins, want) || r.Rooms != 3 {
		t.Errorf("the server saw joins for %q in %d rooms, want %q in 3", joins, r.Rooms, want)
	}
	codes := fake.closeCodes(t, 5)
	if len(codes) != 5 || slices.ContainsFunc(codes, func(c int) bool { return c != websocket.CloseNormalClosure }) {
		t.Errorf("close codes the server got: %v; want 1000 from the trend probe and each of the 4 clients", codes)
	}

	for _, want := range []string{"fast clients", "slow clients", "lost (seq gaps)", "loadgen CPU"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("the table lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, "measuring") {
		t.Errorf("no progress line on stderr:\n%s", stderr)
	}
}

func TestRunAsksForTheTweetForm(t *testing.T) {
	for _, tt := range []struct {
		name     string
		tweet    string
		fullOnly bool
		// forms is the report's tweet_forms; timed, whether latency was
		// measured; and note, a line the table must have.
		forms map[string]uint64
		timed bool
		note  string
	}{
		{"the seq form is timed", "seq", false, map[string]uint64{"seq": 2 * fakeLive}, true, "the seq form asked for, seq 12 received"},
		{"the data form is timed", "data", false, map[string]uint64{"data": 2 * fakeLive}, true, "data 12 received"},
		{"cards measure no latency", "card", false, map[string]uint64{"card": 2 * fakeLive}, false, "latency n/a: card messages carry no ingested_at"},
		{"a server that does not know the parameter sends full", "seq", true, map[string]uint64{"full": 2 * fakeLive}, true, "the server sent full tweets: it does not know ?tweet="},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeServer{t: t, trends: []string{"golang", "rust"}, fullOnly: tt.fullOnly}
			r, stdout, stderr, err := runLoad(t, "-url", fake.start(t)+"?keep=1", "-tweet", tt.tweet, "-clients", "2", "-rooms", "2",
				"-duration", "1s", "-warmup", "0s", "-connect-rate", "1000")
			if err != nil {
				t.Fatalf("run: %v\nstderr:\n%s", err, stderr)
			}
			if !maps.Equal(r.TweetForms, tt.forms) || r.Tweet != tt.tweet {
				t.Errorf("tweet %q, tweet_forms %v; want %q and %v", r.Tweet, r.TweetForms, tt.tweet, tt.forms)
			}
			if !strings.Contains(r.URL, "tweet="+tt.tweet) || !strings.Contains(r.URL, "keep=1") {
				t.Errorf("url %s, want tweet=%s beside keep=1", r.URL, tt.tweet)
			}
			if got := r.Fast.Latency.Samples > 0; got != tt.timed {
				t.Errorf("%d latency samples; want some: %v", r.Fast.Latency.Samples, tt.timed)
			}
			if r.ErrorsTotal != 0 || r.ParseFallbacks != 0 || r.Fast.DeliveriesRun != 2*fakeLive {
				t.Errorf("errors %v, %d fallbacks, %d deliveries; want none, none and %d", r.Errors, r.ParseFallbacks, r.Fast.DeliveriesRun, 2*fakeLive)
			}
			if !strings.Contains(stdout, tt.note) {
				t.Errorf("the table lacks %q:\n%s", tt.note, stdout)
			}
		})
	}
}

func TestRunCountsWireBytesAndCompression(t *testing.T) {
	fake := &fakeServer{t: t, trends: []string{"golang", "rust"}, compress: true}
	url := fake.start(t)
	load := func(extra ...string) *report {
		t.Helper()
		args := append([]string{"-url", url, "-tweet", "full", "-clients", "4", "-rooms", "2",
			"-duration", "1s", "-warmup", "0s", "-connect-rate", "1000"}, extra...)
		r, _, stderr, err := runLoad(t, args...)
		if err != nil {
			t.Fatalf("run: %v\nstderr:\n%s", err, stderr)
		}
		if r.Fast.DeliveriesRun != 4*fakeLive || r.Fast.Lost != 4*fakeLost || r.ErrorsTotal != 0 {
			t.Fatalf("%d deliveries, %d lost, errors %v; want %d, %d and none",
				r.Fast.DeliveriesRun, r.Fast.Lost, r.Errors, 4*fakeLive, 4*fakeLost)
		}
		return r
	}
	plain := load()
	deflated := load("-compress")

	if plain.Compress || plain.CompressedConns != 0 || !deflated.Compress || deflated.CompressedConns != 4 {
		t.Errorf("compressed connections: %d without -compress, %d of 4 with it", plain.CompressedConns, deflated.CompressedConns)
	}
	// Each client reads at least its tweets' payloads, as sent.
	payload := uint64(0)
	for _, frame := range fake.sequence("golang", formFull) {
		payload += uint64(len(frame))
	}
	if plain.WireBytes < 4*payload {
		t.Errorf("%d wire bytes uncompressed, less than the %d of the tweets alone", plain.WireBytes, 4*payload)
	}
	if deflated.WireBytes >= plain.WireBytes/2 {
		t.Errorf("%d wire bytes compressed against %d plain: the full tweets should deflate to less than half",
			deflated.WireBytes, plain.WireBytes)
	}
	for _, r := range []*report{plain, deflated} {
		window := r.Fast.Deliveries + r.Slow.Deliveries
		if r.WireBytesWindow > r.WireBytes || (window > 0) != (r.WireBytesPerDelivery > 0) ||
			math.Abs(r.WireBytesPerDelivery*float64(window)-float64(r.WireBytesWindow)) > 1 {
			t.Errorf("%d wire bytes in the window of %d in the run, %.1f per delivery for %d deliveries: they do not add up",
				r.WireBytesWindow, r.WireBytes, r.WireBytesPerDelivery, window)
		}
	}
}

func TestEndpointAddsTheTweetForm(t *testing.T) {
	for _, tt := range []struct{ url, tweet, want string }{
		{"ws://127.0.0.1:8080/ws", "seq", "ws://127.0.0.1:8080/ws?tweet=seq"},
		{"ws://127.0.0.1:8080/ws?debug=1", "card", "ws://127.0.0.1:8080/ws?debug=1&tweet=card"},
		{"ws://127.0.0.1:8080/ws?tweet=full", "full", "ws://127.0.0.1:8080/ws?tweet=full"},
	} {
		if got := (config{url: tt.url, tweet: tt.tweet}).endpoint(); got != tt.want {
			t.Errorf("endpoint of %s with -tweet %s = %s, want %s", tt.url, tt.tweet, got, tt.want)
		}
	}
}

func TestRunFailsWhenNoClientCanConnect(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "ws://" + ln.Addr().String() + "/ws"
	ln.Close() // nothing listens there now

	t.Run("reading the trend list", func(t *testing.T) {
		_, _, _, err := runLoad(t, "-url", url, "-clients", "2", "-duration", "1s", "-warmup", "0s")
		if !errors.As(err, new(setupError)) || !strings.Contains(err.Error(), "is the server running?") {
			t.Errorf("run = %v, want a setup error that asks whether the server runs", err)
		}
	})
	t.Run("with the rooms given", func(t *testing.T) {
		_, _, _, err := runLoad(t, "-url", url, "-room-names", "golang", "-clients", "2", "-duration", "1s", "-warmup", "0s")
		if !errors.As(err, new(setupError)) || !strings.Contains(err.Error(), "dial: connection refused ×2") {
			t.Errorf("run = %v, want a setup error counting 2 refused dials", err)
		}
		if code := exitCode(err, new(bytes.Buffer)); code != 1 {
			t.Errorf("exit code %d, want 1", code)
		}
	})
}

func TestRunFailsWhenEveryJoinIsRefused(t *testing.T) {
	fake := &fakeServer{t: t, trends: []string{"golang"}, refuse: "too_many_trends"}
	_, _, _, err := runLoad(t, "-url", fake.start(t), "-clients", "2", "-rooms", "1", "-duration", "1s", "-warmup", "0s")
	if !errors.As(err, new(setupError)) || !strings.Contains(err.Error(), "error: too_many_trends ×2") {
		t.Errorf("run = %v, want a setup error counting the 2 refusals", err)
	}
}

func TestRunFlags(t *testing.T) {
	t.Run("-h documents the flags and the report", func(t *testing.T) {
		var stdout bytes.Buffer
		if err := run(context.Background(), []string{"loadgen", "-h"}, &stdout, new(bytes.Buffer)); err != nil {
			t.Fatalf("run -h = %v, want nil", err)
		}
		for _, want := range []string{"-connect-rate", "-room-names", "-slow", "-tweet", "-warmup", "Reading the report", "loadgen CPU"} {
			if !strings.Contains(stdout.String(), want) {
				t.Errorf("-h lacks %q", want)
			}
		}
	})
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"an unknown flag", []string{"-nope"}},
		{"an address off this machine", []string{"-url", "ws://192.0.2.1:8080/ws"}},
		{"an http URL", []string{"-url", "http://127.0.0.1:8080/ws"}},
		{"more rooms per client than rooms", []string{"-rooms", "2", "-per-client", "3"}},
		{"a negative number of rooms", []string{"-rooms", "-1"}},
		{"more rooms than -room-names names", []string{"-room-names", "golang,rust", "-rooms", "3"}},
		{"more rooms per client than -room-names names", []string{"-room-names", "golang,rust", "-per-client", "3"}},
		{"more slow clients than clients", []string{"-clients", "2", "-slow", "3"}},
		{"a warm-up as long as the window", []string{"-duration", "2s", "-warmup", "2s"}},
		{"a connect rate of zero", []string{"-connect-rate", "0"}},
		{"a tweet form the protocol lacks", []string{"-tweet", "lean"}},
		{"a tweet form in -url that -tweet contradicts", []string{"-url", "ws://127.0.0.1:8080/ws?tweet=card"}},
	} {
		t.Run(tt.name+" is a usage error", func(t *testing.T) {
			err := run(context.Background(), append([]string{"loadgen"}, tt.args...), new(bytes.Buffer), new(bytes.Buffer))
			if code := exitCode(err, new(bytes.Buffer)); code != 2 {
				t.Errorf("run(%q) = %v, exit code %d; want a usage error and 2", tt.args, err, code)
			}
		})
	}
}

func TestRunTakesItsRoomsFromTheServer(t *testing.T) {
	fake := &fakeServer{t: t, trends: []string{"golang", "rust"}, customFirst: []string{"#webdev"}}
	url := fake.start(t)
	load := func(args ...string) (*report, string, error) {
		t.Helper()
		r, _, stderr, err := runLoad(t, append([]string{"-url", url, "-clients", "2", "-duration", "1s", "-warmup", "0s",
			"-connect-rate", "1000"}, args...)...)
		return r, stderr, err
	}
	joined := func() []string {
		fake.mu.Lock()
		defer fake.mu.Unlock()
		joins := slices.Sorted(slices.Values(fake.joins))
		fake.joins = nil
		return joins
	}

	t.Run("-rooms takes the configured trends first", func(t *testing.T) {
		if _, stderr, err := load("-rooms", "2"); err != nil {
			t.Fatalf("run: %v\n%s", err, stderr)
		}
		if got, want := joined(), []string{"golang", "rust"}; !slices.Equal(got, want) {
			t.Errorf("joins %q, want %q", got, want)
		}
	})
	t.Run("-rooms above what the server announces names the server's flags", func(t *testing.T) {
		_, _, err := load("-rooms", "5")
		for _, want := range []string{"announces 3 trends", "-trends", "-max-trends 5", "-room-names"} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("run = %v, want an error that says %q", err, want)
			}
		}
		if code := exitCode(err, new(bytes.Buffer)); code != 2 {
			t.Errorf("exit code %d, want 2", code)
		}
		if got := joined(); len(got) != 0 {
			t.Errorf("joins %q, want none", got)
		}
	})
	t.Run("-per-client above what the server announces is a usage error", func(t *testing.T) {
		_, _, err := load("-per-client", "4")
		if code := exitCode(err, new(bytes.Buffer)); code != 2 || !strings.Contains(err.Error(), "announces 3 trends") {
			t.Errorf("run = %v, exit code %d; want a usage error that says how many trends there are", err, code)
		}
	})
	t.Run("-room-names warns of the trends it adds", func(t *testing.T) {
		_, stderr, err := load("-room-names", "Golang,load-0001")
		if err != nil {
			t.Fatalf("run: %v\n%s", err, stderr)
		}
		if got, want := joined(), []string{"Golang", "load-0001"}; !slices.Equal(got, want) {
			t.Errorf("joins %q, want %q", got, want)
		}
		if !strings.Contains(stderr, "does not have load-0001: joining makes a custom trend of each") ||
			!strings.Contains(stderr, "-idle-trend-ttl") || strings.Contains(stderr, "have Golang") {
			t.Errorf("stderr lacks a warning about load-0001 alone:\n%s", stderr)
		}
	})
	t.Run("-room-names of the server's trends warns of nothing", func(t *testing.T) {
		_, stderr, err := load("-room-names", "rust,#webdev")
		if err != nil {
			t.Fatalf("run: %v\n%s", err, stderr)
		}
		if strings.Contains(stderr, "custom trend") {
			t.Errorf("a warning about custom trends, for trends the server has:\n%s", stderr)
		}
		joined()
	})
}

func TestRunAgainstAServerWithoutTrends(t *testing.T) {
	fake := &fakeServer{t: t}
	url := fake.start(t)
	_, _, _, err := runLoad(t, "-url", url, "-clients", "1", "-duration", "1s", "-warmup", "0s")
	if !errors.As(err, new(setupError)) || !strings.Contains(err.Error(), "has no trends: give -room-names") {
		t.Errorf("run = %v, want a setup error that asks for -room-names", err)
	}
	_, _, stderr, err := runLoad(t, "-url", url, "-room-names", "golang", "-clients", "1", "-duration", "1s", "-warmup", "0s")
	if err != nil {
		t.Fatalf("run -room-names golang: %v\n%s", err, stderr)
	}
	if !strings.Contains(stderr, "does not have golang") {
		t.Errorf("no warning that golang becomes a custom trend:\n%s", stderr)
	}
}

func TestRoomsSpreadEvenly(t *testing.T) {
	for _, tt := range []struct {
		name                string
		clients, rooms, per int
		wantMembers         int
	}{
		{"scenario A: 1,000 clients in 100 rooms", 1000, 100, 1, 10},
		{"scenario B: 5,000 clients, 10 rooms, 2 each", 5000, 10, 2, 1000},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var rooms []string
			for i := range tt.rooms {
				rooms = append(rooms, fmt.Sprintf("t%03d", i+1))
			}
			members := map[string]int{}
			for i := range tt.clients {
				mine := roomsFor(i, tt.per, rooms)
				if len(slices.Compact(slices.Sorted(slices.Values(mine)))) != tt.per {
					t.Fatalf("client %d joins %q: the same room twice", i, mine)
				}
				for _, r := range mine {
					members[r]++
				}
			}
			for _, r := range rooms {
				if members[r] != tt.wantMembers {
					t.Errorf("room %s has %d members, want %d", r, members[r], tt.wantMembers)
				}
			}
		})
	}
}

func TestListSome(t *testing.T) {
	names := []string{"load-0001", "load-0002", "load-0003", "load-0004", "load-0005"}
	if got, want := listSome(names, 3), "load-0001, load-0002, load-0003 and 2 more"; got != want {
		t.Errorf("listSome = %q, want %q", got, want)
	}
	if got, want := listSome(names[:2], 3), "load-0001, load-0002"; got != want {
		t.Errorf("listSome = %q, want %q", got, want)
	}
}
